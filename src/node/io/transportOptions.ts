/**
 * Options, limits and errors of the node's libp2p transport, in one place. Every limit carries
 * its unit last; relations between limits are checked when the options are resolved, so a bad
 * combination fails at start-up with a message that names the field and the rule.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { ConfigError, type ConfigIssue } from '../../config/errors.ts'
import { CorridorError } from '../../protocol/errors.ts'
import { protocolLimits } from '../../protocol/limits.ts'
import { publicKeyBytesLength, secretKeyBytesLength } from '../../protocol/keys.ts'
import { bytesToHex } from '../../protocol/bytes.ts'
import { isValidEd25519PublicKey } from './peerIdentity.ts'

/** The gossip channels of a network. The transport carries their bytes and knows nothing else of them. */
export const gossipTopicNames = ['transactions', 'consensus'] as const
export type GossipTopicName = (typeof gossipTopicNames)[number]

/** Everything the transport counts traffic by: the two gossip topics and the two direct protocols. */
export const transportChannels = [...gossipTopicNames, 'sync', 'direct'] as const
export type TransportChannel = (typeof transportChannels)[number]

export interface TransportLimits {
  /**
   * Largest gossip message and largest one-way direct message, in bytes. Larger ones are refused
   * on publish and dropped on receipt (counted, never forwarded).
   * @default protocolLimits.messageBytesMax (8 MiB)
   */
  messageBytesMax: number
  /**
   * Largest gossipsub RPC frame accepted from a peer, checked on the length prefix before the
   * frame is read. One frame may bundle several messages (an IWANT answer), so it is a multiple
   * of `messageBytesMax`; a frame above it ends gossip with that peer until it reconnects, which
   * only a broken or hostile peer causes.
   * @default 4 * messageBytesMax + 64 KiB
   */
  gossipFrameBytesMax: number
  /**
   * Bytes gossipsub may queue towards one peer before it gives up on that peer's stream: a bound
   * on memory when a peer reads slower than we publish.
   * @default 2 * gossipFrameBytesMax
   */
  gossipOutboundQueueBytesMax: number
  /**
   * Largest request on the sync protocol. Catch-up requests name a range of heights: small.
   * @default 64 KiB
   */
  requestBytesMax: number
  /**
   * Largest response on the sync protocol (blocks with their commit certificates). It must hold
   * at least one block, and a block travels in one message, so it is at least `messageBytesMax`.
   * @default 2 * protocolLimits.messageBytesMax (16 MiB)
   */
  responseBytesMax: number
  /**
   * Time from opening a sync stream to reading the whole response; the serving side gives its
   * handler the same budget.
   * @default 10 s
   */
  requestTimeoutMs: number
  /**
   * Time to open a stream and hand a one-way direct message to the connection.
   * @default 5 s
   */
  sendTimeoutMs: number
  /** Time one dial of a validator may take. @default 5 s */
  dialTimeoutMs: number
  /**
   * First delay before redialing a validator whose connection dropped or whose dial failed; it
   * doubles after every failed attempt up to `redialDelayMaxMs`, with jitter. At least 50 ms, so
   * a peer that refuses at once can never turn the redial into a busy loop.
   * @default 250 ms
   */
  redialDelayMinMs: number
  /**
   * Longest delay between two redials of one validator: in steady state a validator that stays
   * down costs one dial per this interval, forever (validators come back).
   * @default 30 s
   */
  redialDelayMaxMs: number
  /** Sync requests a peer may have open towards us at once, per connection. @default 16 */
  requestsInboundPerConnectionMax: number
  /** Sync requests we may have open towards one peer at once, per connection. @default 32 */
  requestsOutboundPerConnectionMax: number
  /** One-way direct streams a peer may have open towards us at once, per connection. @default 64 */
  directInboundPerConnectionMax: number
  /** One-way direct streams we may have open towards one peer at once, per connection. @default 128 */
  directOutboundPerConnectionMax: number
}

