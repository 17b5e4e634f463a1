import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { loadDataFile } from '../../../src/config/files.ts'
import { ConfigError } from '../../../src/config/errors.ts'
import { parseScenario } from '../../../src/sim/scenario/schema.ts'
import {
  applyOverride,
  describePoint,
  documentForPoint,
  expandGrid,
  parseSetArgument,
  parseSweepArguments,
  pointDirectoryName,
  sweepColumns,
  sweepCsvHeader,
  sweepCsvRow,
  SweepError
} from '../../../src/sim/sweep.ts'
import type { RunSummary } from '../../../src/sim/report/types.ts'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '..', '..', '..')

t.test('--set reads a key, its path and typed values', async (t) => {
  t.same(parseSetArgument('network.drop=0,1%,5%'), { key: 'network.drop', path: ['network', 'drop'], values: [0, '1%', '5%'] })
  t.same(parseSetArgument('workload.0.rate=10/s,50/s'), { key: 'workload.0.rate', path: ['workload', 0, 'rate'], values: ['10/s', '50/s'] })
  t.same(parseSetArgument('duration=30s').values, ['30s'])
  t.same(parseSetArgument('crypto=real,modeled').values, ['real', 'modeled'])
  t.same(parseSetArgument('network.latency.CN-AE=90ms,200ms').path, ['network', 'latency', 'CN-AE'])
  t.same(parseSetArgument('consensus.blockTransactionsMax=100,2.5,true').values, [100, 2.5, true])
})

t.test('bad --set arguments are refused with the argument and what was expected', async (t) => {
  const refused = (argument: string, pattern: RegExp): void => {
    t.throws(() => parseSetArgument(argument), { name: 'SweepError', message: pattern }, argument)
  }
  refused('network.drop', /expected key=value/)
  refused('=1,2', /expected key=value/)
  refused('network..drop=1', /is not a key/)
  refused('network.drop=1,,2', /a value is empty/)
  refused('network.drop=1%,1%', /repeated/)
  refused('banks=x', /banks cannot be swept.*one scenario file per set of banks/)
  refused('banks.0.power=1,2', /banks cannot be swept/)
  refused('name=a,b', /name cannot be swept/)
  refused('seed=-1', /seeds are integers/)
  refused('seed=abc', /seeds are integers/)
})

t.test('seeds come from --seeds or --set seed, not both; keys once; no overlapping keys; bounded grids', async (t) => {
  t.same(parseSweepArguments(['network.drop=0,1%'], 3, 40).seeds, [40, 41, 42])
  t.same(parseSweepArguments([], undefined, 7).seeds, [7])
  const explicit = parseSweepArguments(['seed=5,9', 'duration=10s'], undefined, 1)
  t.same(explicit.seeds, [5, 9])
  t.same(
    explicit.axes.map((axis) => axis.key),
    ['duration'],
    'the seed axis becomes the seeds'
  )
  t.throws(() => parseSweepArguments(['seed=1,2'], 3, 1), { code: 'BAD_SEEDS' })
  t.throws(() => parseSweepArguments(['network.drop=0', 'network.drop=1%'], undefined, 1), { message: /given twice/ })
  t.throws(() => parseSweepArguments(['network=x', 'network.drop=0'], undefined, 1), { message: /overlap/ })
  t.throws(() => parseSweepArguments([], 0, 1), { code: 'BAD_SEEDS' })
  const many = Array.from({ length: 200 }, (_, i) => i).join(',')
  t.throws(() => parseSweepArguments([`network.drop=${many}`, `duration=${many.replace(/(\d+)/g, '$1s')}`], undefined, 1), { message: /more than 10000/ })
})

t.test('the grid is the cartesian product of the values times the seeds, the last key fastest', async (t) => {
  const { axes, seeds } = parseSweepArguments(['network.drop=0,5%', 'duration=10s,20s,30s'], 2, 1)
  const points = expandGrid(axes, seeds)
  t.equal(points.length, 2 * 3 * 2)
  t.same(
    points.slice(0, 4).map((point) => [point.index, ...point.values, point.seed]),
    [
      [0, 0, '10s', 1],
      [1, 0, '10s', 2],
      [2, 0, '20s', 1],
      [3, 0, '20s', 2]
    ]
  )
  t.same(points.at(-1)!.values, ['5%', '30s'])
  t.equal(new Set(points.map((point) => JSON.stringify([point.values, point.seed]))).size, points.length, 'every point is distinct')
  t.equal(describePoint(axes, points[3]!), 'network.drop=0 duration=20s seed=2')
  t.equal(pointDirectoryName(axes, points[3]!, 2), '03-network.drop=0-duration=20s-seed=2')
  t.same(expandGrid([], [4, 5]).map((point) => point.seed), [4, 5], 'no --set: one run per seed')
})

