/**
 * From a finished run to what people read: summary.json, the transfer rows, the report's series
 * and corridors, and the verdict on the scenario's expectations. Shared by the simulator and the
 * cluster backend.
 */
import { formatAmount } from '../ledger/currency.ts'
import { convert, type FxTable } from '../ledger/fx.ts'
import { compare } from './scenario/units.ts'
import type { Scenario } from './scenario/schema.ts'
import { correspondentOutcome } from './baseline.ts'
import { Random } from './random.ts'
import { percentiles, TimeSeries } from './stats.ts'
import type { CorridorVolume, ExpectationFailure, InvariantViolation, RunReport, RunSummary, TransferRecord } from './report/types.ts'
import type { TransferInfo } from './workload.ts'

export interface TrackedTransfer {
  readonly id: string
  readonly info: TransferInfo
  readonly submitMs: number
  readonly finalMs: number | undefined
  readonly status: 'settled' | 'rejected' | 'pending'
  readonly reason: string
  readonly received: bigint | undefined
  /** Refused at admission: answered at once, no finality latency. */
  readonly refused?: boolean
}

export interface RunOutcome {
  readonly scenario: Scenario
  readonly backend: 'sim' | 'cluster'
  readonly traceHash: string
  readonly simulatedMs: number
  readonly wallMs: number
  readonly startMs: number
  readonly tracked: Iterable<TrackedTransfer>
  readonly fx: FxTable
  /** FX provider spread, for the cost of cross-currency payments on Corridor. */
  readonly spreadBasisPoints: number
  readonly blocks: number
  readonly height: number
  readonly heightSeries: ReadonlyArray<readonly [number, number]>
  readonly faultMarks: ReadonlyArray<{ atMs: number; label: string }>
  readonly faults: number
  readonly evidence: number
  readonly violations: readonly InvariantViolation[]
  readonly invariantsChecked: readonly string[]
  readonly offeredTps?: number
  readonly achievedSubmitTps?: number
}

export interface RunProducts {
  readonly report: RunReport
  readonly transfers: TransferRecord[]
}

function usd(fx: FxTable, amount: bigint, currency: string): number {
  const cents = convert(fx, amount, currency, 'USD')
  return cents === undefined ? 0 : Number(cents) / 100
}

