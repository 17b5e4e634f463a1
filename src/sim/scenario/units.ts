/**
 * The units scenario files are written in: durations ("40ms", "1.5s", "10m", "2h"), rates
 * ("50/s", "3000/min", "1000/h"), fractions ("10%" or 0.1) and comparisons ("< 2s", ">= 0.95").
 * Each parser returns undefined on text it cannot read, so the schema can name the field.
 */
const durationUnitsMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 }

/** Parses a duration to milliseconds. A bare number is milliseconds. */
export function parseDurationMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined
  if (typeof value !== 'string') return undefined
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|m|h|d)\s*$/.exec(value)
  if (!match) return undefined
  const ms = Number(match[1]) * durationUnitsMs[match[2]!]!
  return Number.isFinite(ms) ? Math.round(ms) : undefined
}

export function formatDurationMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 2)}s`
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(ms % 60_000 === 0 ? 0 : 2)}m`
  return `${(ms / 3_600_000).toFixed(2)}h`
}

const rateUnitsPerSecond: Record<string, number> = { s: 1, sec: 1, min: 1 / 60, m: 1 / 60, h: 1 / 3600, d: 1 / 86_400 }

/** Parses an arrival rate to events per second. A bare number is per second. */
export function parseRatePerSecond(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined
  if (typeof value !== 'string') return undefined
  const match = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(s|sec|min|m|h|d)\s*$/.exec(value)
  if (!match) return undefined
  return Number(match[1]) * rateUnitsPerSecond[match[2]!]!
}

/** Parses a fraction in [0, 1]: 0.1 or "10%". */
export function parseFraction(value: unknown): number | undefined {
  let fraction: number | undefined
  if (typeof value === 'number') fraction = value
  else if (typeof value === 'string') {
    const match = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(value)
    fraction = match ? Number(match[1]) / 100 : /^\s*\d+(?:\.\d+)?\s*$/.test(value) ? Number(value) : undefined
  }
  return fraction !== undefined && Number.isFinite(fraction) && fraction >= 0 && fraction <= 1 ? fraction : undefined
}

export type ComparisonOperator = '<' | '<=' | '>' | '>=' | '==' | '!='

export interface Comparison {
  readonly operator: ComparisonOperator
  /** The right-hand side; durations are converted to milliseconds, percentages to fractions. */
  readonly value: number
  readonly text: string
}

/** Parses an expectation such as "< 2s", ">= 0.95", "== 0", ">= 90%". A bare value means "==". */
export function parseComparison(value: unknown): Comparison | undefined {
  if (typeof value === 'number') return { operator: '==', value, text: `== ${value}` }
  if (typeof value !== 'string') return undefined
  const match = /^\s*(<=|>=|==|!=|<|>)?\s*(.+?)\s*$/.exec(value)
  if (!match) return undefined
  const operator = (match[1] ?? '==') as ComparisonOperator
  const operand = match[2]!
  let number: number | undefined
  if (/^-?\d+(?:\.\d+)?$/.test(operand)) number = Number(operand)
  else if (/%$/.test(operand)) number = parseFraction(operand)
  else number = parseDurationMs(operand)
  if (number === undefined) return undefined
  return { operator, value: number, text: `${operator} ${operand}` }
}

export function compare(actual: number, comparison: Comparison): boolean {
  switch (comparison.operator) {
    case '<':
      return actual < comparison.value
    case '<=':
      return actual <= comparison.value
    case '>':
      return actual > comparison.value
    case '>=':
      return actual >= comparison.value
    case '==':
      return actual === comparison.value
    case '!=':
      return actual !== comparison.value
  }
}
