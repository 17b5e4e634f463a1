/**
 * The simulator: the scenario's banks as replicas (the same code a bank node runs), a simulated
 * network between them, the workload and the faults, all driven by one event queue on a virtual
 * clock and one seeded PRNG. The same scenario and seed give the same trace, bit for bit; the
 * trace hash in the summary proves it.
 */
import { createHash } from 'node:crypto'
import { bytesToHex } from '../protocol/bytes.ts'
import type { Encodable } from '../protocol/encoding.ts'
import type { SignatureVerifier } from '../protocol/keys.ts'
import {
  createCachingVerifier,
  createValidatorSet,
  usePayloadHasher,
  decodeWalRecord,
  genesisTip,
  walRecordHeight,
  defaultConsensusLimits,
  type CertifiedBlock,
  type ChainTip,
  type ConsensusLimits,
  type ValidatorSet,
  type WalRecord
} from '../consensus/index.ts'
import { buildGenesis, genesisValidators } from '../ledger/genesis.ts'
import { fullStateDigest, restoreLedgerState, type LedgerState } from '../ledger/state.ts'
import { SharedLedgerStore } from '../ledger/sharedState.ts'
import { formatAmount } from '../ledger/currency.ts'
import { convert, type FxTable } from '../ledger/fx.ts'
import { createNativeVerifier } from '../platform/ed25519Native.ts'
import { AdmissionCache } from '../node/replica/admission.ts'
import { ExecutionCache } from '../node/replica/executionCache.ts'
import { SharedMempool, type SharedBatch } from '../node/replica/sharedMempool.ts'
import { defaultReplicaLimits } from '../node/replica/limits.ts'
import { Replica, type CommittedBlock, type ReplicaAction, type ReplicaByzantine, type ReplicaInputBody, type ReplicaTimeout } from '../node/replica/replica.ts'
import type { ReplicaLimits } from '../node/replica/limits.ts'
import type { JurisdictionPolicy } from '../ledger/policy/schema.ts'
import { EventQueue } from './eventQueue.ts'
import { SimulatedNetwork } from './network.ts'
import { Random } from './random.ts'
import type { ByzantineBehaviour as ScenarioByzantine, Scenario, ScenarioFault, InvariantName } from './scenario/schema.ts'
import { invariantNames } from './scenario/schema.ts'
import { buildWorld, type World } from './world.ts'
import { createScenarioSources, type Submission, type TransferInfo } from './workload.ts'
import { chooseWorkloadThread, InlineWorkloadFeed, WorkerWorkloadFeed, WorkloadWorker, type WorkloadFeed, type WorkloadThread } from './workloadFeed.ts'
import { modeledVerifier, nativeHashTagged } from './modeledCrypto.ts'
import { ClusterCheckers, PolicyChecker } from './invariants.ts'
import type { EventLog } from './output.ts'
import { TransferLog } from './transferLog.ts'

type SimEvent =
  | { readonly kind: 'input'; readonly to: string; readonly incarnation: number; readonly input: ReplicaInputBody; readonly cost: number }
  | { readonly kind: 'arrival'; readonly source: number }
  | { readonly kind: 'submit'; readonly submission: Submission; readonly attempt: number }
  | { readonly kind: 'fault'; readonly label: string; readonly apply: () => void }
  | { readonly kind: 'sample' }

interface WalEntry {
  /** The record's bytes, encoded only when a crash or a restart needs them (most records are dropped at the next commit unread). */
  bytes: Uint8Array | undefined
  readonly action: { readonly bytes: Uint8Array }
  readonly height: number
}

function walBytes(entry: WalEntry): Uint8Array {
  return (entry.bytes ??= entry.action.bytes)
}

/** What survives a crash: the node's LevelDB, modelled. */
interface NodeStore {
  /** The committed ledger entries, as of the last crash (while the node runs, its replica's ledger holds them). */
  entries: ReadonlyMap<string, Encodable>
  height: number
  timeMs: number
  stateRoot: Uint8Array
  tip: ChainTip
  wal: WalEntry[]
  /** WAL records up to this index were followed by an effect (a send, a commit): they were synced. */
  walSynced: number
}

/**
 * A gossip batch on its way to a node under `mempool: shared`: marked as arrived when due, not
 * queued as an event; itself the replica's input when it arrives.
 */
interface SharedArrival {
  readonly kind: 'sharedTransactions'
  readonly from: string
  readonly batch: SharedBatch
  readonly incarnation: number
}

interface SimNode {
  readonly id: string
  /** Under `mempool: shared`: batches on their way to this node, by arrival time. */
  readonly arrivals: EventQueue<SharedArrival>
  /** When the node last resumed from a pause: batches that arrived while it was paused reach its mempool then. */
  resumedMs: number
  readonly jurisdiction: string
  replica: Replica | undefined
  incarnation: number
  down: boolean
  pausedUntil: number
  readonly inbox: SimEvent[]
  busyUntil: number
  byzantine: ReplicaByzantine | undefined
  readonly store: NodeStore
  evidence: number
}

/**
 * Liveness: a transfer submitted after the last fault ended, to a node that is up, must be final
 * this long after its submission at the latest (when the run lasts that long). A healed network
 * finalizes in well under a second; the margin covers catch-up of restarted nodes.
 */
const healedFinalityMs = 5000

