/**
 * Where the simulation takes its workload from: its own sources, generated and signed as each
 * arrival comes up (inline), or a worker thread that generates and signs the same workload ahead
 * of it (workloadFeedWorker.ts), so the simulation thread only unpacks ready submissions. At a
 * million transfers generating and signing was a sixth of the simulation thread's time; the
 * machine has a second core for it.
 *
 * Both give the same submissions in the same order, so the same trace hash. `Simulation.run` is
 * synchronous, so the simulation thread blocks (Atomics.wait) when the next chunk is not there
 * yet and takes it with receiveMessageOnPort; the worker blocks when it is `messagesAheadMax`
 * chunks ahead, which bounds the memory the read-ahead takes.
 */
import { availableParallelism } from 'node:os'
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads'
import { assert } from '../protocol/assert.ts'
import type { JurisdictionPolicy } from '../ledger/policy/schema.ts'
import { modeledVerifier, nativeHashTaggedHex, recordIssuedChunk, type IssuedChunkRecorder } from './modeledCrypto.ts'
import type { Scenario } from './scenario/schema.ts'
import type { World } from './world.ts'
import type { Submission, WorkloadSource } from './workload.ts'
import { WorkloadChunkReader, controlSlots, controlSlotsCount, workerStates, type WorkloadFeedMessage } from './workloadFeedCodec.ts'
import type { WorkloadWorkerData } from './workloadFeedWorker.ts'

/** Where the workload is generated: on the simulation thread, on a worker thread, or on a worker when the run is large enough to pay for one. */
export type WorkloadThread = 'inline' | 'worker' | 'auto'

/** Under 'auto', runs expecting more transfers than this generate them on a worker (starting one costs about a second of its own thread). */
export const workerTransfersMin = 20_000

export interface WorkloadFeed {
  /** Each source's first arrival, in source order (undefined: the source is empty). */
  firsts(): ReadonlyArray<number | undefined>
  /** The submissions of source `source` arriving at `timeMs` (its arrival the simulation handles now) and the source's next arrival. */
  arrive(source: number, timeMs: number): { readonly submissions: readonly Submission[]; readonly nextMs: number | undefined }
  /** Frees what the feed holds (the worker thread); the feed is not used after. */
  close(): void
}

/** The transfers a scenario's workload offers, from its rates and windows (Poisson arrivals vary around it). */
export function expectedTransfers(scenario: Scenario): number {
  let total = 0
  for (const entry of scenario.workload) {
    switch (entry.kind) {
      case 'trade':
      case 'remittance': {
        const end = Math.min(scenario.duration, entry.end ?? scenario.duration)
        total += (entry.rate * Math.max(0, end - (entry.start ?? 0))) / 1000
        break
      }
      case 'fx': {
        const end = Math.min(scenario.duration, entry.end ?? scenario.duration)
        if (entry.every > 0) total += Math.max(0, Math.floor((end - (entry.start ?? 0)) / entry.every))
        break
      }
      case 'liquidity-shock':
        if (entry.at <= scenario.duration) total += entry.payments
        break
    }
  }
  return Math.round(total)
}

/** 'inline' or 'worker' for a scenario: 'auto' takes a worker for large runs on a machine with a core to spare. */
export function chooseWorkloadThread(thread: WorkloadThread, scenario: Scenario): 'inline' | 'worker' {
  if (thread !== 'auto') return thread
  return expectedTransfers(scenario) > workerTransfersMin && availableParallelism() >= 2 ? 'worker' : 'inline'
}

/** The simulation's own sources, run as arrivals come up. */
export class InlineWorkloadFeed implements WorkloadFeed {
  constructor(private readonly sources: readonly WorkloadSource[]) {}

  firsts(): ReadonlyArray<number | undefined> {
    return this.sources.map((source) => source.first())
  }

  arrive(source: number, timeMs: number): { readonly submissions: readonly Submission[]; readonly nextMs: number | undefined } {
    return this.sources[source]!.arrive(timeMs)
  }

  close(): void {}
}

export interface WorkloadWorkerOptions {
  readonly scenario: Scenario
  readonly policies: readonly JurisdictionPolicy[]
  readonly policyDocuments: Readonly<Record<string, unknown>>
  /** A chunk closes after the arrival that brings it to this many submissions. */
  readonly chunkSubmissions?: number
  /** Chunks the worker may have sent and the simulation not yet taken. */
  readonly messagesAheadMax?: number
  /** The simulation thread gives up when the worker sends nothing for this long (a worker that died without a word). */
  readonly stallMs?: number
}

const defaultChunkSubmissions = 4096
const defaultMessagesAheadMax = 4
const defaultStallMs = 120_000
/** One wait of the simulation thread, after which it looks at the worker's state and the stall deadline. */
const waitSliceMs = 1000

const entryUrl = new URL('./workloadFeedWorkerEntry.js', import.meta.url)