/** Room in a gossipsub frame for what is not message data: protobuf fields, signature, control. */
export const gossipFrameOverheadBytes = 64 * 1024

export const defaultTransportLimits: Readonly<TransportLimits> = deriveLimits({})

function deriveLimits(overrides: Partial<TransportLimits>): TransportLimits {
  const messageBytesMax = overrides.messageBytesMax ?? protocolLimits.messageBytesMax
  const gossipFrameBytesMax = overrides.gossipFrameBytesMax ?? 4 * messageBytesMax + gossipFrameOverheadBytes
  return {
    messageBytesMax,
    gossipFrameBytesMax,
    gossipOutboundQueueBytesMax: overrides.gossipOutboundQueueBytesMax ?? 2 * gossipFrameBytesMax,
    requestBytesMax: overrides.requestBytesMax ?? 64 * 1024,
    responseBytesMax: overrides.responseBytesMax ?? 2 * protocolLimits.messageBytesMax,
    requestTimeoutMs: overrides.requestTimeoutMs ?? 10_000,
    sendTimeoutMs: overrides.sendTimeoutMs ?? 5_000,
    dialTimeoutMs: overrides.dialTimeoutMs ?? 5_000,
    redialDelayMinMs: overrides.redialDelayMinMs ?? 250,
    redialDelayMaxMs: overrides.redialDelayMaxMs ?? 30_000,
    requestsInboundPerConnectionMax: overrides.requestsInboundPerConnectionMax ?? 16,
    requestsOutboundPerConnectionMax: overrides.requestsOutboundPerConnectionMax ?? 32,
    directInboundPerConnectionMax: overrides.directInboundPerConnectionMax ?? 64,
    directOutboundPerConnectionMax: overrides.directOutboundPerConnectionMax ?? 128
  }
}

/**
 * Gossipsub parameters. The defaults are chosen for a permissioned mesh of 4 to 16 validators
 * that all know and dial each other; see `gossip.ts` for why each one is what it is.
 */
export interface GossipTuning {
  /**
   * Mesh degree D: peers each node forwards a received message to. 0 (with meshDegreeLow and
   * meshDegreeHigh 0) turns relaying off: each message goes from its author straight to every
   * validator, which is all a network whose validators all connect to each other needs (see
   * gossip.ts). @default 0
   */
  meshDegree: number
  /** Dlo: below this many mesh peers the heartbeat grafts more. @default 0 */
  meshDegreeLow: number
  /** Dhi: above this many mesh peers the heartbeat prunes back to D. @default 0 */
  meshDegreeHigh: number
  /** Dlazy: non-mesh peers told about recent message ids (IHAVE) at each heartbeat; a relay too. @default 0 */
  lazyDegree: number
  /** Time between gossipsub heartbeats (mesh upkeep and IHAVE gossip). @default 700 ms */
  heartbeatIntervalMs: number
}

export const defaultGossipTuning: Readonly<GossipTuning> = {
  meshDegree: 0,
  meshDegreeLow: 0,
  meshDegreeHigh: 0,
  lazyDegree: 0,
  heartbeatIntervalMs: 700
}

/** A validator as the network config lists it: its public key and where it listens. */
export interface ValidatorPeer {
  /** Ed25519 public key of the validator (32 bytes); its libp2p peer id is derived from it. */
  readonly publicKey: Uint8Array
  /** Multiaddrs to dial, such as `/ip4/127.0.0.1/tcp/7001`, without a `/p2p/` part. */
  readonly addresses: readonly string[]
}

export interface TransportOptions {
  /** Network (chain) id. Names the gossip topics and the protocol ids, so two networks never mix. */
  chainId: string
  /** This bank's validator secret key: the 32-byte Ed25519 seed from its key file. */
  secretKey: Uint8Array
  /**
   * Every validator of the network, this node included. Only these may connect to this node, and
   * only their gossip is accepted.
   */
  validators: readonly ValidatorPeer[]
  /** Multiaddrs to listen on. @default ['/ip4/127.0.0.1/tcp/0'] (loopback, a port chosen by the system) */
  listenAddresses?: readonly string[]
  /** Overrides of `defaultTransportLimits`; unset limits derive from the set ones as documented. */
  limits?: Partial<TransportLimits>
  /** Overrides of `defaultGossipTuning`. */
  gossip?: Partial<GossipTuning>
}

