/**
 * Fault injection for testing (issue 6): a layer around the transport that blocks, delays, drops
 * and duplicates messages to and from chosen peers, driven at run time through the admin API.
 * It exists only in a node started with `--fault-injection`; without it the service never builds
 * one, so the normal path has no check at all, not even a branch.
 *
 * Where each fault acts:
 * - `blocked`: both directions at this node. Inbound, every message from the peer is dropped: its
 *   gossip (which, without a relaying mesh, only its author delivers; see gossip.ts), direct
 *   messages and sync requests. Outbound, direct messages and sync requests to it are dropped. Gossip
 *   this node publishes is one broadcast to every peer, so no sender can hold it back from one
 *   peer: the peer's own fault state drops it. A partition is the driver blocking on both sides.
 * - `delayMs` (+ uniform `jitterMs`), `drop`, `duplicate`: on messages this node receives from the
 *   peer, so that every message is faulted exactly once, by its receiver, whatever the channel (a
 *   fault set on both sides would otherwise hit direct messages twice and gossip once). To fault the
 *   link A-B both ways, set it at A for B and at B for A; one way (A to B), at B for A.
 * - `default`: the entry of every peer not named in `peers` (it cannot block).
 * Jitter reorders messages; nothing here restores order.
 *
 * Randomness is I/O-side (the core draws none); a seed makes a run's draws repeatable.
 */
import { z } from 'zod'
import type { Transport, TransportHandlers } from './transport.ts'
import { TransportError } from './transportOptions.ts'

export const faultKinds = ['blocked', 'drop', 'delay', 'duplicate'] as const
export type FaultKind = (typeof faultKinds)[number]

/** Longest delay or jitter the layer accepts: a minute is far beyond any consensus timeout. */
export const faultDelayMsMax = 60_000
/** Delayed messages held at once; beyond, a message that should be delayed is dropped (counted as drop). */
export const delayedMessagesMax = 100_000

const linkFields = {
  delayMs: z.number().int().min(0).max(faultDelayMsMax).optional(),
  jitterMs: z.number().int().min(0).max(faultDelayMsMax).optional(),
  drop: z.number().min(0).max(1).optional(),
  duplicate: z.number().min(0).max(1).optional()
}
const peerFaultSchema = z.strictObject({ blocked: z.boolean().optional(), ...linkFields })
const linkFaultSchema = z.strictObject(linkFields)

/** The PUT /v1/admin/faults body: the whole fault state (it replaces the previous one). */
export const faultStateSchema = z.strictObject({
  peers: z.record(z.string().min(1).max(64), peerFaultSchema),
  default: linkFaultSchema.optional()
})
export type FaultState = z.output<typeof faultStateSchema>
export type PeerFault = z.output<typeof peerFaultSchema>

export const emptyFaultState: FaultState = { peers: {} }

export interface FaultLayerComponents {
  /** The bank id behind a peer id (undefined for a peer outside the validator set). */
  readonly bankOf: (peerId: string) => string | undefined
  /** The peer id of a bank (undefined for a bank outside the validator set). */
  readonly peerOf: (bank: string) => string | undefined
  /** Counts each injected fault. */
  readonly onFault: (kind: FaultKind) => void
  /** Seed of the layer's draws. @default a random seed */
  readonly seed?: number
}