export interface SimulationOptions {
  readonly scenario: Scenario
  readonly policies: readonly JurisdictionPolicy[]
  /** Policy documents by jurisdiction, as written (for genesis and the independent policy check). */
  readonly policyDocuments: Readonly<Record<string, unknown>>
  readonly events?: EventLog
  /** Called every simulated second with progress. */
  readonly onProgress?: (simulatedMs: number, totalMs: number, status: string) => void
  readonly replicaLimits?: Partial<ReplicaLimits>
  /**
   * Where the workload is generated and signed: on this thread as arrivals come up, on a worker
   * thread ahead of the simulation, or (auto, the default) on a worker when the scenario expects
   * more than workloadFeed.workerTransfersMin transfers. The trace is the same either way.
   */
  readonly workloadThread?: WorkloadThread
  /**
   * With a workload worker, this thread generates the first arrivals itself while the worker
   * starts, up to this many (no bound by default); tests set it to take the worker's workload
   * from a chosen arrival on. The trace is the same whatever the number.
   */
  readonly workloadInlineArrivalsMax?: number
}

export interface SimulationResult {
  readonly scenario: Scenario
  readonly world: World
  /** Every submitted transfer and what became of it (`values()`, `size`). */
  readonly tracked: TransferLog
  readonly violations: ClusterCheckers['violations']
  readonly invariantsChecked: readonly InvariantName[]
  readonly traceHash: string
  readonly simulatedMs: number
  readonly blocks: number
  readonly height: number
  readonly heightSeries: Array<[number, number]>
  readonly faultMarks: Array<{ atMs: number; label: string }>
  readonly faults: number
  readonly evidence: number
  readonly fx: FxTable
  readonly submitted: number
  readonly admissionRefused: Record<string, number>
  readonly verifications: number
  /** Events the simulator processed (deliveries, timeouts, arrivals, faults, samples). */
  readonly eventsProcessed: number
  /** Under `mempool: shared`: gossip batches that reached a node without being events. */
  readonly sharedArrivals: number
}

/** node:crypto's SHA-256 for the ledgers' state roots: the same bytes as the portable default, about fifteen times faster. */
const nativeSha256 = (bytes: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(bytes).digest())

/** Blocks kept in the shared archive that serves catch-up. */
/** Hard cap on the archive; a node further behind than this cannot catch up in simulation. */
const archiveBlocksMax = 50_000
/** Blocks kept in the archive below the lowest node's height. */
const archiveMarginBlocks = 64
/**
 * Admitted transactions the process remembers (AdmissionCache). A transaction is in flight for
 * a second or two; the bound only keeps a long run's memory flat (an evicted one is verified again
 * if it comes back, say as a Byzantine replay). At 2,000 transfers/s this is 10 s of them: a
 * larger cache only adds to the old generation the garbage collector marks.
 */
const admissionEntriesMax = 20_000
/** Client retries of a submission while its bank's node is down, every `retryMs`. */
const submitRetriesMax = 600
const retryMs = 500
const sampleMs = 1000
/** Trace text hashed at a time. */
const traceBatchChars = 64 * 1024
/** Messages held for a paused node at most; beyond, they are lost, as in an overflowing socket buffer. */
const pausedInboxEventsMax = 100_000

export class Simulation {
  readonly scenario: Scenario
  readonly world: World
  private readonly queue = new EventQueue<SimEvent>()
  private readonly random: Random
  private readonly network: SimulatedNetwork
  private readonly nodes = new Map<string, SimNode>()
  private readonly nodeIds: readonly string[]
  private readonly validatorSet: ValidatorSet
  private readonly admission: AdmissionCache
  private readonly executions: ExecutionCache | undefined
  /** Under `execution: shared`: the committed ledger content the nodes share while they agree (see ledger/sharedState.ts). */
  private readonly sharedLedger: SharedLedgerStore | undefined
  private readonly sharedMempool: SharedMempool | undefined
  private readonly consensusVerifier: SignatureVerifier
  private readonly consensusLimits: Partial<ConsensusLimits>
  private readonly replicaLimits: Partial<ReplicaLimits> | undefined
  private readonly genesisEntries: ReadonlyMap<string, Encodable>
  private readonly genesis: LedgerState
  private readonly workload: WorkloadFeed
  private readonly checkers: ClusterCheckers
  private readonly policyChecker: PolicyChecker
  private readonly enabledInvariants: ReadonlySet<InvariantName>
  private readonly trace = createHash('sha256')
  /** Trace lines not yet hashed. */
  private traceText = ''
  private readonly archive = new Map<number, CertifiedBlock>()
  private readonly tracked = new TransferLog()
  private readonly events: EventLog | undefined
  private readonly onProgress: SimulationOptions['onProgress']
  private readonly heightSeries: Array<[number, number]> = []
  private readonly faultMarks: Array<{ atMs: number; label: string }> = []
  private readonly admissionRefused: Record<string, number> = {}
  private nowMs = 0
  private highestHeight = 0
  private receiptsReadHeight = 0
  /** Blocks below this height have left the archive. */
  private archiveLowest = 1
  /** Events taken off the queue: the simulator's unit of work, for benchmarks. */
  private eventsProcessed = 0
  private sharedArrivals = 0
  private faultCount = 0
  private submitted = 0
  /** Time of the last fault event, start or end: when every fault with an end is over. */
  private lastFaultEndMs = 0
  /** A network fault with no end and no later heal: liveness cannot be judged. */
  private unendingFault: string | undefined
  private readonly endMs: number

