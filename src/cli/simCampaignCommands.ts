/**
 * `corridor sim sweep` and `corridor sim fuzz`: many simulation runs on worker threads. The grid
 * and the fuzzer are pure (src/sim/sweep.ts, src/sim/fuzz.ts); this module reads the arguments,
 * runs the pool, shows progress and writes the files.
 */
import { parseArgs } from 'node:util'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { stringify as toYaml } from 'yaml'
import { loadDataFile } from '../config/files.ts'
import { ConfigError } from '../config/errors.ts'
import { createProgress, type Progress } from './progress.ts'
import { parseScenario } from '../sim/scenario/schema.ts'
import {
  describePoint,
  documentForPoint,
  expandGrid,
  parseSweepArguments,
  pointDirectoryName,
  sweepCsvHeader,
  sweepCsvRow,
  SweepError,
  type SweepAxis,
  type SweepPoint
} from '../sim/sweep.ts'
import { builtInFuzzBase, defaultFuzzPhases, describeFuzzDocument, fuzzScenarioDocument, loadFuzzBase, writeReproduction, type FuzzBase } from '../sim/fuzz.ts'
import { defaultWorkerCount, runTasksInWorkers, type TaskOutcome, type WorkerTask } from '../sim/workerPool.ts'
import { formatMs } from '../sim/report/svg.ts'
import type { RunSummary } from '../sim/report/types.ts'
import { integerOption } from './options.ts'

export const sweepUsage = `usage: corridor sim sweep <scenario> --set key=v1,v2 [--set key2=a,b ...] [--seeds N]
                         [--workers K] [--out DIR]

Runs the scenario once per point of the grid: the cartesian product of the --set values, times
the seeds, on K worker threads (default: the machine's cores, ${defaultWorkerCount()} here).

  --set key=v1,v2   a top-level scenario field or a dotted path into the scenario document, and
                    its values: duration=30s,60s  network.drop=0,1%,5%  network.latency.CN-AE=
                    90ms,200ms  workload.0.rate=10/s,50/s  consensus.timeoutPropose=500ms,1s.
                    Values are written as in a scenario file. banks cannot be swept (population,
                    workload and faults name banks by id): write one scenario file per bank set.
  --set seed=1,2,3  the seeds to run (or --seeds N: N seeds from the scenario's own)
  --seeds N         N consecutive seeds per point, from the scenario's seed (default 1 seed)
  --workers K       worker threads (default ${defaultWorkerCount()})
  --out DIR         output directory (default out/sweep-<scenario name>)

Writes DIR/sweep.csv (one row per run: the swept values, seed, ok, traceHash, submitted, settled,
finalized fraction, latency p50/p90/p99/max, throughput, blocks, faults, evidence, violations,
wall time) and DIR/runs/<run>/summary.json, then prints a table per grid point.

Exit status: 0 when every run kept every invariant, even if some missed the scenario's
expectations (a sweep is there to find where they stop being met: see the expectationsOk column);
1 when a run broke an invariant or failed; 2 for bad arguments or a scenario that does not
validate with the swept values (nothing runs then).
`

export const fuzzUsage = `usage: corridor sim fuzz [--seeds N] [--seed-start S] [--scenario FILE] [--workers K] [--out DIR]

VOPR-style fuzzing: each seed draws its own world and faults from its PRNG (4 to 7 banks, latency,
jitter, message loss and duplication, crashes with storage faults, pauses, partitions, link delays
and drops, up to f Byzantine validators with random behaviours), runs a safety phase with faults
(${defaultFuzzPhases.safetyMs / 1000}s simulated), then a liveness phase with every fault healed and crashed nodes restarted
(${defaultFuzzPhases.livenessMs / 1000}s, lighter workload, then ${defaultFuzzPhases.drainMs / 1000}s of drain), in which every honest node must converge
and every transfer submitted after the heal must become final.

  --seeds N          seeds to run (default 20)
  --seed-start S     first seed (default 1); seeds S, S+1, ... S+N-1
  --scenario FILE    build on this scenario's banks, customers, workload and policies instead of
                     the built-in base (all its banks are kept)
  --workers K        worker threads (default ${defaultWorkerCount()})
  --out DIR          where reproduction files go (default out/fuzz)

A seed that breaks an invariant (or makes the simulator throw) is reported with what broke and
written to DIR/fuzz-<seed>.yaml, a scenario that 'corridor sim run' replays bit for bit.
Exit status: 0 when every seed passes, 1 when any fails, 2 for bad arguments.
`