export interface ResolvedTransportOptions {
  readonly chainId: string
  readonly secretKey: Uint8Array
  readonly validators: readonly ValidatorPeer[]
  readonly listenAddresses: readonly string[]
  readonly limits: Readonly<TransportLimits>
  readonly gossip: Readonly<GossipTuning>
}

const chainIdPattern = /^[a-z0-9][a-z0-9._-]{0,63}$/

/** Applies the defaults and checks every field and every relation; throws ConfigError naming each problem. */
export function resolveTransportOptions(options: TransportOptions): ResolvedTransportOptions {
  const issues: ConfigIssue[] = []
  const issue = (path: string, message: string): void => {
    issues.push({ path, message })
  }

  if (typeof options.chainId !== 'string' || !chainIdPattern.test(options.chainId)) {
    issue('chainId', 'must be 1 to 64 characters of a-z, 0-9, ".", "_" or "-", starting with a letter or digit (it becomes part of topic names and protocol ids)')
  }
  if (!(options.secretKey instanceof Uint8Array) || options.secretKey.length !== secretKeyBytesLength) {
    issue('secretKey', `must be the ${secretKeyBytesLength}-byte Ed25519 secret key (seed) of this validator`)
  }
  if (!Array.isArray(options.validators) || options.validators.length === 0) {
    issue('validators', 'must list at least one validator')
  }
  const seen = new Set<string>()
  for (const [index, validator] of (options.validators ?? []).entries()) {
    const path = `validators[${index}]`
    if (!(validator.publicKey instanceof Uint8Array) || validator.publicKey.length !== publicKeyBytesLength || !isValidEd25519PublicKey(validator.publicKey)) {
      issue(`${path}.publicKey`, `must be a valid ${publicKeyBytesLength}-byte Ed25519 public key`)
    } else {
      const hex = bytesToHex(validator.publicKey)
      if (seen.has(hex)) issue(`${path}.publicKey`, 'is listed twice')
      seen.add(hex)
    }
    for (const [addressIndex, address] of (validator.addresses ?? []).entries()) {
      const problem = multiaddrProblem(address)
      if (problem !== undefined) issue(`${path}.addresses[${addressIndex}]`, problem)
    }
  }
  const listenAddresses = options.listenAddresses ?? ['/ip4/127.0.0.1/tcp/0']
  if (listenAddresses.length === 0) issue('listenAddresses', 'must name at least one address to listen on')
  for (const [index, address] of listenAddresses.entries()) {
    const problem = multiaddrProblem(address)
    if (problem !== undefined) issue(`listenAddresses[${index}]`, problem)
  }

  const limits = deriveLimits(options.limits ?? {})
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) issue(`limits.${name}`, 'must be a positive integer')
  }
  if (limits.gossipFrameBytesMax < limits.messageBytesMax + gossipFrameOverheadBytes) {
    issue('limits.gossipFrameBytesMax', `must be at least limits.messageBytesMax + ${gossipFrameOverheadBytes} so a frame holds a whole message`)
  }
  if (limits.gossipOutboundQueueBytesMax < limits.gossipFrameBytesMax) {
    issue('limits.gossipOutboundQueueBytesMax', 'must be at least limits.gossipFrameBytesMax so one frame can be queued')
  }
  if (limits.responseBytesMax < limits.messageBytesMax) {
    issue('limits.responseBytesMax', 'must be at least limits.messageBytesMax: a response must hold one block, and a block fits in a message')
  }
  if (limits.redialDelayMinMs < 50) issue('limits.redialDelayMinMs', 'must be at least 50 ms so redialing never becomes a busy loop')
  if (limits.redialDelayMaxMs < limits.redialDelayMinMs) issue('limits.redialDelayMaxMs', 'must be at least limits.redialDelayMinMs')

  const gossip = { ...defaultGossipTuning, ...options.gossip }
  for (const [name, value] of Object.entries(gossip)) {
    if (!Number.isSafeInteger(value) || value < 0) issue(`gossip.${name}`, 'must be a non-negative integer')
  }
  const noRelay = gossip.meshDegree === 0 && gossip.meshDegreeLow === 0 && gossip.meshDegreeHigh === 0
  if (!noRelay && !(gossip.meshDegreeLow >= 1 && gossip.meshDegreeLow <= gossip.meshDegree && gossip.meshDegree <= gossip.meshDegreeHigh)) {
    issue('gossip.meshDegree', 'must be 0 with meshDegreeLow and meshDegreeHigh 0 (no relaying), or satisfy 1 <= meshDegreeLow <= meshDegree <= meshDegreeHigh')
  }
  if (gossip.heartbeatIntervalMs < 100) issue('gossip.heartbeatIntervalMs', 'must be at least 100 ms')

  if (issues.length > 0) throw new ConfigError('CONFIG_INVALID', 'transport options', issues)
  return {
    chainId: options.chainId,
    secretKey: options.secretKey,
    validators: options.validators,
    listenAddresses,
    limits,
    gossip
  }
}

