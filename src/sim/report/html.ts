/**
 * The self-contained HTML report: one file, inline CSS and SVG, no scripts, opens offline.
 */
import { barChart, escapeXml, formatMs, formatNumber, groupedBarChart, lineChart } from './svg.ts'
import type { RunReport } from './types.ts'

const css = `
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f9fafb;color:#111827}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
.sub{color:#4b5563;font-size:13px}
.verdict{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:600;font-size:13px;margin-left:8px}
.ok{background:#dcfce7;color:#166534}.fail{background:#fee2e2;color:#991b1b}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:10px;margin-top:16px}
.card{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:10px 12px}
.card .v{font-size:20px;font-weight:600}.card .k{font-size:12px;color:#6b7280}
.charts{display:grid;grid-template-columns:1fr;gap:12px}
.chart{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:8px;overflow-x:auto}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
th,td{border-bottom:1px solid #e5e7eb;padding:6px 8px;text-align:left}th{background:#f3f4f6}
td.n{text-align:right;font-variant-numeric:tabular-nums}
code{background:#f3f4f6;padding:1px 4px;border-radius:4px}
`

function card(label: string, value: string): string {
  return `<div class="card"><div class="v">${escapeXml(value)}</div><div class="k">${escapeXml(label)}</div></div>`
}

export function renderReport(report: RunReport): string {
  const { summary, series, corridors } = report
  const verdict = summary.ok ? '<span class="verdict ok">PASS</span>' : '<span class="verdict fail">FAIL</span>'
  const rejected = Object.entries(summary.transfers.rejected).sort((a, b) => b[1] - a[1])
  const seconds = (ms: number): string => formatMs(ms)
  const throughput = lineChart(
    [
      { name: 'finalized / s', points: series.throughput },
      { name: 'submitted / s', points: series.offered }
    ],
    { title: 'Throughput over time', xLabel: 'simulated time', yLabel: 'transfers per second', formatX: seconds }
  )
  const latency = lineChart(
    [
      { name: 'mean', points: series.latencyMean },
      { name: 'max', points: series.latencyMax }
    ],
    { title: 'Finality latency over time', xLabel: 'simulated time', yLabel: 'latency', formatX: seconds, formatY: formatMs }
  )
  const heights = lineChart([{ name: 'highest finalized height', points: series.height }], {
    title: 'Chain height',
    xLabel: 'simulated time',
    formatX: seconds
  })
  const rejections = barChart(
    rejected.map(([reason, count]) => ({ label: reason, value: count })),
    { title: 'Rejections by reason code', color: '#dc2626' }
  )
  const volume = barChart(
    corridors.map((c) => ({ label: c.corridor, value: c.volumeUsd, note: `USD ${formatNumber(c.volumeUsd)} in ${c.transfers} transfers` })),
    { title: 'Volume per corridor (USD equivalent)' }
  )
  const settlement = groupedBarChart(
    corridors.map((c) => ({ label: c.corridor, values: [c.medianMs, c.baselineMedianMs] })),
    { title: 'Median settlement time: Corridor vs correspondent banking (log scale)', seriesNames: ['Corridor', 'correspondent banking'], formatValue: formatMs, logScale: true }
  )
  const cost = groupedBarChart(
    corridors.map((c) => ({ label: c.corridor, values: [c.corridorCostUsd, c.baselineCostUsd] })),
    { title: 'Total cost to senders (USD)', seriesNames: ['Corridor', 'correspondent banking'], formatValue: (v) => `USD ${formatNumber(v)}` }
  )
  const violations = summary.invariants.violations
  const failed = summary.expectations.failed
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeXml(summary.scenario)} (seed ${summary.seed}) — Corridor report</title><style>${css}</style></head>
<body><main>
<h1>${escapeXml(summary.scenario)} ${verdict}</h1>
<div class="sub">seed ${summary.seed} · backend ${summary.backend} · simulated ${formatMs(summary.simulatedMs)} in ${formatMs(summary.wallMs)} of wall time · trace <code>${summary.traceHash.slice(0, 16)}</code></div>
${report.description ? `<p>${escapeXml(report.description)}</p>` : ''}
<div class="cards">
${card('submitted', formatNumber(summary.transfers.submitted))}
${card('settled', formatNumber(summary.transfers.settled))}
${card('rejected by policy or funds', formatNumber(summary.transfers.submitted - summary.transfers.settled - summary.transfers.pending))}
${card('finalized', `${(summary.finalized * 100).toFixed(2)}%`)}
${card('finality p50 / p99', `${formatMs(summary.latencyMs.p50)} / ${formatMs(summary.latencyMs.p99)}`)}
${card('throughput', `${formatNumber(summary.throughputTps)} tps`)}
${card('blocks', formatNumber(summary.blocks))}
${card('correspondent p50', formatMs(summary.baseline.settlementMs.p50))}
${card('faults injected', String(summary.faults))}
${card('evidence recorded', String(summary.evidence))}
</div>
<h2>Invariants ${summary.invariants.ok ? '<span class="verdict ok">all hold</span>' : '<span class="verdict fail">violated</span>'}</h2>
<div class="sub">checked: ${summary.invariants.checked.map(escapeXml).join(', ')}</div>
${violations.length > 0 ? `<table><tr><th>invariant</th><th>at</th><th>node</th><th>height</th><th>what broke</th></tr>${violations.map((v) => `<tr><td>${escapeXml(v.invariant)}</td><td>${formatMs(v.atMs)}</td><td>${escapeXml(v.node ?? '')}</td><td>${v.height ?? ''}</td><td>${escapeXml(v.message)}</td></tr>`).join('')}</table>` : ''}
<h2>Expectations ${summary.expectations.ok ? '<span class="verdict ok">met</span>' : '<span class="verdict fail">not met</span>'}</h2>
${failed.length > 0 ? `<table><tr><th>metric</th><th>expected</th><th>actual</th></tr>${failed.map((f) => `<tr><td>${escapeXml(f.metric)}</td><td>${escapeXml(f.expected)}</td><td class="n">${f.actual ?? 'missing'}</td></tr>`).join('')}</table>` : ''}
<h2>Throughput and finality</h2>
<div class="charts"><div class="chart">${throughput}</div><div class="chart">${latency}</div><div class="chart">${heights}</div></div>
<h2>Rejections</h2>
<div class="chart">${rejections}</div>
<h2>Corridors</h2>
<div class="charts"><div class="chart">${volume}</div><div class="chart">${settlement}</div><div class="chart">${cost}</div></div>
<table><tr><th>corridor</th><th>transfers</th><th>settled</th><th>volume (USD)</th><th>Corridor p50</th><th>correspondent p50</th><th>Corridor cost</th><th>correspondent cost</th></tr>
${corridors.map((c) => `<tr><td>${escapeXml(c.corridor)}</td><td class="n">${c.transfers}</td><td class="n">${c.settled}</td><td class="n">${formatNumber(c.volumeUsd)}</td><td class="n">${formatMs(c.medianMs)}</td><td class="n">${formatMs(c.baselineMedianMs)}</td><td class="n">${c.corridorCostUsd.toFixed(2)}</td><td class="n">${c.baselineCostUsd.toFixed(2)}</td></tr>`).join('')}
</table>
<p class="sub">The correspondent-banking baseline is a model with illustrative parameters (hops, cut-off times, weekends, compliance holds, fees, FX margins): see src/sim/baseline.ts.</p>
</main></body></html>
`
}
