/**
 * The network of a scenario as real node processes: the simulator's own world (src/sim/world.ts)
 * gives the genesis (banks, central banks, FX provider, regulators, the customer population with
 * its balances, the FX table, the policies) and every key, derived from the scenario's name and
 * seed. The cluster is created from that genesis, so the workload driver signs for customers with
 * the same keys the simulator uses, and the nodes verify real Ed25519 signatures.
 */
import { bytesToHex } from '../protocol/bytes.ts'
import { buildGenesis, type GenesisDocumentInput } from '../ledger/genesis.ts'
import type { LedgerState } from '../ledger/state.ts'
import { deriveSecretKey } from '../ledger/testing/keys.ts'
import { buildWorld, scenarioKeySeed, type World } from '../sim/world.ts'
import type { LoadedScenario } from '../sim/scenario/load.ts'
import type { Scenario } from '../sim/scenario/schema.ts'
import type { NetworkConsensusSettings } from '../node/config.ts'
import { defaultConsensusLimits } from '../consensus/limits.ts'
import { LocalCluster } from './localCluster.ts'

export interface ScenarioNetwork {
  readonly scenario: Scenario
  readonly world: World
  readonly genesis: LedgerState
  readonly cluster: LocalCluster
}

/**
 * Real processes verify real signatures: a scenario written for modeled crypto runs with real
 * Ed25519 keys here (the same derived secret keys either way).
 */
export function clusterScenario(scenario: Scenario): Scenario {
  return scenario.crypto === 'real' ? scenario : { ...scenario, crypto: 'real' }
}

/**
 * The scenario's `consensus.*` settings as network.json's `consensus` (milliseconds, as the
 * simulator maps them: the base timeouts; the deltas stay the engine's). Only what the scenario
 * sets; clusterConsensus adds the simulator's values for what it leaves unset. `blockTransactionsMax`
 * (a replica limit, network-wide since a larger block is invalid) goes in the same section.
 */
export function scenarioConsensus(scenario: Scenario): NetworkConsensusSettings {
  const c = scenario.consensus
  const ms = (value: number): number => Math.round(value)
  return {
    ...(c.timeoutPropose === undefined ? {} : { timeoutProposeBaseMs: Math.max(1, ms(c.timeoutPropose)) }),
    ...(c.timeoutPrevote === undefined ? {} : { timeoutPrevoteBaseMs: Math.max(1, ms(c.timeoutPrevote)) }),
    ...(c.timeoutPrecommit === undefined ? {} : { timeoutPrecommitBaseMs: Math.max(1, ms(c.timeoutPrecommit)) }),
    ...(c.timeoutCommit === undefined ? {} : { timeoutCommitMs: ms(c.timeoutCommit) }),
    ...(c.emptyBlockInterval === undefined ? {} : { emptyBlockIntervalMs: ms(c.emptyBlockInterval) }),
    ...(c.blockTransactionsMax === undefined ? {} : { blockTransactionsMax: c.blockTransactionsMax })
  }
}

/**
 * The consensus settings the nodes of a scenario run with: the scenario's, and where it sets none,
 * the simulator's (the engine's defaults), not the node's own. A scenario describes one network,
 * whichever backend runs it. The node's defaults differ in two places, tuned for a loaded network
 * (src/node/service.ts, nodeConsensusDefaults: 150 ms after each decision and up to 1 s for
 * transactions before a height starts); the simulator waits for neither. With the node's, a
 * crash-restart run on four real nodes made 92 blocks in 65 s (one per 700 ms) against the
 * simulator's 469, and its fault-free seconds had a latency p50 of 640-750 ms against the
 * simulator's 190-200 ms (load average 5.9 on 2 cores).
 */
export function clusterConsensus(scenario: Scenario): NetworkConsensusSettings {
  return { timeoutCommitMs: defaultConsensusLimits.timeoutCommitMs, emptyBlockIntervalMs: defaultConsensusLimits.emptyBlockIntervalMs, ...scenarioConsensus(scenario) }
}

export async function createScenarioNetwork(loaded: LoadedScenario, dir: string, logLevel = 'warn'): Promise<ScenarioNetwork> {
  const scenario = clusterScenario(loaded.scenario)
  const world = buildWorld(scenario, loaded.policies, loaded.policyDocuments)
  const genesis = buildGenesis(world.document, { source: `scenario ${scenario.name}`, checkInstitutionKeys: false })
  const keySeed = scenarioKeySeed(scenario)
  const validatorSecretKeys = Object.fromEntries(scenario.banks.map((bank) => [bank.id, bytesToHex(deriveSecretKey(keySeed, bank.id))]))
  const cluster = await LocalCluster.create({
    dir,
    banks: scenario.banks.map((bank) => ({ id: bank.id, jurisdiction: bank.jurisdiction, currencies: [...bank.currencies] })),
    logLevel,
    faultInjection: true,
    genesis: { document: world.document as GenesisDocumentInput, validatorSecretKeys },
    consensus: clusterConsensus(scenario)
  })
  return { scenario, world, genesis, cluster }
}