function multiaddrProblem(address: unknown): string | undefined {
  if (typeof address !== 'string') return 'must be a multiaddr string such as /ip4/127.0.0.1/tcp/7001'
  try {
    const parsed = multiaddr(address)
    if (!parsed.getComponents().some((component) => component.name === 'tcp')) {
      return `${address} has no /tcp/ part; the transport speaks TCP only`
    }
    return undefined
  } catch {
    return `${address} is not a valid multiaddr (expected something like /ip4/127.0.0.1/tcp/7001)`
  }
}

/** Protocol id of catch-up requests: `/corridor/<chainId>/sync/1`. */
export function syncProtocolId(chainId: string): string {
  return `/corridor/${chainId}/sync/1`
}

/** Protocol id of one-way direct messages: `/corridor/<chainId>/direct/1`. */
export function directProtocolId(chainId: string): string {
  return `/corridor/${chainId}/direct/1`
}

/** Gossipsub topic string of a channel: `/corridor/<chainId>/<name>/1`. */
export function gossipTopicId(chainId: string, name: GossipTopicName): string {
  return `/corridor/${chainId}/${name}/1`
}

/**
 * Expected failures of the transport. The code is safe as a metric label; the message says what
 * happened without ever quoting peer bytes.
 */
export const transportErrorCodes = [
  /** The peer id is not one of the network's validators. */
  'NOT_VALIDATOR',
  /** Outgoing bytes exceed the limit for their channel: nothing was sent. */
  'MESSAGE_OVERSIZED',
  /** The response announced more bytes than `responseBytesMax`: it was not read. */
  'RESPONSE_OVERSIZED',
  /** No complete response within the timeout. */
  'REQUEST_TIMEOUT',
  /** The peer answered with an error status (see `details.remoteCode`). */
  'REMOTE_ERROR',
  /** The peer could not be reached, or the stream failed or was reset. */
  'STREAM_FAILED',
  /** The transport is not running. */
  'NOT_RUNNING'
] as const
export type TransportErrorCode = (typeof transportErrorCodes)[number]

export class TransportError extends CorridorError<TransportErrorCode> {
  constructor(code: TransportErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details)
    this.name = 'TransportError'
  }
}

/** Status codes a serving peer can answer a sync request with, instead of a response. A closed set. */
export const remoteErrorCodes = ['REQUEST_OVERSIZED', 'RESPONSE_OVERSIZED', 'HANDLER_FAILED', 'HANDLER_TIMEOUT'] as const
export type RemoteErrorCode = (typeof remoteErrorCodes)[number]
