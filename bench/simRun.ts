/**
 * Runs a benchmark simulation in its own worker thread: a fresh heap per run (one run's garbage
 * does not slow the next), and a young generation large enough for the simulator's allocation
 * rate (V8's default, 16 MiB semi-spaces, spends a quarter of a 16-bank run collecting).
 */
import { Worker } from 'node:worker_threads'
import type { ScaleScenarioOptions } from './simScenario.ts'
import type { SimBenchMessage, SimBenchResult } from './simWorker.ts'

/**
 * Young generation of the benchmark worker, MiB (three semi-spaces of 128 MiB): against 64 MiB,
 * 300,000 transfers on 16 banks took 3 to 15% less wall time here (two runs each, alternating).
 */
export const youngGenerationMiB = 384
/** Old generation of the benchmark worker, MiB. */
export const oldGenerationMiB = 12_288

export function runSimulationBenchmark(options: ScaleScenarioOptions, onProgress: (fraction: number, status: string) => void): Promise<SimBenchResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./simWorkerEntry.js', import.meta.url), {
      workerData: options,
      execArgv: [],
      resourceLimits: { maxYoungGenerationSizeMb: youngGenerationMiB, maxOldGenerationSizeMb: oldGenerationMiB }
    })
    let result: SimBenchResult | undefined
    worker.on('message', (message: SimBenchMessage) => {
      if (message.kind === 'progress') onProgress(message.fraction, message.status)
      else result = message.result
    })
    worker.on('error', reject)
    worker.on('exit', (code) => (result !== undefined ? resolve(result) : reject(new Error(`benchmark worker exited with code ${code} before finishing`))))
  })
}

export function describeOptions(options: ScaleScenarioOptions): string {
  return `${options.banks} banks, ${options.crypto} crypto, ${options.execution} execution, ${options.mempool ?? 'per-node'} mempool, ${options.ratePerSecond.toLocaleString('en-US')}/s for ${options.durationSeconds} s`
}
