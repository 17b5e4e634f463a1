/**
 * The bank node's network transport: libp2p 3 over TCP, Noise, Yamux, in a permissioned network.
 *
 * - Identity: the libp2p key is the validator key (`peerIdentity.ts`), so validators are listed by
 *   public key and their peer ids derived.
 * - Admission: a connection gater refuses anyone outside the validator set before any protocol
 *   runs (`gater.ts`).
 * - Gossip: one gossipsub topic per channel and network, `/corridor/<chainId>/transactions/1` and
 *   `/corridor/<chainId>/consensus/1`, tuned for a small mesh (`gossip.ts`). The transport
 *   carries bytes: what a transaction or a vote is, is the caller's business. A node's own
 *   published messages are not delivered back to its own handler.
 * - Direct: request-response for catch-up (`/corridor/<chainId>/sync/1`) and one-way messages
 *   (`/corridor/<chainId>/direct/1`), length-prefixed, bounded, with timeouts (`directProtocol.ts`).
 * - Peers: a static list dialed at start and redialed with capped backoff (`redial.ts`).
 *
 * The shape is the node's service shape: options with defaults (`transportOptions.ts`), the
 * components it needs, a factory, and start/stop.
 */
import { setMaxListeners } from 'node:events'
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify, type Identify } from '@libp2p/identify'
import { gossipsub, type GossipSub, type GossipsubMessage } from '@libp2p/gossipsub'
import { multiaddr } from '@multiformats/multiaddr'
import type { PeerId, Stream } from '@libp2p/interface'
import { assert } from '../../protocol/assert.ts'
import { keyPairFromSecret } from '../../protocol/keys.ts'
import { createValidatorGater, type RefusalStage } from './gater.ts'
import { noiseWithSingleWrites } from './noiseSingleWrite.ts'
import { createGossipValidator, gossipsubInit } from './gossip.ts'
import { libp2pPrivateKeyOf, peerIdOf, publicKeyOfPeerId, ValidatorSet } from './peerIdentity.ts'
import { Redialer } from './redial.ts'
import {
  exchangeRequest,
  serveDirect,
  serveRequest,
  timeoutSignal,
  writeDirect,
  type DirectProtocolContext
} from './directProtocol.ts'
import { createTransportCounters, type TransportCounters } from './transportMetrics.ts'
import { LogThrottle, silentLogger, type TransportLogger } from './transportLogger.ts'
import {
  TransportError,
  directProtocolId,
  gossipTopicId,
  gossipTopicNames,
  resolveTransportOptions,
  syncProtocolId,
  type GossipTopicName,
  type ResolvedTransportOptions,
  type TransportOptions
} from './transportOptions.ts'

export { peerIdOf, publicKeyOfPeerId } from './peerIdentity.ts'
export { TransportError, gossipTopicNames, defaultTransportLimits, defaultGossipTuning } from './transportOptions.ts'
export type { GossipTopicName, TransportOptions, TransportLimits, GossipTuning, ValidatorPeer, TransportErrorCode, RemoteErrorCode } from './transportOptions.ts'
export type { TransportCounters, ChannelCounters } from './transportMetrics.ts'
export type { TransportLogger } from './transportLogger.ts'

/** What the node does with what arrives. Peer ids are libp2p peer id strings (see `peerIdOf`). */
export interface TransportHandlers {
  /**
   * A gossip message from another validator, at most `messageBytesMax` bytes, delivered by
   * `fromPeer` (its author, unless the gossip tuning sets a relaying mesh). Called synchronously from the network event; enqueue, do not work here.
   * Errors thrown are counted and logged, never propagated.
   */
  onMessage(topic: GossipTopicName, bytes: Uint8Array, fromPeer: string): void
  /**
   * A sync request of at most `requestBytesMax` bytes. The answer must arrive within
   * `requestTimeoutMs` and hold at most `responseBytesMax` bytes; a rejection or a late or
   * oversized answer reaches the requester as an error status, and is logged here.
   */
  onRequest(bytes: Uint8Array, fromPeer: string): Promise<Uint8Array>
  /** A one-way direct message of at most `messageBytesMax` bytes. Same rules as `onMessage`. */
  onDirect(bytes: Uint8Array, fromPeer: string): void
  /**
   * A validator connected (at start, or again after its connection dropped): what it missed
   * while away never reaches it by gossip. Called from the network event; do not block.
   */
  onPeerConnected?(peerId: string): void
}

