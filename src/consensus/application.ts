/**
 * The application boundary, in the manner of ABCI++. The engine never calls it: it asks through
 * actions, and the driver (the replica in a node, the harness or simulator in tests) calls the
 * application and feeds the answer back as an input.
 *
 *   engine action        driver calls                         input fed back
 *   requestProposal  ->  prepareProposal(request)          -> proposalValue { payload, timeMs }
 *   processProposal  ->  processProposal(block)            -> proposalVerdict { accept }
 *   decide           ->  finalizeBlock(block, cert); commit -> committed { appHash }
 *
 * `checkTx` is the mempool's admission check; the engine has no mempool and never asks for it.
 * `processProposal` must be deterministic (every honest validator reaches the same verdict on the
 * same block), and `finalizeBlock` must be, too: the next block's header carries the app hash
 * that `commit` returns, and validators prevote nil on a proposal whose app hash is not theirs.
 */
import type { Block, Payload } from './block.ts'
import type { CommitCertificate } from './messages.ts'

export interface ProposalRequest {
  readonly height: number
  readonly round: number
  /** Block time must be after this; the engine raises a time at or below it to this + 1. */
  readonly previousTimeMs: number
  readonly previousBlockHash: Uint8Array
}

export type CheckTxResult = { readonly ok: true } | { readonly ok: false; readonly code: string }

export interface ConsensusApplication<FinalizeResult = unknown> {
  /** Admission of one transaction into the mempool. */
  checkTx(tx: Uint8Array): CheckTxResult
  /** Builds the payload of a block this validator proposes. */
  prepareProposal(request: ProposalRequest): Payload
  /** True when the proposed block's payload is acceptable. Deterministic. */
  processProposal(block: Block): boolean
  /** Executes a decided block. Deterministic. */
  finalizeBlock(block: Block, certificate: CommitCertificate): FinalizeResult
  /** Makes the finalized state durable and returns its hash, which the next block's header carries. */
  commit(): { readonly appHash: Uint8Array }
}
