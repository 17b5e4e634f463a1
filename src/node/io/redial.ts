/**
 * Keeps a connection to every validator of the static peer list: dial them all at start, and
 * when one drops or a dial fails, dial again after a capped exponential backoff with jitter.
 *
 * Bounds: at most one dial in flight and one timer pending per peer; the delay starts at
 * `redialDelayMinMs` (at least 50 ms, so never a busy loop) and doubles per failure up to
 * `redialDelayMaxMs`. A connection that drops soon after it opened (before `stableConnectionMs`)
 * counts as a failure, so a peer that accepts and then closes on us backs off the same way as one
 * that refuses outright. A validator that stays down costs one dial per `redialDelayMaxMs`, and
 * is never given up on: validators come back.
 */
import { setMaxListeners } from 'node:events'
import { assert } from '../../protocol/assert.ts'

export interface RedialLimits {
  readonly redialDelayMinMs: number
  readonly redialDelayMaxMs: number
  readonly dialTimeoutMs: number
}

export interface RedialComponents {
  /** Dials the peer; rejects when the dial fails or the signal aborts. */
  dial(peerId: string, signal: AbortSignal): Promise<void>
  isConnected(peerId: string): boolean
  /** Uniform in [0, 1): the jitter of the delays. */
  random(): number
  now(): number
  onDialFailed(peerId: string, failures: number, nextDelayMs: number, error: unknown): void
}

interface PeerState {
  failures: number
  timer: ReturnType<typeof setTimeout> | undefined
  dialing: boolean
  connectedAtMs: number | undefined
}

export class Redialer {
  readonly #limits: RedialLimits
  readonly #components: RedialComponents
  readonly #peers = new Map<string, PeerState>()
  readonly #stopController = new AbortController()
  #running = false

  /** How long a connection must have lasted for its loss to reset the backoff. */
  readonly stableConnectionMs: number

  constructor(peerIds: readonly string[], limits: RedialLimits, components: RedialComponents) {
    assert(limits.redialDelayMinMs >= 50 && limits.redialDelayMaxMs >= limits.redialDelayMinMs, 'redial delays are bounded below and ordered')
    this.#limits = limits
    this.#components = components
    this.stableConnectionMs = 2 * limits.redialDelayMaxMs
    for (const peerId of peerIds) this.#peers.set(peerId, { failures: 0, timer: undefined, dialing: false, connectedAtMs: undefined })
  }

  /** Dials every peer that is not connected yet. */
  start(): void {
    assert(!this.#running && !this.#stopController.signal.aborted, 'a redialer starts once')
    this.#running = true
    for (const peerId of this.#peers.keys()) void this.#attempt(peerId)
  }

  /** Cancels pending timers and in-flight dials; nothing is scheduled afterwards. */
  stop(): void {
    this.#running = false
    this.#stopController.abort()
    for (const state of this.#peers.values()) {
      clearTimeout(state.timer)
      state.timer = undefined
    }
  }

  /** A connection to the peer opened (either side dialed). */
  connected(peerId: string): void {
    const state = this.#peers.get(peerId)
    if (state === undefined) return
    state.connectedAtMs = this.#components.now()
    clearTimeout(state.timer)
    state.timer = undefined
  }

  /** The last connection to the peer closed. */
  disconnected(peerId: string): void {
    const state = this.#peers.get(peerId)
    if (state === undefined || !this.#running) return
    const lastedMs = state.connectedAtMs === undefined ? 0 : this.#components.now() - state.connectedAtMs
    state.connectedAtMs = undefined
    if (lastedMs >= this.stableConnectionMs) state.failures = 0
    else state.failures++
    this.#schedule(peerId, state, this.delayMs(state.failures))
  }

  /** The delay before the next dial after `failures` failures in a row: capped doubling, +/-20% jitter. */
  delayMs(failures: number): number {
    const { redialDelayMinMs, redialDelayMaxMs } = this.#limits
    const base = Math.min(redialDelayMaxMs, redialDelayMinMs * 2 ** Math.min(Math.max(failures - 1, 0), 30))
    const jittered = base * (0.8 + 0.4 * this.#components.random())
    return Math.round(Math.min(redialDelayMaxMs, Math.max(redialDelayMinMs, jittered)))
  }

  /** Consecutive failures per peer, for health reports and tests. */
  failures(peerId: string): number {
    return this.#peers.get(peerId)?.failures ?? 0
  }

  #schedule(peerId: string, state: PeerState, delayMs: number): void {
    if (!this.#running || state.timer !== undefined || state.dialing) return
    state.timer = setTimeout(() => {
      state.timer = undefined
      void this.#attempt(peerId)
    }, delayMs)
  }

  async #attempt(peerId: string): Promise<void> {
    const state = this.#peers.get(peerId)
    assert(state !== undefined, 'only known peers are dialed')
    if (!this.#running || state.dialing || this.#components.isConnected(peerId)) return
    state.dialing = true
    const signal = AbortSignal.any([this.#stopController.signal, AbortSignal.timeout(this.#limits.dialTimeoutMs)])
    setMaxListeners(Infinity, signal)
    try {
      await this.#components.dial(peerId, signal)
    } catch (error) {
      if (!this.#running) return
      state.failures++
      const nextDelayMs = this.delayMs(state.failures)
      this.#components.onDialFailed(peerId, state.failures, nextDelayMs, error)
      state.dialing = false
      this.#schedule(peerId, state, nextDelayMs)
    } finally {
      state.dialing = false
    }
  }
}