export interface TransportComponents {
  handlers: TransportHandlers
  /** @default a logger that drops everything */
  logger?: TransportLogger
  /** Uniform in [0, 1), for the jitter of redial delays. @default Math.random */
  random?: () => number
  /** Milliseconds of a monotonic-enough clock, for backoff and log throttling. @default Date.now */
  now?: () => number
}

export interface RequestOptions {
  /** @default limits.requestTimeoutMs */
  timeoutMs?: number
}

export interface Transport {
  /** This node's peer id, derived from its validator key. */
  readonly peerId: string
  /** The options in force, defaults applied (the secret key is kept out of reach). */
  readonly options: PublicTransportOptions
  /** Live counters; read them, do not write them. */
  readonly counters: TransportCounters
  /** Creates the libp2p node, listens, subscribes to the topics and dials the validators. */
  start(): Promise<void>
  /** Stops dialing, fails pending requests with NOT_RUNNING, closes every connection and the listeners. */
  stop(): Promise<void>
  isRunning(): boolean
  /** The addresses this node listens on, each ending in `/p2p/<peerId>`. */
  listenAddresses(): string[]
  /** Validators connected to this node now. */
  peers(): string[]
  /** Validators known to be subscribed to a topic: those a publish reaches directly. */
  gossipPeers(topic: GossipTopicName): string[]
  /**
   * Publishes bytes on a topic to the other validators. Resolves to the number of peers it was
   * sent to (0 when none is connected; the message is then lost, which the caller must tolerate).
   * Throws MESSAGE_OVERSIZED above `messageBytesMax`.
   */
  publish(topic: GossipTopicName, bytes: Uint8Array): Promise<number>
  /**
   * Sends a sync request to a validator and resolves to its response. Throws TransportError:
   * NOT_VALIDATOR, MESSAGE_OVERSIZED (request above `requestBytesMax`), RESPONSE_OVERSIZED,
   * REQUEST_TIMEOUT, REMOTE_ERROR (the peer answered with an error status), STREAM_FAILED, NOT_RUNNING.
   */
  request(peerId: string, bytes: Uint8Array, options?: RequestOptions): Promise<Uint8Array>
  /**
   * Sends a one-way message to a validator; resolves once it is handed to the connection (not
   * when it is processed). Throws NOT_VALIDATOR, MESSAGE_OVERSIZED, STREAM_FAILED, NOT_RUNNING.
   */
  send(peerId: string, bytes: Uint8Array): Promise<void>
  isValidator(peerId: string): boolean
  /** The validator public key behind a peer id (any Ed25519 peer id), or undefined. */
  publicKeyOf(peerId: string): Uint8Array | undefined
}

type Services = { identify: Identify; pubsub: GossipSub }

export type PublicTransportOptions = Omit<ResolvedTransportOptions, 'secretKey'>

/** Creates the transport; nothing touches the network before `start()`. Throws ConfigError on bad options. */
export function createTransport(options: TransportOptions, components: TransportComponents): Transport {
  return new Libp2pTransport(resolveTransportOptions(options), components)
}

/** How often each kind of repeated warning (refused peers, oversized messages) may be logged. */
const logThrottleIntervalMs = 10_000

/**
 * Bytes in front of every gossip message's data: a publish sequence number (a random 32-bit
 * word drawn at start, then a 32-bit counter). Gossipsub without signatures names a message by
 * the hash of its data and drops a second copy as seen for two minutes; the header keeps two
 * publishes of equal bytes (a vote sent again, a node restarted) two messages. Receivers strip it.
 */
export const gossipHeaderBytes = 8

class Libp2pTransport implements Transport {
  readonly peerId: string
  readonly options: PublicTransportOptions
  readonly counters: TransportCounters = createTransportCounters()