function fail(command: string, message: string, usage: string): number {
  process.stderr.write(`corridor sim ${command}: ${message}\n\n${usage}`)
  return 2
}

type OptionSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>
type Parsed = { values: Record<string, string | string[] | boolean | undefined>; positionals: string[] }

/** parseArgs with the campaign commands' conventions: bad flags exit 2 with the usage, --help prints it. */
function parseCampaignArgs(command: string, usage: string, args: string[], options: OptionSpec, allowPositionals: boolean): Parsed | number {
  let parsed: Parsed
  try {
    parsed = parseArgs({ args, allowPositionals, options: { ...options, help: { type: 'boolean', short: 'h' } } }) as Parsed
  } catch (error) {
    return fail(command, (error as Error).message, usage)
  }
  if (parsed.values['help'] === true) {
    process.stdout.write(usage)
    return 0
  }
  return parsed
}

/** Runs `attempt`; a configuration or sweep error becomes exit status 2 with its message. */
function orConfigExit<T>(command: string, attempt: () => T): T | number {
  try {
    return attempt()
  } catch (error) {
    if (error instanceof SweepError || error instanceof ConfigError) {
      process.stderr.write(`corridor sim ${command}: ${error.message}\n`)
      return 2
    }
    throw error
  }
}

/** Runs the tasks on the worker pool under a progress bar over runs. */
async function runCampaign(label: string, unit: string, tasks: WorkerTask[], workers: number): Promise<{ outcomes: TaskOutcome[]; wallMs: number }> {
  const progress = new RunProgress(label, tasks.length, unit)
  const started = performance.now()
  const outcomes = await runTasksInWorkers(tasks, {
    workers,
    onProgress: (id, fraction) => progress.update(id, fraction),
    onOutcome: (id, outcome) => progress.finished(id, !(summaryOf(outcome)?.invariants.ok ?? false))
  })
  progress.finish()
  return { outcomes, wallMs: performance.now() - started }
}

/** A progress bar over runs, with the fraction of the runs in flight counted in. */
class RunProgress {
  private readonly progress: Progress
  private readonly partial = new Map<number, number>()
  private done = 0
  private failed = 0

  constructor(label: string, total: number, unit: string) {
    this.progress = createProgress({ label, total, unit })
  }

  update(id: number, fraction: number): void {
    this.partial.set(id, fraction)
    this.draw()
  }

  finished(id: number, failed: boolean): void {
    this.partial.delete(id)
    this.done++
    if (failed) this.failed++
    this.draw()
  }

  private draw(): void {
    this.progress.update(this.done, `${this.partial.size} running${this.failed > 0 ? ` · ${this.failed} failed` : ''}`)
  }

  finish(): void {
    this.progress.finish(`${this.failed} failed`)
  }
}

function summaryOf(outcome: TaskOutcome): RunSummary | undefined {
  return 'summary' in outcome ? outcome.summary : undefined
}

/** The document with policy paths made absolute, so it can be run from anywhere. */
function withAbsolutePolicies(document: Record<string, unknown>, scenarioPath: string): Record<string, unknown> {
  const absolute = (reference: unknown): unknown => (typeof reference === 'string' && !isAbsolute(reference) ? resolve(dirname(scenarioPath), reference) : reference)
  const policies = document['policies']
  if (policies === undefined) return document
  return { ...document, policies: Array.isArray(policies) ? policies.map(absolute) : absolute(policies) }
}

