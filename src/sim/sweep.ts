/**
 * Parameter sweeps: `corridor sim sweep <scenario> --set key=v1,v2 ...` runs the cartesian product
 * of the `--set` values times the seeds. This module is the pure part: reading `--set` arguments,
 * expanding the grid, applying a dotted override to the raw scenario document (before validation,
 * so a bad value is reported by the scenario schema with the path it was set at), and the CSV row
 * of a finished run. The worker threads and the command live in sweepWorker.ts, workerPool.ts and
 * src/cli/simCommands.ts.
 */
import { CorridorError } from '../protocol/errors.ts'
import { csvField } from './output.ts'
import type { RunSummary } from './report/types.ts'

export type SweepErrorCode = 'BAD_SET' | 'BAD_KEY' | 'BAD_SEEDS'

/** A sweep that cannot run as written: the message names the argument and what was expected. */
export class SweepError extends CorridorError<SweepErrorCode> {
  constructor(code: SweepErrorCode, message: string) {
    super(code, message)
    this.name = 'SweepError'
  }
}

/** A scalar as written after `=`: numbers and booleans become themselves, anything else a string ("1%", "30s", "50/s"). */
export type SweepValue = string | number | boolean

/** One swept parameter: `network.drop=0,1%,5%`. */
export interface SweepAxis {
  /** The key as written, also the CSV column. */
  readonly key: string
  /** The key split into object keys and array indexes: ["workload", 0, "rate"]. */
  readonly path: readonly (string | number)[]
  readonly values: readonly SweepValue[]
}

/** One run of the grid. */
export interface SweepPoint {
  /** Position in the grid, from 0; runs are numbered in this order in sweep.csv. */
  readonly index: number
  /** The value of each axis, in axis order. */
  readonly values: readonly SweepValue[]
  readonly seed: number
}

/** Runs in one sweep at most: a grid that explodes is a typo more often than a plan. */
export const sweepRunsMax = 10_000
/** Values per axis at most. */
export const sweepValuesMax = 1_000

/** Field names, map keys such as the latency pair CN-AE, and list indexes, joined by dots. */
const keyPattern = /^[A-Za-z][A-Za-z0-9_]*(\.([A-Za-z_][A-Za-z0-9_-]*|\d+))*$/

/** Why a top-level field cannot be swept, for the fields that cannot. */
const unsweepable: Readonly<Record<string, string>> = {
  banks:
    'banks cannot be swept: population, workload and faults name banks by id and jurisdiction, so another set of banks is another scenario; write one scenario file per set of banks and sweep each',
  name: 'name cannot be swept: it names the scenario and derives its keys; write another scenario file instead'
}

/** Reads one scalar value. */
export function parseSweepValue(text: string): SweepValue {
  const trimmed = text.trim()
  if (/^-?\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed)
  if (trimmed === 'true') return true
  if (trimmed === 'false') return false
  return trimmed
}

/** Parses `key=v1,v2,...` into an axis. Throws SweepError naming the argument. */
export function parseSetArgument(argument: string): SweepAxis {
  const equals = argument.indexOf('=')
  if (equals <= 0) throw new SweepError('BAD_SET', `--set ${argument}: expected key=value[,value...], such as network.drop=0,1%,5%`)
  const key = argument.slice(0, equals).trim()
  const list = argument.slice(equals + 1)
  if (!keyPattern.test(key)) {
    throw new SweepError('BAD_KEY', `--set ${argument}: "${key}" is not a key; expected a scenario field or a dotted path into it, such as duration, network.drop or workload.0.rate`)
  }
  const path = key.split('.').map((part) => (/^\d+$/.test(part) ? Number(part) : part))
  const top = path[0] as string
  if (unsweepable[top] !== undefined) throw new SweepError('BAD_KEY', `--set ${argument}: ${unsweepable[top]}`)
  const texts = list.split(',')
  if (texts.some((text) => text.trim() === '')) throw new SweepError('BAD_SET', `--set ${argument}: a value is empty; expected key=value[,value...] without empty values`)
  if (texts.length > sweepValuesMax) throw new SweepError('BAD_SET', `--set ${key}: ${texts.length} values, at most ${sweepValuesMax}`)
  const values = texts.map(parseSweepValue)
  if (new Set(values.map((value) => `${typeof value}:${String(value)}`)).size !== values.length) {
    throw new SweepError('BAD_SET', `--set ${argument}: a value is repeated`)
  }
  if (top === 'seed') {
    for (const value of values) {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > 2 ** 32 - 1) {
        throw new SweepError('BAD_SET', `--set ${argument}: seeds are integers from 0 to 4294967295, got ${JSON.stringify(value)}`)
      }
    }
    if (path.length > 1) throw new SweepError('BAD_KEY', `--set ${argument}: seed is a number, it has no fields`)
  }
  return { key, path, values }
}