  constructor(options: SimulationOptions) {
    // The workload worker first: it builds its own world while this thread builds the simulation's.
    const workloadWorker =
      chooseWorkloadThread(options.workloadThread ?? 'auto', options.scenario) === 'worker'
        ? new WorkloadWorker({ scenario: options.scenario, policies: options.policies, policyDocuments: options.policyDocuments })
        : undefined
    try {
      const scenario = options.scenario
      this.scenario = scenario
      this.events = options.events
      this.onProgress = options.onProgress
      this.replicaLimits = {
        ...(scenario.consensus.blockTransactionsMax === undefined ? {} : { blockTransactionsMax: scenario.consensus.blockTransactionsMax }),
        ...options.replicaLimits
      }
      this.random = new Random(scenario.seed)
      usePayloadHasher(nativeHashTagged)
      this.world = buildWorld(scenario, options.policies, options.policyDocuments)
      this.genesis = buildGenesis(this.world.document, { source: `scenario ${scenario.name}`, checkInstitutionKeys: false, sha256: nativeSha256 })
      this.genesisEntries = this.genesis.entries
      const transactionVerifier = scenario.crypto === 'modeled' ? modeledVerifier : createNativeVerifier()
      this.admission = new AdmissionCache({ chainId: this.world.document.chainId, verifier: transactionVerifier, entriesMax: admissionEntriesMax })
      this.executions = scenario.execution === 'shared' ? new ExecutionCache() : undefined
      // One committed ledger for the nodes booted from genesis, while they agree: a block's writes
      // are written once per process instead of once per node (reads are exactly those of a Map of
      // their own). A node that diverges, lags far behind or crashes goes on with a copy.
      this.sharedLedger =
        scenario.execution === 'shared'
          ? new SharedLedgerStore(restoreLedgerState({ entries: this.genesisEntries, height: 0, timeMs: this.genesis.timeMs, stateRoot: this.genesis.stateRoot, sha256: nativeSha256 }))
          : undefined
      const limits = { ...defaultReplicaLimits, ...this.replicaLimits }
      this.sharedMempool =
        scenario.mempool === 'shared'
          ? new SharedMempool(
              scenario.banks.map((bank) => bank.id),
              { transactionsMax: limits.mempoolTransactionsMax, transactionsPerSignerMax: limits.mempoolTransactionsPerSignerMax }
            )
          : undefined
      this.consensusVerifier = createCachingVerifier(scenario.crypto === 'modeled' ? modeledVerifier : createNativeVerifier())
      this.consensusLimits = consensusLimitsOf(scenario)
      this.validatorSet = createValidatorSet(genesisValidators(this.world.document).map((v) => ({ id: v.id, publicKey: v.publicKey, power: v.votingPower })))
      this.nodeIds = scenario.banks.map((bank) => bank.id)
      this.network = new SimulatedNetwork(
        { latencyMs: scenario.network.latency, jitter: scenario.network.jitter, dropProbability: scenario.network.drop, duplicateProbability: scenario.network.duplicate },
        this.world.bankJurisdiction,
        this.random.fork('network')
      )
      this.enabledInvariants = new Set(scenario.expect.invariants === 'all' ? invariantNames : scenario.expect.invariants)
      this.checkers = new ClusterCheckers(this.enabledInvariants)
      this.policyChecker = new PolicyChecker(options.policyDocuments)
      // With a worker, the simulation's own sources too: they run while the worker starts.
      const sources = createScenarioSources(scenario, this.world, this.genesis.fx)
      this.workload =
        workloadWorker === undefined
          ? new InlineWorkloadFeed(sources)
          : new WorkerWorkloadFeed(workloadWorker, this.world, scenario.crypto, {
              startInline: sources,
              ...(options.workloadInlineArrivalsMax === undefined ? {} : { inlineArrivalsMax: options.workloadInlineArrivalsMax })
            })
      this.endMs = scenario.duration + scenario.drain
      const tip = genesisTip(this.world.document.chainId, this.genesis.timeMs, this.genesis.stateRoot)
      for (const bank of scenario.banks) {
        const node: SimNode = {
          id: bank.id,
          arrivals: new EventQueue<SharedArrival>(),
          resumedMs: 0,
          jurisdiction: bank.jurisdiction,
          replica: undefined,
          incarnation: 0,
          down: false,
          pausedUntil: 0,
          inbox: [],
          busyUntil: 0,
          byzantine: undefined,
          evidence: 0,
          store: { entries: new Map(this.genesisEntries), height: 0, timeMs: this.genesis.timeMs, stateRoot: this.genesis.stateRoot, tip, wal: [], walSynced: 0 }
        }
        this.nodes.set(bank.id, node)
      }
    } catch (error) {
      workloadWorker?.close()
      throw error
    }
  }

  // Running.

  run(): SimulationResult {
    try {
      for (const node of this.nodes.values()) this.boot(node)
      this.workload.firsts().forEach((first, index) => {
        if (first !== undefined) this.queue.push(first, { kind: 'arrival', source: index })
      })
      this.scheduleFaults()
      this.queue.push(sampleMs, { kind: 'sample' })
      for (;;) {
        const event = this.queue.pop()
        if (event === undefined || event.timeMs > this.endMs) break
        this.eventsProcessed++
        this.nowMs = event.timeMs
        this.handle(event.payload)
      }
    } finally {
      // The workload worker, if any, is done with: it stops at once, before the checks at the end.
      this.workload.close()
    }
    this.nowMs = this.endMs
    this.finish()
    const heights = [...this.nodes.values()].map((node) => node.store.height)
    this.flushTrace()
    return {
      scenario: this.scenario,
      world: this.world,
      tracked: this.tracked,
      violations: this.checkers.violations,
      invariantsChecked: [...this.enabledInvariants],
      traceHash: this.trace.digest('hex'),
      simulatedMs: this.endMs,
      blocks: Math.max(...heights),
      height: Math.max(...heights),
      heightSeries: this.heightSeries,
      faultMarks: this.faultMarks,
      faults: this.faultCount,
      evidence: [...this.nodes.values()].reduce((sum, node) => sum + node.evidence, 0),
      fx: this.genesis.fx,
      submitted: this.submitted,
      admissionRefused: this.admissionRefused,
      verifications: this.admission.verifications,
      eventsProcessed: this.eventsProcessed,
      sharedArrivals: this.sharedArrivals
    }
  }