export async function sweepCommand(args: string[]): Promise<number> {
  const parsed = parseCampaignArgs('sweep', sweepUsage, args, { set: { type: 'string', multiple: true }, seeds: { type: 'string' }, workers: { type: 'string' }, out: { type: 'string' } }, true)
  if (typeof parsed === 'number') return parsed
  const values = parsed.values as { set?: string[]; seeds?: string; workers?: string; out?: string }
  const { positionals } = parsed
  if (positionals.length !== 1) return fail('sweep', positionals.length === 0 ? 'name the scenario to sweep' : `one scenario at a time, got ${positionals.length}`, sweepUsage)
  const path = positionals[0]!
  const seedsCount = integerOption(values.seeds, 'seeds', 1, 10_000)
  const workers = integerOption(values.workers, 'workers', 1, 256)
  if (typeof seedsCount === 'string') return fail('sweep', seedsCount, sweepUsage)
  if (typeof workers === 'string') return fail('sweep', workers, sweepUsage)

  const documents = new Map<number, Record<string, unknown>>()
  const grid = orConfigExit('sweep', () => {
    const raw = loadDataFile(path)
    const rawSeed = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>)['seed'] : undefined
    const { axes, seeds } = parseSweepArguments(values.set ?? [], seedsCount, typeof rawSeed === 'number' && Number.isSafeInteger(rawSeed) ? rawSeed : 1)
    const points = expandGrid(axes, seeds)
    // Validate every combination before anything runs, so a bad value stops the sweep at once with
    // the schema's own message (the label names the values).
    const validated = new Set<string>()
    for (const point of points) {
      const document = documentForPoint(raw, axes, point)
      documents.set(point.index, document)
      const combination = JSON.stringify(point.values)
      if (validated.has(combination)) continue
      validated.add(combination)
      parseScenario(document, `${path} with ${describePoint(axes, point)}`)
    }
    return { axes, points, name: String((raw as Record<string, unknown>)['name']) }
  })
  if (typeof grid === 'number') return grid
  const { axes, points, name } = grid

  const out = values.out ?? join('out', `sweep-${name}`)
  mkdirSync(join(out, 'runs'), { recursive: true })
  const width = String(points.length - 1).length
  const directories = points.map((point) => join(out, 'runs', pointDirectoryName(axes, point, width)))
  const tasks: WorkerTask[] = points.map((point, index) => ({
    id: point.index,
    document: documents.get(point.index),
    source: path,
    label: `${path} with ${describePoint(axes, point)}`,
    summaryPath: join(directories[index]!, 'summary.json')
  }))
  const workerCount = Math.min(workers ?? defaultWorkerCount(), points.length)
  process.stdout.write(`sweep: ${points.length} run${points.length === 1 ? '' : 's'} of ${path} (${axes.map((axis) => `${axis.key}: ${axis.values.length}`).concat(`seeds: ${new Set(points.map((p) => p.seed)).size}`).join(', ')}) on ${workerCount} worker thread${workerCount === 1 ? '' : 's'}\n`)
  const { outcomes, wallMs } = await runCampaign('sweeping', 'runs', tasks, workerCount)

  const csvPath = join(out, 'sweep.csv')
  const rows = points.map((point, index) => {
    const outcome = outcomes[index]!
    return sweepCsvRow(axes, point, 'summary' in outcome ? { summary: outcome.summary } : { error: outcome.error })
  })
  writeFileSync(csvPath, [sweepCsvHeader(axes), ...rows].join('\n') + '\n')

  printSweepTable(axes, points, outcomes, (line) => process.stdout.write(line + '\n'))
  const broken = points.filter((_, index) => !(summaryOf(outcomes[index]!)?.invariants.ok ?? false))
  const missed = points.filter((_, index) => summaryOf(outcomes[index]!)?.expectations.ok === false).length
  process.stdout.write(`\n${points.length} runs in ${formatMs(wallMs)}: ${points.length - broken.length} kept every invariant, ${broken.length} did not; ${missed} missed the scenario's expectations\n`)
  process.stdout.write(`  data: ${resolve(csvPath)}, and ${join(out, 'runs')}/<run>/summary.json\n`)
  for (const point of broken.slice(0, 10)) {
    const index = points.indexOf(point)
    const outcome = outcomes[index]!
    const scenarioPath = join(directories[index]!, 'scenario.yaml')
    writeFileSync(scenarioPath, toYaml(withAbsolutePolicies(documents.get(point.index)!, path), { lineWidth: 0 }))
    const what =
      'summary' in outcome
        ? outcome.summary.invariants.violations
            .slice(0, 2)
            .map((violation) => `${violation.invariant} at ${formatMs(violation.atMs)}: ${violation.message}`)
            .join('; ')
        : `the run threw: ${outcome.error.split('\n')[0]}`
    process.stdout.write(`  FAILED ${describePoint(axes, point)}: ${what}\n    replay: corridor sim run ${scenarioPath}\n`)
  }
  return broken.length > 0 ? 1 : 0
}