t.test('a dotted override copies the path, creates missing map fields and refuses paths that do not exist', async (t) => {
  const document = { name: 'x', network: { latency: { default: '20ms' } }, workload: [{ kind: 'trade', rate: '5/s' }, { kind: 'fx' }] }
  const frozen = JSON.stringify(document)
  const changed = applyOverride(document, ['workload', 0, 'rate'], '50/s')
  t.equal((changed['workload'] as Array<Record<string, unknown>>)[0]!['rate'], '50/s')
  t.equal((changed['workload'] as unknown[])[1], document.workload[1], 'entries off the path are shared, not copied')
  t.equal(JSON.stringify(document), frozen, 'the original is untouched')
  t.same(applyOverride(document, ['network', 'drop'], '1%')['network'], { latency: { default: '20ms' }, drop: '1%' })
  t.same(applyOverride(document, ['consensus', 'timeoutPropose'], '2s')['consensus'], { timeoutPropose: '2s' }, 'a section left to its defaults is created')
  t.throws(() => applyOverride(document, ['workload', 5, 'rate'], 1), { name: 'SweepError', message: /workload has 2 entries, so there is no workload.5/ })
  t.throws(() => applyOverride(document, ['name', 'x'], 1), { message: /name is string "x", not a map/ })
  t.throws(() => applyOverride(document, ['network', 0], 1), { message: /network is a map, not a list/ })
})

t.test('a swept value is validated by the scenario schema, which names the field and the value', async (t) => {
  const path = join(root, 'configs', 'scenarios', 'crash-restart.yaml')
  const raw = loadDataFile(path)
  const { axes, seeds } = parseSweepArguments(['network.drop=0,lots', 'workload.1.rate=10/s'], undefined, 11)
  const points = expandGrid(axes, seeds)
  const good = documentForPoint(raw, axes, points[0]!)
  t.equal(parseScenario(good, 'good').network.drop, 0)
  t.equal(parseScenario(good, 'good').workload[1]!.kind === 'trade' ? (parseScenario(good, 'good').workload[1] as { rate: number }).rate : 0, 10)
  const label = `${path} with ${describePoint(axes, points[1]!)}`
  const error = t.throws(() => parseScenario(documentForPoint(raw, axes, points[1]!), label)) as unknown as ConfigError
  t.ok(error instanceof ConfigError)
  t.match(error.message, /with network\.drop=lots/)
  t.match(error.message, /network\.drop: expected a fraction .* got "lots"/)
  const seeded = documentForPoint(raw, axes, { index: 0, values: [0, '10/s'], seed: 99 })
  t.equal(parseScenario(seeded, 'seeded').seed, 99, 'the point sets the seed')
})

t.test('CSV rows: the swept values, then the summary columns, or the error', async (t) => {
  const { axes } = parseSweepArguments(['network.drop=0,1%'], undefined, 1)
  t.equal(sweepCsvHeader(axes), ['network.drop', ...sweepColumns].join(','))
  const summary = {
    ok: false,
    traceHash: 'ab'.repeat(32),
    transfers: { submitted: 10, finalized: 9, settled: 8, rejected: { X: 1 }, pending: 1 },
    finalized: 0.9,
    latencyMs: { p50: 100.04, p90: 200, p99: 300, max: 400, mean: 150 },
    throughputTps: 3.5,
    blocks: 12,
    faults: 2,
    evidence: 1,
    wallMs: 55,
    invariants: { ok: true, checked: [], violations: [] },
    expectations: { ok: false, failed: [{ metric: 'finalized', expected: '>= 0.99', actual: 0.9 }] }
  } as unknown as RunSummary
  const row = sweepCsvRow(axes, { index: 1, values: ['1%'], seed: 3 }, { summary }).split(',')
  t.equal(row.length, 1 + sweepColumns.length)
  const cell = (column: string): string => row[1 + sweepColumns.indexOf(column as (typeof sweepColumns)[number])]!
  t.equal(row[0], '1%')
  t.equal(cell('seed'), '3')
  t.equal(cell('ok'), 'false')
  t.equal(cell('invariantsOk'), 'true')
  t.equal(cell('expectationsOk'), 'false')
  t.equal(cell('finalized'), '0.9')
  t.equal(cell('latencyP50Ms'), '100')
  t.equal(cell('expectationsFailed'), '1')
  t.equal(cell('error'), '')
  const failed = sweepCsvRow(axes, { index: 0, values: [0], seed: 3 }, { error: 'assertion failed, badly' }).split(',')
  t.equal(failed[1 + sweepColumns.indexOf('invariantsOk')], 'false')
  t.match(failed.slice(1 + sweepColumns.indexOf('error')).join(','), /"assertion failed, badly"/)
})

