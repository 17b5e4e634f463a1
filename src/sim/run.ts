/**
 * One simulation run from a scenario file to its outputs: load, simulate, summarize, write.
 */
import { join } from 'node:path'
import { mkdirSync } from 'node:fs'
import { loadScenarioFile, type LoadedScenario } from './scenario/load.ts'
import { Simulation } from './simulation.ts'
import { summarize, type RunProducts } from './summary.ts'
import { EventLog, writeRunOutputs, type WrittenOutputs } from './output.ts'

export interface RunOptions {
  /** Overrides the scenario's seed. */
  readonly seed?: number
  /** Output directory; nothing is written when undefined. */
  readonly out?: string
  /** Other top-level overrides, e.g. from a sweep: { duration: '30s' }. */
  readonly overrides?: Record<string, unknown>
  readonly onProgress?: (simulatedMs: number, totalMs: number, status: string) => void
}

export interface RunResult extends RunProducts {
  readonly loaded: LoadedScenario
  readonly outputs: (WrittenOutputs & { readonly events: string }) | undefined
}

export async function runScenarioFile(path: string, options: RunOptions = {}): Promise<RunResult> {
  const overrides = { ...options.overrides, ...(options.seed === undefined ? {} : { seed: options.seed }) }
  const loaded = loadScenarioFile(path, overrides)
  return runLoadedScenario(loaded, options)
}

export async function runLoadedScenario(loaded: LoadedScenario, options: RunOptions = {}): Promise<RunResult> {
  let events: EventLog | undefined
  let eventsPath: string | undefined
  if (options.out !== undefined) {
    mkdirSync(options.out, { recursive: true })
    eventsPath = join(options.out, 'events.jsonl')
    events = new EventLog(eventsPath)
  }
  const started = performance.now()
  const simulation = new Simulation({
    scenario: loaded.scenario,
    policies: loaded.policies,
    policyDocuments: loaded.policyDocuments,
    ...(events === undefined ? {} : { events }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress })
  })
  const result = simulation.run()
  const wallMs = performance.now() - started
  const products = summarize({
    scenario: loaded.scenario,
    backend: 'sim',
    traceHash: result.traceHash,
    simulatedMs: result.simulatedMs,
    wallMs,
    startMs: result.world.startMs,
    tracked: result.tracked.values(),
    fx: result.fx,
    spreadBasisPoints: result.world.document.fxProviders[0]?.spreadBasisPoints ?? 0,
    blocks: result.blocks,
    height: result.height,
    heightSeries: result.heightSeries,
    faultMarks: result.faultMarks,
    faults: result.faults,
    evidence: result.evidence,
    violations: result.violations,
    invariantsChecked: result.invariantsChecked
  })
  await events?.close()
  const written = options.out === undefined ? undefined : { ...writeRunOutputs(options.out, products.report, products.transfers), events: eventsPath! }
  return { ...products, loaded, outputs: written }
}