  private handle(event: SimEvent): void {
    switch (event.kind) {
      case 'input':
        return this.deliver(event)
      case 'arrival': {
        const { submissions, nextMs } = this.workload.arrive(event.source, this.nowMs)
        for (const submission of submissions) this.submit(submission, 0)
        if (nextMs !== undefined) this.queue.push(nextMs, event)
        return
      }
      case 'submit':
        return this.submit(event.submission, event.attempt)
      case 'fault':
        this.faultCount++
        this.faultMarks.push({ atMs: this.nowMs, label: event.label })
        this.traceLine(`f|${event.label}|${this.nowMs}`)
        this.events?.write({ t: this.nowMs, kind: 'fault', fault: event.label })
        event.apply()
        return
      case 'sample':
        return this.sample()
    }
  }

  private sample(): void {
    this.heightSeries.push([this.nowMs, this.highestHeight])
    // Conservation on one node per sample, in turn: a full scan of a ledger costs milliseconds.
    const up = this.nodeIds.filter((id) => this.nodes.get(id)!.replica !== undefined)
    if (up.length > 0 && this.enabledInvariants.has('conservation')) {
      const id = up[Math.floor(this.nowMs / sampleMs) % up.length]!
      this.checkers.checkLedger(id, this.nodes.get(id)!.replica!.ledgerState, this.nowMs)
    }
    const lowest = Math.min(...[...this.nodes.values()].map((node) => node.store.height))
    this.checkers.pruneBelow(lowest - 1)
    // Catch-up serves a node from its own store height on, so blocks well below every node's
    // height (a crashed node keeps its height in the store) are not asked for again; the margin
    // covers a vote delayed in the network, which makes its receiver serve the sender's height.
    const keepFrom = lowest - archiveMarginBlocks
    for (let height = this.archiveLowest; height < keepFrom; height++) this.archive.delete(height)
    if (keepFrom > this.archiveLowest) this.archiveLowest = keepFrom
    this.onProgress?.(this.nowMs, this.endMs, `height ${this.highestHeight} · ${this.countFinal()} final of ${this.submitted}`)
    if (this.nowMs + sampleMs <= this.endMs) this.queue.push(this.nowMs + sampleMs, { kind: 'sample' })
  }

  private finalCount = 0
  private countFinal(): number {
    return this.finalCount
  }

  // Nodes.

  private boot(node: SimNode): void {
    const store = node.store
    const ledger =
      this.sharedLedger !== undefined && node.incarnation === 0
        ? this.sharedLedger.join(node.id)
        : restoreLedgerState({ entries: store.entries, height: store.height, timeMs: store.timeMs, stateRoot: store.stateRoot, sha256: nativeSha256 })
    const wal: WalRecord[] = []
    for (const entry of store.wal) {
      try {
        wal.push(decodeWalRecord(walBytes(entry), { ...defaultConsensusLimits, ...this.consensusLimits }))
      } catch {
        // A torn record: everything from it on was never synced. CometBFT's WAL does the same.
        break
      }
    }
    store.wal = store.wal.slice(0, wal.length)
    node.incarnation++
    node.down = false
    node.busyUntil = this.nowMs
    this.network.setDown(node.id, false)
    node.replica = new Replica({
      chainId: this.world.document.chainId,
      validatorId: node.id,
      signer: this.world.signers.get(node.id)!,
      validatorSet: this.validatorSet,
      consensusVerifier: this.consensusVerifier,
      admission: this.admission,
      ...(this.executions === undefined ? {} : { executions: this.executions }),
      ...(this.sharedMempool === undefined ? {} : { sharedMempool: this.sharedMempool }),
      ledger,
      tip: store.tip,
      wal: wal.filter((record) => walRecordHeight(record) > store.tip.height),
      consensusLimits: this.consensusLimits,
      ...(this.replicaLimits === undefined ? {} : { limits: this.replicaLimits }),
      ...(node.byzantine === undefined ? {} : { byzantine: node.byzantine })
    })
    this.perform(node, node.replica.step({ kind: 'start', nowMs: this.absolute() }))
  }

  private crash(node: SimNode, storage: 'intact' | 'lose-unsynced' | 'torn-wal'): void {
    if (node.down) return
    // The committed ledger is what the store holds: every commit is durable before the next action.
    // The replica's own Map is that state, and nothing uses it once the replica is gone, so it
    // becomes the store's entries here rather than being copied into them at every commit.
    if (node.replica !== undefined) node.store.entries = node.replica.ledgerState.entries
    this.sharedLedger?.detach(node.id)
    node.down = true
    node.replica = undefined
    node.inbox.length = 0
    if (this.sharedMempool !== undefined) {
      // Batches on their way die with the node, as messages to a crashed process do.
      for (let arrival = node.arrivals.pop(); arrival !== undefined; arrival = node.arrivals.pop()) arrival.payload.batch.cancelled()
      this.sharedMempool.detach(node.id)
    }
    this.network.setDown(node.id, true)
    const store = node.store
    if (storage !== 'intact' && store.wal.length > store.walSynced) {
      if (storage === 'lose-unsynced') store.wal.length = store.walSynced
      else {
        const torn = store.wal[store.walSynced]!
        const bytes = walBytes(torn)
        torn.bytes = bytes.subarray(0, Math.max(1, Math.floor(bytes.length / 2)))
        store.wal.length = store.walSynced + 1
      }
    }
  }