export function summarize(outcome: RunOutcome): RunProducts {
  const { scenario, fx } = outcome
  const bucketMs = Math.max(1000, Math.ceil(outcome.simulatedMs / 120 / 1000) * 1000)
  const finalized = new TimeSeries(bucketMs)
  const offered = new TimeSeries(bucketMs)
  const latencies: number[] = []
  const baselineTimes: number[] = []
  const rejected: Record<string, number> = {}
  const corridors = new Map<string, { transfers: number; settled: number; volumeUsd: number; latencies: number[]; baseline: number[]; cost: number; baselineCost: number }>()
  const baselineRandom = new Random(scenario.seed).fork('baseline')
  const transfers: TransferRecord[] = []
  let submitted = 0
  let settled = 0
  let pending = 0
  let finalCount = 0
  let corridorCost = 0
  let correspondentCost = 0
  for (const t of outcome.tracked) {
    submitted++
    offered.add(t.submitMs)
    const info = t.info
    const isPayment = info.kind === 'payment'
    const crossCurrency = info.currency !== info.receivedCurrency
    const amountUsd = isPayment ? info.amountUsdCents / 100 : 0
    let baselineMs = 0
    let baselineCostUsd = 0
    let corridorCostUsd = 0
    if (isPayment) {
      const outcomeBaseline = correspondentOutcome(
        {
          submitMs: outcome.startMs + t.submitMs,
          fromJurisdiction: info.payerJurisdiction,
          toJurisdiction: info.payeeJurisdiction,
          crossCurrency,
          payerKind: info.payerKind === 'individual' ? 'individual' : 'corporate',
          amountUsdCents: info.amountUsdCents
        },
        baselineRandom
      )
      baselineMs = outcomeBaseline.settlementMs
      baselineCostUsd = outcomeBaseline.costUsdCents / 100
      corridorCostUsd = crossCurrency ? (amountUsd * outcome.spreadBasisPoints) / 10_000 : 0
    }
    if (t.finalMs !== undefined) {
      finalCount++
      // A refusal at admission is an answer, not finality: it would flatter the latency figures.
      if (t.refused !== true) {
        finalized.add(t.finalMs, t.finalMs - t.submitMs)
        latencies.push(t.finalMs - t.submitMs)
      }
    }
    if (t.status === 'settled') settled++
    else if (t.status === 'rejected') rejected[t.reason] = (rejected[t.reason] ?? 0) + 1
    else pending++
    if (isPayment) {
      const label = `${info.payerJurisdiction}→${info.payeeJurisdiction}`
      let corridor = corridors.get(label)
      if (corridor === undefined) corridors.set(label, (corridor = { transfers: 0, settled: 0, volumeUsd: 0, latencies: [], baseline: [], cost: 0, baselineCost: 0 }))
      corridor.transfers++
      if (t.status === 'settled') {
        corridor.settled++
        corridor.volumeUsd += amountUsd
        corridor.latencies.push((t.finalMs ?? t.submitMs) - t.submitMs)
        corridor.baseline.push(baselineMs)
        corridor.cost += corridorCostUsd
        corridor.baselineCost += baselineCostUsd
        corridorCost += corridorCostUsd
        correspondentCost += baselineCostUsd
        baselineTimes.push(baselineMs)
      }
    }
    transfers.push({
      id: t.id,
      kind: info.kind,
      corridor: isPayment ? `${info.payerJurisdiction}-${info.payeeJurisdiction}` : '',
      payer: info.payer,
      payee: info.payee,
      payerBank: info.payerBank,
      payeeBank: info.payeeBank,
      amount: info.kind === 'payment' ? formatAmount(info.amount, info.currency) : info.amount.toString(),
      currency: info.currency,
      received: t.received !== undefined ? formatAmount(t.received, info.receivedCurrency) : '',
      receivedCurrency: info.receivedCurrency,
      submitMs: t.submitMs,
      finalMs: t.finalMs ?? null,
      status: t.status,
      reason: t.reason,
      amountUsd: Math.round(amountUsd * 100) / 100,
      corridorCostUsd: Math.round(corridorCostUsd * 100) / 100,
      baselineMs: Math.round(baselineMs),
      baselineCostUsd: Math.round(baselineCostUsd * 100) / 100
    })
  }
  const latency = percentiles(latencies)
  const baseline = percentiles(baselineTimes)
  const activeSeconds = Math.max(1, scenario.duration / 1000)
  const summaryWithoutVerdict = {
    scenario: scenario.name,
    seed: scenario.seed,
    backend: outcome.backend,
    traceHash: outcome.traceHash,
    simulatedMs: Math.round(outcome.simulatedMs),
    wallMs: Math.round(outcome.wallMs),
    transfers: { submitted, finalized: finalCount, settled, rejected, pending },
    finalized: submitted === 0 ? 1 : finalCount / submitted,
    latencyMs: { p50: latency.p50, p90: latency.p90, p99: latency.p99, max: latency.max, mean: Math.round(latency.mean) },
    throughputTps: Math.round((finalCount / activeSeconds) * 100) / 100,
    blocks: outcome.blocks,
    height: outcome.height,
    ...(outcome.offeredTps === undefined ? {} : { offeredTps: outcome.offeredTps }),
    ...(outcome.achievedSubmitTps === undefined ? {} : { achievedSubmitTps: outcome.achievedSubmitTps }),
    baseline: {
      settlementMs: { p50: Math.round(baseline.p50), p90: Math.round(baseline.p90), p99: Math.round(baseline.p99) },
      corridorCostUsd: Math.round(corridorCost * 100) / 100,
      correspondentCostUsd: Math.round(correspondentCost * 100) / 100
    },
    faults: outcome.faults,
    evidence: outcome.evidence,
    invariants: { ok: outcome.violations.length === 0, checked: [...outcome.invariantsChecked], violations: [...outcome.violations] }
  }
  const failed = checkExpectations(scenario, summaryWithoutVerdict)
  const summary: RunSummary = {
    ...summaryWithoutVerdict,
    expectations: { ok: failed.length === 0, failed },
    ok: failed.length === 0 && outcome.violations.length === 0
  }
  const corridorRows: CorridorVolume[] = [...corridors.entries()]
    .sort((a, b) => b[1].volumeUsd - a[1].volumeUsd)
    .map(([label, c]) => ({
      corridor: label,
      transfers: c.transfers,
      settled: c.settled,
      volumeUsd: Math.round(c.volumeUsd),
      medianMs: percentiles(c.latencies).p50,
      baselineMedianMs: percentiles(c.baseline).p50,
      corridorCostUsd: Math.round(c.cost * 100) / 100,
      baselineCostUsd: Math.round(c.baselineCost * 100) / 100
    }))
  return {
    report: {
      summary,
      series: {
        bucketMs,
        throughput: finalized.rate(),
        offered: offered.rate(),
        latencyMean: finalized.mean(),
        latencyMax: finalized.max(),
        height: outcome.heightSeries
      },
      corridors: corridorRows,
      faults: outcome.faultMarks,
      ...(scenario.description === undefined ? {} : { description: scenario.description })
    },
    transfers
  }
}

/** Reads a metric path ("latency.p99" is an alias of "latencyMs.p99") from a summary. */
export function metricOf(summary: Record<string, unknown>, path: string): number | undefined {
  const aliases: Record<string, string> = { latency: 'latencyMs', throughput: 'throughputTps' }
  let current: unknown = summary
  path.split('.').forEach((part, index) => {
    const key = index === 0 && aliases[part] !== undefined && !(part in summary) ? aliases[part]! : part
    current = typeof current === 'object' && current !== null ? (current as Record<string, unknown>)[key] : undefined
  })
  // "rejected.CODE" counts zero when no transfer was rejected for that reason.
  if (current === undefined && path.startsWith('transfers.rejected.')) return 0
  return typeof current === 'number' ? current : undefined
}

export function checkExpectations(scenario: Scenario, summary: Record<string, unknown>): ExpectationFailure[] {
  const failed: ExpectationFailure[] = []
  for (const [metric, comparison] of scenario.expect.metrics) {
    const path = metric.startsWith('rejected.') ? `transfers.${metric}` : metric
    const actual = metricOf(summary, path)
    if (actual === undefined || !compare(actual, comparison)) failed.push({ metric, expected: comparison.text, actual: actual ?? null })
  }
  return failed
}
