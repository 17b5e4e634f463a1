import t from 'tap'
import { getPriority } from 'node:os'
import { Worker } from 'node:worker_threads'
import { lowerThreadPriority } from '../../../src/platform/threadPriority.ts'

t.test('the main thread is never lowered', async (t) => {
  const before = getPriority(process.pid)
  t.equal(lowerThreadPriority(), false)
  t.equal(getPriority(process.pid), before, 'the process keeps its priority')
})

t.test('a worker thread lowers its own priority, and only its own', { skip: process.platform !== 'linux' && 'thread ids and per-thread priority are Linux' }, async (t) => {
  const moduleUrl = new URL('../../../src/platform/threadPriority.ts', import.meta.url).href
  // An eval worker registers the TypeScript loader itself, then reports what it saw.
  const code = `
    const { parentPort } = require('node:worker_threads')
    const { readlinkSync } = require('node:fs')
    const { getPriority } = require('node:os')
    ;(async () => {
      const { register } = await import('tsx/esm/api')
      register()
      const { lowerThreadPriority } = await import(${JSON.stringify(moduleUrl)})
      const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop())
      const before = getPriority(threadId)
      const lowered = lowerThreadPriority(5)
      parentPort.postMessage({ threadId, before, lowered, after: getPriority(threadId) })
    })().catch((error) => parentPort.postMessage({ error: String(error) }))
  `
  const mainBefore = getPriority(process.pid)
  const report = await new Promise<{ threadId: number; before: number; lowered: boolean; after: number; error?: string }>((resolve, reject) => {
    const worker = new Worker(code, { eval: true })
    worker.once('message', (message) => {
      resolve(message)
      void worker.terminate()
    })
    worker.once('error', reject)
  })
  t.equal(report.error, undefined)
  t.not(report.threadId, process.pid, 'the worker has a thread id of its own')
  t.equal(report.lowered, true)
  t.equal(report.after, Math.min(19, report.before + 5), 'niceness raised by 5, at most 19')
  t.equal(getPriority(process.pid), mainBefore, 'the main thread keeps its priority')
})
