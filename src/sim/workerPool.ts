/**
 * Runs simulation tasks on a pool of worker threads (node:worker_threads), one run per worker at a
 * time, for sweeps and fuzz campaigns. Each run is seeded, so where it runs does not change its
 * result. A worker that dies (out of memory, a crash outside the run) fails its task and is
 * replaced; the campaign goes on.
 */
import { Worker } from 'node:worker_threads'
import { availableParallelism } from 'node:os'
import type { RunSummary } from './report/types.ts'

/** One run: a raw scenario document and where it came from. */
export interface WorkerTask {
  readonly id: number
  /** The scenario as parsed from YAML/JSON, overrides applied, not yet validated. */
  readonly document: unknown
  /** The scenario file's path: policy paths resolve relative to it. */
  readonly source: string
  /** How errors name the document: "configs/x.yaml with network.drop=5%". */
  readonly label: string
  /** Where to write the run's summary.json, if anywhere. */
  readonly summaryPath?: string
  /** Where to write every output of the run (summary, transfers, events, report), if anywhere. */
  readonly outputDirectory?: string
}

export type WorkerReply =
  | { readonly kind: 'ready' }
  | { readonly kind: 'progress'; readonly id: number; readonly fraction: number }
  | { readonly kind: 'done'; readonly id: number; readonly summary: RunSummary }
  /** `invalid`: the document failed validation; otherwise the run itself threw (an assertion, a bug). */
  | { readonly kind: 'error'; readonly id: number; readonly message: string; readonly stack: string; readonly invalid: boolean }

export type TaskOutcome = { readonly summary: RunSummary } | { readonly error: string; readonly stack: string; readonly invalid: boolean }

export interface PoolOptions {
  /** Worker threads; the machine's available parallelism by default, never more than the tasks. */
  readonly workers?: number
  /** A run's progress, as the fraction of its simulated time done. */
  readonly onProgress?: (id: number, fraction: number) => void
  /** A run finished (or failed). */
  readonly onOutcome?: (id: number, outcome: TaskOutcome) => void
}

const entryUrl = new URL('./sweepWorkerEntry.js', import.meta.url)

/**
 * The parent's Node.js flags without its module preloads: the entry registers tsx and the polyfill
 * itself, and a preload such as `--import=./src/polyfill.ts` (the test runner's) would be loaded
 * in the worker before any TypeScript loader is in place.
 */
function workerExecArgv(): string[] {
  const preloads = ['--import', '--require', '-r', '--loader', '--experimental-loader']
  const kept: string[] = []
  for (let i = 0; i < process.execArgv.length; i++) {
    const arg = process.execArgv[i]!
    if (preloads.includes(arg)) {
      i++
      continue
    }
    if (preloads.some((flag) => arg.startsWith(`${flag}=`))) continue
    kept.push(arg)
  }
  return kept
}

export function defaultWorkerCount(): number {
  return Math.max(1, availableParallelism())
}

/** Runs every task; resolves with the outcomes in task order. */
export async function runTasksInWorkers(tasks: readonly WorkerTask[], options: PoolOptions = {}): Promise<TaskOutcome[]> {
  const outcomes = new Array<TaskOutcome | undefined>(tasks.length)
  const indexById = new Map(tasks.map((task, index) => [task.id, index]))
  if (tasks.length === 0) return []
  const workerCount = Math.max(1, Math.min(options.workers ?? defaultWorkerCount(), tasks.length))
  let next = 0
  let finished = 0
  return new Promise<TaskOutcome[]>((resolve) => {
    const live = new Set<Worker>()
    const settle = (task: WorkerTask, outcome: TaskOutcome): void => {
      const index = indexById.get(task.id)!
      if (outcomes[index] !== undefined) return
      outcomes[index] = outcome
      finished++
      options.onOutcome?.(task.id, outcome)
      if (finished === tasks.length) {
        for (const worker of live) void worker.terminate()
        live.clear()
        resolve(outcomes as TaskOutcome[])
      }
    }
    const start = (): void => {
      const worker = new Worker(entryUrl, { execArgv: workerExecArgv() })
      live.add(worker)
      let current: WorkerTask | undefined
      let ready = false
      const feed = (): void => {
        if (next >= tasks.length) {
          current = undefined
          live.delete(worker)
          void worker.terminate()
          return
        }
        current = tasks[next++]!
        worker.postMessage(current)
      }
      worker.on('message', (reply: WorkerReply) => {
        switch (reply.kind) {
          case 'ready':
            ready = true
            return feed()
          case 'progress':
            return options.onProgress?.(reply.id, reply.fraction)
          case 'done':
            settle(current!, { summary: reply.summary })
            return feed()
          case 'error':
            settle(current!, { error: reply.message, stack: reply.stack, invalid: reply.invalid })
            return feed()
        }
      })
      const died = (reason: string): void => {
        if (!live.has(worker)) return
        live.delete(worker)
        if (current !== undefined) {
          settle(current, { error: `the worker thread died: ${reason}`, stack: '', invalid: false })
          current = undefined
        }
        if (!ready) {
          // The worker could not even load: another would fail the same way, so fail what is left.
          while (next < tasks.length) settle(tasks[next++]!, { error: `a worker thread failed to start: ${reason}`, stack: '', invalid: false })
          return
        }
        if (finished < tasks.length && next < tasks.length) start()
      }
      worker.on('error', (error) => died(error instanceof Error ? error.message : String(error)))
      worker.on('exit', (code) => died(`exit code ${code}`))
    }
    for (let i = 0; i < workerCount; i++) start()
  })
}
