import t from 'tap'
import { renderReport } from '../../../src/sim/report/html.ts'
import type { RunReport } from '../../../src/sim/report/types.ts'
import { niceTicks, lineChart } from '../../../src/sim/report/svg.ts'

function sampleReport(ok: boolean): RunReport {
  return {
    summary: {
      scenario: 'calm-cn-ae',
      seed: 7,
      backend: 'sim',
      traceHash: 'ab'.repeat(32),
      simulatedMs: 60_000,
      wallMs: 1200,
      transfers: { submitted: 100, finalized: 99, settled: 90, rejected: { CC_QUOTA_EXCEEDED: 6, '<script>': 3 }, pending: 1 },
      finalized: 0.99,
      latencyMs: { p50: 300, p90: 500, p99: 900, max: 1200, mean: 350 },
      throughputTps: 1.65,
      blocks: 60,
      height: 60,
      baseline: { settlementMs: { p50: 86_400_000, p90: 2e8, p99: 3e8 }, corridorCostUsd: 12, correspondentCostUsd: 4000 },
      faults: 0,
      evidence: 0,
      invariants: ok
        ? { ok: true, checked: ['agreement'], violations: [] }
        : { ok: false, checked: ['agreement'], violations: [{ invariant: 'agreement', atMs: 1000, node: 'icbc', height: 3, message: 'two blocks at height 3' }] },
      expectations: { ok, failed: ok ? [] : [{ metric: 'latency.p99', expected: '< 500ms', actual: 900 }] },
      ok
    },
    series: {
      bucketMs: 1000,
      throughput: [[0, 1], [1000, 2], [2000, 1.5]],
      offered: [[0, 2], [1000, 2], [2000, 2]],
      latencyMean: [[0, 300], [1000, 320]],
      latencyMax: [[0, 800], [1000, 900]],
      height: [[0, 1], [1000, 2]]
    },
    corridors: [{ corridor: 'CN→AE', transfers: 100, volumeUsd: 2e6, settled: 90, medianMs: 300, baselineMedianMs: 86_400_000, corridorCostUsd: 12, baselineCostUsd: 4000 }],
    faults: []
  }
}

t.test('the report is one self-contained page with its charts', async (t) => {
  const html = renderReport(sampleReport(true))
  t.match(html, /^<!doctype html>/)
  t.equal((html.match(/<svg /g) ?? []).length, 7, 'seven charts')
  t.notMatch(html, /<script/, 'no scripts: text from the run is escaped')
  t.notMatch(html, /(src|href)="http/, 'nothing loaded from the network')
  t.match(html, /PASS/)
})

t.test('a failed run shows its violations and failed expectations', async (t) => {
  const html = renderReport(sampleReport(false))
  t.match(html, /FAIL/)
  t.match(html, /two blocks at height 3/)
  t.match(html, /latency\.p99/)
})

t.test('axis ticks are round numbers covering the range', async (t) => {
  t.same(niceTicks(0, 100, 5), [0, 20, 40, 60, 80, 100])
  t.same(niceTicks(0, 0.9, 5), [0, 0.2, 0.4, 0.6, 0.8])
  t.match(lineChart([], { title: 'empty' }), /no data/)
})
