/**
 * The workload worker: generates and signs a simulation's workload on a thread of its own, ahead
 * of the simulation, and sends it in chunks (workloadFeedCodec.ts) that the simulation thread
 * unpacks (workloadFeed.ts). Started through workloadFeedWorkerEntry.js, which registers the
 * TypeScript loader first.
 *
 * The workload is the simulation's, bit for bit. Sources draw only from their own streams and
 * never see the simulation's state, but the signers' nonces follow the order in which arrivals
 * are handled across sources. The simulation pushes each source's first arrival in source order
 * at the start and a source's next arrival when it handles one, on a queue that breaks ties of
 * time by push order; this worker replays exactly that on a queue of its own.
 */
import type { MessagePort } from 'node:worker_threads'
import { parsePolicyDocument } from '../ledger/policy/schema.ts'
import { createFxTable } from '../ledger/fx.ts'
import { EventQueue } from './eventQueue.ts'
import type { Scenario } from './scenario/schema.ts'
import { buildWorld } from './world.ts'
import { createScenarioSources } from './workload.ts'
import { lowerThreadPriority } from '../platform/threadPriority.ts'
import { WorkloadChunkWriter, controlSlots, controlSlotsCount, workerStates, type WorkloadFeedMessage } from './workloadFeedCodec.ts'

export interface WorkloadWorkerData {
  readonly scenario: Scenario
  /** The jurisdictions of the scenario's policies, in order, whose documents are in `policyDocuments`. */
  readonly policyOrder: readonly string[]
  readonly policyDocuments: Readonly<Record<string, unknown>>
  /** Int32 slots (controlSlots) shared with the simulation thread. */
  readonly control: SharedArrayBuffer
  /** Where the chunks go; the simulation thread reads it with receiveMessageOnPort. */
  readonly port: MessagePort
  /** A chunk closes after the arrival that brings it to this many submissions. */
  readonly chunkSubmissions: number
  /** Messages posted and not yet taken, at most: the read-ahead bound. */
  readonly messagesAheadMax: number
}

/** How long one wait for the simulation thread lasts before the stop flag is looked at again. */
const waitSliceMs = 1000

/** Sends one message and wakes the simulation thread. */
export function postToSimulation(control: Int32Array, port: MessagePort, message: WorkloadFeedMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer)
  Atomics.add(control, controlSlots.posted, 1)
  Atomics.notify(control, controlSlots.posted)
}

/** Generates the whole workload, blocking whenever it is `messagesAheadMax` messages ahead; returns when done or told to stop. */
export function runWorkloadWorker(data: WorkloadWorkerData): void {
  const control = new Int32Array(data.control)
  if (control.length !== controlSlotsCount) throw new Error(`the workload worker's control block has ${control.length} slots, not ${controlSlotsCount}`)
  if (!(data.chunkSubmissions >= 1 && data.messagesAheadMax >= 1)) throw new Error(`bad workload chunking: ${data.chunkSubmissions} submissions a chunk, ${data.messagesAheadMax} chunks ahead`)
  // Far ahead of the simulation thread, this one yields the core to it when they compete.
  lowerThreadPriority()
  const stopped = (): boolean => Atomics.load(control, controlSlots.stop) !== 0
  /** Waits until fewer than messagesAheadMax messages are waiting; false when told to stop. */
  const room = (): boolean => {
    for (;;) {
      if (stopped()) return false
      const taken = Atomics.load(control, controlSlots.taken)
      if (Atomics.load(control, controlSlots.posted) - taken < data.messagesAheadMax) return true
      Atomics.wait(control, controlSlots.taken, taken, waitSliceMs)
    }
  }
  const scenario = data.scenario
  const policies = data.policyOrder.map((jurisdiction) => parsePolicyDocument(data.policyDocuments[jurisdiction], `the ${jurisdiction} policy`))
  const world = buildWorld(scenario, policies, data.policyDocuments)
  const fx = createFxTable(world.document.fx.base, world.document.fx.rates)
  const sources = createScenarioSources(scenario, world, fx)
  const queue = new EventQueue<number>()
  const firsts = sources.map((source, index) => {
    const first = source.first()
    if (first !== undefined) queue.push(first, index)
    return first ?? null
  })
  postToSimulation(control, data.port, { kind: 'start', firsts })
  const writer = new WorkloadChunkWriter(world.document.chainId)
  const flush = (): boolean => {
    if (!room()) return false
    const chunk = writer.take()
    postToSimulation(control, data.port, { kind: 'chunk', chunk }, [chunk.buffer])
    return true
  }
  for (let event = queue.pop(); event !== undefined; event = queue.pop()) {
    const source = event.payload
    const { submissions, nextMs } = sources[source]!.arrive(event.timeMs)
    writer.writeArrival(event.timeMs, source, nextMs, submissions)
    if (nextMs !== undefined) queue.push(nextMs, source)
    if (writer.submissions >= data.chunkSubmissions && !flush()) return
  }
  if (writer.arrivals > 0 && !flush()) return
  if (!room()) return
  Atomics.store(control, controlSlots.state, workerStates.finished)
  postToSimulation(control, data.port, { kind: 'end' })
}
