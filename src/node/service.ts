/**
 * The bank node: a replica driven by LevelDB, libp2p and timers.
 *
 * One writer. Every input — a peer's consensus message or transaction batch, a timeout, blocks
 * loaded for a peer, a client submission — goes through one bounded queue and is processed
 * serially: the replica steps, and its actions are performed in order. `persist` is a synced WAL
 * append and `commit` a synced atomic batch, both awaited before the next action, so nothing
 * leaves the node before the record that commits the validator to it (persist -> send -> apply).
 * Sends are handed to libp2p in order and not awaited: a message lost to a dropped connection is
 * what consensus tolerates (timeouts, catch-up).
 *
 * Two lanes, one writer. Consensus inputs (peer consensus messages, timeouts, loaded blocks) go
 * before transaction inputs (peer transaction batches, client submissions): under load, thousands
 * of transactions waiting for their signature check must not hold a proposal or a vote back, or
 * rounds time out, the work of a round is thrown away and throughput collapses just when it is
 * needed. Between two transaction inputs the writer yields to the event loop, so consensus
 * messages that arrived meanwhile are read off the sockets and go first. Order within each lane is
 * kept; the replica never relied on order across them (a proposal whose transactions have not
 * arrived by gossip admits them itself).
 *
 * Bounds: the queue holds `inputQueueMax` network inputs; beyond, peer input is dropped (counted,
 * consensus recovers it). The transaction lane also holds at most `transactionQueueBytesMax` bytes
 * of transactions. Client submissions are refused with QUEUE_FULL (503) once either holds its
 * 1/n share (n validators), so a client offering more than the node can verify learns it at once
 * instead of waiting out a backlog of many seconds, and the rest stays for the peers' gossip, which
 * is n - 1 times what each node's own clients send: a batch a peer gossiped
 * holds transactions another node already accepted, and one dropped here is never sent again,
 * so this node could later propose a signer's next transaction without it and leave an accepted
 * payment stale. Timeouts and loaded blocks are never dropped: the engine schedules a bounded
 * number of them.
 *
 * Shape: options with documented defaults, components, a factory (`createNodeService`) and
 * start/stop, like the transport.
 */
import type { Logger } from 'pino'
import { assert } from '../protocol/assert.ts'
import { BoundedCache } from '../protocol/boundedCache.ts'
import { CorridorError } from '../protocol/errors.ts'
import { signTransaction, transactionToTuple, useTransactionIdHasher, type TransactionEnvelope } from '../protocol/envelope.ts'
import { encode, type Encodable } from '../protocol/encoding.ts'
import { encodedTransactionBytes } from './replica/admission.ts'
import { hexToBytes } from '../protocol/bytes.ts'
import type { SignatureVerifier, Signer } from '../protocol/keys.ts'
import {
  createCachingVerifier,
  createValidatorSet,
  describeEvidence,
  type ConsensusLimits,
  type ConsensusStatus,
  type ValidatorSet,
  type WalRecord
} from '../consensus/index.ts'
import { defaultConsensusLimits } from '../consensus/limits.ts'
import { usePayloadHasher } from '../consensus/block.ts'
import type { GenesisDocument } from '../ledger/genesis.ts'
import { lastNonceOf, type LedgerState } from '../ledger/state.ts'
import { encodeTransactionBody } from '../ledger/transactions.ts'
import { createNativeSigner, createNativeVerifier, type NativeVerifier } from '../platform/ed25519Native.ts'
import { nativeHashTagged } from '../platform/nativeHash.ts'
import { AdmissionCache } from './replica/admission.ts'
import type { ReplicaLimits } from './replica/limits.ts'
import { Replica, type CommittedBlock, type ReplicaAction, type ReplicaInput, type SubmitResult } from './replica/replica.ts'
import { createTransport, peerIdOf, type Transport, type TransportHandlers, type TransportOptions, type TransportComponents, type GossipTopicName } from './io/transport.ts'
import { LogThrottle } from './io/transportLogger.ts'
import { LevelStore, type StoredBlock, type StoredReceipt } from './store/index.ts'
import { NodeMetrics, type RejectionEdge } from './metrics.ts'
import { FaultLayer } from './io/faultLayer.ts'
import { byzantineHooksFor, type ByzantineBehaviourName } from './byzantine.ts'
import type { ValidatorEndpoint } from './config.ts'

export const nodeErrorCodes = ['QUEUE_FULL', 'NOT_RUNNING', 'UNKNOWN_CUSTOMER', 'BAD_PAYMENT'] as const
export type NodeErrorCode = (typeof nodeErrorCodes)[number]

export class NodeError extends CorridorError<NodeErrorCode> {
  constructor(code: NodeErrorCode, message: string) {
    super(code, message)
    this.name = 'NodeError'
  }
}

/**
 * What a real node changes from the engine's defaults (which keep the simulator's traces):
 * - an idle network makes one empty block a second rather than several (CometBFT's
 *   create_empty_blocks interval), which keeps the store, the logs and the peers quiet when
 *   nothing is paid;
 * - after deciding a height a validator waits 150 ms before the next (CometBFT's timeout_commit,
 *   1 s there by default). Each block costs the four nodes of a local cluster some 40 to 100 ms of CPU
 *   whatever it holds (proposal and votes through Noise, Yamux and gossipsub, vote signatures,
 *   synced WAL and block writes), and without the wait a loaded network made blocks as fast as
 *   consensus allowed, ten a second at 100 payments a second: measured on the cluster benchmark,
 *   the wait cut p99 finality from 870 to 410 ms at 100/s and from 7.0 to 2.0 s at 1,000/s on a
 *   loaded machine, and node CPU per payment at 1,000/s from 1.76 to 1.59 ms.
 */
export const nodeConsensusDefaults: Partial<ConsensusLimits> = { emptyBlockIntervalMs: 1000, timeoutCommitMs: 150 }