/** mulberry32: small, fast, and enough for coin flips in tests; seeded so a run can be repeated. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let value = state
    value = Math.imul(value ^ (value >>> 15), value | 1)
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61)
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296
  }
}

export class FaultLayer {
  readonly #bankOf: (peerId: string) => string | undefined
  readonly #peerOf: (bank: string) => string | undefined
  /** The node's handlers behind the layer, told when a blocked peer is unblocked. */
  #handlers: TransportHandlers | undefined
  readonly #onFault: (kind: FaultKind) => void
  readonly #random: () => number
  readonly #timers = new Set<ReturnType<typeof setTimeout>>()
  #state: FaultState = emptyFaultState
  #stopped = false

  constructor(components: FaultLayerComponents) {
    this.#bankOf = components.bankOf
    this.#peerOf = components.peerOf
    this.#onFault = components.onFault
    this.#random = seededRandom(components.seed ?? Math.floor(Math.random() * 2 ** 32))
  }

  /** The fault state in force. */
  get state(): FaultState {
    return this.#state
  }

  /**
   * Replaces the whole fault state (validated by the caller with `faultStateSchema`). A peer that
   * was blocked and is not any more is announced to the node as connected again: to the node, a
   * healed partition is a link that came back, with everything gossiped meanwhile lost.
   */
  set(state: FaultState): void {
    const before = this.#state
    this.#state = state
    for (const [bank, fault] of Object.entries(before.peers)) {
      if (fault.blocked !== true || state.peers[bank]?.blocked === true) continue
      const peerId = this.#peerOf(bank)
      if (peerId !== undefined) this.#handlers?.onPeerConnected?.(peerId)
    }
  }

  clear(): void {
    this.set(emptyFaultState)
  }

  /** Drops the messages still being delayed; the layer passes nothing on afterwards. */
  stop(): void {
    this.#stopped = true
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
  }

  #faultOf(peerId: string): PeerFault | undefined {
    const bank = this.#bankOf(peerId)
    const own = bank === undefined ? undefined : this.#state.peers[bank]
    return own ?? this.#state.default
  }

  /** Inbound: delivers `deliver` zero, one or two times, now or later, as the peer's fault says. */
  #inbound(fromPeer: string, deliver: () => void): void {
    if (this.#stopped) return
    const fault = this.#faultOf(fromPeer)
    if (fault === undefined) return deliver()
    if (fault.blocked === true) return this.#onFault('blocked')
    if (fault.drop !== undefined && fault.drop > 0 && this.#random() < fault.drop) return this.#onFault('drop')
    const copies = fault.duplicate !== undefined && fault.duplicate > 0 && this.#random() < fault.duplicate ? 2 : 1
    if (copies === 2) this.#onFault('duplicate')
    for (let copy = 0; copy < copies; copy++) {
      const delayMs = (fault.delayMs ?? 0) + (fault.jitterMs !== undefined && fault.jitterMs > 0 ? Math.floor(this.#random() * (fault.jitterMs + 1)) : 0)
      if (delayMs <= 0) {
        deliver()
        continue
      }
      if (this.#timers.size >= delayedMessagesMax) {
        this.#onFault('drop')
        continue
      }
      this.#onFault('delay')
      const timer = setTimeout(() => {
        this.#timers.delete(timer)
        if (!this.#stopped) deliver()
      }, delayMs)
      this.#timers.add(timer)
    }
  }

  #outboundBlocked(toPeer: string): boolean {
    const bank = this.#bankOf(toPeer)
    if (bank === undefined || this.#state.peers[bank]?.blocked !== true) return false
    this.#onFault('blocked')
    return true
  }

  /** The handlers the transport calls, with inbound faults in front of the node's own. */
  wrapHandlers(handlers: TransportHandlers): TransportHandlers {
    this.#handlers = handlers
    return {
      // A connection is not a message: a blocked peer's is still reported (its gossip stays blocked).
      ...(handlers.onPeerConnected === undefined ? {} : { onPeerConnected: (peerId: string) => handlers.onPeerConnected!(peerId) }),
      onMessage: (topic, bytes, fromPeer) => this.#inbound(fromPeer, () => handlers.onMessage(topic, bytes, fromPeer)),
      onDirect: (bytes, fromPeer) => this.#inbound(fromPeer, () => handlers.onDirect(bytes, fromPeer)),
      onRequest: (bytes, fromPeer) =>
        new Promise<Uint8Array>((resolve, reject) => {
          let answered = false
          // A dropped or blocked request is never answered: the requester times out, as on a real cut link.
          this.#inbound(fromPeer, () => {
            if (answered) return
            answered = true
            handlers.onRequest(bytes, fromPeer).then(resolve, reject)
          })
        })
    }
  }

  /** The transport the node uses, with outbound blocks in front of direct sends and requests. */
  wrapTransport(transport: Transport): Transport {
    const layer = this
    return {
      get peerId() {
        return transport.peerId
      },
      get options() {
        return transport.options
      },
      get counters() {
        return transport.counters
      },
      start: () => transport.start(),
      stop: async () => {
        layer.stop()
        await transport.stop()
      },
      isRunning: () => transport.isRunning(),
      listenAddresses: () => transport.listenAddresses(),
      peers: () => transport.peers(),
      gossipPeers: (topic) => transport.gossipPeers(topic),
      publish: (topic, bytes) => transport.publish(topic, bytes),
      request: async (peerId, bytes, options) => {
        if (layer.#outboundBlocked(peerId)) throw new TransportError('STREAM_FAILED', `sync request to ${peerId} blocked by fault injection`)
        return transport.request(peerId, bytes, options)
      },
      // A blocked message is lost on the wire: the sender is not told, as with a real cut link.
      send: async (peerId, bytes) => (layer.#outboundBlocked(peerId) ? undefined : transport.send(peerId, bytes)),
      isValidator: (peerId) => transport.isValidator(peerId),
      publicKeyOf: (peerId) => transport.publicKeyOf(peerId)
    }
  }
}
