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
}

export interface MempoolLimits {
  readonly transactionsMax: number
  readonly transactionsPerSignerMax: number
}

export class Mempool {
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
  add(tx: AdmittedTransaction, encodedBytes: number, lastNonce: bigint): MempoolRefusal | undefined {
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
    const entry: Entry = { tx, encodedBytes, arrival: this.arrivals++ }
    queue.splice(index, 0, entry)
    this.byId.set(tx.id, entry)
    return undefined
  }

  /**
   * Transactions for a block: arrival order across signers, nonce order within each signer,
   * within the count and byte bounds. Does not remove them (they leave when a block commits).
   */
  reap(transactionsMax: number, bytesMax: number, skip?: (tx: AdmittedTransaction) => boolean): AdmittedTransaction[] {
    const out: AdmittedTransaction[] = []
    const taken = new Map<string, number>()
    let bytes = 0
    for (const entry of this.byId.values()) {
      if (out.length >= transactionsMax) break
      // The entry that arrived here stands for "the signer's next transaction".
      const signer = entry.tx.signer
      const queue = this.bySigner.get(signer)!
      const position = taken.get(signer) ?? 0
      if (position >= queue.length) continue
      const next = queue[position]!
      if (bytes + next.encodedBytes > bytesMax) break
      taken.set(signer, position + 1)
      if (skip !== undefined && skip(next.tx)) continue
      out.push(next.tx)
      bytes += next.encodedBytes
    }
    return out
  }

  /** Removes committed transactions, and every transaction a committed nonce made stale. */
  removeCommitted(committed: Iterable<AdmittedTransaction>, lastNonceOf: (signer: string) => bigint): number {
    const signers = new Set<string>()
    let removed = 0
    for (const tx of committed) signers.add(tx.signer)
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
