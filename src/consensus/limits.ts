/**
 * Every bound of the consensus engine in one place, units last. `checkConsensusLimits` states how
 * the bounds relate; the engine refuses to start with limits that break a relation.
 */
import { protocolLimits } from '../protocol/limits.ts'
import { ConsensusError } from './errors.ts'

export interface ConsensusLimits {
  /** Largest consensus message accepted or produced (a proposal with its block, a catch-up batch). */
  readonly messageBytesMax: number
  /** Largest validator set. */
  readonly validatorsMax: number
  /** Votes kept per round and vote type; one per validator, so at least `validatorsMax`. */
  readonly votesPerRoundMax: number
  /** Distinct proposals kept per round: the proposer's, plus conflicting ones kept as evidence. */
  readonly proposalsPerRoundMax: number
  /** Messages for rounds beyond the current round plus this many are dropped. */
  readonly roundsAheadMax: number
  /** Rounds of the current height kept in the message log (older ones are pruned, except the lock's and the valid value's). */
  readonly roundsKeptMax: number
  /** Messages for the next height buffered until this validator gets there. */
  readonly futureMessagesMax: number
  /** Evidence records kept (oldest evicted first). */
  readonly evidenceMax: number
  /** Blocks asked for, served or buffered per catch-up exchange. */
  readonly catchUpBlocksMax: number
  /** Timeouts grow linearly with the round: base + round * delta, capped at `timeoutMaxMs`. */
  readonly timeoutProposeBaseMs: number
  readonly timeoutProposeDeltaMs: number
  readonly timeoutPrevoteBaseMs: number
  readonly timeoutPrevoteDeltaMs: number
  readonly timeoutPrecommitBaseMs: number
  readonly timeoutPrecommitDeltaMs: number
  readonly timeoutMaxMs: number
  /**
   * CometBFT's timeout_commit: after deciding a height, wait this long before starting the next
   * one (votes still arriving are collected meanwhile), so blocks gather more transactions. 0
   * starts the next height at once, except that a validator holding a quorum alone always waits
   * (0 ms, through a scheduled timeout): otherwise it would decide height after height inside one step.
   */
  readonly timeoutCommitMs: number
  /**
   * CometBFT's create_empty_blocks: 0 proposes at a new height at once, empty blocks included.
   * Above 0, a validator starts a new height only once it holds transactions, a peer has started
   * the height (sent a proposal or vote of it), or this long has passed, so an idle network makes
   * one empty block per interval instead of several per second. Every validator waits the same
   * way, so no propose timeout runs while the proposer waits.
   */
  readonly emptyBlockIntervalMs: number
  /** Largest application hash carried in a block header. */
  readonly appHashBytesMax: number
}

export const defaultConsensusLimits: ConsensusLimits = {
  messageBytesMax: 4 * 1024 * 1024,
  validatorsMax: 128,
  votesPerRoundMax: 128,
  proposalsPerRoundMax: 2,
  roundsAheadMax: 8,
  roundsKeptMax: 32,
  futureMessagesMax: 128 * 3 * 2,
  evidenceMax: 256,
  catchUpBlocksMax: 32,
  timeoutProposeBaseMs: 1000,
  timeoutProposeDeltaMs: 500,
  timeoutPrevoteBaseMs: 500,
  timeoutPrevoteDeltaMs: 250,
  timeoutPrecommitBaseMs: 500,
  timeoutPrecommitDeltaMs: 250,
  timeoutMaxMs: 60_000,
  timeoutCommitMs: 0,
  emptyBlockIntervalMs: 0,
  appHashBytesMax: 64
}

function positiveInteger(limits: ConsensusLimits, name: keyof ConsensusLimits, minimum = 1): void {
  const value = limits[name]
  if (!Number.isSafeInteger(value) || value < minimum) {
    throw new ConsensusError('BAD_LIMITS', `limits.${name} must be an integer of at least ${minimum}, got ${String(value)}`)
  }
}

