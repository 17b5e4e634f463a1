import t from 'tap'
import { parseScenario } from '../../../src/sim/scenario/schema.ts'
import { ConfigError } from '../../../src/config/errors.ts'
import { parseComparison, parseDurationMs, parseFraction, parseRatePerSecond, compare } from '../../../src/sim/scenario/units.ts'

const designExample = {
  name: 'shenzhen-dubai-sme',
  seed: 42,
  duration: '10m',
  banks: [
    { id: 'icbc', jurisdiction: 'CN', currencies: ['CNY', 'CNH'] },
    { id: 'bochk', jurisdiction: 'HK', currencies: ['HKD', 'CNH'] },
    { id: 'enbd', jurisdiction: 'AE', currencies: ['AED'] },
    { id: 'dbs', jurisdiction: 'SG', currencies: ['SGD'] }
  ],
  network: { latency: { default: '40ms', 'CN-AE': '90ms' }, jitter: '10%', drop: 0 },
  fx: { base: 'USD', rates: { CNY: 7.1, CNH: 7.12, AED: 3.6725, HKD: 7.8, SGD: 1.34 } },
  policies: 'configs/policies/cn.yaml',
  population: [
    { bank: 'icbc', kind: 'corporate', count: 200, balance: '1000000 CNH' },
    { bank: 'enbd', kind: 'corporate', count: 100, balance: '500000 AED' }
  ],
  workload: [{ kind: 'trade', from: 'CN', to: 'AE', rate: '50/s', amount: { median: '20000 USD', sigma: 1.0 }, purpose: 'GDDS' }],
  faults: [
    { at: '2m', crash: 'enbd' },
    { at: '4m', restart: 'enbd' },
    { at: '5m', partition: [['icbc', 'bochk'], ['enbd', 'dbs']], until: '6m' },
    { at: '7m', byzantine: 'dbs', behaviour: 'equivocate', until: '8m' }
  ],
  expect: { invariants: 'all', finalized: '>= 0.95', 'latency.p99': '< 2s' }
}

function issuesOf(value: unknown): string[] {
  try {
    parseScenario(value, 'scenario.yaml')
  } catch (error) {
    if (error instanceof ConfigError) {
      t.match(error.message, /^scenario\.yaml: invalid/, 'the message names the file')
      return error.issues.map((issue) => `${issue.path}: ${issue.message}`)
    }
    throw error
  }
  return []
}

t.test('the DESIGN.md example parses into normalized units', async (t) => {
  const scenario = parseScenario(designExample, 'design.yaml')
  t.equal(scenario.duration, 600_000)
  t.equal(scenario.network.latency['CN-AE'], 90)
  t.equal(scenario.network.jitter, 0.1)
  t.equal(scenario.population[0]!.balance.amount, 100_000_000n)
  const trade = scenario.workload[0]!
  t.equal(trade.kind, 'trade')
  if (trade.kind === 'trade') {
    t.equal(trade.rate, 50)
    t.equal(trade.amount.median.amount, 2_000_000n)
  }
  t.same(scenario.faults[2], { at: 300_000, partition: [['icbc', 'bochk'], ['enbd', 'dbs']], until: 360_000 })
  t.equal(scenario.expect.invariants, 'all')
  t.same(scenario.expect.metrics.get('latency.p99'), { operator: '<', value: 2000, text: '< 2s' })
  t.equal(scenario.crypto, 'real', 'real signatures by default')
})

t.test('bad scenarios are refused with the path of every bad field', async (t) => {
  const cases: Array<[string, (s: any) => void, RegExp]> = [
    ['unknown top-level key (a typo)', (s) => (s.durration = '1m'), /^: Unrecognized key: "durration"/],
    ['bad duration', (s) => (s.duration = 'ten minutes'), /^duration: expected a duration/],
    ['bad rate', (s) => (s.workload[0].rate = 'fast'), /^workload\[0\]\.rate: expected a rate/],
    ['unknown currency', (s) => (s.banks[2].currencies = ['XXX']), /^banks\[2\]\.currencies\[0\]: expected an ISO 4217/],
    ['negative money', (s) => (s.population[0].balance = '-5 CNH'), /^population\[0\]\.balance: amount must not be negative/],
    ['population at an unknown bank', (s) => (s.population[1].bank = 'hsbc'), /^population\[1\]\.bank: no bank hsbc/],
    ['currency the bank does not hold', (s) => (s.population[1].balance = '5 USD'), /^population\[1\]\.balance: bank enbd does not hold USD/],
    ['workload to a jurisdiction with no bank', (s) => (s.workload[0].to = 'JP'), /^workload\[0\]\.to: no bank in jurisdiction JP/],
    ['fault at an unknown bank', (s) => (s.faults[0].crash = 'hsbc'), /^faults\[0\]\.crash: no bank hsbc/],
    ['until before at', (s) => (s.faults[2].until = '4m'), /^faults\[2\]\.until: `until` must be later than `at`/],
    ['unknown Byzantine behaviour', (s) => (s.faults[3].behaviour = 'lie'), /^faults\[3\]/],
    ['bad expectation', (s) => (s.expect['latency.p99'] = 'fast'), /^expect\.latency\.p99: expected a comparison/],
    ['duplicate bank ids', (s) => (s.banks[1].id = 'icbc'), /^banks: bank ids must be unique/],
    [
      'too much Byzantine power',
      (s) => s.faults.push({ at: '1m', byzantine: 'enbd', behaviour: 'censor' }),
      /^faults: Byzantine banks hold 2 of 4 voting power/
    ]
  ]
  for (const [name, mutate, expected] of cases) {
    const scenario = structuredClone(designExample) as any
    mutate(scenario)
    const issues = issuesOf(scenario)
    t.ok(issues.some((issue) => expected.test(issue)), `${name}: got ${JSON.stringify(issues)}`)
  }
})

t.test('units', async (t) => {
  t.equal(parseDurationMs('250ms'), 250)
  t.equal(parseDurationMs('1.5s'), 1500)
  t.equal(parseDurationMs('2h'), 7_200_000)
  t.equal(parseDurationMs('-1s'), undefined)
  t.equal(parseRatePerSecond('3000/min'), 50)
  t.equal(parseRatePerSecond('50/s'), 50)
  t.equal(parseFraction('10%'), 0.1)
  t.equal(parseFraction(1.5), undefined)
  const p99 = parseComparison('< 2s')!
  t.ok(compare(1999, p99))
  t.notOk(compare(2000, p99))
  t.same(parseComparison('>= 95%'), { operator: '>=', value: 0.95, text: '>= 95%' })
  t.equal(parseComparison('about 3'), undefined)
})

t.test('a fault names exactly one action', async (t) => {
  const none = structuredClone(designExample) as any
  none.faults = [{ at: '1m', explode: 'icbc' }]
  t.ok(issuesOf(none).some((issue) => /^faults\[0\]: expected one fault action: crash, restart/.test(issue)))
  const two = structuredClone(designExample) as any
  two.faults = [{ at: '1m', crash: 'icbc', pause: 'enbd' }]
  t.ok(issuesOf(two).some((issue) => /^faults\[0\]: a fault names one action, got crash and pause/.test(issue)))
})
