import t from 'tap'
import { readFileSync } from 'node:fs'
import { runScenarioFile } from '../../../src/sim/run.ts'
import { ClusterCheckers, PolicyChecker } from '../../../src/sim/invariants.ts'
import { invariantNames } from '../../../src/sim/scenario/schema.ts'
import { loadDataFile } from '../../../src/config/files.ts'

const calm = 'configs/scenarios/calm-cn-ae.yaml'
const short = { duration: '8s', drain: '4s' }

t.test('same scenario and seed give the same trace; another seed gives another', async (t) => {
  const a = await runScenarioFile(calm, { overrides: short, seed: 5 })
  const b = await runScenarioFile(calm, { overrides: short, seed: 5 })
  const c = await runScenarioFile(calm, { overrides: short, seed: 6 })
  t.equal(a.report.summary.traceHash, b.report.summary.traceHash, 'equal seeds, equal hashes')
  t.not(a.report.summary.traceHash, c.report.summary.traceHash, 'different seeds, different hashes')
  t.same(a.transfers, b.transfers, 'the same transfers, row for row')
  t.ok(a.report.summary.transfers.submitted > 200, `a real workload (${a.report.summary.transfers.submitted} transfers)`)
})

t.test('outputs: summary.json with the issue-4 fields, transfers.csv, events.jsonl, report.html', async (t) => {
  const dir = t.testdir({})
  const result = await runScenarioFile(calm, { overrides: short, seed: 9, out: dir })
  const summary = JSON.parse(readFileSync(`${dir}/summary.json`, 'utf8'))
  for (const field of ['scenario', 'seed', 'traceHash', 'simulatedMs', 'wallMs', 'transfers', 'latencyMs', 'throughputTps', 'blocks', 'invariants', 'expectations']) {
    t.ok(field in summary, `summary.json has ${field}`)
  }
  t.same(Object.keys(summary.latencyMs).sort(), ['max', 'mean', 'p50', 'p90', 'p99'])
  const csv = readFileSync(`${dir}/transfers.csv`, 'utf8').trim().split('\n')
  t.equal(csv.length, result.report.summary.transfers.submitted + 1, 'one row per transfer plus the header')
  t.match(csv[0]!, /^id,kind,corridor,payer,payee/)
  const events = readFileSync(`${dir}/events.jsonl`, 'utf8').trim().split('\n').map((line) => JSON.parse(line))
  t.ok(events.some((event) => event.kind === 'block') && events.some((event) => event.kind === 'final'), 'blocks and finality in the event log')
  t.match(readFileSync(`${dir}/report.html`, 'utf8'), /<svg/)
})

for (const name of ['calm-cn-ae', 'belt-and-road', 'crash-restart', 'partition-heal', 'byzantine-equivocate']) {
  t.test(`scenario ${name} passes its invariants and expectations`, async (t) => {
    const result = await runScenarioFile(`configs/scenarios/${name}.yaml`)
    const summary = result.report.summary
    t.same(summary.invariants.violations, [], 'no invariant violated')
    t.same(summary.expectations.failed, [], 'every expectation met')
    t.same(summary.invariants.checked, [...invariantNames], 'every invariant checked')
    if (name === 'byzantine-equivocate') t.ok(summary.evidence > 0, 'evidence recorded against the Byzantine bank')
    if (name === 'crash-restart' || name === 'partition-heal') t.ok(summary.faults >= 2, 'faults were injected')
  })
}

t.test('checkers have teeth: conflicting blocks or roots at one height are violations', async (t) => {
  const checkers = new ClusterCheckers(new Set(invariantNames))
  const hash = (byte: number) => new Uint8Array(32).fill(byte)
  checkers.onCommit('a', 1, hash(1), hash(9), 10)
  checkers.onCommit('b', 1, hash(1), hash(9), 11)
  t.ok(checkers.ok, 'equal commits are fine')
  checkers.onCommit('c', 1, hash(2), hash(9), 12)
  checkers.onCommit('d', 1, hash(1), hash(8), 13)
  t.same(checkers.violations.map((v) => v.invariant), ['agreement', 'state-root'])
  t.match(checkers.violations[0]!.message, /c committed block 0202.* at height 1, a committed 0101/)
})