/**
 * A workload worker thread and its end of the channel: started at once (it builds its world while
 * the simulation builds its own), read synchronously with `take`, stopped by `close`. The thread
 * is unreferenced, so it never keeps the process alive.
 */
export class WorkloadWorker {
  private readonly worker: Worker
  private readonly port: MessagePort
  private readonly control: Int32Array
  private readonly stallMs: number
  private closed = false

  constructor(options: WorkloadWorkerOptions) {
    this.stallMs = options.stallMs ?? defaultStallMs
    const channel = new MessageChannel()
    this.port = channel.port1
    this.control = new Int32Array(new SharedArrayBuffer(controlSlotsCount * Int32Array.BYTES_PER_ELEMENT))
    const data: WorkloadWorkerData = {
      scenario: options.scenario,
      // The parsed policies hold what cannot be cloned; the worker parses the documents again.
      policyOrder: options.policies.map((policy) => policy.jurisdiction),
      policyDocuments: options.policyDocuments,
      control: this.control.buffer as SharedArrayBuffer,
      port: channel.port2,
      chunkSubmissions: options.chunkSubmissions ?? defaultChunkSubmissions,
      messagesAheadMax: options.messagesAheadMax ?? defaultMessagesAheadMax
    }
    // No flags of the parent's: its heap sizes are the process's and refused for a worker, and its
    // preloads (the test runner's) would load TypeScript before the entry registers tsx.
    this.worker = new Worker(entryUrl, { workerData: data, transferList: [channel.port2], execArgv: [] })
    this.worker.unref()
    // Seen only when the simulation thread's event loop runs (not while it blocks in `take`): the
    // entry reports failures through the control block too. A listener keeps an error from being
    // thrown as an uncaught exception of this thread.
    this.worker.on('error', () => {})
  }

  /** Whether the worker has sent its start and a first chunk, or failed: a `take` would not wait long. */
  ready(): boolean {
    return Atomics.load(this.control, controlSlots.posted) >= 2 || Atomics.load(this.control, controlSlots.state) === workerStates.failed
  }

  /** The next message, waiting for it when it has not come yet. */
  take(): WorkloadFeedMessage {
    assert(!this.closed, 'a closed workload worker is not read')
    const control = this.control
    const started = performance.now()
    for (;;) {
      // Read the count before looking: a message posted after the look changes it, so the wait returns at once.
      const posted = Atomics.load(control, controlSlots.posted)
      const received = receiveMessageOnPort(this.port)
      if (received !== undefined) {
        Atomics.add(control, controlSlots.taken, 1)
        Atomics.notify(control, controlSlots.taken)
        return received.message as WorkloadFeedMessage
      }
      if (Atomics.load(control, controlSlots.state) === workerStates.failed) {
        const last = receiveMessageOnPort(this.port)
        if (last !== undefined) return last.message as WorkloadFeedMessage
        throw new Error('the workload worker failed without saying why')
      }
      if (performance.now() - started > this.stallMs) throw new Error(`the workload worker sent nothing for ${Math.round(this.stallMs / 1000)} s`)
      Atomics.wait(control, controlSlots.posted, posted, waitSliceMs)
    }
  }

  /** Stops the worker (it may be waiting for room or still generating) and closes the channel. */
  close(): void {
    if (this.closed) return
    this.closed = true
    Atomics.store(this.control, controlSlots.stop, 1)
    Atomics.notify(this.control, controlSlots.taken)
    this.port.close()
    void this.worker.terminate().catch(() => {})
  }
}

export interface WorkerFeedOptions {
  /**
   * The simulation's own sources, to run inline while the worker starts (it takes most of a
   * second to load its modules and build its world): the feed takes the worker's workload from
   * the first arrival after the worker has sent its first chunk, skipping the arrivals handled
   * inline. Without them the simulation waits for the worker from the first arrival on.
   */
  readonly startInline?: readonly WorkloadSource[]
  /** Arrivals handled inline at most before waiting for the worker (tests); no bound by default. */
  readonly inlineArrivalsMax?: number
}

/** The workload from a `WorkloadWorker`, unpacked with the simulation's own world objects. */
export class WorkerWorkloadFeed implements WorkloadFeed {
  private readonly reader: WorkloadChunkReader
  private readonly modeled: boolean
  /** While the worker starts: the sources run inline, and the source and time of each arrival they handled. */
  private inline: readonly WorkloadSource[] | undefined
  private readonly inlineArrivalsMax: number
  private inlineFirsts: ReadonlyArray<number | undefined> | undefined
  private readonly inlineSources: number[] = []
  private readonly inlineTimes: number[] = []
  /** The first submission of every chunk has its id and signature checked in full: a guard against a worker whose keys or hashing differ from this thread's. */
  private checkNext = false
  /** Under modeled crypto: where the current chunk's signatures are recorded as issued in this process. */
  private issued: IssuedChunkRecorder | undefined

