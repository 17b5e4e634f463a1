/**
 * Direct messages between two validators, on a libp2p stream each: one varint-length-prefixed
 * frame per direction, with the length checked against the limit before a byte of the body is
 * read.
 *
 * - sync (`/corridor/<chainId>/sync/1`), request-response for catch-up:
 *     requester -> server:  [length][request bytes], then the requester closes its writing end
 *     server -> requester:  [length][status][payload], then the server closes
 *   status 0: the payload is the response; status 1: the payload is an error code (UTF-8, from
 *   `remoteErrorCodes`), so the requester learns why without the server leaking its internals.
 * - direct (`/corridor/<chainId>/direct/1`), one way, for a consensus message to a given peer:
 *     sender -> receiver:   [length][message bytes], then both sides close.
 *   Nothing comes back: delivery is best effort, as gossip is, and the consensus layer is built
 *   to live with lost messages.
 *
 * A stream per message costs no extra round trip: the protocol id is sent optimistically with
 * the first frame (`negotiateFully: false`), and yamux opens streams without a handshake.
 */
import { setMaxListeners } from 'node:events'
import { lpStream } from '@libp2p/utils'
import type { Stream } from '@libp2p/interface'
import { concatBytes } from '../../protocol/bytes.ts'
import { TransportError, remoteErrorCodes, type RemoteErrorCode, type TransportLimits } from './transportOptions.ts'
import type { TransportCounters } from './transportMetrics.ts'
import type { TransportLogger, LogThrottle } from './transportLogger.ts'

const statusOk = 0
const statusError = 1
/** The status byte in front of a response. */
const statusBytes = 1
/** Largest varint length prefix we accept, whatever the limit (2^35 bytes: far above any limit). */
const lengthPrefixBytesMax = 5

export type RequestHandler = (request: Uint8Array, fromPeer: string) => Promise<Uint8Array>
export type DirectHandler = (message: Uint8Array, fromPeer: string) => void

export interface DirectProtocolContext {
  readonly limits: Readonly<TransportLimits>
  readonly counters: TransportCounters
  readonly logger: TransportLogger
  readonly logThrottle: LogThrottle
}

/** A signal that fires after `ms`, safe to hand to libp2p (which adds many listeners to it). */
export function timeoutSignal(ms: number, parent?: AbortSignal): AbortSignal {
  const signal = parent === undefined ? AbortSignal.timeout(ms) : AbortSignal.any([parent, AbortSignal.timeout(ms)])
  setMaxListeners(Infinity, signal)
  return signal
}

/**
 * True when the peer sent more than a frame may hold. Either the length prefix announced too much
 * (checked before the body is read), or more bytes arrived than one frame and its prefix (the read
 * buffer is bounded to exactly that; each direction carries one frame, so excess is an overrun).
 */
function isOversizedFrameError(error: unknown): boolean {
  const name = (error as Error | undefined)?.name
  return name === 'InvalidDataLengthError' || name === 'InvalidDataLengthLengthError' || name === 'StreamBufferError'
}

/** Writes one request on an open sync stream and reads the response. Throws TransportError. */
export async function exchangeRequest(stream: Stream, request: Uint8Array, context: DirectProtocolContext, signal: AbortSignal): Promise<Uint8Array> {
  const { limits, counters } = context
  const frameBytesMax = limits.responseBytesMax + statusBytes
  const framed = lpStream(stream, {
    maxDataLength: frameBytesMax,
    maxLengthLength: lengthPrefixBytesMax,
    maxBufferSize: frameBytesMax + lengthPrefixBytesMax
  })
  await framed.write(request, { signal })
  counters.channels.sync.messagesOut++
  counters.channels.sync.bytesOut += request.length
  await stream.close({ signal })
  let frame: Uint8Array
  try {
    frame = (await framed.read({ signal })).subarray()
  } catch (error) {
    if (isOversizedFrameError(error)) {
      counters.channels.sync.oversizedIn++
      throw new TransportError('RESPONSE_OVERSIZED', `the response is larger than the limit of ${limits.responseBytesMax} bytes`)
    }
    throw error
  }
  counters.channels.sync.messagesIn++
  counters.channels.sync.bytesIn += frame.length
  if (frame.length < statusBytes) throw new TransportError('STREAM_FAILED', 'the response frame is empty')
  const payload = frame.subarray(statusBytes)
  if (frame[0] === statusOk) return payload
  const remoteCode = decodeRemoteErrorCode(payload)
  throw new TransportError('REMOTE_ERROR', `the peer refused the request: ${remoteCode}`, { remoteCode })
}

function decodeRemoteErrorCode(payload: Uint8Array): RemoteErrorCode | 'UNKNOWN' {
  if (payload.length > 64) return 'UNKNOWN'
  const text = new TextDecoder().decode(payload)
  return (remoteErrorCodes as readonly string[]).includes(text) ? (text as RemoteErrorCode) : 'UNKNOWN'
}