t.test('the independent policy check flags settled transfers that break sanctions, corridors or cross-border-only tokens', async (t) => {
  const cn = loadDataFile('configs/policies/cn.yaml') as Record<string, unknown>
  const checker = new PolicyChecker({ CN: { ...cn, sanctions: { entities: ['bad-co'] }, outbound: { corridors: { deny: ['KP'] } } } })
  const base = { payer: 'icbc-co-1', payee: 'enbd-co-1', payerJurisdiction: 'CN', payeeJurisdiction: 'AE', payerToken: 'icbc.CNH', payeeToken: 'enbd.AED' }
  t.equal(checker.check(base), undefined)
  t.match(checker.check({ ...base, payee: 'bad-co' }), /bad-co is sanctioned in CN/)
  t.match(checker.check({ ...base, payeeJurisdiction: 'KP' }), /CN denies outbound payments to KP/)
  t.match(checker.check({ ...base, payeeJurisdiction: 'CN', payeeToken: 'boc.CNY' }), /icbc\.CNH may only be used cross-border in CN/)
})

t.test('checkers: the same block and root with different receipts is a violation', async (t) => {
  const checkers = new ClusterCheckers(new Set(invariantNames))
  const hash = (byte: number) => new Uint8Array(32).fill(byte)
  checkers.onCommit('a', 5, hash(1), hash(2), 10, 'S,S,CC_QUOTA_EXCEEDED,')
  checkers.onCommit('b', 5, hash(1), hash(2), 11, 'S,S,CC_QUOTA_EXCEEDED,')
  t.ok(checkers.ok)
  checkers.onCommit('c', 5, hash(1), hash(2), 12, 'S,S,S,')
  t.match(checkers.violations[0]?.message, /c and a executed block 0101.* at height 5 to the same root but different receipts/)
})

t.test('policy check: corridor allow lists and sanctioned banks', async (t) => {
  const checker = new PolicyChecker({ AE: { jurisdiction: 'AE', outbound: { corridors: { allow: ['CN', 'SG'] } }, sanctions: { entities: ['shadybank'] } } })
  const base = { payer: 'enbd-co-1', payee: 'icbc-co-1', payerJurisdiction: 'AE', payeeJurisdiction: 'CN', payerToken: 'enbd.AED', payeeToken: 'icbc.CNY', payerBank: 'enbd', payeeBank: 'icbc' }
  t.equal(checker.check(base), undefined)
  t.match(checker.check({ ...base, payeeJurisdiction: 'HK' }), /AE allows outbound payments only to CN, SG/)
  t.match(checker.check({ ...base, payeeBank: 'shadybank' }), /shadybank is sanctioned in AE/)
})

t.test('a network fault that never ends leaves liveness unjudged rather than falsely violated', async (t) => {
  const result = await runScenarioFile('configs/scenarios/partition-heal.yaml', {
    overrides: { duration: '10s', drain: '3s', faults: [{ at: '3s', partition: [['icbc', 'bochk'], ['enbd', 'dbs']] }], expect: { invariants: 'all' } }
  })
  t.same(result.report.summary.invariants.violations, [], 'no false liveness violation')
  t.ok(result.report.summary.transfers.pending > 0, 'transfers are stuck behind the partition, as they must be')
})

t.test('chaos faults may not overlap', async (t) => {
  const { parseScenario } = await import('../../../src/sim/scenario/schema.ts')
  const raw = loadDataFile('configs/scenarios/crash-restart.yaml') as Record<string, unknown>
  t.throws(() => parseScenario({ ...raw, faults: [{ chaos: { from: '1s', until: '20s', every: '2s', kinds: ['crash'], recoverAfter: '5s' } }] }, 'x.yaml'), /recoverAfter.*must not exceed `every`/)
})
