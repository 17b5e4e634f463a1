import t from 'tap'
import { runScenarioFile } from '../../../src/sim/run.ts'
import { loadScenarioFile } from '../../../src/sim/scenario/load.ts'

const calm = 'configs/scenarios/calm-cn-ae.yaml'
const crash = 'configs/scenarios/crash-restart.yaml'

t.test('shared execution (execution: shared) gives the trace of per-node execution', async (t) => {
  for (const [path, overrides] of [
    [calm, { duration: '6s', drain: '3s' }],
    [crash, { duration: '42s', drain: '8s', crypto: 'modeled' }]
  ] as const) {
    const perNode = await runScenarioFile(path, { overrides })
    const shared = await runScenarioFile(path, { overrides: { ...overrides, execution: 'shared' } })
    t.ok(perNode.report.summary.invariants.ok && shared.report.summary.invariants.ok, `${path}: invariants hold`)
    t.equal(shared.report.summary.traceHash, perNode.report.summary.traceHash, `${path}: same blocks, roots and receipts`)
  }
})

t.test('shared mempool (mempool: shared): invariants and expectations hold through crashes, partitions and equivocation; a seed replays', async (t) => {
  const modes = { execution: 'shared', mempool: 'shared', crypto: 'modeled' }
  for (const [path, overrides] of [
    [calm, { duration: '6s', drain: '3s' }],
    [crash, { duration: '42s', drain: '8s' }],
    ['configs/scenarios/partition-heal.yaml', {}],
    ['configs/scenarios/byzantine-equivocate.yaml', {}]
  ] as const) {
    const first = await runScenarioFile(path, { overrides: { ...overrides, ...modes } })
    const summary = first.report.summary
    t.ok(summary.invariants.ok, `${path}: invariants hold`)
    t.ok(summary.expectations.ok, `${path}: expectations met ${JSON.stringify(summary.expectations.failed)}`)
    t.equal(summary.transfers.finalized, summary.transfers.submitted, `${path}: every transfer final`)
    if (path === crash) {
      const again = await runScenarioFile(path, { overrides: { ...overrides, ...modes } })
      t.equal(again.report.summary.traceHash, summary.traceHash, 'same seed, same trace')
    }
  }
  t.throws(() => loadScenarioFile(calm, { mempool: 'shared', network: { verifyCost: '1ms' } }), /verifyCost/, 'no verification cost model for shared gossip')
})
