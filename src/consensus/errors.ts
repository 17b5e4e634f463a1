/**
 * Expected failures of the consensus engine: every message that is dropped, every input that is
 * refused, carries a code from this closed set. The codes double as metric labels (the engine
 * counts drops per code) and tell a driver whether the sending peer misbehaved.
 */
import { CorridorError } from '../protocol/errors.ts'

export const consensusErrorCodes = [
  // Receipt checks, in the order they are applied.
  'MESSAGE_OVERSIZED',
  'MESSAGE_MALFORMED',
  'MESSAGE_SHAPE',
  'WRONG_CHAIN',
  'UNKNOWN_VALIDATOR',
  'OWN_MESSAGE',
  'HEIGHT_PAST',
  'HEIGHT_FUTURE',
  'ROUND_TOO_FAR',
  'ROUND_PRUNED',
  'DUPLICATE',
  'BAD_SIGNATURE',
  'NOT_PROPOSER',
  'BAD_BLOCK',
  'BAD_PROOF_OF_LOCK',
  'CONFLICTING_VOTE',
  'CONFLICTING_PROPOSAL',
  'PROPOSALS_PER_ROUND_FULL',
  'FUTURE_BUFFER_FULL',
  // Catch-up.
  'BAD_CERTIFICATE',
  'CATCH_UP_UNWANTED',
  'CATCH_UP_NOTHING_TO_SERVE',
  // Configuration, inputs from the driver, and the write-ahead log.
  'BAD_VALIDATOR_SET',
  'BAD_CONFIG',
  'BAD_LIMITS',
  'BAD_INPUT',
  'BAD_WAL_RECORD',
  'BAD_EVIDENCE'
] as const
export type ConsensusErrorCode = (typeof consensusErrorCodes)[number]

export class ConsensusError extends CorridorError<ConsensusErrorCode> {
  constructor(code: ConsensusErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details)
    this.name = 'ConsensusError'
  }
}

/**
 * What a driver does with a received message, in the manner of gossipsub's validation result:
 * `accept` relays it, `ignore` drops it quietly (old, duplicate, not useful now), `reject` drops it
 * and counts against the peer that sent it (it could never have been valid).
 */
export type MessageVerdict = 'accept' | 'ignore' | 'reject'

const ignoredCodes: ReadonlySet<ConsensusErrorCode> = new Set<ConsensusErrorCode>([
  'OWN_MESSAGE',
  'HEIGHT_PAST',
  'HEIGHT_FUTURE',
  'ROUND_TOO_FAR',
  'ROUND_PRUNED',
  'DUPLICATE',
  'PROPOSALS_PER_ROUND_FULL',
  'FUTURE_BUFFER_FULL',
  'CATCH_UP_UNWANTED',
  'CATCH_UP_NOTHING_TO_SERVE'
])

/** The verdict a drop code implies. Conflicting votes and proposals are accepted: relaying them spreads the evidence. */
export function verdictOf(code: ConsensusErrorCode | null): MessageVerdict {
  if (code === null || code === 'CONFLICTING_VOTE' || code === 'CONFLICTING_PROPOSAL') return 'accept'
  return ignoredCodes.has(code) ? 'ignore' : 'reject'
}
