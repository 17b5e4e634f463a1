/**
 * Block executions shared by the replicas of one process, for simulations at scale. Executing a
 * block is a pure function of the ledger's content and the block, and a ledger's state root (a
 * hash chain over every block's writes from genesis) identifies its content. So when a second
 * replica, at the same state root, executes the same block, it can take the first one's writes,
 * receipts and new root instead of computing them again, the way AdmissionCache shares signature
 * checks. Each replica still commits the writes to its own ledger.
 *
 * The price: replicas no longer compute their state roots independently, so the state-root
 * invariant cannot catch a replica whose execution diverges (say, through a nondeterministic
 * iteration order). Scenarios opt in with `execution: shared`; by default every simulated node
 * executes every block itself. A real node runs one replica and has no use for it.
 */
import { bytesToHex } from '../../protocol/bytes.ts'
import { executeBlock, PendingBlock, type ExecutedBlock, type LedgerBlock, type SignatureCheck } from '../../ledger/execute.ts'
import type { LedgerState } from '../../ledger/state.ts'

export class ExecutionCache {
  private readonly entries = new Map<string, ExecutedBlock>()
  private readonly entriesMax: number
  /** Executions performed, and executions taken from the cache. */
  executions = 0
  hits = 0

  /** @param entriesMax executions kept (oldest evicted first): a few per height suffice. */
  constructor(entriesMax = 64) {
    this.entriesMax = entriesMax
  }

  private readonly problems = new Map<string, string | null>()

  /**
   * A proposal check that is a pure function of the ledger's content and the block (the replica's
   * payload check: accounts, keys and nonces), computed once per (state root, block hash).
   */
  check(ledger: LedgerState, blockHash: Uint8Array, compute: () => string | undefined): string | undefined {
    const key = `${bytesToHex(ledger.stateRoot)}/${ledger.height}/${bytesToHex(blockHash)}`
    const cached = this.problems.get(key)
    if (cached !== undefined) return cached ?? undefined
    const problem = compute()
    if (this.problems.size >= this.entriesMax) this.problems.delete(this.problems.keys().next().value as string)
    this.problems.set(key, problem ?? null)
    return problem
  }

  /** `executeBlock(ledger, block, signatureCheck)`, computed once per (state root, block hash) in this process. */
  execute(ledger: LedgerState, block: LedgerBlock, blockHash: Uint8Array, signatureCheck: SignatureCheck): ExecutedBlock {
    const key = `${bytesToHex(ledger.stateRoot)}/${ledger.height}/${bytesToHex(blockHash)}`
    const cached = this.entries.get(key)
    if (cached !== undefined) {
      this.hits++
      const pending = cached.pending
      // The same writes, on this replica's own ledger (commitBlock checks the base).
      return { ...cached, pending: new PendingBlock(ledger, pending.height, pending.timeMs, pending.writes, pending.fx, pending.policies, pending.stateRoot) }
    }
    this.executions++
    const executed = executeBlock(ledger, block, signatureCheck)
    if (this.entries.size >= this.entriesMax) this.entries.delete(this.entries.keys().next().value as string)
    this.entries.set(key, executed)
    return executed
  }
}
