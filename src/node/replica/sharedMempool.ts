/**
 * One pool of admitted transactions shared by the simulated validators of a process, each seeing
 * its own mempool through a view, for simulations at scale (`mempool: shared`).
 *
 * With a mempool per validator, every transaction is inserted into n mempools, kept in n signer
 * queues and removed n times, and every gossip batch is a delivery to each of n - 1 validators:
 * at 16 banks that was most of a simulation's work. Here a transaction enters the pool once; a
 * view marks when it reached its validator (a submission, or a gossip batch arriving: O(1) per
 * transaction, no decoding, no ledger lookups), and a committed transaction leaves every view as
 * that view's validator commits its height, by comparison with the height it was committed at.
 *
 * What a validator proposes is still only what has reached it, in nonce order per signer, with
 * the nonce-gap grace measured from when it reached that validator, never a transaction its own
 * ledger has seen committed or made stale. What differs from per-node mempools, so traces differ
 * and the mode is opt-in:
 * - a proposer takes transactions in the order they entered the pool (first submission), not in
 *   the order they reached it;
 * - admission (account, key, size and signature checks) happens once, at the first validator that
 *   admits a transaction; a second transaction with the nonce of a waiting one of the same signer
 *   is refused process-wide (DUPLICATE_NONCE), and the bounds (MEMPOOL_FULL, SIGNER_QUEUE_FULL)
 *   apply to the pool as a whole;
 * - arrivals by gossip are never refused.
 * A real node runs one replica with its own Mempool and has no use for this.
 */
import type { AdmittedTransaction } from '../../ledger/transactions.ts'
import { assert } from '../../protocol/assert.ts'
import type { MempoolLike, MempoolLimits, MempoolRefusal, ReapOptions } from './mempool.ts'

interface SharedEntry {
  readonly tx: AdmittedTransaction
  readonly nonce: bigint
  readonly encodedBytes: number
  /** Per validator (by index): driver time in ms when the transaction reached it; Infinity until it does. */
  readonly arrivedMs: number[]
  /** Height at which it left every mempool (committed, or made stale by a committed nonce); Infinity while waiting. */
  goneAtHeight: number
  /** Gossip deliveries of it still on their way (see SharedBatch). */
  inFlight: number
  removed: boolean
}

/** Transactions one validator gossips at once: what a `shareTransactions` action hands the driver. */
export class SharedBatch {
  readonly entries: readonly SharedEntry[]
  constructor(entries: readonly SharedEntry[]) {
    this.entries = entries
  }

  get count(): number {
    return this.entries.length
  }

  /** The driver sends the batch `deliveries` times (once per link, more when duplicated). */
  dispatched(deliveries: number): void {
    for (const entry of this.entries) entry.inFlight += deliveries
  }

  /** A delivery that will never arrive (lost with a crashed receiver). */
  cancelled(): void {
    for (const entry of this.entries) entry.inFlight--
  }
}

export class SharedMempool {
  private readonly limits: MempoolLimits
  private readonly indexOf = new Map<string, number>()
  private readonly validators: number
  /** Pool order (first admission): id -> entry. */
  private readonly entries = new Map<string, SharedEntry>()
  /** Per signer, entries in nonce order. */
  private readonly bySigner = new Map<string, SharedEntry[]>()
  /** Committed height per attached validator, -1 when detached (crashed). */
  private readonly heights: number[]
  private prunedBelow = 0
  /** Committed transaction lists already applied (every replica commits the same list object). */
  private readonly appliedCommits = new WeakSet<readonly AdmittedTransaction[]>()

  constructor(validators: readonly string[], limits: MempoolLimits) {
    validators.forEach((id, index) => this.indexOf.set(id, index))
    this.validators = validators.length
    this.heights = validators.map(() => -1)
    this.limits = limits
  }

  get size(): number {
    return this.entries.size
  }

  /** A fresh, empty view for a validator starting (or restarting) at `height`. */
  attach(validatorId: string, height: number): SharedMempoolView {
    const index = this.indexOf.get(validatorId)
    assert(index !== undefined, `${validatorId} is a validator of the shared mempool`)
    // A restarted validator's mempool starts empty, as a real one does.
    for (const entry of this.entries.values()) entry.arrivedMs[index] = Infinity
    this.heights[index] = height
    return new SharedMempoolView(this, index, height)
  }