/**
 * Parses every `--set` and decides the seeds. Seeds come from `--set seed=...` or from `--seeds N`
 * (N consecutive seeds from the scenario's own), not both; a key may be set once.
 */
export function parseSweepArguments(sets: readonly string[], seedsCount: number | undefined, baseSeed: number): { axes: SweepAxis[]; seeds: number[] } {
  const parsed = sets.map(parseSetArgument)
  const keys = new Set<string>()
  for (const axis of parsed) {
    if (keys.has(axis.key)) throw new SweepError('BAD_SET', `--set ${axis.key} is given twice; list all its values in one --set`)
    keys.add(axis.key)
  }
  for (const axis of parsed) {
    for (const other of parsed) {
      if (axis !== other && other.key.startsWith(`${axis.key}.`)) throw new SweepError('BAD_SET', `--set ${axis.key} and --set ${other.key} overlap: one replaces the other`)
    }
  }
  const seedAxis = parsed.find((axis) => axis.key === 'seed')
  if (seedAxis !== undefined && seedsCount !== undefined) throw new SweepError('BAD_SEEDS', '--seeds N and --set seed=... both choose the seeds; use one')
  if (seedsCount !== undefined && (!Number.isSafeInteger(seedsCount) || seedsCount < 1 || seedsCount > sweepRunsMax)) {
    throw new SweepError('BAD_SEEDS', `--seeds must be an integer from 1 to ${sweepRunsMax}, got ${seedsCount}`)
  }
  const seeds = seedAxis !== undefined ? (seedAxis.values as number[]) : Array.from({ length: seedsCount ?? 1 }, (_, i) => (baseSeed + i) % 2 ** 32)
  const axes = parsed.filter((axis) => axis !== seedAxis)
  const runs = axes.reduce((product, axis) => product * axis.values.length, seeds.length)
  if (runs > sweepRunsMax) throw new SweepError('BAD_SET', `the grid has ${runs} runs, more than ${sweepRunsMax}; sweep fewer values or seeds`)
  return { axes, seeds }
}

/** The cartesian product of the axes' values times the seeds; the last axis varies fastest, seeds fastest of all. */
export function expandGrid(axes: readonly SweepAxis[], seeds: readonly number[]): SweepPoint[] {
  let combinations: SweepValue[][] = [[]]
  for (const axis of axes) combinations = combinations.flatMap((prefix) => axis.values.map((value) => [...prefix, value]))
  const points: SweepPoint[] = []
  for (const values of combinations) for (const seed of seeds) points.push({ index: points.length, values, seed })
  return points
}

function describeContainer(value: unknown): string {
  if (Array.isArray(value)) return `a list of ${value.length}`
  if (value === null) return 'null'
  return typeof value === 'object' ? 'a map' : `${typeof value} ${JSON.stringify(value)}`
}

/**
 * Returns a copy of `document` with the value at `path` replaced, copying only the containers on
 * the path. Missing map keys are created (a field left to its default, such as network.drop);
 * list indexes must exist; a path through a scalar is an error naming the key.
 */