  private absolute(): number {
    return this.world.startMs + Math.floor(this.nowMs)
  }

  private deliver(event: SimEvent & { kind: 'input' }): void {
    const node = this.nodes.get(event.to)!
    if (node.down || node.replica === undefined || event.incarnation !== node.incarnation) return
    if (node.pausedUntil > this.nowMs) {
      if (node.inbox.length < pausedInboxEventsMax) node.inbox.push(event)
      return
    }
    if (node.arrivals.size > 0) this.receiveSharedArrivals(node)
    // A node busy verifying signatures takes the next input when it is free (network.verifyCost).
    if (node.busyUntil > this.nowMs) {
      this.queue.push(node.busyUntil, event)
      return
    }
    node.busyUntil = this.nowMs + event.cost
    const actions = node.replica.stepAt(event.input, this.absolute())
    this.perform(node, actions)
  }

  /**
   * Under `mempool: shared`, before a node takes any input: the gossip batches due by now reach its
   * mempool, in arrival order and at their arrival times, exactly as if each had been an event
   * delivered before this one (gossip needs no answer, so nothing else can tell the difference).
   */
  private receiveSharedArrivals(node: SimNode): void {
    const replica = node.replica!
    for (;;) {
      const due = node.arrivals.peekTime()
      if (due === undefined || due > this.nowMs) return
      const arrival = node.arrivals.pop()!
      const input = arrival.payload
      if (input.incarnation !== node.incarnation) {
        input.batch.cancelled()
        continue
      }
      const atMs = this.world.startMs + Math.floor(Math.max(arrival.timeMs, node.resumedMs))
      this.sharedArrivals++
      replica.stepAt(input, atMs)
    }
  }

  private send(from: SimNode, to: string, input: ReplicaInputBody, cost: number): void {
    const target = this.nodes.get(to)!
    const count = this.network.routeInto(from.id, to)
    const delays = this.network.delays
    for (let i = 0; i < count; i++) this.queue.push(this.nowMs + delays[i]!, { kind: 'input', to, incarnation: target.incarnation, input, cost })
  }

  private perform(node: SimNode, actions: readonly ReplicaAction[]): void {
    const store = node.store
    const verifyCost = this.scenario.network.verifyCost
    for (const action of actions) {
      switch (action.kind) {
        case 'persist':
          store.wal.push({ bytes: undefined, action, height: walRecordHeight(action.record) })
          break
        case 'commit':
          store.walSynced = store.wal.length
          this.onCommit(node, action.committed)
          break
        case 'broadcast': {
          store.walSynced = store.wal.length
          // One input object for every receiver: inputs are never modified.
          const input: ReplicaInputBody = { kind: 'consensusMessage', from: node.id, bytes: action.bytes }
          for (const other of this.nodeIds) if (other !== node.id) this.send(node, other, input, verifyCost)
          break
        }
        case 'send':
          store.walSynced = store.wal.length
          if (this.nodes.has(action.to)) this.send(node, action.to, { kind: 'consensusMessage', from: node.id, bytes: action.bytes }, verifyCost)
          break
        case 'shareTransactions': {
          const delays = this.network.delays
          let dispatched = 0
          for (const other of this.nodeIds) {
            if (other === node.id) continue
            const target = this.nodes.get(other)!
            const count = this.network.routeInto(node.id, other)
            for (let i = 0; i < count; i++) target.arrivals.push(this.nowMs + delays[i]!, { kind: 'sharedTransactions', from: node.id, batch: action.batch, incarnation: target.incarnation })
            dispatched += count
          }
          // Counted once for all links: nothing reads the count before this action is done.
          if (dispatched > 0) action.batch.dispatched(dispatched)
          break
        }
        case 'gossipTransactions': {
          const input: ReplicaInputBody = { kind: 'transactionBatch', from: node.id, bytes: action.bytes }
          for (const other of this.nodeIds) if (other !== node.id) this.send(node, other, input, verifyCost * action.count)
          break
        }
        case 'scheduleTimeout':
          this.queue.push(this.nowMs + action.durationMs, { kind: 'input', to: node.id, incarnation: node.incarnation, input: { kind: 'timeout', timeout: action.timeout as ReplicaTimeout }, cost: 0 })
          break
        case 'loadBlocks': {
          const blocks: CertifiedBlock[] = []
          for (let height = action.fromHeight; height < action.fromHeight + action.count && height <= store.height; height++) {
            const block = this.archive.get(height)
            if (block === undefined) break
            blocks.push(block)
          }
          this.queue.push(this.nowMs, { kind: 'input', to: node.id, incarnation: node.incarnation, input: { kind: 'blocksLoaded', to: action.to, blocks }, cost: 0 })
          break
        }
        case 'evidence':
          node.evidence++
          this.events?.write({ t: this.nowMs, kind: 'evidence', node: node.id, evidence: action.evidence.kind, culprit: (action.evidence as { validator?: string }).validator })
          break
        case 'messageVerdict':
          break
      }
    }
  }