/** Serves one sync request on an inbound stream. Never throws: failures end in an error status or a reset. */
export async function serveRequest(stream: Stream, fromPeer: string, handler: RequestHandler, context: DirectProtocolContext): Promise<void> {
  const { limits, counters, logger, logThrottle } = context
  const signal = timeoutSignal(limits.requestTimeoutMs)
  const framed = lpStream(stream, {
    maxDataLength: limits.requestBytesMax,
    maxLengthLength: lengthPrefixBytesMax,
    maxBufferSize: limits.requestBytesMax + lengthPrefixBytesMax
  })
  const refuse = async (code: RemoteErrorCode): Promise<void> => {
    counters.requestsRefused++
    logThrottle.maybeLog(`sync:${code}`, (suppressed) => logger.warn({ peer: fromPeer, code, suppressed }, 'sync request refused'))
    // A budget of its own: the request's may be what ran out.
    const answerSignal = timeoutSignal(limits.sendTimeoutMs)
    await framed.write(concatBytes(Uint8Array.of(statusError), new TextEncoder().encode(code)), { signal: answerSignal })
    await stream.close({ signal: answerSignal })
  }
  try {
    let request: Uint8Array
    try {
      request = (await framed.read({ signal })).subarray()
    } catch (error) {
      if (!isOversizedFrameError(error)) throw error
      counters.channels.sync.oversizedIn++
      // The rest of the oversized body is still arriving; the answer goes out first, and the stream
      // is reset should the body overflow the read buffer meanwhile.
      await refuse('REQUEST_OVERSIZED')
      return
    }
    counters.channels.sync.messagesIn++
    counters.channels.sync.bytesIn += request.length

    let response: Uint8Array
    try {
      response = await raceAbort(handler(request, fromPeer), signal)
    } catch (error) {
      if (signal.aborted) {
        await refuse('HANDLER_TIMEOUT')
      } else {
        logger.error({ peer: fromPeer, err: error }, 'sync request handler failed')
        await refuse('HANDLER_FAILED')
      }
      return
    }
    if (response.length > limits.responseBytesMax) {
      counters.channels.sync.oversizedOut++
      logger.error({ peer: fromPeer, bytes: response.length, limitBytes: limits.responseBytesMax }, 'sync response exceeds the limit; the handler must split its answers')
      await refuse('RESPONSE_OVERSIZED')
      return
    }
    await framed.write(concatBytes(Uint8Array.of(statusOk), response), { signal })
    counters.channels.sync.messagesOut++
    counters.channels.sync.bytesOut += response.length
    await stream.close({ signal })
  } catch (error) {
    logThrottle.maybeLog('sync:stream', (suppressed) =>
      logger.debug({ peer: fromPeer, err: (error as Error).message, suppressed }, 'sync stream failed while serving'))
    stream.abort(error as Error)
  }
}

/** Writes one message on an open direct stream and closes it. */
export async function writeDirect(stream: Stream, message: Uint8Array, context: DirectProtocolContext, signal: AbortSignal): Promise<void> {
  const framed = lpStream(stream, { maxLengthLength: lengthPrefixBytesMax })
  await framed.write(message, { signal })
  await stream.close({ signal })
  context.counters.channels.direct.messagesOut++
  context.counters.channels.direct.bytesOut += message.length
}

/** Reads one direct message from an inbound stream and hands it to the handler. Never throws. */
export async function serveDirect(stream: Stream, fromPeer: string, handler: DirectHandler, context: DirectProtocolContext): Promise<void> {
  const { limits, counters, logger, logThrottle } = context
  const signal = timeoutSignal(limits.sendTimeoutMs)
  const framed = lpStream(stream, {
    maxDataLength: limits.messageBytesMax,
    maxLengthLength: lengthPrefixBytesMax,
    maxBufferSize: limits.messageBytesMax + lengthPrefixBytesMax
  })
  let message: Uint8Array
  try {
    message = (await framed.read({ signal })).subarray()
    await stream.close({ signal })
  } catch (error) {
    if (isOversizedFrameError(error)) {
      counters.channels.direct.oversizedIn++
      logThrottle.maybeLog('direct:oversized', (suppressed) =>
        logger.warn({ peer: fromPeer, limitBytes: limits.messageBytesMax, suppressed }, 'oversized direct message dropped'))
    } else {
      logThrottle.maybeLog('direct:stream', (suppressed) =>
        logger.debug({ peer: fromPeer, err: (error as Error).message, suppressed }, 'direct stream failed while reading'))
    }
    stream.abort(error as Error)
    return
  }
  counters.channels.direct.messagesIn++
  counters.channels.direct.bytesIn += message.length
  try {
    handler(message, fromPeer)
  } catch (error) {
    counters.directHandlerErrors++
    logger.error({ peer: fromPeer, err: error }, 'direct message handler failed')
  }
}

/** Settles with the promise, or rejects once the signal aborts (the promise is left to settle on its own). */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      }
    )
  })
}
