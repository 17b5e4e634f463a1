/**
 * The scenario's workload against real nodes: the simulator's own generators
 * (src/sim/workload.ts, same seed stream, so the same transfers with the same nonces), signed with
 * real Ed25519, submitted in real time compressed by `speed`: every tick, what is due goes to the
 * payer's bank node as one POST /v1/transactions/batch per bank. While a bank's node is down or
 * paused its submissions wait and are retried every 500 ms of scenario time, as the simulator's
 * clients retry. A node killed right after accepting a transaction may not have gossiped it yet
 * (it is lost with the process's memory), so once a crashed node is back, what it accepted and
 * has not been seen final is submitted to it again, as a bank's client would on finding its
 * payment unknown: a transaction id is idempotent (DUPLICATE, or a stale nonce once committed).
 */
import { bytesToHex } from '../protocol/bytes.ts'
import { encodeTransaction } from '../protocol/envelope.ts'
import { createScenarioSources, type Submission, type TransferInfo, type WorkloadSource } from '../sim/workload.ts'
import type { TrackedTransfer } from '../sim/summary.ts'
import type { FxTable } from '../ledger/fx.ts'
import type { Scenario } from '../sim/scenario/schema.ts'
import type { World } from '../sim/world.ts'
import type { NodeClient } from './nodeClient.ts'

const batchMax = 1_000
const retryMs = 500
/** Batch requests in flight per bank at most; beyond, submissions wait for the next tick. */
const inFlightPerBankMax = 4

export interface Transfer {
  readonly id: string
  readonly info: TransferInfo
  readonly via: string
  readonly hex: string
  /** Scenario ms at which the generator produced it: the submission time, as in the simulator (waiting for a crashed bank counts). */
  readonly arrivalMs: number
  readonly submitMs: number
  finalMs: number | undefined
  status: 'settled' | 'rejected' | 'pending'
  reason: string
  received: bigint | undefined
  refused: boolean
  attempts: number
  nextTryMs: number
  accepted: boolean
}

export interface DriverHooks {
  /** Scenario ms now. */
  readonly now: () => number
  /** Whether the bank's node can take submissions (running, not paused). */
  readonly available: (bank: string) => boolean
  readonly client: (bank: string) => NodeClient
  readonly event: (event: Record<string, unknown>) => void
}

export class WorkloadDriver {
  readonly transfers = new Map<string, Transfer>()
  readonly #sources: WorkloadSource[]
  readonly #next: Array<number | undefined>
  readonly #waiting = new Map<string, Transfer[]>()
  readonly #inFlight = new Map<string, number>()
  readonly #hooks: DriverHooks
  readonly #requests = new Set<Promise<void>>()
  /** Transfers generated, and sent (first attempt) by the driver. */
  generated = 0
  sent = 0
  firstSentWallMs: number | undefined
  lastSentWallMs: number | undefined
  /** Per transfer, scenario ms from its arrival to its first send: a generator falling behind shows here. */
  readonly lags: number[] = []
  pendingCount = 0
  finalCount = 0
  /** Transfers submitted again after their node restarted. */
  resubmitted = 0
  /** Transfers of other banks sent to a node that restarted (see rebroadcastTo). */
  rebroadcast = 0

  constructor(scenario: Scenario, world: World, fx: FxTable, hooks: DriverHooks) {
    this.#hooks = hooks
    // The simulator's own sources (same seed streams, same nonces): the same transfers.
    this.#sources = createScenarioSources(scenario, world, fx)
    this.#next = this.#sources.map((source) => source.first())
  }