t.test('corridor sim sweep runs a 2x2 grid on worker threads and writes four CSV rows and summaries', async (t) => {
  const directory = mkdtempSync(join(tmpdir(), 'corridor-sweep-'))
  const scenario = join(directory, 'tiny.yaml')
  writeFileSync(
    scenario,
    [
      'name: tiny',
      'seed: 3',
      'duration: 3s',
      'drain: 2s',
      'banks:',
      '  - { id: icbc, jurisdiction: CN, currencies: [CNY] }',
      '  - { id: enbd, jurisdiction: AE, currencies: [AED] }',
      '  - { id: dbs, jurisdiction: SG, currencies: [SGD] }',
      '  - { id: bochk, jurisdiction: HK, currencies: [HKD] }',
      'fx: { base: USD, rates: { CNY: 7.1, AED: 3.6725, SGD: 1.34, HKD: 7.8 } }',
      'population:',
      '  - { bank: icbc, kind: corporate, count: 10, balance: "1000000 CNY" }',
      '  - { bank: enbd, kind: corporate, count: 10, balance: "1000000 AED" }',
      'workload:',
      '  - { kind: trade, from: CN, to: AE, rate: 5/s, amount: { median: "1000 USD", sigma: 0.5 } }',
      'expect:',
      '  finalized: ">= 0.99"',
      ''
    ].join('\n')
  )
  const out = join(directory, 'out')
  const { stdout } = await run(process.execPath, [join(root, 'bin', 'corridor.js'), 'sim', 'sweep', scenario, '--set', 'network.drop=0,2%', '--seeds', '2', '--workers', '2', '--out', out], { cwd: root })
  t.match(stdout, /sweep: 4 runs .* on 2 worker threads/)
  t.match(stdout, /4 runs in .*: 4 kept every invariant, 0 did not/)
  const lines = readFileSync(join(out, 'sweep.csv'), 'utf8').trim().split('\n')
  t.equal(lines.length, 5, 'a header and four rows')
  t.equal(lines[0], ['network.drop', ...sweepColumns].join(','))
  const rows = lines.slice(1).map((line) => line.split(','))
  t.same(
    rows.map((row) => [row[0], row[1]]),
    [
      ['0', '3'],
      ['0', '4'],
      ['2%', '3'],
      ['2%', '4']
    ],
    'rows in grid order, seeds from the scenario seed'
  )
  const hashColumn = 1 + sweepColumns.indexOf('traceHash')
  t.equal(new Set(rows.map((row) => row[hashColumn])).size, 4, 'every run has its own trace')
  t.ok(rows.every((row) => row[1 + sweepColumns.indexOf('invariantsOk')] === 'true'))
  const runs = readdirSync(join(out, 'runs'))
  t.equal(runs.length, 4)
  for (const name of runs) t.ok(existsSync(join(out, 'runs', name, 'summary.json')), `${name}/summary.json`)
  const summary = JSON.parse(readFileSync(join(out, 'runs', runs[2]!, 'summary.json'), 'utf8')) as RunSummary
  t.equal(summary.traceHash, rows[2]![hashColumn])
})

t.test('corridor sim sweep refuses a bad value before running anything, with exit status 2', async (t) => {
  const error = (await run(process.execPath, [join(root, 'bin', 'corridor.js'), 'sim', 'sweep', 'configs/scenarios/crash-restart.yaml', '--set', 'network.jitter=0,much'], { cwd: root }).catch((e: unknown) => e)) as {
    code: number
    stderr: string
  }
  t.equal(error.code, 2)
  t.match(error.stderr, /with network\.jitter=much seed=11: invalid/)
  t.match(error.stderr, /network\.jitter: expected a fraction/)
})

t.test('SweepError is a CorridorError with a code', async (t) => {
  const error = new SweepError('BAD_KEY', 'x')
  t.equal(error.code, 'BAD_KEY')
})
