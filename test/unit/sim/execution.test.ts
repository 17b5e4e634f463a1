import t from 'tap'
import { runScenarioFile } from '../../../src/sim/run.ts'

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
