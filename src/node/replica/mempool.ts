/**
 * The mempool: admitted transactions waiting for a block. Bounded in total and per signer. Blocks
 * take transactions in arrival order, but each signer's in nonce order, so a transaction that
 * overtook an earlier one of the same signer on the network is not executed first (which would
 * make the earlier one a replay).
 */
import type { AdmittedTransaction } from '../../ledger/transactions.ts'
import { assert } from '../../protocol/assert.ts'

export type MempoolRefusal = 'DUPLICATE' | 'STALE_NONCE' | 'DUPLICATE_NONCE' | 'MEMPOOL_FULL' | 'SIGNER_QUEUE_FULL'

interface Entry {
  readonly tx: AdmittedTransaction
  readonly encodedBytes: number
  readonly arrival: number
  /** Driver time when the transaction entered this mempool. */
  readonly addedMs: number
}

export interface ReapOptions {
  readonly transactionsMax: number
  readonly bytesMax: number
  /** The signer's last committed nonce. */
  readonly lastNonceOf: (signer: string) => bigint
  readonly nowMs: number
  /**
   * A transaction whose nonce leaves a gap after the signer's last committed one waits this long
   * before a block takes it: the missing one is probably still on its way (it may sit in another
   * validator's mempool, across a partition), and taking the later one first would make the
   * earlier one a replay. After the grace the gap is accepted (the ledger allows gaps), so one
   * lost transaction does not block its signer forever.
   */
  readonly gapGraceMs: number
  readonly skip?: (tx: AdmittedTransaction) => boolean
}

export interface MempoolLimits {
  readonly transactionsMax: number
  readonly transactionsPerSignerMax: number
}

/** What the replica needs of a mempool: this one, or a validator's view of a shared pool (sharedMempool.ts). */
export interface MempoolLike {
  readonly size: number
  has(id: string): boolean
  add(tx: AdmittedTransaction, encodedBytes: number, lastNonce: bigint, nowMs: number): MempoolRefusal | undefined
  reap(options: ReapOptions): AdmittedTransaction[]
  /** `height`: the height of the block that committed them. */
  removeCommitted(committed: readonly AdmittedTransaction[], lastNonceOf: (signer: string) => bigint, height?: number): number
}

export class Mempool implements MempoolLike {
  private readonly limits: MempoolLimits
  /** Arrival order: id -> entry. Map iteration order is insertion order. */
  private readonly byId = new Map<string, Entry>()
  /** Per signer, entries sorted by nonce. */
  private readonly bySigner = new Map<string, Entry[]>()
  private arrivals = 0

  constructor(limits: MempoolLimits) {
    this.limits = limits
  }

  get size(): number {
    return this.byId.size
  }

  has(id: string): boolean {
    return this.byId.has(id)
  }

  /**
   * Adds an admitted transaction. `lastNonce` is the signer's last nonce in the committed ledger:
   * a transaction at or below it can only be a replay and is refused here rather than in a block.
   */
  add(tx: AdmittedTransaction, encodedBytes: number, lastNonce: bigint, nowMs: number): MempoolRefusal | undefined {
    if (this.byId.has(tx.id)) return 'DUPLICATE'
    const nonce = tx.envelope.nonce
    if (nonce <= lastNonce) return 'STALE_NONCE'
    let queue = this.bySigner.get(tx.signer)
    if (queue !== undefined && queue.length >= this.limits.transactionsPerSignerMax) return 'SIGNER_QUEUE_FULL'
    if (this.byId.size >= this.limits.transactionsMax) return 'MEMPOOL_FULL'
    if (queue === undefined) {
      queue = []
      this.bySigner.set(tx.signer, queue)
    }
    // Insert in nonce order; arrivals are almost always in order, so scan from the end.
    let index = queue.length
    while (index > 0 && queue[index - 1]!.tx.envelope.nonce > nonce) index--
    if (index > 0 && queue[index - 1]!.tx.envelope.nonce === nonce) return 'DUPLICATE_NONCE'
    const entry: Entry = { tx, encodedBytes, arrival: this.arrivals++, addedMs: nowMs }
    if (index === queue.length) queue.push(entry)
    else queue.splice(index, 0, entry)
    this.byId.set(tx.id, entry)
    return undefined
  }

  /**
   * Transactions for a block: arrival order across signers, nonce order within each signer,
   * within the count and byte bounds, holding back a signer's transactions behind a recent nonce
   * gap (see `gapGraceMs`). Does not remove them (they leave when a block commits).
   */
  reap(options: ReapOptions): AdmittedTransaction[] {
    const out: AdmittedTransaction[] = []
    const taken = new Map<string, number>()
    const expected = new Map<string, bigint>()
    let bytes = 0
    for (const entry of this.byId.values()) {
      if (out.length >= options.transactionsMax) break
      // The entry that arrived here stands for "the signer's next transaction".
      const signer = entry.tx.signer
      const queue = this.bySigner.get(signer)!
      const position = taken.get(signer) ?? 0
      if (position >= queue.length) continue
      const next = queue[position]!
      const nextNonce = expected.get(signer) ?? options.lastNonceOf(signer) + 1n
      if (next.tx.envelope.nonce !== nextNonce && options.nowMs - next.addedMs < options.gapGraceMs) {
        // Behind a gap: hold this signer back in this block.
        taken.set(signer, queue.length)
        continue
      }
      if (bytes + next.encodedBytes > options.bytesMax) break
      taken.set(signer, position + 1)
      expected.set(signer, next.tx.envelope.nonce + 1n)
      if (options.skip !== undefined && options.skip(next.tx)) continue
      out.push(next.tx)
      bytes += next.encodedBytes
    }
    return out
  }

  /** Removes committed transactions, and every transaction a committed nonce made stale. */
  removeCommitted(committed: Iterable<AdmittedTransaction>, lastNonceOf: (signer: string) => bigint): number {
    const signers = new Set<string>()
    let removed = 0
    for (const tx of committed) {
      signers.add(tx.signer)
      // A committed transaction leaves even if the ledger refused it without consuming its nonce.
      const entry = this.byId.get(tx.id)
      if (entry !== undefined) {
        this.byId.delete(tx.id)
        const queue = this.bySigner.get(tx.signer)!
        queue.splice(queue.indexOf(entry), 1)
        if (queue.length === 0) this.bySigner.delete(tx.signer)
        removed++
      }
    }
    // Every signer with a committed transaction: its committed nonce makes anything at or below stale,
    // including transactions this mempool held that another proposer's block superseded.
    for (const signer of signers) {
      const queue = this.bySigner.get(signer)
      if (queue === undefined) continue
      const last = lastNonceOf(signer)
      let keep = 0
      while (keep < queue.length && queue[keep]!.tx.envelope.nonce <= last) {
        this.byId.delete(queue[keep]!.tx.id)
        keep++
        removed++
      }
      if (keep === queue.length) this.bySigner.delete(signer)
      else if (keep > 0) queue.splice(0, keep)
    }
    assert(this.byId.size <= this.limits.transactionsMax, 'mempool within its bound')
    return removed
  }
}