/**
 * What a real node changes from the replica's defaults (which keep the simulator's traces):
 * - newly admitted transactions are gossiped every 50 ms rather than 10. A gossip message costs
 *   its receivers far more than a transaction in it (Noise and Yamux frame it, gossipsub hashes
 *   and tracks it), and with clients submitting in batches every few ms, a 10 ms flush sent nearly
 *   one message per submission. At 50 ms the messages are several times fewer and larger;
 *   finality grows by at most 40 ms of the 50;
 * - a proposer holds back a signer whose next nonce it has not seen for 10 s rather than 3 before
 *   proposing the later ones (which leaves the missing one stale for good). On a loaded node a
 *   transaction waits longer than 3 s in queues, and a gossip batch a full queue dropped never
 *   comes again: on the cluster benchmark at saturation, 38 of 30,487 accepted payments went stale
 *   that way with 3 s. The node that accepted the missing one still proposes it in its turn (or
 *   re-announces it when a validator reconnects), after which the rest follow. Not longer: with
 *   30 s, proposers that lacked one nonce of many signers left them out of their blocks, and a
 *   saturated cluster's blocks shrank to 200 payments.
 */
export const nodeReplicaDefaults: Partial<ReplicaLimits> = { gossipFlushMs: 50, nonceGapGraceMs: 10_000 }

/** Own clients' pending transactions remembered for re-announcing (the oldest forgotten beyond). */
const ownPendingMax = 100_000
const ownDroppedMax = 10_000
/** How often, and how long at most, a re-announce waits for a reconnected peer's gossip subscription. */
const reannouncePollMs = 100
const reannounceWaitMs = 5_000

/** Transactions as gossip batches, bounded as the replica bounds its own (count, and bytes with room for the framing). */
function gossipBatches(envelopes: readonly TransactionEnvelope[], transactionsMax: number, bytesMax: number): Uint8Array[] {
  const out: Uint8Array[] = []
  let batch: Encodable[] = []
  let batchBytes = 0
  for (const envelope of envelopes) {
    const bytes = encodedTransactionBytes(envelope)
    if (batch.length > 0 && (batch.length >= transactionsMax || batchBytes + bytes > bytesMax - 16)) {
      out.push(encode(batch))
      batch = []
      batchBytes = 0
    }
    batch.push(transactionToTuple(envelope))
    batchBytes += bytes
  }
  if (batch.length > 0) out.push(encode(batch))
  return out
}

export interface NodeServiceOptions {
  readonly validatorId: string
  readonly secretKey: Uint8Array
  readonly genesisDocument: GenesisDocument
  /** The height-0 state built from the genesis document. */
  readonly genesis: LedgerState
  readonly validators: readonly ValidatorEndpoint[]
  /** Where LevelDB lives. */
  readonly dataDir: string
  readonly listen: string
  /** Customers the bank signs payments for. @default none */
  readonly customerSigners?: ReadonlyMap<string, Signer>
  /** Peer inputs and submissions waiting at most; beyond, peer input is dropped and submissions refused. @default 20_000 */
  readonly inputQueueMax?: number
  /** Bytes of transactions (peer batches and submissions) waiting at most; beyond, peer batches are dropped and submissions refused. @default 4 MiB */
  readonly transactionQueueBytesMax?: number
  /** Submissions remembered for the finality latency histogram (the older half forgotten in bulk). @default 200_000 */
  readonly trackedSubmissionsMax?: number
  readonly replicaLimits?: Partial<ReplicaLimits>
  readonly consensusLimits?: Partial<ConsensusLimits>
  /** Transport overrides (limits, gossip tuning). @default the transport's defaults */
  readonly transport?: Partial<Pick<TransportOptions, 'limits' | 'gossip'>>
  /** Testing only: a fault layer around the transport (io/faultLayer.ts), driven by `faults()`. @default none, no layer at all */
  readonly faultInjection?: { readonly seed?: number }
  /** Testing only: Byzantine behaviours may be switched at run time (`setByzantine`); `initial` are on from the start. @default not allowed */
  readonly byzantine?: { readonly initial: readonly ByzantineBehaviourName[] }
}

export interface NodeServiceComponents {
  /** The node's logger; each module logs through a child with its name. */
  readonly logger: Logger
  /** @default createTransport (libp2p) */
  readonly createTransport?: (options: TransportOptions, components: TransportComponents) => Transport
  /** Wall clock in ms. @default Date.now */
  readonly now?: () => number
  /** Called when the node hits an error it cannot continue from (a store write failed). */
  readonly onFatal?: (error: unknown) => void
}

export interface PaymentRequest {
  readonly payer: string
  readonly payee: string
  readonly payerToken: string
  readonly payeeToken: string
  readonly amount: bigint
  readonly purpose?: string | undefined
  readonly documentRef?: string | undefined
  readonly fxProvider?: string | undefined
}

export type TransactionStatus =
  | { readonly status: 'pending' }
  | { readonly status: 'final'; readonly receipt: StoredReceipt }
  /**
   * Accepted from this node's client, then neither pending here nor final. STALE_NONCE: a later
   * transaction of the same signer was committed first (after the proposer's nonce-gap wait), so
   * its nonce is spent and it will never execute. EVICTED: this node's mempool let it go; it is
   * not final either way, since a peer may still hold and commit it.
   */
  | { readonly status: 'dropped'; readonly code: 'STALE_NONCE' | 'EVICTED'; readonly message: string }
  | { readonly status: 'unknown' }

export interface NodeHealth {
  readonly validatorId: string
  readonly height: number
  readonly round: number
  readonly step: string
  readonly peers: number
  readonly validators: number
  readonly mempoolTransactions: number
  readonly inputQueueInputs: number
  /** Seconds since the last committed block's time (since genesis time at height 0). */
  readonly lastBlockAgeSeconds: number
}

type QueueItem =
  | { readonly kind: 'step'; readonly input: StepInput; readonly bounded: boolean }
  | { readonly kind: 'submit'; readonly envelopes: readonly TransactionEnvelope[]; readonly resolve: (results: SubmitResult[]) => void; readonly bytes: number }
  | { readonly kind: 'pay'; readonly request: PaymentRequest; readonly resolve: (result: SubmitResult) => void; readonly reject: (error: unknown) => void }