  constructor(
    private readonly worker: WorkloadWorker,
    world: World,
    crypto: Scenario['crypto'],
    options: WorkerFeedOptions = {}
  ) {
    this.modeled = crypto === 'modeled'
    this.inline = options.startInline
    this.inlineArrivalsMax = options.inlineArrivalsMax ?? Infinity
    // The world's own strings for the values the worker sends, so that the transfer log and the
    // replicas' maps find them by identity, as they find the inline path's.
    const strings = new Map<string, string>()
    for (const customer of world.customers) {
      for (const value of [customer.id, customer.bank, customer.jurisdiction, customer.kind, ...customer.currencies]) strings.set(value, value)
    }
    for (const bank of world.document.banks) strings.set(bank.id, bank.id)
    this.reader = new WorkloadChunkReader({
      chainId: world.document.chainId,
      publicKeyOf(signer) {
        const signing = world.signers.get(signer)
        if (signing === undefined) throw new Error(`the workload worker signed for ${signer}, who has no key in this world`)
        return signing.publicKey
      },
      canonical: (value) => strings.get(value) ?? value
    })
  }

  firsts(): ReadonlyArray<number | undefined> {
    if (this.inline !== undefined) return (this.inlineFirsts = this.inline.map((source) => source.first()))
    return this.takeStart()
  }

  arrive(source: number, timeMs: number): { readonly submissions: readonly Submission[]; readonly nextMs: number | undefined } {
    if (this.inline !== undefined) {
      if (this.inlineTimes.length < this.inlineArrivalsMax && !this.worker.ready()) {
        this.inlineSources.push(source)
        this.inlineTimes.push(timeMs)
        return this.inline[source]!.arrive(timeMs)
      }
      this.takeOver()
    }
    const arrival = this.nextArrival(source, timeMs)
    const submissions = arrival.submissions
    for (let i = 0; i < submissions.length; i++) {
      const envelope = submissions[i]!.envelope
      if (this.checkNext) {
        this.checkNext = false
        if (nativeHashTaggedHex('corridor.txid', envelope.signingBytes) !== envelope.id) throw new Error(`the workload worker's transaction id ${envelope.id} is not the hash of its signing bytes`)
        if (this.modeled && !modeledVerifier.verify(envelope.publicKey, envelope.signingBytes, envelope.signature)) {
          throw new Error(`the workload worker's signature of ${envelope.id} by ${envelope.signer} does not verify here: its keys differ from this thread's`)
        }
      }
      this.issued?.add(envelope.signature, envelope.signingBytes, envelope.publicKey)
    }
    return arrival
  }

  close(): void {
    this.worker.close()
  }

  /** The worker's next arrival, which must be the one the simulation handles. */
  private nextArrival(source: number, timeMs: number): ReturnType<WorkloadChunkReader['next']> {
    if (this.reader.remaining === 0) this.nextChunk()
    const arrival = this.reader.next()
    if (arrival.source !== source || arrival.timeMs !== timeMs) {
      throw new Error(`the workload worker is out of step: it sent source ${arrival.source} at ${arrival.timeMs} ms where the simulation handles source ${source} at ${timeMs} ms`)
    }
    return arrival
  }

  /** Leaves the inline sources for the worker, whose arrivals start where the inline ones began: those already handled are skipped. */
  private takeOver(): void {
    const firsts = this.takeStart()
    const inlineFirsts = this.inlineFirsts ?? []
    if (firsts.length !== inlineFirsts.length || firsts.some((first, index) => first !== inlineFirsts[index])) {
      throw new Error(`the workload worker is out of step: its sources begin at ${firsts.join(', ')} ms, the simulation's at ${inlineFirsts.join(', ')} ms`)
    }
    this.inline = undefined
    for (let i = 0; i < this.inlineTimes.length; i++) this.nextArrival(this.inlineSources[i]!, this.inlineTimes[i]!)
    this.inlineSources.length = 0
    this.inlineTimes.length = 0
  }

  private takeStart(): ReadonlyArray<number | undefined> {
    const message = this.take()
    if (message.kind !== 'start') throw new Error(`the workload worker began with a ${message.kind} message`)
    return message.firsts.map((first) => first ?? undefined)
  }

  private nextChunk(): void {
    const message = this.take()
    if (message.kind === 'end') throw new Error('the simulation asked for an arrival after the workload worker sent its last')
    if (message.kind !== 'chunk') throw new Error(`the workload worker sent a ${message.kind} message where a chunk was due`)
    this.reader.start(message.chunk)
    if (this.modeled) this.issued = recordIssuedChunk(message.chunk.buffer, message.chunk.submissions)
    this.checkNext = true
  }

  private take(): WorkloadFeedMessage {
    const message = this.worker.take()
    if (message.kind === 'error') {
      const error = new Error(`the workload worker failed: ${message.message}`)
      error.stack = `${error.stack ?? error.message}\nin the worker: ${message.stack}`
      throw error
    }
    return message
  }
}