  readonly #secretKey: Uint8Array
  readonly #handlers: TransportHandlers
  readonly #logger: TransportLogger
  readonly #random: () => number
  readonly #now: () => number
  readonly #logThrottle: LogThrottle
  readonly #validators: ValidatorSet
  readonly #topicIds: ReadonlyMap<GossipTopicName, string>
  readonly #topicNames: ReadonlyMap<string, GossipTopicName>
  readonly #syncProtocol: string
  readonly #directProtocol: string
  readonly #directContext: DirectProtocolContext
  readonly #stopController = new AbortController()
  #libp2p: Libp2p<Services> | undefined
  #redialer: Redialer | undefined
  #state: 'created' | 'starting' | 'running' | 'stopped' = 'created'
  /** High word of the gossip sequence header: drawn at start, so a restarted node never repeats one. */
  #publishEpoch = 0
  #publishSequence = 0

  constructor(resolved: ResolvedTransportOptions, components: TransportComponents) {
    const { secretKey, ...options } = resolved
    this.options = options
    this.#secretKey = secretKey
    this.#handlers = components.handlers
    this.#logger = components.logger ?? silentLogger
    this.#random = components.random ?? Math.random
    this.#now = components.now ?? Date.now
    this.#logThrottle = new LogThrottle(logThrottleIntervalMs, this.#now)
    this.#validators = new ValidatorSet(options.validators)
    this.peerId = peerIdOf(keyPairFromSecret(secretKey).publicKey)
    this.#topicIds = new Map(gossipTopicNames.map((name) => [name, gossipTopicId(options.chainId, name)]))
    this.#topicNames = new Map(gossipTopicNames.map((name) => [gossipTopicId(options.chainId, name), name]))
    this.#syncProtocol = syncProtocolId(options.chainId)
    this.#directProtocol = directProtocolId(options.chainId)
    this.#directContext = { limits: options.limits, counters: this.counters, logger: this.#logger, logThrottle: this.#logThrottle }
    setMaxListeners(Infinity, this.#stopController.signal)
  }

  async start(): Promise<void> {
    assert(this.#state === 'created', 'a transport starts once')
    this.#state = 'starting'
    try {
      await this.#start()
    } catch (error) {
      // A port in use, say: release whatever was opened, then report.
      this.#logger.error({ peerId: this.peerId, err: error }, 'transport failed to start')
      await this.stop().catch(() => {})
      throw error
    }
  }

  async #start(): Promise<void> {
    const { limits, validators } = this.options
    const validatorCount = validators.length
    const libp2p = await createLibp2p<Services>({
      start: false,
      privateKey: await libp2pPrivateKeyOf(this.#secretKey),
      addresses: { listen: [...this.options.listenAddresses] },
      transports: [
        // Sockets wait for their Noise handshake before the gater knows who is there: bound them.
        tcp({ maxConnections: 4 * validatorCount + 16 })
      ],
      connectionEncrypters: [noiseWithSingleWrites()],
      streamMuxers: [
        yamux({
          // A stream buffers at most one frame of its largest protocol (plus slack) before it is reset.
          streamOptions: { maxReadBufferLength: Math.max(limits.gossipFrameBytesMax, limits.responseBytesMax) + 64 * 1024 }
        })
      ],
      connectionGater: createValidatorGater({
        isValidator: (peerId) => this.#validators.has(peerId),
        onRefused: (stage, peerId, remoteAddress) => this.#onRefused(stage, peerId, remoteAddress)
      }),
      connectionManager: {
        // Two connections per validator (both sides may dial at once) plus room for handshakes.
        maxConnections: 2 * validatorCount + 8,
        maxIncomingPendingConnections: validatorCount + 8,
        // Per remote host per second. A local cluster runs every validator on one host, and all of
        // them dial at start: the default of 5 would turn some of them away.
        inboundConnectionThreshold: 2 * validatorCount + 8,
        dialTimeout: limits.dialTimeoutMs
      },
      // libp2p's defaults, stated: every connection is pinged each 10 s and aborted when a ping
      // times out (adaptive, at least 5 s), so a half-open TCP connection to a validator that
      // vanished is noticed and the redialer takes over.
      connectionMonitor: { enabled: true, pingInterval: 10_000, abortConnectionOnPingFailure: true },
      services: {
        identify: identify(),
        pubsub: gossipsub(gossipsubInit(this.options, [...this.#topicIds.values()]))
      }
    })
    this.#libp2p = libp2p

    await libp2p.handle(this.#syncProtocol, (stream, connection) => this.#onSyncStream(stream, connection.remotePeer), {
      maxInboundStreams: limits.requestsInboundPerConnectionMax,
      maxOutboundStreams: limits.requestsOutboundPerConnectionMax
    })
    await libp2p.handle(this.#directProtocol, (stream, connection) => this.#onDirectStream(stream, connection.remotePeer), {
      maxInboundStreams: limits.directInboundPerConnectionMax,
      maxOutboundStreams: limits.directOutboundPerConnectionMax
    })
    for (const entry of this.#validators.entries()) {
      if (entry.peerIdText === this.peerId || entry.addresses.length === 0) continue
      await libp2p.peerStore.merge(entry.peerId, { multiaddrs: entry.addresses.map((address) => multiaddr(address)) })
    }

    const peersToDial = [...this.#validators.entries()]
      .filter((entry) => entry.peerIdText !== this.peerId && entry.addresses.length > 0)
      .map((entry) => entry.peerIdText)
    this.#redialer = new Redialer(peersToDial, limits, {
      dial: async (peerId, signal) => {
        this.counters.dialAttempts++
        const entry = this.#validators.get(peerId)
        assert(entry !== undefined, 'only validators are dialed')
        await libp2p.dial(entry.peerId, { signal })
      },
      isConnected: (peerId) => libp2p.getConnections(this.#validators.get(peerId)?.peerId).length > 0,
      random: this.#random,
      now: this.#now,
      onDialFailed: (peerId, failures, nextDelayMs, error) => {
        this.counters.dialFailures++
        const log = failures === 1 || failures % 10 === 0 ? this.#logger.warn : this.#logger.debug
        log.call(this.#logger, { peer: peerId, failures, nextDelayMs, err: (error as Error)?.message }, 'validator dial failed')
      }
    })
    libp2p.addEventListener('peer:connect', (event) => {
      const peerId = event.detail.toString()
      this.#logger.info({ peer: peerId }, 'validator connected')
      this.#redialer?.connected(peerId)
      if (this.#validators.has(peerId)) {
        try {
          this.#handlers.onPeerConnected?.(peerId)
        } catch (error) {
          this.#logger.error({ peer: peerId, err: error }, 'peer connected handler failed')
        }
      }
    })
    libp2p.addEventListener('peer:disconnect', (event) => {
      const peerId = event.detail.toString()
      if (this.#state === 'running') this.#logger.info({ peer: peerId }, 'validator disconnected')
      this.#redialer?.disconnected(peerId)
    })

    await libp2p.start()

    const pubsub = libp2p.services.pubsub
    for (const [name, topicId] of this.#topicIds) {
      pubsub.topicValidators.set(topicId, createGossipValidator({
        topicName: name,
        messageBytesMax: limits.messageBytesMax,
        headerBytes: gossipHeaderBytes,
        isValidator: (peerId) => this.#validators.has(peerId),
        onOversized: (topicName, bytes, source) => {
          this.counters.channels[topicName].oversizedIn++
          this.#logThrottle.maybeLog(`gossip:oversized:${topicName}`, (suppressed) =>
            this.#logger.warn({ topic: topicName, bytes, limitBytes: limits.messageBytesMax, from: source.toString(), suppressed }, 'oversized gossip message dropped'))
        },
        onForeignAuthor: (topicName, source) => {
          this.counters.gossipForeignAuthor++
          this.#logThrottle.maybeLog(`gossip:foreign:${topicName}`, (suppressed) =>
            this.#logger.warn({ topic: topicName, from: source.toString(), suppressed }, 'gossip message not authored by a validator dropped'))
        }
      }))
      pubsub.subscribe(topicId)
    }
    this.#publishEpoch = Math.floor(this.#random() * 0x1_0000_0000) >>> 0
    pubsub.addEventListener('gossipsub:message', (event) => this.#onGossip(event.detail))

    this.#state = 'running'
    if (!this.#validators.has(this.peerId)) {
      this.#logger.warn({ peerId: this.peerId }, 'this node is not in the validator set: validators will refuse its connections')
    }
    this.#redialer.start()
    this.#logger.info({ peerId: this.peerId, listen: this.listenAddresses(), validators: validatorCount }, 'transport started')
  }

  async stop(): Promise<void> {
    if (this.#state === 'stopped') return
    const wasStarted = this.#state !== 'created'
    this.#state = 'stopped'
    this.#redialer?.stop()
    this.#stopController.abort(new TransportError('NOT_RUNNING', 'the transport stopped'))
    if (wasStarted) await this.#libp2p?.stop()
    this.#logger.info({ peerId: this.peerId }, 'transport stopped')
  }

  isRunning(): boolean {
    return this.#state === 'running'
  }

  listenAddresses(): string[] {
    return this.#libp2p?.getMultiaddrs().map((address) => address.toString()) ?? []
  }

  peers(): string[] {
    if (this.#libp2p === undefined) return []
    return this.#libp2p.getPeers().map((peer) => peer.toString()).filter((peer) => this.#validators.has(peer))
  }

  gossipPeers(topic: GossipTopicName): string[] {
    if (this.#libp2p === undefined || !this.isRunning()) return []
    return this.#libp2p.services.pubsub.getSubscribers(this.#topicIdOf(topic)).map((peer) => peer.toString())
  }

  async publish(topic: GossipTopicName, bytes: Uint8Array): Promise<number> {
    const libp2p = this.#requireRunning()
    const counters = this.counters.channels[topic]
    if (bytes.length > this.options.limits.messageBytesMax) {
      counters.oversizedOut++
      throw new TransportError('MESSAGE_OVERSIZED', `a ${topic} message of ${bytes.length} bytes exceeds the limit of ${this.options.limits.messageBytesMax}`)
    }
    const framed = new Uint8Array(gossipHeaderBytes + bytes.length)
    const header = new DataView(framed.buffer, framed.byteOffset, gossipHeaderBytes)
    header.setUint32(0, this.#publishEpoch)
    header.setUint32(4, this.#publishSequence)
    this.#publishSequence = (this.#publishSequence + 1) >>> 0
    if (this.#publishSequence === 0) this.#publishEpoch = (this.#publishEpoch + 1) >>> 0
    framed.set(bytes, gossipHeaderBytes)
    const result = await libp2p.services.pubsub.publish(this.#topicIdOf(topic), framed)
    counters.messagesOut++
    counters.bytesOut += bytes.length
    return result.recipients.length
  }

  async request(peerId: string, bytes: Uint8Array, options: RequestOptions = {}): Promise<Uint8Array> {
    const libp2p = this.#requireRunning()
    const target = this.#requireValidatorPeer(peerId)
    const { limits } = this.options
    if (bytes.length > limits.requestBytesMax) {
      this.counters.channels.sync.oversizedOut++
      throw new TransportError('MESSAGE_OVERSIZED', `a sync request of ${bytes.length} bytes exceeds the limit of ${limits.requestBytesMax}`)
    }
    const timeoutMs = options.timeoutMs ?? limits.requestTimeoutMs
    const signal = timeoutSignal(timeoutMs, this.#stopController.signal)
    let stream: Stream | undefined
    try {
      stream = await libp2p.dialProtocol(target, this.#syncProtocol, { signal, negotiateFully: false })
      return await exchangeRequest(stream, bytes, this.#directContext, signal)
    } catch (error) {
      this.counters.requestsFailed++
      stream?.abort(error as Error)
      if (this.#stopController.signal.aborted) throw new TransportError('NOT_RUNNING', 'the transport stopped during the request')
      if (error instanceof TransportError) throw error
      if (signal.aborted) {
        this.counters.requestTimeouts++
        throw new TransportError('REQUEST_TIMEOUT', `no response from ${peerId} within ${timeoutMs} ms`)
      }
      throw new TransportError('STREAM_FAILED', `sync request to ${peerId} failed: ${(error as Error).message}`)
    }
  }

  async send(peerId: string, bytes: Uint8Array): Promise<void> {
    const libp2p = this.#requireRunning()
    const target = this.#requireValidatorPeer(peerId)
    const { limits } = this.options
    if (bytes.length > limits.messageBytesMax) {
      this.counters.channels.direct.oversizedOut++
      throw new TransportError('MESSAGE_OVERSIZED', `a direct message of ${bytes.length} bytes exceeds the limit of ${limits.messageBytesMax}`)
    }
    const signal = timeoutSignal(limits.sendTimeoutMs, this.#stopController.signal)
    let stream: Stream | undefined
    try {
      stream = await libp2p.dialProtocol(target, this.#directProtocol, { signal, negotiateFully: false })
      await writeDirect(stream, bytes, this.#directContext, signal)
    } catch (error) {
      stream?.abort(error as Error)
      if (this.#stopController.signal.aborted) throw new TransportError('NOT_RUNNING', 'the transport stopped during the send')
      throw new TransportError('STREAM_FAILED', `direct message to ${peerId} failed: ${(error as Error).message}`)
    }
  }

  isValidator(peerId: string): boolean {
    return this.#validators.has(peerId)
  }

  publicKeyOf(peerId: string): Uint8Array | undefined {
    return this.#validators.get(peerId)?.publicKey ?? publicKeyOfPeerId(peerId)
  }

  #onGossip({ msg: message, propagationSource }: GossipsubMessage): void {
    const topic = this.#topicNames.get(message.topic)
    // The topic validator admitted it: from a validator, on our topics, with its header.
    if (topic === undefined || message.data.length < gossipHeaderBytes) return
    const data = message.data.subarray(gossipHeaderBytes)
    const from = propagationSource.toString()
    const counters = this.counters.channels[topic]
    counters.messagesIn++
    counters.bytesIn += data.length
    try {
      this.#handlers.onMessage(topic, data, from)
    } catch (error) {
      this.counters.gossipHandlerErrors++
      this.#logger.error({ topic, from, err: error }, 'gossip message handler failed')
    }
  }

  async #onSyncStream(stream: Stream, remotePeer: PeerId): Promise<void> {
    // The gater admitted only validators; checked again here so a gater bug cannot open this door.
    if (!this.#validators.has(remotePeer)) {
      stream.abort(new Error('not a validator'))
      return
    }
    await serveRequest(stream, remotePeer.toString(), (bytes, from) => this.#handlers.onRequest(bytes, from), this.#directContext)
  }

  async #onDirectStream(stream: Stream, remotePeer: PeerId): Promise<void> {
    if (!this.#validators.has(remotePeer)) {
      stream.abort(new Error('not a validator'))
      return
    }
    await serveDirect(stream, remotePeer.toString(), (bytes, from) => this.#handlers.onDirect(bytes, from), this.#directContext)
  }

  #onRefused(stage: RefusalStage, peerId: PeerId | undefined, remoteAddress: string | undefined): void {
    this.counters.connectionsRefused++
    if (stage === 'inbound') this.counters.connectionsRefusedInbound++
    else if (stage === 'dial' || stage === 'outbound') this.counters.connectionsRefusedOutbound++
    this.#logThrottle.maybeLog(`refused:${stage}`, (suppressed) =>
      this.#logger.warn({ stage, peer: peerId?.toString(), remoteAddress, suppressed }, 'connection refused: not a validator'))
  }

  #requireRunning(): Libp2p<Services> {
    if (this.#state !== 'running' || this.#libp2p === undefined) throw new TransportError('NOT_RUNNING', 'the transport is not running')
    return this.#libp2p
  }

  #requireValidatorPeer(peerId: string): PeerId {
    const entry = this.#validators.get(peerId)
    if (entry === undefined) throw new TransportError('NOT_VALIDATOR', `${peerId} is not a validator of this network`)
    return entry.peerId
  }

  #topicIdOf(topic: GossipTopicName): string {
    const topicId = this.#topicIds.get(topic)
    assert(topicId !== undefined, `unknown topic ${String(topic)}`)
    return topicId
  }
}
