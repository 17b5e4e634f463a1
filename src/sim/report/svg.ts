/**
 * Small, dependency-free SVG charts for the self-contained HTML report: line charts over time,
 * horizontal bar charts and grouped bars. Every chart is a string of SVG with its own axes, ticks
 * and legend, so the report opens offline in any browser.
 */

export interface Series {
  readonly name: string
  readonly points: ReadonlyArray<readonly [number, number]>
  readonly color?: string
}

export interface Bar {
  readonly label: string
  readonly value: number
  /** Text shown at the end of the bar; the value otherwise. */
  readonly note?: string
}

const palette = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563']
const font = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"'

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

/** Round tick steps (1, 2, 5 x 10^k) giving about `count` ticks over [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min]
  const raw = (max - min) / count
  const magnitude = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude
  const ticks: number[] = []
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)))
  return ticks
}

export function formatNumber(value: number): string {
  const abs = Math.abs(value)
  if (abs >= 1e9) return `${(value / 1e9).toFixed(abs >= 1e10 ? 0 : 1)}G`
  if (abs >= 1e6) return `${(value / 1e6).toFixed(abs >= 1e7 ? 0 : 1)}M`
  if (abs >= 1e4) return `${(value / 1e3).toFixed(0)}k`
  if (abs >= 100 || value === Math.round(value)) return value.toFixed(0)
  return value.toPrecision(3)
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 120_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(0)}m`
  if (ms < 172_800_000) return `${(ms / 3_600_000).toFixed(ms < 36_000_000 ? 1 : 0)}h`
  return `${(ms / 86_400_000).toFixed(1)}d`
}

export interface LineChartOptions {
  readonly title: string
  readonly xLabel?: string
  readonly yLabel?: string
  readonly width?: number
  readonly height?: number
  readonly formatX?: (value: number) => string
  readonly formatY?: (value: number) => string
  /** Draw the y axis on a log scale (latencies spanning orders of magnitude). */
  readonly logY?: boolean
}

