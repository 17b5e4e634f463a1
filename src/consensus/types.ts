/**
 * The engine's inputs, actions, configuration and read-only views.
 *
 * Ordering contract for drivers: perform the actions of one `step` in list order. A `persist`
 * must be durable (synced) before any action after it is performed, so a message never leaves
 * before the record that commits the validator to it (persist -> send -> apply). `decide` comes
 * after its `persist`; the driver finalizes and commits the block, then feeds `committed`.
 */
import type { Block, ChainTip, Payload } from './block.ts'
import type { ByzantineBehaviour } from './byzantine.ts'
import type { ConsensusErrorCode, MessageVerdict } from './errors.ts'
import type { Evidence } from './evidence.ts'
import type { ConsensusLimits, TimeoutStep } from './limits.ts'
import type { CertifiedBlock, CommitCertificate, ConsensusMessage } from './messages.ts'
import type { ValidatorSet } from './validatorSet.ts'
import type { WalRecord } from './wal.ts'
import type { SignatureVerifier, Signer } from '../protocol/keys.ts'

export interface ConsensusConfig {
  readonly chainId: string
  readonly validatorSet: ValidatorSet
  /** This validator's id; its public key in the set must be the signer's. */
  readonly validatorId: string
  readonly signer: Signer
  /** Checks peers' signatures; inject one shared caching verifier per process. */
  readonly verifier: SignatureVerifier
  /** The last committed block (from the driver's block store), or `genesisTip(...)` on a new chain. */
  readonly tip: ChainTip
  readonly limits?: Partial<ConsensusLimits>
  readonly byzantine?: ByzantineBehaviour
}

export interface TimeoutKey {
  readonly height: number
  readonly round: number
  readonly step: TimeoutStep
}

export type ConsensusInput =
  /** Begin: start round 0 of the next height, or resume what the WAL restored. Must come first. */
  | { readonly kind: 'start' }
  /** Bytes from a peer. `from` is the transport's authenticated peer (the validator id where the driver knows it). */
  | { readonly kind: 'message'; readonly from: string; readonly bytes: Uint8Array }
  /** A timeout the engine scheduled has elapsed. */
  | { readonly kind: 'timeout'; readonly timeout: TimeoutKey }
  /** The application's answer to `requestProposal`; timeMs is the driver's clock. */
  | { readonly kind: 'proposalValue'; readonly height: number; readonly round: number; readonly payload: Payload; readonly timeMs: number }
  /** The application's answer to `processProposal`. */
  | { readonly kind: 'proposalVerdict'; readonly height: number; readonly blockHash: Uint8Array; readonly accept: boolean }
  /** The driver finalized and committed the decided block of `height`. */
  | { readonly kind: 'committed'; readonly height: number; readonly appHash: Uint8Array }
  /** The driver's answer to `loadBlocks`: committed blocks from its store, in height order. */
  | { readonly kind: 'blocksLoaded'; readonly to: string; readonly blocks: readonly CertifiedBlock[] }
  /** The application's answer to `awaitTransactions`, at once or when the first transaction arrives. */
  | { readonly kind: 'transactionsAvailable'; readonly height: number }

export type ConsensusAction =
  /** First action of every `message` step: relay on accept, drop quietly on ignore, penalize the peer on reject. */
  | { readonly kind: 'messageVerdict'; readonly verdict: MessageVerdict; readonly code: ConsensusErrorCode | null }
  /** Write the record, synced, before performing any later action. */
  | { readonly kind: 'persist'; readonly record: WalRecord; readonly bytes: Uint8Array }
  /** Send to every other validator. */
  | { readonly kind: 'broadcast'; readonly message: ConsensusMessage; readonly bytes: Uint8Array }
  /** Send to one peer (a validator id, or the `from` of an input). */
  | { readonly kind: 'send'; readonly to: string; readonly message: ConsensusMessage; readonly bytes: Uint8Array }
  /** Feed `{ kind: 'timeout', timeout }` after durationMs. Stale timeouts are ignored, so none needs cancelling. */
  | { readonly kind: 'scheduleTimeout'; readonly timeout: TimeoutKey; readonly durationMs: number }
  /** Ask the application for a payload (prepareProposal); answer with `proposalValue`. */
  | { readonly kind: 'requestProposal'; readonly height: number; readonly round: number; readonly previousTimeMs: number; readonly previousBlockHash: Uint8Array }
  /** Ask the application to judge a proposed block (processProposal); answer with `proposalVerdict`. */
  | { readonly kind: 'processProposal'; readonly height: number; readonly round: number; readonly blockHash: Uint8Array; readonly block: Block }
  /** A block is final: finalize and commit it, store it with its certificate, then feed `committed`. */
  | {
      readonly kind: 'decide'
      readonly height: number
      readonly block: Block
      readonly blockHash: Uint8Array
      readonly certificate: CommitCertificate
      readonly source: 'consensus' | 'catchUp'
    }
  /** Misbehaviour detected: record and report it. */
  | { readonly kind: 'evidence'; readonly evidence: Evidence }
  /** A peer asked for committed blocks: load them from the block store and feed `blocksLoaded`. */
  | { readonly kind: 'loadBlocks'; readonly to: string; readonly fromHeight: number; readonly count: number }
  /** With limits.emptyBlockIntervalMs: the height waits for transactions; feed `transactionsAvailable` once the mempool holds any. */
  | { readonly kind: 'awaitTransactions'; readonly height: number }

export type ConsensusStep = 'propose' | 'prevote' | 'precommit' | 'decided'

export interface ConsensusStatus {
  readonly height: number
  readonly round: number
  readonly step: ConsensusStep
  readonly lockedRound: number
  readonly validRound: number
  readonly tip: ChainTip
  readonly started: boolean
}

export interface ConsensusMetrics {
  messagesAccepted: number
  /** Messages dropped, per code (all codes present, zero when unused). */
  messagesDropped: Record<ConsensusErrorCode, number>
  decisions: number
  decisionsByCatchUp: number
  roundsStarted: number
  timeoutsFired: number
  catchUpRequests: number
  catchUpBlocksServed: number
  evidenceDetected: number
  evidenceEvicted: number
  /** Per validator: rounds in which its proposal never arrived (before the propose timeout, or before a quorum decided its block). */
  missedProposals: Record<string, number>
  /** Per validator: heights decided here with no vote from it in the deciding round. */
  missedVotes: Record<string, number>
}
