/**
 * Byzantine behaviours a node can be told to show, for fault testing against real processes
 * (`--byzantine-allowed`, `/v1/admin/byzantine`). The names are the scenario format's
 * (sim/scenario/schema.ts) and each maps to the same hooks of the replica and the engine as the
 * simulator's `byzantineFor` (sim/simulation.ts).
 *
 * Duplicated on purpose: node/ does not import sim/, and the mapping cannot move below both (into
 * node/replica/ or consensus/) from here. Keep the two in step; test/unit/node/byzantine.test.ts
 * checks that the names match.
 */
import type { ByzantineBehaviour } from '../consensus/index.ts'
import type { ReplicaByzantine } from './replica/replica.ts'

export const byzantineBehaviourNames = ['equivocate', 'withhold-votes', 'invalid-signatures', 'replay-transactions', 'censor', 'partial-proposals'] as const
export type ByzantineBehaviourName = (typeof byzantineBehaviourNames)[number]

export function isByzantineBehaviourName(name: string): name is ByzantineBehaviourName {
  return (byzantineBehaviourNames as readonly string[]).includes(name)
}

/** The replica's and the engine's hooks for a set of behaviours (an empty set: honest). */
export function byzantineHooksFor(behaviours: readonly ByzantineBehaviourName[], node: string, nodes: readonly string[]): ReplicaByzantine {
  const consensus: { -readonly [K in keyof ByzantineBehaviour]: ByzantineBehaviour[K] } = {}
  let censorSigner: ((signer: string) => boolean) | undefined
  let replayTransactions = false
  for (const behaviour of behaviours) {
    switch (behaviour) {
      case 'equivocate':
        consensus.equivocate = true
        break
      case 'withhold-votes':
        consensus.withholdVotes = true
        break
      case 'invalid-signatures':
        consensus.signGarbage = true
        break
      case 'replay-transactions':
        replayTransactions = true
        break
      case 'censor':
        // Leaves out every transaction of other banks' customers (customer ids start with their bank's).
        censorSigner = (signer) => !signer.startsWith(`${node}-`)
        break
      case 'partial-proposals':
        consensus.proposeTo = nodes.filter((id) => id !== node).slice(0, Math.max(1, Math.floor((nodes.length - 1) / 2)))
        break
    }
  }
  return {
    ...(Object.keys(consensus).length === 0 ? {} : { consensus }),
    ...(censorSigner === undefined ? {} : { censorSigner }),
    ...(replayTransactions ? { replayTransactions } : {})
  }
}