/** A FIFO with O(1) shift (an array and a head index, compacted now and then). */
class Fifo<T> {
  #items: Array<T | undefined> = []
  #head = 0
  get length(): number {
    return this.#items.length - this.#head
  }
  push(item: T): void {
    this.#items.push(item)
  }
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined
    const item = this.#items[this.#head]
    this.#items[this.#head++] = undefined
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items.splice(0, this.#head)
      this.#head = 0
    }
    return item
  }
  drain(): T[] {
    const rest = this.#items.slice(this.#head) as T[]
    this.#items = []
    this.#head = 0
    return rest
  }
}

/** Bytes a transaction is counted for in the transaction lane (its signing bytes and signature). */
function queuedBytesOf(envelopes: readonly TransactionEnvelope[]): number {
  let bytes = 0
  for (const envelope of envelopes) bytes += envelope.signingBytes.length + envelope.signature.length
  return bytes
}

/** The transaction lane: transaction batches from peers, client submissions and payments. */
function isTransactionInput(item: QueueItem): boolean {
  return item.kind !== 'step' || item.input.kind === 'transactionBatch'
}

/** Bytes an item takes in the transaction lane's bound. */
function transactionBytesOf(item: QueueItem): number {
  if (item.kind === 'submit') return item.bytes
  if (item.kind === 'pay') return 512
  return item.input.kind === 'transactionBatch' ? item.input.bytes.length : 0
}

type StepInput = ReplicaInput extends infer Input ? (Input extends unknown ? Omit<Input, 'nowMs'> : never) : never

const logThrottleIntervalMs = 10_000

export interface NodeService {
  readonly validatorId: string
  readonly metrics: NodeMetrics
  start(): Promise<void>
  /** Stops taking input, finishes the queue, then closes libp2p and LevelDB. */
  stop(): Promise<void>
  isRunning(): boolean
  /** Submits signed transactions; resolves once the replica admitted or refused each. */
  submit(envelopes: readonly TransactionEnvelope[]): Promise<SubmitResult[]>
  /** Signs a payment for one of the bank's customers (next nonce) and submits it. */
  pay(request: PaymentRequest): Promise<SubmitResult>
  transactionStatus(id: string): Promise<TransactionStatus>
  loadBlock(height: number): Promise<StoredBlock | undefined>
  /** Committed blocks from `fromHeight`, at most `count`, in height order. */
  loadBlocks(fromHeight: number, count: number): Promise<StoredBlock[]>
  /** Every receipt of a committed block, in block order (undefined if the store has none for it). */
  loadBlockReceipts(height: number): Promise<StoredReceipt[] | undefined>
  /** The hash of the block `ledger()` is at (the genesis tip's at height 0). */
  lastBlockHash(): Uint8Array
  /** The height of the last block written to the store: blocks up to it can be loaded (ledger() may be one ahead while it is written). */
  storedHeight(): number
  /** The validators (bank ids) connected to this node now. */
  connectedPeers(): string[]
  ledger(): LedgerState
  validatorList(): readonly ValidatorEndpoint[]
  consensusStatus(): ConsensusStatus
  health(): NodeHealth
  listenAddresses(): string[]
  /** The fault layer, when the node was started with fault injection. */
  faults(): FaultLayer | undefined
  /** The Byzantine behaviours on now, or undefined when the node does not allow them. */
  byzantineBehaviours(): readonly ByzantineBehaviourName[] | undefined
  /** Switches Byzantine behaviours (an empty list: honest). Only on a node that allows them. */
  setByzantine(behaviours: readonly ByzantineBehaviourName[]): void
  readonly chainId: string
  readonly genesisDocument: GenesisDocument
}

export function createNodeService(options: NodeServiceOptions, components: NodeServiceComponents): NodeService {
  return new ReplicaNodeService(options, components)
}

class ReplicaNodeService implements NodeService {
  readonly validatorId: string
  readonly chainId: string
  readonly genesisDocument: GenesisDocument
  readonly metrics: NodeMetrics
  readonly #options: NodeServiceOptions
  readonly #logger: Logger
  readonly #consensusLog: Logger
  readonly #storeLog: Logger
  readonly #now: () => number
  readonly #onFatal: (error: unknown) => void
  readonly #makeTransport: NonNullable<NodeServiceComponents['createTransport']>
  readonly #inputQueueMax: number
  readonly #trackedMax: number
  readonly #validatorSet: ValidatorSet
  readonly #validatorByPeer = new Map<string, string>()
  readonly #peerByValidator = new Map<string, string>()
  readonly #throttle: LogThrottle
  readonly #consensusVerifier: SignatureVerifier
  readonly #transactionVerifier: NativeVerifier
  readonly #admission: AdmissionCache
  readonly #transactionQueueBytesMax: number
  /** The share of the two bounds client submissions may use (1/n of each): the rest is the peers'. */
  readonly #clientInputsMax: number
  readonly #clientTransactionBytesMax: number
  /** Consensus lane: peer consensus messages, timeouts, loaded blocks, start. */
  readonly #urgent = new Fifo<QueueItem>()
  /** Transaction lane: peer transaction batches, submissions, payments. */
  readonly #transactionLane = new Fifo<QueueItem>()
  #boundedInQueue = 0
  #transactionBytesQueued = 0
  readonly #timers = new Set<ReturnType<typeof setTimeout>>()
  /** Submission time by transaction id, for the finality latency histogram; -1 once observed. */
  readonly #submittedAt: BoundedCache<string, number>
  /**
   * Per customer, the highest nonce this node signed that may not be committed yet: accepted
   * payments waiting in the mempool, and (after a restart) what the store says was signed before.
   * An entry leaves once the committed ledger's nonce reaches it, so the map holds only customers
   * with payments in flight (at most the mempool's bound) plus those of the key store at start.
   */
  readonly #issuedNonces = new Map<string, bigint>()
  #store: LevelStore | undefined
  #replica: Replica | undefined
  #transport: Transport | undefined
  #state: 'created' | 'starting' | 'running' | 'stopping' | 'stopped' = 'created'
  #pumping: Promise<void> | undefined
  readonly #faultLayer: FaultLayer | undefined
  #byzantine: readonly ByzantineBehaviourName[] | undefined