  private onCommit(node: SimNode, committed: CommittedBlock): void {
    const store = node.store
    store.height = committed.height
    store.timeMs = committed.block.header.timeMs
    store.stateRoot = committed.stateRoot
    store.tip = { height: committed.height, blockHash: committed.blockHash, timeMs: committed.block.header.timeMs, appHash: committed.stateRoot }
    store.wal = store.wal.filter((entry) => entry.height > committed.height)
    store.walSynced = store.wal.length
    if (!this.archive.has(committed.height)) {
      this.archive.set(committed.height, { block: committed.block, certificate: committed.certificate })
      // Pruning follows the lowest node's store height (sample()); this only bounds a run in which
      // a node stays down for good.
      if (this.archive.size > archiveBlocksMax) this.archive.delete(this.archive.keys().next().value as number)
    }
    this.checkers.onCommit(node.id, committed.height, committed.blockHash, committed.stateRoot, this.nowMs, resultsDigest(committed))
    this.traceLine(`c|${node.id}|${committed.height}|${bytesToHex(committed.blockHash)}`)
    if (committed.height > this.highestHeight) {
      this.highestHeight = committed.height
      this.events?.write({ t: this.nowMs, kind: 'block', height: committed.height, proposer: committed.block.header.proposer, transactions: committed.transactions.length })
    }
    // Receipts are read at the first commit of a height: later commits of the same block (the
    // agreement checker vouches for that) would find every transfer final already.
    if (committed.height <= this.receiptsReadHeight) return
    this.receiptsReadHeight = committed.height
    for (let i = 0; i < committed.receipts.length; i++) {
      const receipt = committed.receipts[i]!
      const index = this.tracked.finishPending(receipt.transactionId, this.nowMs, receipt.status, receipt.reason ?? '', receipt.received, false)
      if (index < 0) continue
      this.finalCount++
      if (receipt.status === 'settled' && this.enabledInvariants.has('policy')) {
        const info = this.tracked.infoOf(index)
        if (info.kind === 'payment') {
          const problem = this.policyChecker.check({
            payer: info.payer,
            payee: info.payee,
            payerJurisdiction: info.payerJurisdiction,
            payeeJurisdiction: info.payeeJurisdiction,
            payerToken: `${info.payerBank}.${info.currency}`,
            payeeToken: `${info.payeeBank}.${info.receivedCurrency}`,
            payerBank: info.payerBank,
            payeeBank: info.payeeBank
          })
          if (problem !== undefined) this.checkers.report({ invariant: 'policy', atMs: this.nowMs, node: node.id, height: committed.height, message: `transfer ${receipt.transactionId.slice(0, 12)} settled although ${problem}` })
        }
      }
      this.events?.write({ t: this.nowMs, kind: 'final', id: receipt.transactionId, status: receipt.status, reason: receipt.reason, height: committed.height })
    }
  }

  // Workload.

  private submit(submission: Submission, attempt: number): void {
    const node = this.nodes.get(submission.via)!
    const id = submission.envelope.id
    if (attempt === 0) {
      this.submitted++
      this.tracked.add(id, submission.info, this.nowMs, submission.via)
      this.traceLine(`s|${id}|${this.nowMs}`)
    }
    if (node.down || node.replica === undefined || node.pausedUntil > this.nowMs) {
      // The bank cannot reach its own node; its client retries.
      if (attempt < submitRetriesMax) this.queue.push(this.nowMs + retryMs, { kind: 'submit', submission, attempt: attempt + 1 })
      return
    }
    if (node.arrivals.size > 0) this.receiveSharedArrivals(node)
    const { results, actions } = node.replica.submit([submission.envelope], this.absolute())
    const result = results[0]!
    if (!result.ok) {
      if (this.tracked.finishPending(id, this.nowMs, 'rejected', result.code, undefined, true) >= 0) this.finalCount++
      this.admissionRefused[result.code] = (this.admissionRefused[result.code] ?? 0) + 1
    }
    this.perform(node, actions)
  }

  // Faults.

  private at(timeMs: number, label: string, apply: () => void): void {
    this.queue.push(timeMs, { kind: 'fault', label, apply })
    if (timeMs > this.lastFaultEndMs) this.lastFaultEndMs = timeMs
  }

  private scheduleFaults(): void {
    const scenario = this.scenario
    for (const fault of scenario.faults) this.scheduleFault(fault)
    const chaos = scenario.faults.flatMap((fault) => ('chaos' in fault ? [fault.chaos] : []))
    const random = this.random.fork('chaos')
    const f = Math.floor((this.nodeIds.length - 1) / 3)
    for (const window of chaos) {
      for (let t = window.from; t < window.until; t += window.every) {
        const kind = random.pick(window.kinds)
        const end = Math.min(t + window.recoverAfter, window.until)
        // At most f nodes faulty at once, so a quorum stays able to decide; the rest is network trouble.
        const victims = random.shuffle([...this.nodeIds]).slice(0, Math.max(1, f))
        switch (kind) {
          case 'crash':
            this.scheduleFault({ at: t, crash: victims[0]!, storage: random.pick(['intact', 'lose-unsynced', 'torn-wal'] as const) })
            this.scheduleFault({ at: end, restart: victims[0]! })
            break
          case 'pause':
            this.scheduleFault({ at: t, pause: victims[0]!, until: end })
            break
          case 'partition': {
            const shuffled = random.shuffle([...this.nodeIds])
            const cut = 1 + random.int(Math.max(1, shuffled.length - 1))
            this.scheduleFault({ at: t, partition: [shuffled.slice(0, cut), shuffled.slice(cut)], until: end })
            break
          }
          case 'delay':
            this.scheduleFault({ at: t, delay: { latency: 50 + random.int(450) }, until: end })
            break
          case 'drop':
            this.scheduleFault({ at: t, drop: { probability: 0.05 + random.next() * 0.25 }, until: end })
            break
          case 'duplicate':
            this.scheduleFault({ at: t, duplicate: { probability: 0.1 + random.next() * 0.4 }, until: end })
            break
        }
      }
    }
  }