  /** A validator crashed: its view is gone and no longer holds transactions in the pool. */
  detach(validatorId: string): void {
    const index = this.indexOf.get(validatorId)
    assert(index !== undefined, `${validatorId} is a validator of the shared mempool`)
    this.heights[index] = -1
    for (const entry of this.entries.values()) entry.arrivedMs[index] = Infinity
  }

  /** @internal */
  entry(id: string): SharedEntry | undefined {
    return this.entries.get(id)
  }

  /** @internal the signer's waiting entries in nonce order. */
  queueOf(signer: string): readonly SharedEntry[] | undefined {
    return this.bySigner.get(signer)
  }

  /** @internal */
  allEntries(): IterableIterator<SharedEntry> {
    return this.entries.values()
  }

  /** @internal adds a transaction first admitted by the validator `index`. */
  add(tx: AdmittedTransaction, encodedBytes: number, index: number, nowMs: number): SharedEntry | MempoolRefusal {
    const nonce = tx.envelope.nonce
    let queue = this.bySigner.get(tx.signer)
    if (queue !== undefined && queue.length >= this.limits.transactionsPerSignerMax) return 'SIGNER_QUEUE_FULL'
    if (this.entries.size >= this.limits.transactionsMax) return 'MEMPOOL_FULL'
    if (queue === undefined) {
      queue = []
      this.bySigner.set(tx.signer, queue)
    }
    let position = queue.length
    while (position > 0 && queue[position - 1]!.nonce > nonce) position--
    if (position > 0 && queue[position - 1]!.nonce === nonce) return 'DUPLICATE_NONCE'
    // A plain array of numbers, kept on the heap: a Float64Array of this size would get an
    // off-heap backing store per transaction, which the garbage collector tracks one by one.
    const arrivedMs: number[] = new Array<number>(this.validators).fill(Infinity)
    arrivedMs[index] = nowMs
    const entry: SharedEntry = { tx, nonce, encodedBytes, arrivedMs, goneAtHeight: Infinity, inFlight: 0, removed: false }
    if (position === queue.length) queue.push(entry)
    else queue.splice(position, 0, entry)
    this.entries.set(tx.id, entry)
    return entry
  }

  /** @internal a block committed at `height` by validator `index`; the first replica to commit it marks the pool. */
  committed(index: number, committed: readonly AdmittedTransaction[], height: number, lastNonceOf: (signer: string) => bigint): void {
    if (!this.appliedCommits.has(committed)) {
      this.appliedCommits.add(committed)
      const signers = new Set<string>()
      for (const tx of committed) {
        signers.add(tx.signer)
        const entry = this.entries.get(tx.id)
        if (entry !== undefined && entry.goneAtHeight > height) entry.goneAtHeight = height
      }
      // A committed nonce makes every waiting transaction of the signer at or below it stale.
      for (const signer of signers) {
        const queue = this.bySigner.get(signer)
        if (queue === undefined) continue
        const last = lastNonceOf(signer)
        for (let i = 0; i < queue.length && queue[i]!.nonce <= last; i++) if (queue[i]!.goneAtHeight > height) queue[i]!.goneAtHeight = height
      }
    }
    if (height > this.heights[index]!) this.heights[index] = height
    this.prune()
  }

  /** Drops entries gone at or below every attached validator's height, and ones no validator holds or will receive. */
  private prune(): void {
    let lowest = Infinity
    for (const height of this.heights) if (height >= 0 && height < lowest) lowest = height
    if (lowest === Infinity || lowest <= this.prunedBelow) return
    this.prunedBelow = lowest
    const attached: number[] = []
    this.heights.forEach((height, index) => height >= 0 && attached.push(index))
    const touched = new Set<string>()
    for (const entry of this.entries.values()) {
      let drop = entry.goneAtHeight <= lowest
      if (!drop && entry.goneAtHeight === Infinity && entry.inFlight === 0) {
        // Held by no validator that is up, and no delivery on its way: lost (a crashed origin's).
        drop = true
        for (const index of attached) {
          if (entry.arrivedMs[index] !== Infinity) {
            drop = false
            break
          }
        }
      }
      if (!drop) continue
      entry.removed = true
      this.entries.delete(entry.tx.id)
      touched.add(entry.tx.signer)
    }
    for (const signer of touched) {
      const queue = this.bySigner.get(signer)!
      const kept = queue.filter((entry) => !entry.removed)
      if (kept.length === 0) this.bySigner.delete(signer)
      else this.bySigner.set(signer, kept)
    }
  }
}