  constructor(options: NodeServiceOptions, components: NodeServiceComponents) {
    this.#options = options
    this.validatorId = options.validatorId
    this.chainId = options.genesisDocument.chainId
    this.genesisDocument = options.genesisDocument
    this.#logger = components.logger.child({ module: 'node' })
    this.#consensusLog = components.logger.child({ module: 'consensus' })
    this.#storeLog = components.logger.child({ module: 'store' })
    this.#now = components.now ?? Date.now
    this.#onFatal = components.onFatal ?? (() => {})
    this.#makeTransport = components.createTransport ?? createTransport
    this.#inputQueueMax = options.inputQueueMax ?? 20_000
    this.#transactionQueueBytesMax = options.transactionQueueBytesMax ?? 4 * 1024 * 1024
    this.#clientInputsMax = Math.max(1, Math.floor(this.#inputQueueMax / options.validators.length))
    this.#clientTransactionBytesMax = Math.max(1, Math.floor(this.#transactionQueueBytesMax / options.validators.length))
    this.#trackedMax = options.trackedSubmissionsMax ?? 200_000
    assert(this.#inputQueueMax >= 1 && this.#trackedMax >= 2, 'queue bounds are positive')
    this.#submittedAt = new BoundedCache(this.#trackedMax)
    this.#throttle = new LogThrottle(logThrottleIntervalMs, this.#now)
    this.#validatorSet = createValidatorSet(options.validators.map((v) => ({ id: v.id, publicKey: v.publicKey, power: v.power })))
    for (const validator of options.validators) {
      const peerId = peerIdOf(validator.publicKey)
      this.#validatorByPeer.set(peerId, validator.id)
      this.#peerByValidator.set(validator.id, peerId)
    }
    // Native Ed25519 behind the caches: each signature is verified once per process.
    this.#consensusVerifier = createCachingVerifier(createNativeVerifier())
    this.#transactionVerifier = createNativeVerifier()
    this.#admission = new AdmissionCache({ chainId: this.chainId, verifier: this.#transactionVerifier })
    // Transaction ids and block payload hashes on node:crypto: the same SHA-256, several times faster.
    useTransactionIdHasher(nativeHashTagged)
    usePayloadHasher(nativeHashTagged)
    this.#byzantine = options.byzantine === undefined ? undefined : [...new Set(options.byzantine.initial)]
    this.metrics = new NodeMetrics(options.validatorId, {
      transportCounters: () => this.#transport?.counters,
      peers: () => (this.#transport?.isRunning() === true ? this.#transport.peers().length : 0),
      mempoolTransactions: () => this.#replica?.mempoolSize ?? 0,
      round: () => this.#replica?.consensus.status().round ?? 0,
      inputQueueLength: () => this.#urgent.length + this.#transactionLane.length,
      signatureChecks: () => ({ verified: this.#admission?.verifications ?? 0, cached: this.#admission?.hits ?? 0 })
    })
    if (options.faultInjection !== undefined) {
      this.#faultLayer = new FaultLayer({
        bankOf: (peerId) => this.#validatorByPeer.get(peerId),
        peerOf: (bank) => this.#peerByValidator.get(bank),
        onFault: (kind) => this.metrics.injectedFaults.inc({ kind }),
        ...(options.faultInjection.seed === undefined ? {} : { seed: options.faultInjection.seed })
      })
    }
  }

  isRunning(): boolean {
    return this.#state === 'running'
  }

  async start(): Promise<void> {
    assert(this.#state === 'created', 'a node service starts once')
    this.#state = 'starting'
    const options = this.#options
    const consensusLimits = { ...nodeConsensusDefaults, ...options.consensusLimits }
    const limits = { ...defaultConsensusLimits, ...consensusLimits }
    // Parse the genesis accounts' keys now rather than at each one's first payment under load.
    const document = options.genesisDocument
    const started = performance.now()
    const preloaded = this.#transactionVerifier.preload(
      (function* () {
        for (const list of [document.customers, document.banks, document.centralBanks, document.fxProviders]) for (const entity of list) yield hexToBytes(entity.publicKey)
      })()
    )
    this.#logger.debug({ keys: preloaded, ms: Math.round(performance.now() - started) }, 'account keys parsed')
    const store = await LevelStore.open({ path: options.dataDir, genesis: options.genesis, consensusLimits: limits })
    this.#store = store
    const recovered = store.recovered
    this.#storeLog.info({ height: recovered.tip.height, walRecords: recovered.wal.length, walDropped: recovered.walDropped, dataDir: options.dataDir }, 'store recovered')
    for (const [customer, nonce] of await store.loadIssuedNonces()) {
      if (nonce > lastNonceOf(recovered.ledger, customer)) this.#issuedNonces.set(customer, nonce)
    }
    if (recovered.walDropped > 0) this.#storeLog.warn({ walDropped: recovered.walDropped }, 'torn WAL tail dropped')
    this.#replica = new Replica({
      chainId: this.chainId,
      validatorId: this.validatorId,
      signer: createNativeSigner(options.secretKey),
      validatorSet: this.#validatorSet,
      consensusVerifier: this.#consensusVerifier,
      admission: this.#admission,
      ledger: recovered.ledger,
      tip: recovered.tip,
      wal: recovered.wal as WalRecord[],
      limits: { ...nodeReplicaDefaults, ...options.replicaLimits },
      consensusLimits,
      ...(this.#byzantine === undefined || this.#byzantine.length === 0 ? {} : { byzantine: this.#byzantineHooks(this.#byzantine) })
    })
    if (this.#byzantine !== undefined && this.#byzantine.length > 0) this.#logger.warn({ behaviours: this.#byzantine }, 'Byzantine behaviours on (testing only)')
    this.metrics.height.set(recovered.tip.height)
    this.#ledgerTipHash = recovered.tip.blockHash
    const handlers: TransportHandlers = {
      onMessage: (topic, bytes, fromPeer) => this.#onPeerMessage(topic, bytes, fromPeer),
      onDirect: (bytes, fromPeer) => this.#onPeerMessage('consensus', bytes, fromPeer),
      onPeerConnected: (peerId) => this.#onPeerConnected(peerId),
      // Catch-up runs on the engine's own block requests and responses (docs/consensus.md).
      onRequest: async () => {
        throw new Error('this node serves no sync requests')
      }
    }
    const layer = this.#faultLayer
    if (layer !== undefined) this.#logger.warn({}, 'fault injection enabled (testing only)')
    const made = this.#makeTransport(
      {
        chainId: this.chainId,
        secretKey: options.secretKey,
        validators: options.validators.map((v) => ({ publicKey: v.publicKey, addresses: v.id === this.validatorId ? [] : [v.address] })),
        listenAddresses: [options.listen],
        ...(options.transport?.limits === undefined ? {} : { limits: options.transport.limits }),
        ...(options.transport?.gossip === undefined ? {} : { gossip: options.transport.gossip })
      },
      { handlers: layer === undefined ? handlers : layer.wrapHandlers(handlers), logger: this.#logger.child({ module: 'transport' }), now: this.#now }
    )
    const transport = layer === undefined ? made : layer.wrapTransport(made)
    this.#transport = transport
    try {
      await transport.start()
    } catch (error) {
      await store.close().catch(() => {})
      this.#state = 'stopped'
      throw error
    }
    this.#state = 'running'
    this.#logger.info({ height: recovered.tip.height, listen: transport.listenAddresses(), signatures: this.#transactionVerifier.backend }, 'node started')
    this.#enqueue({ kind: 'step', input: { kind: 'start' }, bounded: false })
  }

  async stop(): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'stopping') return
    if (this.#state === 'created') {
      this.#state = 'stopped'
      return
    }
    this.#state = 'stopping'
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
    // Finish what was queued: a commit half performed is not an option; a queued peer message is cheap.
    while (this.#pumping !== undefined) await this.#pumping
    for (const item of [...this.#urgent.drain(), ...this.#transactionLane.drain()]) {
      if (item.kind === 'submit') item.resolve(item.envelopes.map((envelope) => ({ ok: false, id: envelope.id, code: 'NOT_RUNNING', message: 'the node is stopping' })))
      else if (item.kind === 'pay') item.reject(new NodeError('NOT_RUNNING', 'the node is stopping'))
    }
    this.#boundedInQueue = 0
    this.#transactionBytesQueued = 0
    await this.#transport?.stop().catch((error: unknown) => this.#logger.warn({ err: error }, 'transport stop failed'))
    await this.#store?.close().catch((error: unknown) => this.#storeLog.error({ err: error }, 'store close failed'))
    this.#state = 'stopped'
    this.#logger.info({ height: this.#replica?.height }, 'node stopped')
  }

  // Inputs.

  submit(envelopes: readonly TransactionEnvelope[]): Promise<SubmitResult[]> {
    if (this.#state !== 'running') return Promise.reject(new NodeError('NOT_RUNNING', 'the node is not running'))
    if (this.#boundedInQueue >= this.#clientInputsMax) {
      this.metrics.reject('queue', 'QUEUE_FULL')
      return Promise.reject(new NodeError('QUEUE_FULL', `the node has ${this.#boundedInQueue} inputs waiting; try again shortly`))
    }
    const bytes = queuedBytesOf(envelopes)
    if (this.#transactionBytesQueued > 0 && this.#transactionBytesQueued + bytes > this.#clientTransactionBytesMax) {
      this.metrics.reject('queue', 'QUEUE_FULL')
      return Promise.reject(new NodeError('QUEUE_FULL', `the node has ${this.#transactionBytesQueued} bytes of transactions waiting for their checks; try again shortly`))
    }
    return new Promise((resolve) => this.#enqueue({ kind: 'submit', envelopes, resolve, bytes }))
  }

  pay(request: PaymentRequest): Promise<SubmitResult> {
    if (this.#state !== 'running') return Promise.reject(new NodeError('NOT_RUNNING', 'the node is not running'))
    if (!(this.#options.customerSigners?.has(request.payer) ?? false)) {
      return Promise.reject(new NodeError('UNKNOWN_CUSTOMER', `${request.payer} is not a customer whose key this node holds`))
    }
    if (this.#boundedInQueue >= this.#clientInputsMax) {
      this.metrics.reject('queue', 'QUEUE_FULL')
      return Promise.reject(new NodeError('QUEUE_FULL', `the node has ${this.#boundedInQueue} inputs waiting; try again shortly`))
    }
    return new Promise((resolve, reject) => this.#enqueue({ kind: 'pay', request, resolve, reject }))
  }

  #onPeerMessage(topic: GossipTopicName, bytes: Uint8Array, fromPeer: string): void {
    const from = this.#validatorByPeer.get(fromPeer)
    const edge: RejectionEdge = topic === 'consensus' ? 'consensus' : 'gossip'
    if (from === undefined) {
      // The transport admits validators only; a second check costs nothing.
      this.#rejected(edge, 'NOT_VALIDATOR', fromPeer)
      return
    }
    if (this.#state !== 'running') return
    if (this.#boundedInQueue >= this.#inputQueueMax || (topic !== 'consensus' && this.#transactionBytesQueued + bytes.length > this.#transactionQueueBytesMax)) {
      this.#rejected(edge, 'QUEUE_FULL', from)
      return
    }
    const input: StepInput = topic === 'consensus' ? { kind: 'consensusMessage', from, bytes } : { kind: 'transactionBatch', from, bytes }
    this.#enqueue({ kind: 'step', input, bounded: true })
  }

  #enqueue(item: QueueItem): void {
    if (item.kind !== 'step' || item.bounded) this.#boundedInQueue++
    if (isTransactionInput(item)) {
      this.#transactionBytesQueued += transactionBytesOf(item)
      this.#transactionLane.push(item)
    } else {
      this.#urgent.push(item)
    }
    if (this.#pumping === undefined) this.#pumping = this.#pump()
  }

  async #pump(): Promise<void> {
    try {
      for (;;) {
        let item = this.#urgent.shift()
        const transactions = item === undefined
        if (transactions) {
          item = this.#transactionLane.shift()
          if (item === undefined) break
          this.#transactionBytesQueued -= transactionBytesOf(item)
        }
        if (item!.kind !== 'step' || (item as { bounded: boolean }).bounded) this.#boundedInQueue--
        await this.#process(item!)
        // After transaction work, let the event loop read what arrived meanwhile (consensus
        // messages go first); awaiting a settled promise alone would not leave the microtask queue.
        if (transactions && this.#transactionLane.length > 0) await new Promise<void>((resolve) => setImmediate(resolve))
      }
    } catch (error) {
      // A store write failed: the node cannot know what is durable. Stop, as an assertion would.
      this.#logger.fatal({ err: error }, 'node failed; stopping')
      this.#pumping = undefined
      this.#onFatal(error)
      return
    }
    this.#pumping = undefined
  }

  async #process(item: QueueItem): Promise<void> {
    const replica = this.#replica
    assert(replica !== undefined, 'the replica exists while the queue runs')
    const nowMs = this.#now()
    switch (item.kind) {
      case 'step':
        return this.#perform(replica.step({ ...item.input, nowMs } as ReplicaInput))
      case 'submit': {
        const { results, actions } = replica.submit(item.envelopes, nowMs)
        this.#afterSubmit(results, nowMs, item.envelopes)
        item.resolve(results)
        return this.#perform(actions)
      }
      case 'pay': {
        let envelope: TransactionEnvelope
        try {
          envelope = this.#signPayment(item.request, replica.ledgerState)
        } catch (error) {
          item.reject(error)
          return
        }
        const { results, actions } = replica.submit([envelope], nowMs)
        const result = results[0]!
        if (result.ok) {
          // Only an accepted payment uses its nonce: a refused one (a full mempool, say) leaves no
          // gap, and the next payment of the customer takes the same nonce.
          this.#issuedNonces.set(item.request.payer, envelope.nonce)
          await this.#store!.saveIssuedNonce(item.request.payer, envelope.nonce)
        }
        this.#afterSubmit(results, nowMs, [envelope])
        item.resolve(result)
        return this.#perform(actions)
      }
    }
  }

  #afterSubmit(results: readonly SubmitResult[], nowMs: number, envelopes: readonly TransactionEnvelope[]): void {
    assert(results.length === envelopes.length, 'one submit result per envelope')
    for (const [index, result] of results.entries()) {
      if (result.ok) {
        this.#submittedAt.set(result.id, nowMs)
        this.#rememberOwnPending(envelopes[index]!)
      } else {
        this.metrics.reject('admission', result.code)
      }
    }
  }

  #signPayment(request: PaymentRequest, ledger: LedgerState): TransactionEnvelope {
    const signer = this.#options.customerSigners?.get(request.payer)
    if (signer === undefined) throw new NodeError('UNKNOWN_CUSTOMER', `${request.payer} is not a customer whose key this node holds`)
    const currencyOf = (token: string): string => token.slice(token.indexOf('.') + 1)
    const fxProvider = request.fxProvider ?? (currencyOf(request.payerToken) !== currencyOf(request.payeeToken) ? this.genesisDocument.fxProviders[0]?.id : undefined)
    let body
    try {
      body = encodeTransactionBody({
        kind: 'payment',
        payee: request.payee,
        payerToken: request.payerToken,
        payeeToken: request.payeeToken,
        amount: request.amount,
        purpose: request.purpose,
        documentRef: request.documentRef,
        fxProvider
      })
    } catch (error) {
      throw new NodeError('BAD_PAYMENT', error instanceof Error ? error.message : String(error))
    }
    // The next nonce: above the committed ledger's and above every one this node signed that may
    // still be pending (in this mempool, or in a peer's after a restart). Signing one already
    // pending elsewhere would make one of the two a replay, and the payment that loses is lost.
    const committed = lastNonceOf(ledger, request.payer)
    const issued = this.#issuedNonces.get(request.payer) ?? 0n
    const nonce = (committed >= issued ? committed : issued) + 1n
    return signTransaction({ chainId: this.chainId, signer: request.payer, publicKey: signer.publicKey, nonce, body }, signer)
  }

  // Actions, in order.

  async #perform(actions: readonly ReplicaAction[]): Promise<void> {
    const store = this.#store!
    const transport = this.#transport!
    // The replica has already dropped decided transactions from its mempool; until their block is
    // written their receipts are not in the store, and a status query must not answer "unknown" in
    // between, not even while an earlier action of this list (a WAL append) is being awaited.
    for (const action of actions) {
      if (action.kind === 'commit') for (const tx of action.committed.transactions) this.#committing.add(tx.id)
    }
    for (let i = 0; i < actions.length; i++) {
      const action = actions[i]!
      switch (action.kind) {
        case 'persist': {
          // Consecutive records go in one synced batch: one fsync, the same guarantee.
          const records = [action]
          while (i + 1 < actions.length && actions[i + 1]!.kind === 'persist') records.push(actions[++i] as typeof action)
          const started = performance.now()
          await store.appendWal(records)
          this.metrics.storeWriteSeconds.observe({ kind: 'wal' }, (performance.now() - started) / 1000)
          break
        }
        case 'commit': {
          const started = performance.now()
          this.#ledgerTipHash = action.committed.blockHash
          await store.commitBlock(action.committed)
          for (const tx of action.committed.transactions) {
            this.#committing.delete(tx.id)
            this.#ownPending.delete(tx.id)
          }
          this.metrics.storeWriteSeconds.observe({ kind: 'block' }, (performance.now() - started) / 1000)
          this.#onCommitted(action.committed)
          break
        }
        case 'broadcast':
          if (this.#state === 'running') this.#publish(transport, 'consensus', action.bytes)
          break
        case 'send': {
          const peerId = this.#peerByValidator.get(action.to)
          if (peerId === undefined || this.#state !== 'running') break
          transport.send(peerId, action.bytes).catch((error: unknown) => {
            this.#throttle.maybeLog(`send:${action.to}`, (suppressed) => this.#logger.debug({ to: action.to, err: (error as Error).message, suppressed }, 'direct send failed'))
          })
          break
        }
        case 'gossipTransactions':
          if (this.#state === 'running') this.#publish(transport, 'transactions', action.bytes)
          break
        case 'scheduleTimeout': {
          if (this.#state !== 'running' && this.#state !== 'starting') break
          const timer = setTimeout(() => {
            this.#timers.delete(timer)
            if (this.#state === 'running') this.#enqueue({ kind: 'step', input: { kind: 'timeout', timeout: action.timeout }, bounded: false })
          }, action.durationMs)
          this.#timers.add(timer)
          break
        }
        case 'loadBlocks': {
          const blocks = await store.loadBlocks(action.fromHeight, action.count)
          this.#enqueue({ kind: 'step', input: { kind: 'blocksLoaded', to: action.to, blocks }, bounded: false })
          break
        }
        case 'evidence':
          this.metrics.evidence.inc()
          this.#consensusLog.warn({ evidence: describeEvidence(action.evidence) }, 'misbehaviour detected')
          await store.saveEvidence(action.evidence)
          break
        case 'messageVerdict':
          if (action.verdict === 'reject') this.#rejected(action.code === 'BATCH_MALFORMED' ? 'gossip' : 'consensus', action.code ?? 'REJECTED', action.from)
          break
      }
    }
  }

  #publish(transport: Transport, topic: GossipTopicName, bytes: Uint8Array): void {
    transport.publish(topic, bytes).catch((error: unknown) => {
      this.#throttle.maybeLog(`publish:${topic}`, (suppressed) => this.#logger.debug({ topic, err: (error as Error).message, suppressed }, 'publish failed'))
    })
  }

  #onCommitted(committed: CommittedBlock): void {
    const nowMs = this.#now()
    this.metrics.height.set(committed.height)
    this.metrics.blocksCommitted.inc()
    this.metrics.transactionsCommitted.inc(committed.transactions.length)
    const previousTimeMs = this.#lastBlockTimeMs
    if (previousTimeMs !== undefined) this.metrics.blockIntervalSeconds.observe(Math.max(0, committed.block.header.timeMs - previousTimeMs) / 1000)
    this.#lastBlockTimeMs = committed.block.header.timeMs
    const ledger = this.#replica!.ledgerState
    for (const tx of committed.transactions) {
      const issued = this.#issuedNonces.get(tx.signer)
      if (issued !== undefined && issued <= lastNonceOf(ledger, tx.signer)) this.#issuedNonces.delete(tx.signer)
      const submittedMs = this.#submittedAt.get(tx.id)
      if (submittedMs === undefined || submittedMs < 0) continue
      this.#submittedAt.set(tx.id, -1)
      this.metrics.finalityLatencySeconds.observe(Math.max(0, nowMs - submittedMs) / 1000)
    }
    this.#consensusLog.debug({ height: committed.height, transactions: committed.transactions.length, source: committed.source }, 'block committed')
  }

  #lastBlockTimeMs: number | undefined
  /** The hash of the block the replica's ledger is at (the store's tip may lag it by one write). */
  #ledgerTipHash: Uint8Array = new Uint8Array(32)
  /** Ids of decided blocks not written yet (see `commit` in #perform). */
  readonly #committing = new Set<string>()

  // Re-announcing pending transactions to a validator that (re)connects.
  //
  // Gossip replays nothing: a validator that was down, restarting or cut off when a transaction
  // was gossiped never receives it, and may then commit the signer's next transaction (nonces
  // need only increase), which leaves the earlier one stale although this node accepted it. So a
  // node remembers the transactions its own clients submitted until they commit, and when a
  // validator connects (or a test's fault layer unblocks one) it publishes those still pending
  // again, once the peer is subscribed. Peers that have them already count them as duplicates.

  /** Own clients' accepted transactions not committed yet, oldest first. */
  readonly #ownPending = new Map<string, TransactionEnvelope>()
  /** Own clients' accepted transactions found neither pending nor committed, newest last (transactionStatus: 'dropped'). */
  readonly #ownDropped = new Map<string, TransactionEnvelope>()
  /** Validators connected since the last re-announce, waiting for their gossip subscription. */
  readonly #announceTo = new Set<string>()
  #announceTimer: ReturnType<typeof setTimeout> | undefined
  #announceDeadlineMs = 0

  #rememberOwnPending(envelope: TransactionEnvelope): void {
    this.#ownPending.set(envelope.id, envelope)
    if (this.#ownPending.size > ownPendingMax) this.#ownPending.delete(this.#ownPending.keys().next().value!)
  }

  #onPeerConnected(peerId: string): void {
    if (this.#state !== 'running' || !this.#validatorByPeer.has(peerId)) return
    this.#announceTo.add(peerId)
    this.#announceDeadlineMs = this.#now() + reannounceWaitMs
    this.#scheduleReannounce()
  }

  #scheduleReannounce(): void {
    if (this.#announceTimer !== undefined) return
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      this.#announceTimer = undefined
      this.#reannounce()
    }, reannouncePollMs)
    this.#announceTimer = timer
    this.#timers.add(timer)
  }

  #reannounce(): void {
    const transport = this.#transport
    if (this.#state !== 'running' || transport === undefined || this.#announceTo.size === 0) return
    const subscribed = new Set(transport.gossipPeers('transactions'))
    const waiting = [...this.#announceTo].some((peerId) => !subscribed.has(peerId))
    // A peer that just connected learns our subscriptions, and we its, within a round trip or two.
    if (waiting && this.#now() < this.#announceDeadlineMs) {
      this.#scheduleReannounce()
      return
    }
    const peers = [...this.#announceTo].map((peerId) => this.#validatorByPeer.get(peerId))
    this.#announceTo.clear()
    const replica = this.#replica!
    const pending: TransactionEnvelope[] = []
    for (const [id, envelope] of this.#ownPending) {
      if (replica.hasPending(id)) pending.push(envelope)
      else if (!this.#committing.has(id)) {
        // Superseded by a later nonce, or evicted: kept a while so its client can learn why.
        this.#ownPending.delete(id)
        this.#ownDropped.set(id, envelope)
        if (this.#ownDropped.size > ownDroppedMax) this.#ownDropped.delete(this.#ownDropped.keys().next().value!)
      }
    }
    if (pending.length === 0) return
    const batches = gossipBatches(pending, this.#replica!.limits.gossipBatchTransactionsMax, this.#replica!.limits.gossipBatchBytesMax)
    for (const bytes of batches) this.#publish(transport, 'transactions', bytes)
    this.metrics.reannounced.inc(pending.length)
    this.#logger.info({ peers, transactions: pending.length, batches: batches.length }, 'pending transactions re-announced to reconnected validators')
  }

  #rejected(edge: RejectionEdge, reason: string, from: string): void {
    this.metrics.reject(edge, reason)
    this.#throttle.maybeLog(`reject:${edge}:${reason}`, (suppressed) => this.#logger.warn({ edge, reason, from, suppressed }, 'input rejected'))
  }

  // Queries.

  async transactionStatus(id: string): Promise<TransactionStatus> {
    if (this.#replica?.hasPending(id) === true || this.#committing.has(id)) return { status: 'pending' }
    const receipt = await this.#store?.loadReceipt(id)
    if (receipt !== undefined) return { status: 'final', receipt }
    const accepted = this.#ownPending.get(id) ?? this.#ownDropped.get(id)
    if (accepted !== undefined && this.#replica !== undefined) {
      const last = lastNonceOf(this.#replica.ledgerState, accepted.signer)
      if (accepted.nonce <= last) {
        return {
          status: 'dropped',
          code: 'STALE_NONCE',
          message: `${accepted.signer}'s nonce ${last} was committed before this transaction's ${accepted.nonce} (a later transaction went first after the nonce-gap wait); it will not execute: sign it again with a nonce above ${last}`
        }
      }
      return {
        status: 'dropped',
        code: 'EVICTED',
        message: 'this node accepted the transaction but no longer holds it; it is not final: a peer may still commit it. Send the same signed bytes again (POST /v1/transactions), never a new transaction for the same payment, which could execute as well'
      }
    }
    return { status: 'unknown' }
  }

  async loadBlock(height: number): Promise<StoredBlock | undefined> {
    return this.#store?.loadBlock(height)
  }

  async loadBlocks(fromHeight: number, count: number): Promise<StoredBlock[]> {
    return this.#store?.loadBlocks(fromHeight, count) ?? []
  }

  async loadBlockReceipts(height: number): Promise<StoredReceipt[] | undefined> {
    return this.#store?.loadBlockReceipts(height)
  }

  lastBlockHash(): Uint8Array {
    return this.#ledgerTipHash
  }

  storedHeight(): number {
    return this.#store?.tip.height ?? 0
  }

  connectedPeers(): string[] {
    if (this.#transport?.isRunning() !== true) return []
    const out: string[] = []
    for (const peerId of this.#transport.peers()) {
      const bank = this.#validatorByPeer.get(peerId)
      if (bank !== undefined) out.push(bank)
    }
    return out.sort()
  }

  ledger(): LedgerState {
    assert(this.#replica !== undefined, 'the node started')
    return this.#replica.ledgerState
  }

  validatorList(): readonly ValidatorEndpoint[] {
    return this.#options.validators
  }

  consensusStatus(): ConsensusStatus {
    assert(this.#replica !== undefined, 'the node started')
    return this.#replica.consensus.status()
  }

  health(): NodeHealth {
    const replica = this.#replica
    const status = replica?.consensus.status()
    const ledger = replica?.ledgerState
    return {
      validatorId: this.validatorId,
      height: ledger?.height ?? 0,
      round: status?.round ?? 0,
      step: status?.step ?? 'propose',
      peers: this.#transport?.isRunning() === true ? this.#transport.peers().length : 0,
      validators: this.#options.validators.length,
      mempoolTransactions: replica?.mempoolSize ?? 0,
      inputQueueInputs: this.#urgent.length + this.#transactionLane.length,
      lastBlockAgeSeconds: ledger === undefined ? 0 : Math.max(0, this.#now() - ledger.timeMs) / 1000
    }
  }

  listenAddresses(): string[] {
    return this.#transport?.isRunning() === true ? this.#transport.listenAddresses() : []
  }

  faults(): FaultLayer | undefined {
    return this.#faultLayer
  }

  byzantineBehaviours(): readonly ByzantineBehaviourName[] | undefined {
    return this.#byzantine
  }

  setByzantine(behaviours: readonly ByzantineBehaviourName[]): void {
    assert(this.#byzantine !== undefined, 'Byzantine behaviours are allowed on this node')
    const unique = [...new Set(behaviours)]
    this.#byzantine = unique
    // Between two queue items: the replica steps synchronously, so no step sees half a switch.
    this.#replica?.setByzantine(this.#byzantineHooks(unique))
    this.#logger.warn({ behaviours: unique }, unique.length === 0 ? 'Byzantine behaviours off' : 'Byzantine behaviours on (testing only)')
  }

  #byzantineHooks(behaviours: readonly ByzantineBehaviourName[]) {
    return byzantineHooksFor(behaviours, this.validatorId, this.#options.validators.map((v) => v.id))
  }
}