export function lineChart(series: readonly Series[], options: LineChartOptions): string {
  const width = options.width ?? 720
  const height = options.height ?? 280
  const margin = { top: 42, right: 16, bottom: 44, left: 64 }
  const plotWidth = width - margin.left - margin.right
  const plotHeight = height - margin.top - margin.bottom
  const all = series.flatMap((s) => s.points)
  const formatX = options.formatX ?? formatNumber
  const formatY = options.formatY ?? formatNumber
  const parts: string[] = [svgOpen(width, height), title(options.title, width)]
  if (all.length === 0) {
    parts.push(`<text x="${width / 2}" y="${height / 2}" text-anchor="middle" fill="#6b7280" ${font} font-size="13">no data</text></svg>`)
    return parts.join('')
  }
  const xMin = Math.min(...all.map((p) => p[0]))
  const xMax = Math.max(...all.map((p) => p[0]), xMin + 1)
  const logY = options.logY === true
  const yValues = all.map((p) => p[1]).filter((v) => !logY || v > 0)
  const yMinData = logY ? Math.max(Math.min(...yValues), 1e-9) : 0
  const yMax = Math.max(...yValues, logY ? yMinData * 10 : 1e-9) * (logY ? 1.5 : 1.08)
  const yMin = logY ? yMinData / 1.5 : 0
  const sx = (x: number): number => margin.left + ((x - xMin) / (xMax - xMin)) * plotWidth
  const sy = logY
    ? (y: number): number => margin.top + plotHeight - ((Math.log10(Math.max(y, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * plotHeight
    : (y: number): number => margin.top + plotHeight - ((y - yMin) / (yMax - yMin)) * plotHeight
  const yTicks = logY ? logTicks(yMin, yMax) : niceTicks(yMin, yMax)
  for (const tick of yTicks) {
    const y = sy(tick)
    parts.push(`<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${y}" y2="${y}" stroke="#e5e7eb"/>`)
    parts.push(`<text x="${margin.left - 6}" y="${y + 4}" text-anchor="end" ${font} font-size="11" fill="#374151">${escapeXml(formatY(tick))}</text>`)
  }
  for (const tick of niceTicks(xMin, xMax, 6)) {
    const x = sx(tick)
    parts.push(`<line x1="${x}" x2="${x}" y1="${margin.top + plotHeight}" y2="${margin.top + plotHeight + 4}" stroke="#6b7280"/>`)
    parts.push(`<text x="${x}" y="${margin.top + plotHeight + 16}" text-anchor="middle" ${font} font-size="11" fill="#374151">${escapeXml(formatX(tick))}</text>`)
  }
  parts.push(axes(margin.left, margin.top, plotWidth, plotHeight))
  series.forEach((s, index) => {
    const color = s.color ?? palette[index % palette.length]!
    const path = s.points
      .filter((p) => !logY || p[1] > 0)
      .map((p, i) => `${i === 0 ? 'M' : 'L'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`)
      .join('')
    parts.push(`<path d="${path}" fill="none" stroke="${color}" stroke-width="1.8"/>`)
  })
  parts.push(legend(series.map((s, i) => [s.name, s.color ?? palette[i % palette.length]!]), margin.left, 32))
  if (options.xLabel) parts.push(`<text x="${margin.left + plotWidth / 2}" y="${height - 6}" text-anchor="middle" ${font} font-size="11" fill="#6b7280">${escapeXml(options.xLabel)}</text>`)
  if (options.yLabel) parts.push(`<text transform="translate(14 ${margin.top + plotHeight / 2}) rotate(-90)" text-anchor="middle" ${font} font-size="11" fill="#6b7280">${escapeXml(options.yLabel)}</text>`)
  parts.push('</svg>')
  return parts.join('')
}

export interface BarChartOptions {
  readonly title: string
  readonly width?: number
  readonly formatValue?: (value: number) => string
  readonly color?: string
}

/** Horizontal bars, one per label, sorted as given. */
export function barChart(bars: readonly Bar[], options: BarChartOptions): string {
  const width = options.width ?? 720
  const rowHeight = 24
  const labelWidth = Math.min(260, 12 + Math.max(40, ...bars.map((b) => b.label.length * 7)))
  const height = 44 + Math.max(1, bars.length) * rowHeight + 8
  const plotWidth = width - labelWidth - 200
  const max = Math.max(1e-9, ...bars.map((b) => b.value))
  const format = options.formatValue ?? formatNumber
  const parts: string[] = [svgOpen(width, height), title(options.title, width)]
  if (bars.length === 0) parts.push(`<text x="${width / 2}" y="60" text-anchor="middle" fill="#6b7280" ${font} font-size="13">none</text>`)
  bars.forEach((bar, i) => {
    const y = 40 + i * rowHeight
    const barWidth = Math.max(1, (bar.value / max) * plotWidth)
    parts.push(`<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end" ${font} font-size="12" fill="#111827">${escapeXml(bar.label)}</text>`)
    parts.push(`<rect x="${labelWidth}" y="${y + 3}" width="${barWidth.toFixed(1)}" height="${rowHeight - 8}" fill="${options.color ?? palette[0]}" rx="2"/>`)
    parts.push(`<text x="${labelWidth + barWidth + 6}" y="${y + 15}" ${font} font-size="11" fill="#374151">${escapeXml(bar.note ?? format(bar.value))}</text>`)
  })
  parts.push('</svg>')
  return parts.join('')
}

export interface GroupedBarChartOptions extends BarChartOptions {
  readonly seriesNames: readonly string[]
  readonly logScale?: boolean
}

/** Horizontal grouped bars: for each label, one bar per series (e.g. Corridor vs correspondent banking). */
export function groupedBarChart(groups: ReadonlyArray<{ label: string; values: readonly number[] }>, options: GroupedBarChartOptions): string {
  const width = options.width ?? 720
  const seriesCount = options.seriesNames.length
  const barHeight = 14
  const groupHeight = seriesCount * barHeight + 12
  const labelWidth = Math.min(220, 12 + Math.max(40, ...groups.map((g) => g.label.length * 7)))
  const height = 64 + Math.max(1, groups.length) * groupHeight
  const plotWidth = width - labelWidth - 110
  const format = options.formatValue ?? formatNumber
  const values = groups.flatMap((g) => g.values).filter((v) => v > 0)
  const max = Math.max(1e-9, ...values)
  const min = Math.max(1e-9, Math.min(...values, max))
  const scale = options.logScale
    ? (v: number): number => (v <= 0 ? 1 : Math.max(1, ((Math.log10(v) - Math.log10(min / 2)) / (Math.log10(max) - Math.log10(min / 2))) * plotWidth))
    : (v: number): number => Math.max(1, (v / max) * plotWidth)
  const parts: string[] = [svgOpen(width, height), title(options.title, width)]
  parts.push(legend(options.seriesNames.map((name, i) => [name, palette[i % palette.length]!]), labelWidth, 38))
  groups.forEach((group, gi) => {
    const y0 = 52 + gi * groupHeight
    parts.push(`<text x="${labelWidth - 8}" y="${y0 + (seriesCount * barHeight) / 2 + 4}" text-anchor="end" ${font} font-size="12" fill="#111827">${escapeXml(group.label)}</text>`)
    group.values.forEach((value, si) => {
      const y = y0 + si * barHeight
      const w = scale(value)
      parts.push(`<rect x="${labelWidth}" y="${y}" width="${w.toFixed(1)}" height="${barHeight - 3}" fill="${palette[si % palette.length]}" rx="2"/>`)
      parts.push(`<text x="${labelWidth + w + 6}" y="${y + barHeight - 4}" ${font} font-size="10" fill="#374151">${escapeXml(format(value))}</text>`)
    })
  })
  parts.push('</svg>')
  return parts.join('')
}

function logTicks(min: number, max: number): number[] {
  const ticks: number[] = []
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    const v = 10 ** e
    if (v >= min && v <= max) ticks.push(v)
  }
  return ticks.length > 0 ? ticks : [min, max]
}

function svgOpen(width: number, height: number): string {
  // Scales with its container, keeping its proportions.
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="xMinYMin meet" style="max-width:${width * 1.5}px" role="img">`
}

function title(text: string, width: number): string {
  return `<text x="${width / 2}" y="18" text-anchor="middle" ${font} font-size="14" font-weight="600" fill="#111827">${escapeXml(text)}</text>`
}

function axes(left: number, top: number, width: number, height: number): string {
  return `<path d="M${left},${top}V${top + height}H${left + width}" fill="none" stroke="#6b7280"/>`
}

function legend(entries: ReadonlyArray<readonly [string, string]>, x: number, y: number): string {
  let offset = x
  return entries
    .map(([name, color]) => {
      const item = `<rect x="${offset}" y="${y - 9}" width="10" height="10" fill="${color}"/><text x="${offset + 14}" y="${y}" ${font} font-size="11" fill="#374151">${escapeXml(name)}</text>`
      offset += 24 + name.length * 6.5
      return item
    })
    .join('')
}
