/**
 * The scenario format, shared by `corridor sim run` and `corridor cluster run`. Documented field
 * by field in docs/scenarios.md. Parsing is pure: `parseScenario(value, source)` takes the parsed
 * YAML/JSON document and returns a normalized scenario (durations in ms, rates per second,
 * fractions in [0, 1], money as minor units), or throws a ConfigError naming the source, the path
 * of every bad field and what was expected.
 */
import { z } from 'zod'
import { validateDocument } from '../../config/validate.ts'
import { isKnownCurrency, parseMoney, type Money } from '../../ledger/currency.ts'
import { isValidId } from '../../protocol/ids.ts'
import { parseComparison, parseDurationMs, parseFraction, parseRatePerSecond, type Comparison } from './units.ts'

const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDurationMs(value)
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a duration such as "250ms", "30s", "10m" or a number of ms, got ${JSON.stringify(value)}` })
    return z.NEVER
  }
  return ms
})

const rate = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const perSecond = parseRatePerSecond(value)
  if (perSecond === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a rate such as "50/s" or "3000/min", got ${JSON.stringify(value)}` })
    return z.NEVER
  }
  return perSecond
})

const fraction = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const result = parseFraction(value)
  if (result === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a fraction from 0 to 1 or a percentage such as "10%", got ${JSON.stringify(value)}` })
    return z.NEVER
  }
  return result
})

const money = z.string().transform((value, ctx): Money => {
  try {
    return parseMoney(value)
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message })
    return z.NEVER
  }
})

const id = z.string().refine(isValidId, { message: "expected an id of a-z, 0-9, '-', '_' or ':' starting with a letter or digit" })
const jurisdiction = z.string().regex(/^[A-Z]{2}$/, 'expected a two-letter jurisdiction code such as CN or AE')
const currency = z.string().refine(isKnownCurrency, { message: 'expected an ISO 4217 currency code Corridor knows (see src/ledger/currency.ts)' })

const bank = z.strictObject({
  id,
  jurisdiction,
  currencies: z.array(currency).min(1),
  /** Voting power of the bank's validator; 1 by default. */
  power: z.number().int().positive().default(1),
  /** Opening settlement-asset holding per currency, e.g. "500000000 CNY"; a generous default otherwise. */
  reserves: z.array(money).optional()
})

const network = z.strictObject({
  /** One-way latency: `default`, and per jurisdiction pair "CN-AE" (symmetric). */
  latency: z.record(z.string(), duration).default({ default: 20 }),
  /** Uniform jitter as a fraction of the latency. */
  jitter: fraction.default(0),
  drop: fraction.default(0),
  duplicate: fraction.default(0),
  /** Virtual CPU time one signature check costs a node, so saturation can be studied. 0 = free. */
  verifyCost: duration.default(0)
})

const consensus = z.strictObject({
  timeoutPropose: duration.optional(),
  timeoutPrevote: duration.optional(),
  timeoutPrecommit: duration.optional(),
  /** Wait after a decision before the next height starts (CometBFT's timeout_commit); 0 by default. */
  timeoutCommit: duration.optional(),
  /** Wait up to this long for transactions before starting a height (create_empty_blocks off); 0 (default): empty blocks at once. */
  emptyBlockInterval: duration.optional(),
  blockTransactionsMax: z.number().int().positive().optional()
})

const fx = z.strictObject({
  base: currency,
  rates: z.record(z.string(), z.union([z.number().positive(), z.string()]))
})

const population = z.strictObject({
  bank: id,
  kind: z.enum(['corporate', 'individual']),
  count: z.number().int().positive().max(1_000_000),
  /** Opening balance of each customer, in one of the bank's currencies. */
  balance: money,
  kycTier: z.number().int().min(1).max(4).optional()
})

const amountDistribution = z.strictObject({ median: money, sigma: z.number().min(0).max(4).default(1) })

const workloadWindow = {
  start: duration.optional(),
  end: duration.optional()
}

const tradeWorkload = z.strictObject({
  kind: z.literal('trade'),
  from: jurisdiction,
  to: jurisdiction,
  rate,
  amount: amountDistribution,
  purpose: z.string().regex(/^[A-Z0-9]{3,6}$/).default('GDDS'),
  /** Fraction of invoices that carry a trade document reference. */
  documented: fraction.default(1),
  ...workloadWindow
})

const remittanceWorkload = z.strictObject({
  kind: z.literal('remittance'),
  from: jurisdiction,
  to: jurisdiction,
  rate,
  amount: amountDistribution,
  purpose: z.string().regex(/^[A-Z0-9]{3,6}$/).default('FAMI'),
  /** Number of distinct overseas payees the senders pay; small values provoke anti-structuring rules. */
  payees: z.number().int().positive().optional(),
  ...workloadWindow
})

const fxWorkload = z.strictObject({
  kind: z.literal('fx'),
  currency,
  /** How often the FX provider publishes a new rate. */
  every: duration,
  /** Standard deviation of each move, as a fraction of the rate. */
  volatility: fraction.default(0.001),
  ...workloadWindow
})

const liquidityShockWorkload = z.strictObject({
  kind: z.literal('liquidity-shock'),
  /** The bank whose customers rush to pay out. */
  bank: id,
  at: duration,
  /** Payments submitted at once by the bank's customers. */
  payments: z.number().int().positive().max(1_000_000),
  to: jurisdiction,
  amount: amountDistribution
})

const workload = z.discriminatedUnion('kind', [tradeWorkload, remittanceWorkload, fxWorkload, liquidityShockWorkload])

export const byzantineBehaviours = [
  'equivocate',
  'withhold-votes',
  'invalid-signatures',
  'replay-transactions',
  'censor',
  'partial-proposals'
] as const
export type ByzantineBehaviour = (typeof byzantineBehaviours)[number]

const timed = { at: duration }
const bounded = { at: duration, until: duration.optional() }
const link = z.tuple([id, id])

/** Each fault names exactly one action; its key picks the schema, so errors speak of that action. */
const faultSchemas = {
  crash: z.strictObject({ ...timed, crash: id, storage: z.enum(['intact', 'lose-unsynced', 'torn-wal']).default('intact') }),
  restart: z.strictObject({ ...timed, restart: id }),
  pause: z.strictObject({ ...bounded, pause: id }),
  partition: z.strictObject({ ...bounded, partition: z.array(z.array(id).min(1)).min(2) }),
  heal: z.strictObject({ ...timed, heal: z.literal(true) }),
  delay: z.strictObject({ ...bounded, delay: z.strictObject({ link: link.optional(), latency: duration }) }),
  drop: z.strictObject({ ...bounded, drop: z.strictObject({ link: link.optional(), probability: fraction }) }),
  duplicate: z.strictObject({ ...bounded, duplicate: z.strictObject({ link: link.optional(), probability: fraction }) }),
  byzantine: z.strictObject({ ...bounded, byzantine: id, behaviour: z.enum(byzantineBehaviours) }),
  /** Faults drawn at random and paced through a window, during load. */
  chaos: z.strictObject({
    chaos: z.strictObject({
      from: duration,
      until: duration,
      every: duration,
      kinds: z.array(z.enum(['crash', 'pause', 'partition', 'delay', 'drop', 'duplicate'])).min(1),
      /** How long each drawn fault lasts before it is undone (crashed nodes restart). */
      recoverAfter: duration
    }).refine((chaos) => chaos.recoverAfter <= chaos.every, { message: '`recoverAfter` must not exceed `every`: drawn faults would overlap and could take down more than f validators at once', path: ['recoverAfter'] })
  })
} as const
type FaultSchemas = typeof faultSchemas
export type FaultKind = keyof FaultSchemas
export const faultKinds = Object.keys(faultSchemas) as FaultKind[]
export type ScenarioFault = { [K in FaultKind]: z.output<FaultSchemas[K]> }[FaultKind]

const fault = z.record(z.string(), z.unknown()).transform((value, ctx): ScenarioFault => {
  const kinds = faultKinds.filter((kind) => kind in value)
  if (kinds.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      message: kinds.length === 0 ? `expected one fault action: ${faultKinds.join(', ')}` : `a fault names one action, got ${kinds.join(' and ')}`
    })
    return z.NEVER
  }
  const parsed = faultSchemas[kinds[0]!].safeParse(value)
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: issue.path } as never)
    return z.NEVER
  }
  const result = parsed.data as Record<string, unknown>
  if (typeof result['until'] === 'number' && typeof result['at'] === 'number' && result['until'] <= result['at']) {
    ctx.addIssue({ code: 'custom', path: ['until'], message: '`until` must be later than `at`' })
  }
  return parsed.data as ScenarioFault
})

export const invariantNames = ['agreement', 'conservation', 'non-negative', 'policy', 'state-root', 'liveness'] as const
export type InvariantName = (typeof invariantNames)[number]

const invariantSelection = z.union([z.literal('all'), z.array(z.enum(invariantNames))])

export interface ScenarioExpectations {
  readonly invariants: 'all' | readonly InvariantName[]
  /** Metric path in summary.json (e.g. "latency.p99", "finalized") -> the comparison it must pass. */
  readonly metrics: ReadonlyMap<string, Comparison>
}

/** Flat in the file, as `invariants: all` beside `latency.p99: "< 2s"`; split apart here. */
const expectations = z.record(z.string(), z.unknown()).transform((value, ctx): ScenarioExpectations => {
  let invariants: ScenarioExpectations['invariants'] = 'all'
  const metrics = new Map<string, Comparison>()
  for (const [key, raw] of Object.entries(value)) {
    if (key === 'invariants') {
      const parsed = invariantSelection.safeParse(raw)
      if (parsed.success) invariants = parsed.data
      else ctx.addIssue({ code: 'custom', path: [key], message: `expected "all" or a list of ${invariantNames.join(', ')}` })
      continue
    }
    if (!/^[a-zA-Z][a-zA-Z0-9_]*(\.[a-zA-Z0-9_]+)*$/.test(key)) {
      ctx.addIssue({ code: 'custom', path: [key], message: 'expected a metric path of summary.json such as "latency.p99"' })
      continue
    }
    const comparison = parseComparison(raw)
    if (comparison === undefined) {
      ctx.addIssue({ code: 'custom', path: [key], message: `expected a comparison such as "< 2s", ">= 0.95" or "== 0", got ${JSON.stringify(raw)}` })
      continue
    }
    metrics.set(key, comparison)
  }
  return { invariants, metrics }
})

export const scenarioSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'expected a name of a-z, 0-9 and dashes'),
    description: z.string().max(2000).optional(),
    seed: z.number().int().min(0).max(2 ** 32 - 1).default(1),
    /** When simulated time 0 is, as an ISO 8601 date-time; a Monday morning in Beijing by default. */
    start: z
      .string()
      .refine((text) => !Number.isNaN(Date.parse(text)), { message: 'expected an ISO 8601 date-time such as "2026-01-05T09:00:00+08:00"' })
      .transform((text) => Date.parse(text))
      .optional(),
    duration,
    /** Simulated time after the workload stops in which pending transfers may still finalize. */
    drain: duration.default(10_000),
    crypto: z.enum(['real', 'modeled']).default('real'),
    /**
     * `per-node`: every simulated node executes every block itself, so the state-root invariant
     * compares independent executions. `shared`: nodes at the same state root take one execution
     * of a block (src/node/replica/executionCache.ts), for runs at a scale where executing every
     * block n times would dominate; the state-root check then only compares shared results.
     */
    execution: z.enum(['per-node', 'shared']).default('per-node'),
    /**
     * `per-node`: every simulated node keeps its own mempool and receives each gossip batch as a
     * message. `shared`: one pool per process, each node seeing what reached it through a view
     * (src/node/replica/sharedMempool.ts), and gossip batches marked as arrived when due instead
     * of being delivered one message per link; for runs at scale. Traces differ (see docs/scenarios.md).
     */
    mempool: z.enum(['per-node', 'shared']).default('per-node'),
    banks: z.array(bank).min(1).max(128, 'at most 128 banks: the consensus engine allows 128 validators'),
    network: network.default({ latency: { default: 20 }, jitter: 0, drop: 0, duplicate: 0, verifyCost: 0 }),
    consensus: consensus.default({}),
    fx,
    /** Policy files (paths relative to the scenario file), or inline policy documents. */
    policies: z.union([z.string(), z.array(z.union([z.string(), z.record(z.string(), z.unknown())]))]).default([]),
    population: z.array(population).min(1),
    workload: z.array(workload).default([]),
    faults: z.array(fault).default([]),
    expect: expectations.default((): ScenarioExpectations => ({ invariants: 'all', metrics: new Map() }))
  })
  .superRefine((scenario, ctx) => {
    if (scenario.mempool === 'shared' && scenario.network.verifyCost > 0) {
      ctx.addIssue({ code: 'custom', path: ['mempool'], message: 'mempool: shared delivers gossip without modelling its verification cost; set network.verifyCost to 0 or use mempool: per-node' })
    }
    const banks = new Map(scenario.banks.map((b) => [b.id, b]))
    if (banks.size !== scenario.banks.length) ctx.addIssue({ code: 'custom', path: ['banks'], message: 'bank ids must be unique' })
    const jurisdictions = new Set(scenario.banks.map((b) => b.jurisdiction))
    const rated = new Set([scenario.fx.base, ...Object.keys(scenario.fx.rates)])
    // Volumes, costs and the correspondent baseline are reported in USD.
    if (!rated.has('USD')) ctx.addIssue({ code: 'custom', path: ['fx', 'rates'], message: 'the FX table must rate USD (or use it as base): reports are in USD' })
    scenario.banks.forEach((b, index) => {
      for (const code of b.currencies) {
        if (!rated.has(code)) ctx.addIssue({ code: 'custom', path: ['banks', index, 'currencies'], message: `currency ${code} has no rate in fx.rates` })
      }
    })
    for (const key of Object.keys(scenario.network.latency)) {
      if (key !== 'default' && !/^[A-Z]{2}-[A-Z]{2}$/.test(key)) {
        ctx.addIssue({ code: 'custom', path: ['network', 'latency', key], message: 'expected "default" or a jurisdiction pair such as "CN-AE"' })
      }
    }
    scenario.population.forEach((group, index) => {
      const home = banks.get(group.bank)
      if (home === undefined) ctx.addIssue({ code: 'custom', path: ['population', index, 'bank'], message: `no bank ${group.bank} in banks` })
      else if (!home.currencies.includes(group.balance.currency)) {
        ctx.addIssue({ code: 'custom', path: ['population', index, 'balance'], message: `bank ${group.bank} does not hold ${group.balance.currency}` })
      }
    })
    scenario.workload.forEach((item, index) => {
      if (item.kind === 'trade' || item.kind === 'remittance') {
        for (const side of ['from', 'to'] as const) {
          if (!jurisdictions.has(item[side])) {
            ctx.addIssue({ code: 'custom', path: ['workload', index, side], message: `no bank in jurisdiction ${item[side]}` })
          }
        }
      }
      if ('start' in item && 'end' in item && item.start !== undefined && item.end !== undefined && item.end <= item.start) {
        ctx.addIssue({ code: 'custom', path: ['workload', index, 'end'], message: '`end` must be later than `start`' })
      }
      if (item.kind === 'liquidity-shock' && !banks.has(item.bank)) {
        ctx.addIssue({ code: 'custom', path: ['workload', index, 'bank'], message: `no bank ${item.bank} in banks` })
      }
    })
    const faulty = new Set<string>()
    scenario.faults.forEach((item, index) => {
      const record = item as Record<string, unknown>
      for (const key of ['crash', 'restart', 'pause', 'byzantine'] as const) {
        const target = record[key]
        if (typeof target === 'string' && !banks.has(target)) {
          ctx.addIssue({ code: 'custom', path: ['faults', index, key], message: `no bank ${target} in banks` })
        }
        if (key === 'byzantine' && typeof target === 'string') faulty.add(target)
      }
      if (Array.isArray(record['partition'])) {
        for (const group of record['partition'] as string[][]) {
          for (const member of group) {
            if (!banks.has(member)) ctx.addIssue({ code: 'custom', path: ['faults', index, 'partition'], message: `no bank ${member} in banks` })
          }
        }
      }
      if (typeof record['at'] === 'number' && record['at'] > scenario.duration) {
        ctx.addIssue({ code: 'custom', path: ['faults', index, 'at'], message: 'fault is scheduled after the scenario ends' })
      }
    })
    // More Byzantine validators than BFT tolerates makes safety unprovable; say so up front.
    const totalPower = scenario.banks.reduce((sum, b) => sum + b.power, 0)
    const byzantinePower = scenario.banks.filter((b) => faulty.has(b.id)).reduce((sum, b) => sum + b.power, 0)
    if (byzantinePower * 3 >= totalPower) {
      ctx.addIssue({
        code: 'custom',
        path: ['faults'],
        message: `Byzantine banks hold ${byzantinePower} of ${totalPower} voting power; BFT tolerates less than one third`
      })
    }
  })

export type Scenario = z.output<typeof scenarioSchema>
export type ScenarioWorkload = Scenario['workload'][number]

export function parseScenario(value: unknown, source: string): Scenario {
  return validateDocument(scenarioSchema, value, source)
}