/** One validator's mempool: the pool's transactions that reached it and have not left it. */
export class SharedMempoolView implements MempoolLike {
  private readonly pool: SharedMempool
  private readonly index: number
  private height: number

  constructor(pool: SharedMempool, index: number, height: number) {
    this.pool = pool
    this.index = index
    this.height = height
  }

  private holds(entry: SharedEntry): boolean {
    return !entry.removed && entry.goneAtHeight > this.height && entry.arrivedMs[this.index] !== Infinity
  }

  get size(): number {
    let size = 0
    for (const entry of this.pool.allEntries()) if (this.holds(entry)) size++
    return size
  }

  has(id: string): boolean {
    const entry = this.pool.entry(id)
    return entry !== undefined && this.holds(entry)
  }

  add(tx: AdmittedTransaction, encodedBytes: number, lastNonce: bigint, nowMs: number): MempoolRefusal | undefined {
    const existing = this.pool.entry(tx.id)
    if (existing !== undefined && this.holds(existing)) return 'DUPLICATE'
    if (tx.envelope.nonce <= lastNonce) return 'STALE_NONCE'
    if (existing !== undefined) {
      if (existing.goneAtHeight <= this.height) return 'STALE_NONCE'
      existing.arrivedMs[this.index] = nowMs
      return undefined
    }
    const added = this.pool.add(tx, encodedBytes, this.index, nowMs)
    return typeof added === 'string' ? added : undefined
  }

  /** A gossip batch reached this validator at `nowMs`. */
  arrive(batch: SharedBatch, nowMs: number): void {
    for (const entry of batch.entries) {
      entry.inFlight--
      if (entry.removed || entry.goneAtHeight <= this.height) continue
      if (entry.arrivedMs[this.index]! > nowMs) entry.arrivedMs[this.index] = nowMs
    }
  }

  /** The pool's entries of these transactions (those still in it), to gossip as one batch. */
  batchOf(txs: readonly AdmittedTransaction[]): SharedBatch {
    const entries: SharedEntry[] = []
    for (const tx of txs) {
      const entry = this.pool.entry(tx.id)
      if (entry !== undefined) entries.push(entry)
    }
    return new SharedBatch(entries)
  }

  /** As Mempool.reap, over the transactions this validator holds, in pool order. */
  reap(options: ReapOptions): AdmittedTransaction[] {
    const out: AdmittedTransaction[] = []
    const taken = new Map<string, number>()
    const expected = new Map<string, bigint>()
    const index = this.index
    let bytes = 0
    for (const entry of this.pool.allEntries()) {
      if (out.length >= options.transactionsMax) break
      if (!this.holds(entry)) continue
      // The entry that reached this validator stands for "the signer's next transaction".
      const signer = entry.tx.signer
      const queue = this.pool.queueOf(signer)!
      let position = taken.get(signer) ?? 0
      if (position >= queue.length) continue
      let nextNonce = expected.get(signer)
      if (nextNonce === undefined) {
        nextNonce = options.lastNonceOf(signer) + 1n
        expected.set(signer, nextNonce)
      }
      const floor = nextNonce
      while (position < queue.length && (!this.holds(queue[position]!) || queue[position]!.nonce < floor)) position++
      if (position >= queue.length) {
        taken.set(signer, position)
        continue
      }
      const next = queue[position]!
      if (next.nonce !== nextNonce && options.nowMs - next.arrivedMs[index]! < options.gapGraceMs) {
        // Behind a gap: hold this signer back in this block.
        taken.set(signer, queue.length)
        continue
      }
      if (bytes + next.encodedBytes > options.bytesMax) break
      taken.set(signer, position + 1)
      expected.set(signer, next.nonce + 1n)
      if (options.skip !== undefined && options.skip(next.tx)) continue
      out.push(next.tx)
      bytes += next.encodedBytes
    }
    return out
  }

  removeCommitted(committed: readonly AdmittedTransaction[], lastNonceOf: (signer: string) => bigint, height?: number): number {
    assert(height !== undefined, 'a shared mempool view is told the committed height')
    this.pool.committed(this.index, committed, height, lastNonceOf)
    this.height = height
    return committed.length
  }
}