export function applyOverride(document: unknown, path: readonly (string | number)[], value: unknown, key = path.join('.')): Record<string, unknown> {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw new SweepError('BAD_KEY', `--set ${key}: the scenario is not a map of fields`)
  const replace = (container: unknown, depth: number): unknown => {
    const part = path[depth]!
    const here = path.slice(0, depth).join('.') || 'the scenario'
    const last = depth === path.length - 1
    if (typeof part === 'number') {
      if (!Array.isArray(container)) throw new SweepError('BAD_KEY', `--set ${key}: ${here} is ${describeContainer(container)}, not a list, so it has no entry ${part}`)
      if (part >= container.length) throw new SweepError('BAD_KEY', `--set ${key}: ${here} has ${container.length} entr${container.length === 1 ? 'y' : 'ies'}, so there is no ${here}.${part}`)
      const copy = [...container]
      copy[part] = last ? value : replace(container[part], depth + 1)
      return copy
    }
    if (container === undefined && depth > 0) container = {}
    if (typeof container !== 'object' || container === null || Array.isArray(container)) {
      throw new SweepError('BAD_KEY', `--set ${key}: ${here} is ${describeContainer(container)}, not a map, so it has no field ${part}`)
    }
    const record = container as Record<string, unknown>
    return { ...record, [part]: last ? value : replace(record[part], depth + 1) }
  }
  return replace(document, 0) as Record<string, unknown>
}

/** The raw document of one grid point: every axis's override, then the seed. */
export function documentForPoint(document: unknown, axes: readonly SweepAxis[], point: SweepPoint): Record<string, unknown> {
  let result = applyOverride(document, ['seed'], point.seed, 'seed')
  axes.forEach((axis, index) => {
    result = applyOverride(result, axis.path, point.values[index], axis.key)
  })
  return result
}

/** How a grid point reads in messages and file names: "network.drop=1% seed=3". */
export function describePoint(axes: readonly SweepAxis[], point: SweepPoint): string {
  return [...axes.map((axis, index) => `${axis.key}=${String(point.values[index])}`), `seed=${point.seed}`].join(' ')
}

/** A directory name for a run's outputs: "003-network.drop=1%-seed=3", safe on every file system. */
export function pointDirectoryName(axes: readonly SweepAxis[], point: SweepPoint, width: number): string {
  const label = describePoint(axes, point).replace(/ /g, '-').replace(/[^A-Za-z0-9._=%-]/g, '_')
  return `${String(point.index).padStart(width, '0')}-${label}`.slice(0, 120)
}

/** The columns of sweep.csv after the swept keys. */
export const sweepColumns = [
  'seed',
  'ok',
  'invariantsOk',
  'expectationsOk',
  'traceHash',
  'submitted',
  'settled',
  'finalized',
  'latencyP50Ms',
  'latencyP90Ms',
  'latencyP99Ms',
  'latencyMaxMs',
  'throughputTps',
  'blocks',
  'faults',
  'evidence',
  'violations',
  'expectationsFailed',
  'wallMs',
  'error'
] as const

export function sweepCsvHeader(axes: readonly SweepAxis[]): string {
  return [...axes.map((axis) => axis.key), ...sweepColumns].map(csvField).join(',')
}

/** One run's row of sweep.csv: a summary, or the error that stopped the run. */
export function sweepCsvRow(axes: readonly SweepAxis[], point: SweepPoint, outcome: { summary: RunSummary } | { error: string }): string {
  const round = (value: number, digits: number): number => Math.round(value * 10 ** digits) / 10 ** digits
  const row: Partial<Record<(typeof sweepColumns)[number], unknown>> =
    'summary' in outcome
      ? {
          seed: point.seed,
          ok: outcome.summary.ok,
          invariantsOk: outcome.summary.invariants.ok,
          expectationsOk: outcome.summary.expectations.ok,
          traceHash: outcome.summary.traceHash,
          submitted: outcome.summary.transfers.submitted,
          settled: outcome.summary.transfers.settled,
          finalized: round(outcome.summary.finalized, 6),
          latencyP50Ms: round(outcome.summary.latencyMs.p50, 1),
          latencyP90Ms: round(outcome.summary.latencyMs.p90, 1),
          latencyP99Ms: round(outcome.summary.latencyMs.p99, 1),
          latencyMaxMs: round(outcome.summary.latencyMs.max, 1),
          throughputTps: outcome.summary.throughputTps,
          blocks: outcome.summary.blocks,
          faults: outcome.summary.faults,
          evidence: outcome.summary.evidence,
          violations: outcome.summary.invariants.violations.length,
          expectationsFailed: outcome.summary.expectations.failed.length,
          wallMs: outcome.summary.wallMs,
          error: ''
        }
      : { seed: point.seed, ok: false, invariantsOk: false, error: outcome.error }
  return [...point.values, ...sweepColumns.map((column) => row[column])].map(csvField).join(',')
}