/** One row per grid point (seeds folded together): runs, verdicts and mean figures. */
export function printSweepTable(axes: readonly SweepAxis[], points: readonly SweepPoint[], outcomes: readonly TaskOutcome[], write: (line: string) => void): void {
  const groups = new Map<string, { point: SweepPoint; summaries: RunSummary[]; errors: number }>()
  points.forEach((point, index) => {
    const key = JSON.stringify(point.values)
    let group = groups.get(key)
    if (group === undefined) groups.set(key, (group = { point, summaries: [], errors: 0 }))
    const summary = summaryOf(outcomes[index]!)
    if (summary === undefined) group.errors++
    else group.summaries.push(summary)
  })
  const mean = (values: number[]): number => (values.length === 0 ? NaN : values.reduce((sum, value) => sum + value, 0) / values.length)
  const header = [...axes.map((axis) => axis.key), 'runs', 'invariants', 'expectations', 'final', 'p50', 'p99', 'tps']
  const table = [...groups.values()].map(({ point, summaries, errors }) => {
    const broken = summaries.filter((summary) => !summary.invariants.ok).length + errors
    const missed = summaries.filter((summary) => !summary.expectations.ok).length
    const runs = summaries.length + errors
    return [
      ...point.values.map(String),
      String(runs),
      broken === 0 ? 'ok' : `${broken} broken`,
      missed === 0 ? 'met' : `${missed} missed`,
      summaries.length === 0 ? '-' : `${(mean(summaries.map((s) => s.finalized)) * 100).toFixed(1)}%`,
      summaries.length === 0 ? '-' : formatMs(mean(summaries.map((s) => s.latencyMs.p50))),
      summaries.length === 0 ? '-' : formatMs(mean(summaries.map((s) => s.latencyMs.p99))),
      summaries.length === 0 ? '-' : mean(summaries.map((s) => s.throughputTps)).toFixed(1)
    ]
  })
  const shown = table.slice(0, 40)
  const widths = header.map((title, column) => Math.max(title.length, ...shown.map((row) => row[column]!.length)))
  const line = (cells: readonly string[]): string => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()
  write('')
  write(line(header))
  for (const row of shown) write(line(row))
  if (table.length > shown.length) write(`... ${table.length - shown.length} more points in sweep.csv`)
}