  /** Generates what is due by now and sends what can be sent. */
  tick(): void {
    const now = this.#hooks.now()
    for (;;) {
      let index = -1
      for (let i = 0; i < this.#next.length; i++) {
        const at = this.#next[i]
        if (at !== undefined && at <= now && (index < 0 || at < this.#next[index]!)) index = i
      }
      if (index < 0) break
      const at = this.#next[index]!
      const { submissions, nextMs } = this.#sources[index]!.arrive(at)
      this.#next[index] = nextMs
      for (const submission of submissions) this.#add(submission, at)
    }
    for (const [bank, list] of this.#waiting) this.#send(bank, list, now)
  }

  get exhausted(): boolean {
    return this.#next.every((next) => next === undefined)
  }

  #add(submission: Submission, atMs: number): void {
    const envelope = submission.envelope
    const transfer: Transfer = {
      id: envelope.id,
      info: submission.info,
      via: submission.via,
      hex: bytesToHex(encodeTransaction(envelope)),
      arrivalMs: atMs,
      submitMs: Math.round(atMs),
      finalMs: undefined,
      status: 'pending',
      reason: '',
      received: undefined,
      refused: false,
      attempts: 0,
      nextTryMs: atMs,
      accepted: false
    }
    this.generated++
    this.pendingCount++
    this.transfers.set(transfer.id, transfer)
    let list = this.#waiting.get(transfer.via)
    if (list === undefined) this.#waiting.set(transfer.via, (list = []))
    list.push(transfer)
  }

  #send(bank: string, list: Transfer[], now: number): void {
    if (list.length === 0 || !this.#hooks.available(bank)) return
    while (list.length > 0 && (this.#inFlight.get(bank) ?? 0) < inFlightPerBankMax) {
      // Keep order: the first not yet due stops the batch (a retry waits for its time).
      let count = 0
      while (count < list.length && count < batchMax && list[count]!.nextTryMs <= now) count++
      if (count === 0) return
      const batch = list.splice(0, count)
      const wall = performance.now()
      for (const transfer of batch) {
        if (transfer.attempts === 0) {
          this.sent++
          this.lags.push(now - transfer.arrivalMs)
          this.firstSentWallMs ??= wall
          this.lastSentWallMs = wall
          this.#hooks.event({ t: Math.round(now), kind: 'submit', id: transfer.id, via: bank })
        }
        transfer.attempts++
      }
      this.#inFlight.set(bank, (this.#inFlight.get(bank) ?? 0) + 1)
      const request = this.#hooks
        .client(bank)
        .post<{ results: Array<{ ok: boolean; id: string | null; code?: string }> }>('/v1/transactions/batch', batch.map((transfer) => transfer.hex))
        .then((answer) => {
          answer.results.forEach((result, index) => this.#answered(batch[index]!, result.ok, result.code))
        })
        .catch(() => {
          // The node did not answer (down, paused, overloaded): the client retries.
          this.#retry(bank, batch)
        })
        .finally(() => {
          this.#inFlight.set(bank, (this.#inFlight.get(bank) ?? 1) - 1)
          this.#requests.delete(request)
        })
      this.#requests.add(request)
    }
  }

  /** Queues again every transfer the bank's node accepted and that is not final yet (after the node restarted). */
  resubmitPending(bank: string): number {
    const now = this.#hooks.now()
    const again = [...this.transfers.values()].filter((transfer) => transfer.via === bank && transfer.accepted && transfer.status === 'pending')
    if (again.length === 0) return 0
    for (const transfer of again) {
      transfer.accepted = false
      transfer.nextTryMs = now
    }
    let list = this.#waiting.get(bank)
    if (list === undefined) this.#waiting.set(bank, (list = []))
    // Before anything newer of the same signers (nonce order), after nothing: they are older than all waiting.
    list.unshift(...again.sort((a, b) => a.arrivalMs - b.arrivalMs))
    this.resubmitted += again.length
    this.#hooks.event({ t: Math.round(now), kind: 'resubmit', via: bank, count: again.length })
    return again.length
  }

  /**
   * Sends a restarted node every transfer other banks' nodes accepted and that is not final yet.
   * Its mempool died with the old process and gossip does not replay what it missed, so without
   * this it may propose a signer's later transaction without the earlier one, which the commit
   * then makes stale everywhere: an accepted payment lost (seen in crash-restart runs on a loaded
   * machine). This is the node's job (a mempool sent to a peer that connects, as CometBFT's
   * mempool reactor does); until the node does it, the driver does. Answers are not used: the
   * transfers stay with the banks they were submitted to. With `from` a bank: that bank's pending
   * transfers only (what a restarted node accepted before it had peers went nowhere). Returns how
   * many were sent.
   */
  rebroadcastTo(bank: string, from: 'other banks' | string = 'other banks'): number {
    const others = [...this.transfers.values()]
      .filter((transfer) => (from === 'other banks' ? transfer.via !== bank : transfer.via === from) && transfer.accepted && transfer.status === 'pending')
      .sort((a, b) => a.arrivalMs - b.arrivalMs)
    for (let from = 0; from < others.length; from += batchMax) {
      const batch = others.slice(from, from + batchMax)
      const request = this.#hooks
        .client(bank)
        .post('/v1/transactions/batch', batch.map((transfer) => transfer.hex))
        .then(
          () => undefined,
          () => undefined
        )
        .finally(() => this.#requests.delete(request))
      this.#requests.add(request)
    }
    if (others.length > 0) this.#hooks.event({ t: Math.round(this.#hooks.now()), kind: 'rebroadcast', to: bank, from, count: others.length })
    this.rebroadcast += others.length
    return others.length
  }

  #retry(bank: string, batch: Transfer[]): void {
    const at = this.#hooks.now() + retryMs
    for (const transfer of batch) transfer.nextTryMs = at
    const list = this.#waiting.get(bank)!
    list.unshift(...batch)
  }

  #answered(transfer: Transfer, ok: boolean, code: string | undefined): void {
    // A retry of a transaction an earlier attempt got in: already waiting, or already committed.
    const again = transfer.attempts > 1 && (code === 'DUPLICATE' || code === 'STALE_NONCE' || code === 'DUPLICATE_NONCE')
    if (ok || again || code === 'DUPLICATE') {
      transfer.accepted = true
      return
    }
    if (transfer.status !== 'pending') return
    const now = this.#hooks.now()
    transfer.status = 'rejected'
    transfer.reason = code ?? 'REFUSED'
    transfer.refused = true
    transfer.finalMs = Math.max(Math.round(now), transfer.submitMs)
    this.pendingCount--
    this.finalCount++
    this.#hooks.event({ t: Math.round(now), kind: 'refused', id: transfer.id, code: transfer.reason })
  }

  /** A receipt read from a committed block. Returns the transfer when it was pending. */
  final(id: string, atMs: number, status: 'settled' | 'rejected', reason: string, received: bigint | undefined): Transfer | undefined {
    const transfer = this.transfers.get(id)
    if (transfer === undefined || transfer.status !== 'pending') return undefined
    transfer.status = status
    transfer.reason = reason
    transfer.received = received
    transfer.finalMs = Math.max(Math.round(atMs), transfer.submitMs)
    this.pendingCount--
    this.finalCount++
    return transfer
  }

  /** Waits for the requests in flight. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.#requests])
  }

  tracked(): TrackedTransfer[] {
    return [...this.transfers.values()].map((t) => ({ id: t.id, info: t.info, submitMs: t.submitMs, finalMs: t.finalMs, status: t.status, reason: t.reason, received: t.received, refused: t.refused }))
  }
}
