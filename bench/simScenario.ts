/**
 * The scenario the simulator benchmarks run, built in code: n banks spread over eight
 * jurisdictions (CN, HK, AE, SG, SA, TH, MY, ID) with cross-border latencies between them,
 * corporates at every bank, trade on every corridor between the jurisdictions present, the
 * example capital-control policies of CN, HK, AE and SG in force, and no faults.
 */
import { resolve } from 'node:path'
import { loadDataFile } from '../src/config/files.ts'
import { parseScenario } from '../src/sim/scenario/schema.ts'
import { resolveScenario, type LoadedScenario } from '../src/sim/scenario/load.ts'

const jurisdictions = [
  { code: 'CN', currencies: ['CNY', 'CNH'], names: ['icbc', 'boc', 'ccb', 'abc'] },
  { code: 'HK', currencies: ['HKD', 'CNH'], names: ['bochk', 'hsbc'] },
  { code: 'AE', currencies: ['AED'], names: ['enbd', 'fab', 'adcb'] },
  { code: 'SG', currencies: ['SGD'], names: ['dbs', 'ocbc'] },
  { code: 'SA', currencies: ['SAR'], names: ['snb', 'alrajhi'] },
  { code: 'TH', currencies: ['THB'], names: ['bbl'] },
  { code: 'MY', currencies: ['MYR'], names: ['maybank'] },
  { code: 'ID', currencies: ['IDR'], names: ['mandiri'] }
] as const

/** One-way latencies between the jurisdictions' financial centres, roughly as measured on the internet. */
const latency = {
  default: '60ms',
  'CN-HK': '10ms',
  'CN-SG': '40ms',
  'CN-AE': '90ms',
  'CN-SA': '110ms',
  'CN-TH': '35ms',
  'CN-MY': '45ms',
  'CN-ID': '50ms',
  'HK-SG': '35ms',
  'HK-AE': '85ms',
  'SG-AE': '70ms',
  'SG-MY': '5ms',
  'SG-ID': '15ms',
  'SG-TH': '20ms',
  'AE-SA': '20ms',
  'TH-MY': '20ms'
}

/** Opening balance per corporate, in its bank's first currency: about USD 14 million. */
const openingMajor: Record<string, number> = { CNY: 100_000_000, HKD: 110_000_000, AED: 50_000_000, SGD: 19_000_000, SAR: 52_000_000, THB: 490_000_000, MYR: 65_000_000, IDR: 200_000_000_000 }

export interface ScaleScenarioOptions {
  readonly banks: number
  /** Transfers per second offered, over all corridors. */
  readonly ratePerSecond: number
  /** Simulated seconds of workload. */
  readonly durationSeconds: number
  readonly drainSeconds?: number
  readonly crypto: 'real' | 'modeled'
  readonly execution: 'per-node' | 'shared'
  /** The scenario's `mempool` mode; per-node when omitted. */
  readonly mempool?: 'per-node' | 'shared'
  readonly corporatesPerBank?: number
  readonly seed?: number
}

/** The n banks: the jurisdictions' named banks in turn, then numbered ones once names run out. */
function bankList(count: number): Array<{ id: string; jurisdiction: string; currencies: string[] }> {
  const banks: Array<{ id: string; jurisdiction: string; currencies: string[] }> = []
  for (let i = 0; banks.length < count; i++) {
    const place = jurisdictions[i % jurisdictions.length]!
    const round = Math.floor(i / jurisdictions.length)
    const id = round < place.names.length ? place.names[round]! : `${place.code.toLowerCase()}bank${round}`
    banks.push({ id, jurisdiction: place.code, currencies: [...place.currencies] })
  }
  return banks
}

export function scaleScenarioDocument(options: ScaleScenarioOptions): Record<string, unknown> {
  const banks = bankList(options.banks)
  const present = [...new Set(banks.map((bank) => bank.jurisdiction))]
  const corridors = present.flatMap((from) => present.filter((to) => to !== from).map((to) => [from, to] as const))
  const perCorridor = options.ratePerSecond / corridors.length
  const policies = ['cn', 'hk', 'ae', 'sg'].map((code) => loadDataFile(resolve(import.meta.dirname, '..', 'configs', 'policies', `${code}.yaml`)))
  return {
    name: `bench-${options.banks}-banks`,
    seed: options.seed ?? 1,
    duration: `${options.durationSeconds}s`,
    drain: `${options.drainSeconds ?? 10}s`,
    crypto: options.crypto,
    execution: options.execution,
    mempool: options.mempool ?? 'per-node',
    banks,
    network: { latency, jitter: '10%' },
    fx: { base: 'USD', rates: { CNY: 7.1, CNH: 7.12, HKD: 7.8, AED: 3.6725, SGD: 1.34, SAR: 3.75, THB: 35, MYR: 4.7, IDR: 15500 } },
    policies,
    population: banks.map((bank) => ({ bank: bank.id, kind: 'corporate', count: options.corporatesPerBank ?? 200, balance: `${openingMajor[bank.currencies[0]!]} ${bank.currencies[0]}` })),
    workload: corridors.map(([from, to]) => ({ kind: 'trade', from, to, rate: `${Math.round(perCorridor * 1000) / 1000}/s`, amount: { median: '20000 USD', sigma: 1.0 }, purpose: 'GDDS' })),
    expect: { invariants: 'all' }
  }
}

export function scaleScenario(options: ScaleScenarioOptions): LoadedScenario {
  const document = scaleScenarioDocument(options)
  return resolveScenario(parseScenario(document, `benchmark scenario (${options.banks} banks)`), resolve(import.meta.dirname, 'scale.yaml'))
}
