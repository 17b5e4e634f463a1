/**
 * The network file's optional `consensus` object (src/node/config.ts): network-wide consensus
 * timeouts in ms, validated strictly (unknown fields, fractions, negatives, zero base timeouts and
 * values beyond the engine's timeoutMaxMs are refused, naming the field), and handed to the node as
 * `consensusLimits`; initNetwork writes it when given one.
 */
import t from 'tap'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError } from '../../../src/config/errors.ts'
import { initNetwork, standardBankSpecs } from '../../../src/config/networkInit.ts'
import { standardFxRates } from '../../../src/ledger/testing/network.ts'
import { loadNodeConfig, networkConsensusFields, networkConsensusSchema } from '../../../src/node/config.ts'
import { scenarioConsensus } from '../../../src/cluster/scenarioNetwork.ts'
import type { Scenario } from '../../../src/sim/scenario/schema.ts'

function network(t: { teardown: (fn: () => void) => void }, consensus?: Record<string, number>): { dir: string; config: string } {
  const dir = mkdtempSync(join(tmpdir(), 'corridor-config-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const nodes = initNetwork({ dir, banks: standardBankSpecs(2), fxRates: standardFxRates, customersPerBank: 1, basePort: 17100, httpBasePort: 18100, logLevel: 'warn', ...(consensus === undefined ? {} : { consensus }) })
  return { dir, config: nodes[0]!.config }
}

function rewriteConsensus(dir: string, consensus: unknown): void {
  const path = join(dir, 'network.json')
  const document = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
  writeFileSync(path, JSON.stringify({ ...document, consensus }))
}

function issuesOf(fn: () => unknown): string[] {
  try {
    fn()
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((issue) => `${issue.path}: ${issue.message}`)
    throw error
  }
  return []
}

t.test('no consensus object: no overrides (the node keeps its defaults)', async (t) => {
  const { dir, config } = network(t)
  t.notOk('consensus' in JSON.parse(readFileSync(join(dir, 'network.json'), 'utf8')), 'initNetwork writes none unless given')
  t.same(loadNodeConfig(config).consensusLimits, {})
})

t.test('every field, written by initNetwork, reaches the node config in ms', async (t) => {
  const all = { timeoutProposeBaseMs: 800, timeoutProposeDeltaMs: 0, timeoutPrevoteBaseMs: 300, timeoutPrevoteDeltaMs: 100, timeoutPrecommitBaseMs: 300, timeoutPrecommitDeltaMs: 100, timeoutCommitMs: 0, emptyBlockIntervalMs: 250 }
  t.same(Object.keys(all).sort(), [...networkConsensusFields].sort(), 'the test covers every field')
  const { dir, config } = network(t, all)
  t.same(JSON.parse(readFileSync(join(dir, 'network.json'), 'utf8')).consensus, all)
  t.same(loadNodeConfig(config).consensusLimits, all)
})

t.test('a subset is passed as given', async (t) => {
  const { config } = network(t, { timeoutCommitMs: 200 })
  t.same(loadNodeConfig(config).consensusLimits, { timeoutCommitMs: 200 })
  t.same(loadNodeConfig(config).replicaLimits, {}, 'no block bound: the replica keeps its default')
})

t.test('the block bound goes to the replica, not the consensus engine', async (t) => {
  const { dir, config } = network(t, { timeoutCommitMs: 200, blockTransactionsMax: 300 })
  t.equal(JSON.parse(readFileSync(join(dir, 'network.json'), 'utf8')).consensus.blockTransactionsMax, 300)
  const loaded = loadNodeConfig(config)
  t.same(loaded.consensusLimits, { timeoutCommitMs: 200 })
  t.same(loaded.replicaLimits, { blockTransactionsMax: 300 })
})

t.test('bad values are refused, naming the field', async (t) => {
  const { dir, config } = network(t)
  const cases: Array<[unknown, RegExp]> = [
    [{ timeoutPropose: 1000 }, /consensus: .*timeoutPropose/i],
    [{ timeoutProposeBaseMs: 0 }, /consensus\.timeoutProposeBaseMs: expected at least 1 ms/],
    [{ timeoutPrevoteDeltaMs: -1 }, /consensus\.timeoutPrevoteDeltaMs: expected at least 0 ms/],
    [{ timeoutCommitMs: 1.5 }, /consensus\.timeoutCommitMs: expected a whole number of milliseconds/],
    [{ emptyBlockIntervalMs: '1s' }, /consensus\.emptyBlockIntervalMs: expected a number of milliseconds/],
    [{ timeoutPrecommitBaseMs: 60_001 }, /consensus\.timeoutPrecommitBaseMs: expected at most 60000 ms/],
    [{ blockTransactionsMax: 0 }, /consensus\.blockTransactionsMax: expected at least 1 transaction/],
    [{ blockTransactionsMax: 2.5 }, /consensus\.blockTransactionsMax: expected a whole number of transactions/],
    [{ blockTransactionsMax: 10_000_000 }, /consensus\.blockTransactionsMax: expected at most 200000/],
    ['fast', /consensus: /]
  ]
  for (const [consensus, expected] of cases) {
    rewriteConsensus(dir, consensus)
    const issues = issuesOf(() => loadNodeConfig(config))
    t.equal(issues.length, 1, `${JSON.stringify(consensus)}: one issue`)
    t.match(issues[0] ?? '', expected, `${JSON.stringify(consensus)}: ${issues[0]}`)
  }
  t.ok(networkConsensusSchema.safeParse({ timeoutProposeDeltaMs: 0, timeoutCommitMs: 0, emptyBlockIntervalMs: 0 }).success, 'deltas, commit and empty-block interval may be 0')
})

t.test("a scenario's consensus settings as the network file's", async (t) => {
  const of = (consensus: Scenario['consensus']): ReturnType<typeof scenarioConsensus> => scenarioConsensus({ consensus } as Scenario)
  t.same(of({}), {}, 'nothing set, nothing written')
  t.same(of({ timeoutPropose: 500, timeoutPrevote: 200, timeoutPrecommit: 200, timeoutCommit: 100, emptyBlockInterval: 1000, blockTransactionsMax: 100 }), {
    timeoutProposeBaseMs: 500,
    timeoutPrevoteBaseMs: 200,
    timeoutPrecommitBaseMs: 200,
    timeoutCommitMs: 100,
    emptyBlockIntervalMs: 1000,
    blockTransactionsMax: 100
  })
  t.ok(networkConsensusSchema.safeParse(of({ timeoutPropose: 0.4, timeoutCommit: 2.6 })).success, 'rounded to whole ms, base timeouts at least 1')
})