export async function fuzzCommand(args: string[]): Promise<number> {
  const parsed = parseCampaignArgs('fuzz', fuzzUsage, args, { seeds: { type: 'string' }, 'seed-start': { type: 'string' }, scenario: { type: 'string' }, workers: { type: 'string' }, out: { type: 'string' } }, false)
  if (typeof parsed === 'number') return parsed
  const values = parsed.values as { seeds?: string; 'seed-start'?: string; scenario?: string; workers?: string; out?: string }
  const seeds = integerOption(values.seeds, 'seeds', 1, 1_000_000)
  const seedStart = integerOption(values['seed-start'], 'seed-start', 0, 2 ** 32 - 1)
  const workers = integerOption(values.workers, 'workers', 1, 256)
  for (const problem of [seeds, seedStart, workers]) if (typeof problem === 'string') return fail('fuzz', problem, fuzzUsage)
  const count = (seeds as number | undefined) ?? 20
  const first = (seedStart as number | undefined) ?? 1
  if (first + count - 1 > 2 ** 32 - 1) return fail('fuzz', `seeds ${first} to ${first + count - 1} go past 4294967295`, fuzzUsage)
  const base = orConfigExit('fuzz', (): FuzzBase => (values.scenario === undefined ? builtInFuzzBase() : loadFuzzBase(values.scenario)))
  if (typeof base === 'number') return base
  const out = values.out ?? join('out', 'fuzz')
  // Policies are inlined and there are no other file references, so the source path only names things.
  const source = values.scenario ?? join(out, 'fuzz.yaml')
  const seedList = Array.from({ length: count }, (_, index) => first + index)
  const documents = seedList.map((seed) => fuzzScenarioDocument(seed, base))
  // A document the schema refuses is a bug in the fuzzer or a base it cannot use: say so before running.
  const checked = orConfigExit('fuzz', () => (values.scenario === undefined ? undefined : parseScenario(documents[0], `${values.scenario} as a fuzz base (seed ${first})`)))
  if (typeof checked === 'number') return checked
  const workerCount = Math.min((workers as number | undefined) ?? defaultWorkerCount(), count)
  const phases = defaultFuzzPhases
  process.stdout.write(
    `fuzz: seeds ${first}-${first + count - 1} on ${workerCount} worker thread${workerCount === 1 ? '' : 's'}, ${base.source === 'built-in' ? 'built-in base (4-7 banks)' : `base ${base.source}`}: ` +
      `${phases.safetyMs / 1000}s with faults, ${phases.livenessMs / 1000}s healed, ${phases.drainMs / 1000}s drain per seed\n`
  )
  const tasks: WorkerTask[] = documents.map((document, index) => ({ id: index, document, source, label: `fuzz seed ${seedList[index]}` }))
  const { outcomes, wallMs } = await runCampaign('fuzzing', 'seeds', tasks, workerCount)
  let failed = 0
  let faults = 0
  let evidence = 0
  let transfers = 0
  outcomes.forEach((outcome, index) => {
    const summary = summaryOf(outcome)
    if (summary !== undefined) {
      faults += summary.faults
      evidence += summary.evidence
      transfers += summary.transfers.submitted
    }
    if (summary?.invariants.ok === true) return
    failed++
    const document = documents[index]!
    const path = writeReproduction(out, document, summary !== undefined ? { summary } : { error: (outcome as { error: string }).error })
    process.stdout.write(`seed ${seedList[index]} FAILED: ${describeFuzzDocument(document)}\n`)
    if (summary !== undefined) {
      for (const violation of summary.invariants.violations.slice(0, 5)) {
        process.stdout.write(`  ${violation.invariant} at ${formatMs(violation.atMs)}${violation.node ? ` on ${violation.node}` : ''}${violation.height !== undefined ? ` height ${violation.height}` : ''}: ${violation.message}\n`)
      }
    } else {
      const error = outcome as { error: string; stack: string }
      process.stdout.write(`  the run threw: ${error.error}\n${error.stack.split('\n').slice(1, 6).map((line) => `  ${line.trim()}\n`).join('')}`)
    }
    process.stdout.write(`  scenario: ${resolve(path)}\n  replay:   corridor sim run ${path}\n`)
  })
  process.stdout.write(
    `fuzz: ${count} seed${count === 1 ? '' : 's'}, ${count - failed} passed, ${failed} failed · ${faults} fault events · ${evidence} evidence records · ${transfers} transfers · ${formatMs(wallMs)}\n`
  )
  return failed > 0 ? 1 : 0
}