  private scheduleFault(fault: ScenarioFault): void {
    const node = (id: string): SimNode => this.nodes.get(id)!
    if (('partition' in fault || 'delay' in fault || 'drop' in fault || 'duplicate' in fault) && fault.until === undefined) {
      const healed = this.scenario.faults.some((other) => 'heal' in other && other.at >= fault.at)
      if (!healed) this.unendingFault ??= `${Object.keys(fault).find((key) => key !== 'at' && key !== 'until')} at ${fault.at} ms`
    }
    if ('crash' in fault) this.at(fault.at, `crash ${fault.crash}${fault.storage === 'intact' ? '' : ` (${fault.storage})`}`, () => this.crash(node(fault.crash), fault.storage))
    else if ('restart' in fault) this.at(fault.at, `restart ${fault.restart}`, () => node(fault.restart).down && this.boot(node(fault.restart)))
    else if ('pause' in fault) {
      const until = fault.until ?? this.scenario.duration
      this.at(fault.at, `pause ${fault.pause}`, () => {
        node(fault.pause).pausedUntil = until
      })
      this.at(until, `resume ${fault.pause}`, () => this.resume(node(fault.pause)))
    } else if ('partition' in fault) {
      this.at(fault.at, `partition ${fault.partition.map((group) => group.join('+')).join(' | ')}`, () => this.network.partition(fault.partition))
      if (fault.until !== undefined) this.at(fault.until, 'heal partition', () => this.network.healPartition())
    } else if ('heal' in fault) this.at(fault.at, 'heal', () => this.network.healAll())
    else if ('delay' in fault || 'drop' in fault || 'duplicate' in fault) {
      let ruleId = 0
      const rule =
        'delay' in fault
          ? { ...(fault.delay.link ? { link: fault.delay.link } : {}), extraLatencyMs: fault.delay.latency }
          : 'drop' in fault
            ? { ...(fault.drop.link ? { link: fault.drop.link } : {}), dropProbability: fault.drop.probability }
            : { ...(fault.duplicate.link ? { link: fault.duplicate.link } : {}), duplicateProbability: fault.duplicate.probability }
      const name = 'delay' in fault ? `delay +${fault.delay.latency}ms` : 'drop' in fault ? `drop ${Math.round(fault.drop.probability * 100)}%` : `duplicate ${Math.round(fault.duplicate.probability * 100)}%`
      const link = 'link' in rule && rule.link !== undefined ? ` on ${rule.link.join('-')}` : ''
      this.at(fault.at, `${name}${link}`, () => {
        ruleId = this.network.addRule(rule)
      })
      if (fault.until !== undefined) this.at(fault.until, `end ${name}${link}`, () => this.network.removeRule(ruleId))
    } else if ('byzantine' in fault) {
      this.at(fault.at, `${fault.byzantine} turns Byzantine: ${fault.behaviour}`, () => this.setByzantine(node(fault.byzantine), byzantineFor(fault.behaviour, fault.byzantine, this.nodeIds)))
      if (fault.until !== undefined) this.at(fault.until, `${fault.byzantine} honest again`, () => this.setByzantine(node(fault.byzantine), undefined))
    }
  }

  private setByzantine(node: SimNode, byzantine: ReplicaByzantine | undefined): void {
    node.byzantine = byzantine
    node.replica?.setByzantine(byzantine ?? {})
  }

  private resume(node: SimNode): void {
    node.pausedUntil = 0
    node.resumedMs = this.nowMs
    const held = node.inbox.splice(0)
    for (const event of held) this.queue.push(this.nowMs, event)
  }

  // The end.