function relation(holds: boolean, rule: string): void {
  if (!holds) throw new ConsensusError('BAD_LIMITS', `consensus limits break the rule: ${rule}`)
}

/** Merges overrides over the defaults and checks every limit and every relation between them. */
export function checkConsensusLimits(overrides: Partial<ConsensusLimits> = {}): ConsensusLimits {
  const limits: ConsensusLimits = { ...defaultConsensusLimits, ...overrides }
  for (const name of Object.keys(defaultConsensusLimits) as (keyof ConsensusLimits)[]) {
    const deltaOrZero = name.endsWith('DeltaMs') || name === 'timeoutCommitMs' || name === 'emptyBlockIntervalMs'
    positiveInteger(limits, name, deltaOrZero ? 0 : 1)
  }
  relation(limits.messageBytesMax <= protocolLimits.messageBytesMax, 'messageBytesMax <= protocolLimits.messageBytesMax')
  relation(limits.messageBytesMax >= 1024, 'messageBytesMax >= 1024 (a vote and a minimal proposal must fit)')
  relation(limits.votesPerRoundMax >= limits.validatorsMax, 'votesPerRoundMax >= validatorsMax (one vote per validator per round and type)')
  relation(limits.proposalsPerRoundMax >= 2, 'proposalsPerRoundMax >= 2 (the proposal and one conflicting proposal, kept as evidence)')
  relation(limits.roundsKeptMax > limits.roundsAheadMax, 'roundsKeptMax > roundsAheadMax (every round accepted ahead is kept)')
  relation(
    limits.futureMessagesMax >= limits.validatorsMax * 3,
    'futureMessagesMax >= 3 * validatorsMax (one round of the next height: a proposal, a prevote and a precommit each)'
  )
  for (const step of ['Propose', 'Prevote', 'Precommit'] as const) {
    relation(limits[`timeout${step}BaseMs`] <= limits.timeoutMaxMs, `timeout${step}BaseMs <= timeoutMaxMs`)
  }
  relation(limits.appHashBytesMax <= 1024, 'appHashBytesMax <= 1024')
  relation(limits.timeoutCommitMs <= limits.timeoutMaxMs, 'timeoutCommitMs <= timeoutMaxMs')
  relation(limits.emptyBlockIntervalMs <= limits.timeoutMaxMs, 'emptyBlockIntervalMs <= timeoutMaxMs')
  return limits
}

/**
 * The paper's three timeouts, and `resend`: a retransmission timer of this implementation. The
 * paper assumes gossip eventually delivers every message; a network that loses messages for good
 * (a partition, a crash) does not, so a validator still in the same round when `resend` fires
 * sends its own proposal and votes of that round again. It lasts a prevote plus a precommit
 * timeout, so it only fires in a round that is stuck.
 */
export type TimeoutStep = 'propose' | 'prevote' | 'precommit' | 'resend' | 'commit' | 'emptyBlock'

/** The duration of a step's timeout in a round: base + round * delta, capped. */
export function timeoutDurationMs(limits: ConsensusLimits, step: TimeoutStep, round: number): number {
  if (step === 'resend') return timeoutDurationMs(limits, 'prevote', round) + timeoutDurationMs(limits, 'precommit', round)
  // Waits before a height starts (round 0), not round timeouts: they do not grow.
  if (step === 'commit') return limits.timeoutCommitMs
  if (step === 'emptyBlock') return limits.emptyBlockIntervalMs
  const [base, delta] =
    step === 'propose'
      ? [limits.timeoutProposeBaseMs, limits.timeoutProposeDeltaMs]
      : step === 'prevote'
        ? [limits.timeoutPrevoteBaseMs, limits.timeoutPrevoteDeltaMs]
        : [limits.timeoutPrecommitBaseMs, limits.timeoutPrecommitDeltaMs]
  return Math.min(limits.timeoutMaxMs, base + round * delta)
}
