// The entry point of a workload worker thread (workloadFeedWorker.ts). Like sweepWorkerEntry.js it
// registers tsx before importing any TypeScript, then the polyfill, then the worker. The
// simulation thread blocks while it waits for this thread and so cannot see the worker's 'error'
// events: every failure, a module that does not load included, is reported through the control
// block and the port instead.
import { workerData } from 'node:worker_threads'

const control = new Int32Array(workerData.control)
// controlSlots.posted and .state, workerStates.running and .failed of workloadFeedCodec.ts, which cannot be imported before tsx is registered.
const posted = 0
const state = 2
const running = 0
const failed = 2

function fail(error) {
  if (Atomics.load(control, state) !== running) return
  try {
    workerData.port.postMessage({ kind: 'error', message: error instanceof Error ? error.message : String(error), stack: error instanceof Error ? (error.stack ?? '') : '' })
  } finally {
    Atomics.store(control, state, failed)
    Atomics.add(control, posted, 1)
    Atomics.notify(control, posted)
  }
}

// The thread ending any other way than through the worker's end (an uncaught error, process.exit).
process.on('exit', () => fail(new Error('the workload worker exited before sending the whole workload')))

try {
  const { register } = await import('tsx/esm/api')
  register()
  await import('../polyfill.ts')
  const { runWorkloadWorker } = await import('./workloadFeedWorker.ts')
  runWorkloadWorker(workerData)
} catch (error) {
  fail(error)
}