  private finish(): void {
    const digests = new Map<number, { node: string; digest: string }>()
    // Nodes sharing ledger content (execution: shared) at one height hand out one copy of it: digest it once.
    const digestOf = new Map<ReadonlyMap<string, unknown>, string>()
    for (const node of this.nodes.values()) {
      if (node.replica === undefined) continue
      const ledger = node.replica.ledgerState
      this.checkers.checkLedger(node.id, ledger, this.nowMs)
      // The state root chains each block's writes; comparing whole states also catches a node that
      // lost entries (say at a restart) which no later block happened to touch.
      if (this.enabledInvariants.has('state-root')) {
        const entries = ledger.entries
        let digest = digestOf.get(entries)
        if (digest === undefined) {
          digest = bytesToHex(fullStateDigest(ledger))
          digestOf.set(entries, digest)
        }
        const first = digests.get(ledger.height)
        if (first === undefined) digests.set(ledger.height, { node: node.id, digest })
        else if (first.digest !== digest) {
          this.checkers.report({ invariant: 'state-root', atMs: this.nowMs, node: node.id, height: ledger.height, message: `${node.id} and ${first.node} hold different ledger states at height ${ledger.height} (full-state digests ${digest.slice(0, 12)} and ${first.digest.slice(0, 12)})` })
        }
      }
    }
    // Liveness: once the last fault is over, every node that is up must have caught up.
    if (this.unendingFault !== undefined) {
      this.events?.write({ t: this.nowMs, kind: 'note', note: `liveness not judged: the ${this.unendingFault} never ends` })
    } else if (this.enabledInvariants.has('liveness') && this.lastFaultEndMs < this.scenario.duration) {
      const up = [...this.nodes.values()].filter((node) => !node.down)
      const top = Math.max(...up.map((node) => node.store.height))
      for (const node of up) {
        if (node.store.height < top - 1) {
          this.checkers.report({ invariant: 'liveness', atMs: this.nowMs, node: node.id, height: node.store.height, message: `${node.id} is at height ${node.store.height}, ${top - node.store.height} behind the others after faults healed` })
        }
      }
      const lastBlockMs = this.heightSeries.length > 0 ? this.heightSeries.findLast(([, h]) => h < top)?.[0] ?? 0 : 0
      if (top === 0 || (this.tracked.size > 0 && lastBlockMs < this.lastFaultEndMs && this.countPending() > 0)) {
        this.checkers.report({ invariant: 'liveness', atMs: this.nowMs, message: `no block finalized since the faults healed at ${this.lastFaultEndMs} ms while transfers are pending` })
      }
      // Added for `corridor sim fuzz` (the liveness phase of VOPR-style runs): once the network is
      // whole again nothing may stay stuck. Every transfer submitted after the last fault ended to
      // a node that is up must be final, given healedFinalityMs. Transfers submitted earlier may
      // have been lost with a crashed node's mempool, as in a real crash, so they are not counted.
      let stuck = 0
      let first: { id: string; via: string; submitMs: number } | undefined
      for (let index = 0; index < this.tracked.size; index++) {
        const submitMs = this.tracked.submitMsOf(index)
        if (this.tracked.isFinal(index) || submitMs < this.lastFaultEndMs || submitMs > this.nowMs - healedFinalityMs) continue
        const via = this.tracked.viaOf(index)
        if (this.nodes.get(via)?.down !== false) continue
        stuck++
        first ??= { id: this.tracked.idOf(index), via, submitMs }
      }
      if (first !== undefined) {
        this.checkers.report({
          invariant: 'liveness',
          atMs: this.nowMs,
          node: first.via,
          message: `${stuck} transfer${stuck === 1 ? '' : 's'} submitted after the faults healed at ${this.lastFaultEndMs} ms never became final (the first, ${first.id.slice(0, 12)}, submitted to ${first.via} at ${Math.round(first.submitMs)} ms)`
        })
      }
    }
  }

  private countPending(): number {
    return this.tracked.pendingCount
  }

  private traceLine(line: string): void {
    // Lines are hashed in batches: the hash of the concatenation is the same, and two native
    // calls per line (a million transfers make two million lines and more) cost more than the hashing.
    this.traceText += `${line}\n`
    if (this.traceText.length >= traceBatchChars) this.flushTrace()
  }

  private flushTrace(): void {
    this.trace.update(this.traceText)
    this.traceText = ''
  }
}

/** resultsDigest by receipts list: with shared execution every node commits the same list. */
const resultsDigests = new WeakMap<readonly unknown[], string>()

/** What a block's receipts said, compact: the state root does not cover reason codes or reports. */
function resultsDigest(committed: CommittedBlock): string {
  const cached = resultsDigests.get(committed.receipts)
  if (cached !== undefined) return cached
  let out = ''
  for (const receipt of committed.receipts) out += `${receipt.status === 'settled' ? 'S' : receipt.reason}${receipt.reports.length > 0 ? `+${receipt.reports.length}` : ''},`
  resultsDigests.set(committed.receipts, out)
  return out
}

function consensusLimitsOf(scenario: Scenario): Partial<ConsensusLimits> {
  const c = scenario.consensus
  const limits: Record<string, number> = {}
  if (c.timeoutPropose !== undefined) limits['timeoutProposeBaseMs'] = c.timeoutPropose
  if (c.timeoutPrevote !== undefined) limits['timeoutPrevoteBaseMs'] = c.timeoutPrevote
  if (c.timeoutPrecommit !== undefined) limits['timeoutPrecommitBaseMs'] = c.timeoutPrecommit
  if (c.timeoutCommit !== undefined) limits['timeoutCommitMs'] = c.timeoutCommit
  if (c.emptyBlockInterval !== undefined) limits['emptyBlockIntervalMs'] = c.emptyBlockInterval
  return limits as Partial<ConsensusLimits>
}

/** A scenario's Byzantine behaviour as the replica's and the engine's hooks. */
export function byzantineFor(behaviour: ScenarioByzantine, node: string, nodes: readonly string[]): ReplicaByzantine {
  switch (behaviour) {
    case 'equivocate':
      return { consensus: { equivocate: true } }
    case 'withhold-votes':
      return { consensus: { withholdVotes: true } }
    case 'invalid-signatures':
      return { consensus: { signGarbage: true } }
    case 'replay-transactions':
      return { replayTransactions: true }
    case 'censor':
      // Leaves out every transaction of other banks' customers.
      return { censorSigner: (signer) => !signer.startsWith(`${node}-`) }
    case 'partial-proposals':
      return { consensus: { proposeTo: nodes.filter((id) => id !== node).slice(0, Math.max(1, Math.floor((nodes.length - 1) / 2))) } }
  }
}

/** USD value of an amount at the opening rates, for reports. */
export function usdOf(fx: FxTable, amount: bigint, currency: string): number {
  const cents = convert(fx, amount, currency, 'USD')
  return cents === undefined ? 0 : Number(cents) / 100
}

export { formatAmount }
