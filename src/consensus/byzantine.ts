/**
 * Byzantine behaviours, switched on per validator by config. They are hooks inside the one real
 * engine, at the points where it signs and sends, never a forked copy of it: what tests and
 * simulations break is the code banks run. All are off by default.
 */
import type { Payload } from './block.ts'

export interface ByzantineBehaviour {
  /**
   * Sign two different proposals for a round (the second with a later time, hence a different
   * block) and two different votes for every vote (the second for nil, or for another block when
   * the honest vote is nil), and send one version to each half of the peers.
   */
  readonly equivocate?: boolean
  /** Compute and record votes as usual, but never send them. */
  readonly withholdVotes?: boolean
  /** Send every own proposal and vote with a corrupted signature. */
  readonly signGarbage?: boolean
  /** Send own proposals only to these validators; an empty list makes a silent proposer. */
  readonly proposeTo?: readonly string[]
  /**
   * Applied to the payload the application prepared, before the block is built: the replica
   * passes a function that drops the transactions it wants censored. Must be deterministic.
   */
  readonly censor?: (payload: Payload) => Payload
}

export function isByzantine(behaviour: ByzantineBehaviour | undefined): boolean {
  if (behaviour === undefined) return false
  return behaviour.equivocate === true || behaviour.withholdVotes === true || behaviour.signGarbage === true || behaviour.proposeTo !== undefined || behaviour.censor !== undefined
}
