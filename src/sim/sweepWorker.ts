/**
 * A worker thread of a sweep or a fuzz campaign: it receives raw scenario documents, validates and
 * runs each one, and answers with the run's summary (or the error that stopped it). Started through
 * sweepWorkerEntry.js, which registers the TypeScript loader first; driven by workerPool.ts.
 */
import { parentPort } from 'node:worker_threads'
import { writeFileSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { ConfigError } from '../config/errors.ts'
import { CorridorError } from '../protocol/errors.ts'
import { parseScenario } from './scenario/schema.ts'
import { resolveScenario } from './scenario/load.ts'
import { runLoadedScenario } from './run.ts'
import { jsonReplacer } from './output.ts'
import type { WorkerReply, WorkerTask } from './workerPool.ts'

/** Progress messages per run at most this often, so a fast run does not flood the main thread. */
const progressIntervalMs = 250

/** Runs one task in this thread; also used directly when no worker thread is wanted. */
export async function runTask(task: WorkerTask, post: (reply: WorkerReply) => void): Promise<void> {
  try {
    const loaded = resolveScenario(parseScenario(task.document, task.label), task.source)
    let lastPostMs = 0
    const result = await runLoadedScenario(loaded, {
      ...(task.outputDirectory === undefined ? {} : { out: task.outputDirectory }),
      onProgress: (simulatedMs, totalMs) => {
        const now = performance.now()
        if (now - lastPostMs < progressIntervalMs) return
        lastPostMs = now
        post({ kind: 'progress', id: task.id, fraction: totalMs > 0 ? simulatedMs / totalMs : 0 })
      }
    })
    const summary = result.report.summary
    if (task.summaryPath !== undefined) {
      mkdirSync(dirname(task.summaryPath), { recursive: true })
      writeFileSync(task.summaryPath, JSON.stringify(summary, jsonReplacer, 2) + '\n')
    }
    post({ kind: 'done', id: task.id, summary })
  } catch (error) {
    // A broken assertion inside a replica is a finding, not a crash of the campaign: report it.
    const invalid = error instanceof ConfigError
    const message = error instanceof CorridorError ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error)
    post({ kind: 'error', id: task.id, message, stack: error instanceof Error ? (error.stack ?? '') : '', invalid })
  }
}

if (parentPort !== null) {
  const port = parentPort
  port.on('message', (task: WorkerTask) => {
    void runTask(task, (reply) => port.postMessage(reply))
  })
  port.postMessage({ kind: 'ready' } satisfies WorkerReply)
}
