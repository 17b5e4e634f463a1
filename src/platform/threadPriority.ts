/**
 * Scheduling priority of the calling thread. The simulator's workload worker runs ahead of the
 * simulation thread, which is the one a run waits for; on a machine with few cores the two (and
 * the garbage collector's helpers) compete, and the worker, far ahead, loses nothing by yielding.
 */
import { readlinkSync } from 'node:fs'
import { getPriority, setPriority } from 'node:os'

/**
 * Raises the calling thread's niceness by `niceness` (Linux, where a thread has an id of its own
 * that setpriority takes; elsewhere, or when it cannot, nothing). Never applied to a process's
 * main thread, whose id is the process's: that one is the thread others wait for. Returns whether
 * the priority was lowered.
 */
export function lowerThreadPriority(niceness = 10): boolean {
  if (process.platform !== 'linux') return false
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop())
    if (!Number.isSafeInteger(threadId) || threadId <= 0 || threadId === process.pid) return false
    setPriority(threadId, Math.min(19, getPriority(threadId) + niceness))
    return true
  } catch {
    return false
  }
}
