/**
 * Runs one benchmark simulation in a worker thread (see simRun.ts): builds the scale scenario,
 * runs the simulator on it and reports wall and CPU time, events processed and what became of the
 * transfers. It calls the Simulation directly: the summary, transfers.csv and the report, which
 * `corridor sim run` builds afterwards, are not part of simulating.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { getHeapStatistics } from 'node:v8'
import { Simulation } from '../src/sim/simulation.ts'
import { scaleScenario, type ScaleScenarioOptions } from './simScenario.ts'

export interface SimBenchResult {
  readonly options: ScaleScenarioOptions
  readonly setupMs: number
  readonly wallMs: number
  readonly cpuMs: number
  readonly simulatedMs: number
  readonly events: number
  /** Gossip batches that reached a node's view without being events (mempool: shared). */
  readonly sharedArrivals: number
  readonly submitted: number
  readonly final: number
  readonly settled: number
  readonly pending: number
  readonly blocks: number
  readonly latencyP50Ms: number
  readonly latencyP99Ms: number
  readonly peakHeapMiB: number
  readonly violations: number
}

export type SimBenchMessage = { readonly kind: 'progress'; readonly fraction: number; readonly status: string } | { readonly kind: 'done'; readonly result: SimBenchResult }

function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!
}

function run(options: ScaleScenarioOptions, post: (message: SimBenchMessage) => void): void {
  const setupStarted = performance.now()
  const loaded = scaleScenario(options)
  const simulation = new Simulation({
    scenario: loaded.scenario,
    policies: loaded.policies,
    policyDocuments: loaded.policyDocuments,
    onProgress: (simulatedMs, totalMs, status) => {
      peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size)
      post({ kind: 'progress', fraction: simulatedMs / totalMs, status })
    }
  })
  let peakHeap = 0
  const started = performance.now()
  const cpuStarted = process.cpuUsage()
  const result = simulation.run()
  const cpu = process.cpuUsage(cpuStarted)
  const wallMs = performance.now() - started
  let settled = 0
  let pending = 0
  let final = 0
  const latencies = new Float64Array(result.tracked.size)
  for (const transfer of result.tracked.values()) {
    if (transfer.finalMs === undefined) pending++
    else latencies[final++] = transfer.finalMs - transfer.submitMs
    if (transfer.status === 'settled') settled++
  }
  const sorted = latencies.subarray(0, final).sort()
  post({
    kind: 'done',
    result: {
      options,
      setupMs: started - setupStarted,
      wallMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      simulatedMs: result.simulatedMs,
      events: result.eventsProcessed,
      sharedArrivals: result.sharedArrivals,
      submitted: result.submitted,
      final,
      settled,
      pending,
      blocks: result.blocks,
      latencyP50Ms: percentile(sorted, 0.5),
      latencyP99Ms: percentile(sorted, 0.99),
      peakHeapMiB: Math.round(Math.max(peakHeap, getHeapStatistics().used_heap_size) / 2 ** 20),
      violations: result.violations.length
    }
  })
}

if (parentPort !== null) {
  const port = parentPort
  run(workerData as ScaleScenarioOptions, (message) => port.postMessage(message))
}
