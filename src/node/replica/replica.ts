/**
 * The replica: mempool + consensus engine + ledger, glued, and still free of I/O. The real node
 * and the simulator are two drivers of this one class.
 *
 * Like the engine it wraps, it is a state machine: every input returns a list of actions, which
 * the driver performs in order. A `persist` (WAL record) or `commit` (block, certificate and state
 * batch) must be durable before any later action is performed, so nothing leaves the node before
 * the record that commits the validator to it (persist -> send -> apply). The replica answers the
 * engine's application requests (prepare, process, finalize) itself, synchronously, so drivers
 * only see I/O.
 */
import { bytesToHex, equalBytes } from '../../protocol/bytes.ts'
import { encode, type Encodable } from '../../protocol/encoding.ts'
import { transactionDomainTag, transactionToTuple, type TransactionEnvelope } from '../../protocol/envelope.ts'
import type { Signer, SignatureVerifier } from '../../protocol/keys.ts'
import { assert } from '../../protocol/assert.ts'
import {
  ConsensusEngine,
  rememberPayloadEncoding,
  type Block,
  type ByzantineBehaviour,
  type CertifiedBlock,
  type ChainTip,
  type CommitCertificate,
  type ConsensusAction,
  type ConsensusErrorCode,
  type ConsensusInput,
  type ConsensusLimits,
  type ConsensusMessage,
  type Evidence,
  type MessageVerdict,
  type TimeoutKey,
  type ValidatorSet,
  type WalRecord
} from '../../consensus/index.ts'
import { checkBlockHeader, commitBlock, executeBlock, type ExecutedBlock, type LedgerEvent, type Receipt } from '../../ledger/execute.ts'
import { accountOf, lastNonceOf, type LedgerState } from '../../ledger/state.ts'
import type { AdmittedTransaction } from '../../ledger/transactions.ts'
import type { Admission, AdmissionCache } from './admission.ts'
import { AdmissionError } from './admission.ts'
import type { ExecutionCache } from './executionCache.ts'
import { checkReplicaLimits, type ReplicaLimits } from './limits.ts'
import { Mempool, type MempoolLike, type MempoolRefusal } from './mempool.ts'
import type { SharedBatch, SharedMempool, SharedMempoolView } from './sharedMempool.ts'

export interface ReplicaByzantine {
  /** Consensus misbehaviour, through the engine's own hooks. */
  readonly consensus?: ByzantineBehaviour
  /** As proposer, leave out every transaction whose signer this returns true for. */
  readonly censorSigner?: (signer: string) => boolean
  /** As proposer, add already-committed transactions to each block (the ledger must refuse them as replays). */
  readonly replayTransactions?: boolean
}

export interface ReplicaConfig {
  readonly chainId: string
  readonly validatorId: string
  readonly signer: Signer
  readonly validatorSet: ValidatorSet
  /** Verifier for consensus signatures; share one caching verifier per process. */
  readonly consensusVerifier: SignatureVerifier
  /** Transaction admission; share one per process so each signature is checked once. */
  readonly admission: AdmissionCache
  /** Block executions shared by the replicas of a process (simulations at scale); each replica executes every block itself without it. */
  readonly executions?: ExecutionCache
  /**
   * A transaction pool shared by the replicas of a process (simulations at scale): this replica
   * sees its own mempool through a view of it and gossips with `shareTransactions` actions instead
   * of encoded batches. Without it (a real node) the replica keeps its own Mempool.
   */
  readonly sharedMempool?: SharedMempool
  /** The committed ledger state (genesis, or what the store recovered). */
  readonly ledger: LedgerState
  /** The last committed block, or the genesis tip. */
  readonly tip: ChainTip
  /** The WAL, when restarting after a crash. */
  readonly wal?: readonly WalRecord[]
  readonly limits?: Partial<ReplicaLimits>
  readonly consensusLimits?: Partial<ConsensusLimits>
  readonly byzantine?: ReplicaByzantine
}

export type ReplicaTimeout = { readonly kind: 'consensus'; readonly key: TimeoutKey } | { readonly kind: 'gossipFlush' }

export type ReplicaInput =
  | { readonly kind: 'start'; readonly nowMs: number }
  | { readonly kind: 'consensusMessage'; readonly from: string; readonly bytes: Uint8Array; readonly nowMs: number }
  | { readonly kind: 'transactionBatch'; readonly from: string; readonly bytes: Uint8Array; readonly nowMs: number }
  | { readonly kind: 'timeout'; readonly timeout: ReplicaTimeout; readonly nowMs: number }
  | { readonly kind: 'blocksLoaded'; readonly to: string; readonly blocks: readonly CertifiedBlock[]; readonly nowMs: number }
  /** A batch shared through the process's SharedMempool reached this replica (simulations only). */
  | { readonly kind: 'sharedTransactions'; readonly from: string; readonly batch: SharedBatch; readonly nowMs: number }

/** A replica input without its time (see `Replica.stepAt`). */
export type ReplicaInputBody = ReplicaInput extends infer Input ? (Input extends unknown ? Omit<Input, 'nowMs'> : never) : never

/** A decided block, finalized: what the store writes in one atomic batch. */
export interface CommittedBlock {
  readonly height: number
  readonly block: Block
  readonly blockHash: Uint8Array
  readonly certificate: CommitCertificate
  readonly transactions: readonly AdmittedTransaction[]
  readonly receipts: readonly Receipt[]
  readonly events: readonly LedgerEvent[]
  /** The ledger's writes of this block: one LevelDB batch. */
  readonly writes: ReadonlyMap<string, Encodable>
  readonly stateRoot: Uint8Array
  /** Whether the block was decided here or fetched by catch-up. */
  readonly source: 'consensus' | 'catchUp'
}

export type ReplicaAction =
  /** Write the WAL record, synced, before performing any later action (`bytes` are encoded when first read). */
  | { readonly kind: 'persist'; readonly record: WalRecord; readonly bytes: Uint8Array }
  /** Write the committed block, its certificate and the ledger batch, durably, before any later action. */
  | { readonly kind: 'commit'; readonly committed: CommittedBlock }
  | { readonly kind: 'broadcast'; readonly bytes: Uint8Array; readonly message: ConsensusMessage }
  | { readonly kind: 'send'; readonly to: string; readonly bytes: Uint8Array; readonly message: ConsensusMessage }
  /** Gossip a batch of newly admitted transactions to the other validators. */
  | { readonly kind: 'gossipTransactions'; readonly bytes: Uint8Array; readonly count: number }
  /** With a SharedMempool: deliver this batch to the other validators (as `sharedTransactions` inputs); nothing is encoded. */
  | { readonly kind: 'shareTransactions'; readonly batch: SharedBatch }
  | { readonly kind: 'scheduleTimeout'; readonly timeout: ReplicaTimeout; readonly durationMs: number }
  | { readonly kind: 'evidence'; readonly evidence: Evidence }
  /** Load committed blocks from the store and feed `blocksLoaded`. */
  | { readonly kind: 'loadBlocks'; readonly to: string; readonly fromHeight: number; readonly count: number }
  /** How a received message or batch was judged: for metrics and peer scoring. */
  | { readonly kind: 'messageVerdict'; readonly from: string; readonly verdict: MessageVerdict; readonly code: ConsensusErrorCode | AdmissionErrorLabel | null }

type AdmissionErrorLabel = 'BATCH_MALFORMED'

export type SubmitResult =
  | { readonly ok: true; readonly id: string }
  | { readonly ok: false; readonly id: string | undefined; readonly code: string; readonly message: string }

export interface ReplicaMetrics {
  submitted: number
  submitRefused: Record<string, number>
  gossipReceived: number
  gossipRefused: Record<string, number>
  blocksCommitted: number
  transactionsCommitted: number
  proposalsRejected: number
}

/**
 * Payloads a replica of this process built from its mempool, with the admitted transactions they
 * were built from: admitting such a payload again (at its proposer, and at the simulated
 * validators that share its object) would only find each transaction's admission by its tuple.
 */
const builtPayloads = new WeakMap<object, readonly AdmittedTransaction[]>()

/** Pending executions of proposals kept per height (one per distinct proposed block). */
const pendingExecutionsMax = 8

export class Replica {
  readonly validatorId: string
  readonly limits: ReplicaLimits
  private readonly chainId: string
  private readonly engine: ConsensusEngine
  private readonly admission: AdmissionCache
  private readonly executions: ExecutionCache | undefined
  private readonly mempool: MempoolLike
  private readonly sharedView: SharedMempoolView | undefined
  private ledger: LedgerState
  private byzantine: ReplicaByzantine
  private nowMs = 0
  private outgoing: Array<{ readonly envelope: TransactionEnvelope; readonly encodedBytes: number; readonly tx: AdmittedTransaction | undefined }> = []
  private flushScheduled = false
  /** The engine waits for transactions at this height (consensus limit emptyBlockIntervalMs). */
  private awaitingTransactionsHeight: number | undefined
  /** Executions of proposals at the current height, by block hash, reused when the block is decided. */
  private readonly pendingExecutions = new Map<string, { readonly executed: ExecutedBlock; readonly transactions: readonly AdmittedTransaction[] }>()
  /** Recently committed transactions, for the replay behaviour. */
  private recentlyCommitted: AdmittedTransaction[] = []
  private readonly counters: ReplicaMetrics = {
    submitted: 0,
    submitRefused: {},
    gossipReceived: 0,
    gossipRefused: {},
    blocksCommitted: 0,
    transactionsCommitted: 0,
    proposalsRejected: 0
  }
  private readonly signatureCheck = (envelope: TransactionEnvelope): boolean => this.admission.signatureVerified(envelope)

  constructor(config: ReplicaConfig) {
    assert(config.ledger.height === config.tip.height, `ledger height ${config.ledger.height} matches the chain tip ${config.tip.height}`)
    this.validatorId = config.validatorId
    this.chainId = config.chainId
    this.admission = config.admission
    this.executions = config.executions
    assert(this.admission.chainId === config.chainId, 'admission cache is for this chain')
    this.ledger = config.ledger
    this.byzantine = config.byzantine ?? {}
    const engineConfig = {
      chainId: config.chainId,
      validatorSet: config.validatorSet,
      validatorId: config.validatorId,
      signer: config.signer,
      verifier: config.consensusVerifier,
      tip: config.tip,
      ...(config.consensusLimits === undefined ? {} : { limits: config.consensusLimits }),
      ...(this.engineByzantine() === undefined ? {} : { byzantine: this.engineByzantine()! })
    }
    this.engine = config.wal === undefined || config.wal.length === 0 ? ConsensusEngine.create(engineConfig) : ConsensusEngine.restore(engineConfig, config.wal)
    this.limits = checkReplicaLimits(config.limits, this.engine.limits.messageBytesMax)
    this.sharedView = config.sharedMempool?.attach(config.validatorId, config.ledger.height)
    this.mempool = this.sharedView ?? new Mempool({ transactionsMax: this.limits.mempoolTransactionsMax, transactionsPerSignerMax: this.limits.mempoolTransactionsPerSignerMax })
  }

  // Queries.

  get height(): number {
    return this.ledger.height
  }

  get ledgerState(): LedgerState {
    return this.ledger
  }

  get mempoolSize(): number {
    return this.mempool.size
  }

  /** Whether a transaction is waiting in the mempool (for status queries). */
  hasPending(id: string): boolean {
    return this.mempool.has(id)
  }

  get consensus(): ConsensusEngine {
    return this.engine
  }

  metrics(): Readonly<ReplicaMetrics> {
    return this.counters
  }

  // Inputs.

  /** Admits client transactions into the mempool; the accepted ones are gossiped in the next batch. */
  submit(envelopes: readonly TransactionEnvelope[], nowMs: number): { results: SubmitResult[]; actions: ReplicaAction[] } {
    this.advanceClock(nowMs)
    const results: SubmitResult[] = []
    for (const envelope of envelopes) {
      this.counters.submitted++
      const admission = this.admission.admitEnvelope(envelope)
      const refusal = this.addToMempool(admission)
      if (refusal === undefined) {
        this.outgoing.push({ envelope, encodedBytes: admission.ok ? admission.encodedBytes : 0, tx: admission.ok ? admission.tx : undefined })
        results.push({ ok: true, id: envelope.id })
      } else {
        this.counters.submitRefused[refusal.code] = (this.counters.submitRefused[refusal.code] ?? 0) + 1
        results.push({ ok: false, id: admission.ok ? admission.tx.id : admission.id, code: refusal.code, message: refusal.message ?? (admission.ok ? this.refusalMessage(refusal.code, admission.tx) : refusal.code) })
      }
    }
    const actions: ReplicaAction[] = this.transactionsArrived()
    if (this.outgoing.length > 0 && !this.flushScheduled) {
      this.flushScheduled = true
      actions.push({ kind: 'scheduleTimeout', timeout: { kind: 'gossipFlush' }, durationMs: this.limits.gossipFlushMs })
    }
    return { results, actions }
  }

  step(input: ReplicaInput): ReplicaAction[] {
    return this.stepAt(input, input.nowMs)
  }

  /**
   * `step` with the time given apart from the input: a simulator delivers one input object to
   * many replicas, each at its own time, without copying it for each.
   */
  stepAt(input: ReplicaInputBody, nowMs: number): ReplicaAction[] {
    this.advanceClock(nowMs)
    switch (input.kind) {
      case 'start':
        return this.runEngine({ kind: 'start' })
      case 'consensusMessage':
        return this.runEngine({ kind: 'message', from: input.from, bytes: input.bytes }, input.from)
      case 'transactionBatch':
        return this.receiveBatch(input.from, input.bytes)
      case 'timeout':
        if (input.timeout.kind === 'gossipFlush') return this.flush()
        return this.runEngine({ kind: 'timeout', timeout: input.timeout.key })
      case 'blocksLoaded':
        return this.runEngine({ kind: 'blocksLoaded', to: input.to, blocks: input.blocks })
      case 'sharedTransactions':
        assert(this.sharedView !== undefined, 'shared transactions reach only a replica with a shared mempool')
        this.counters.gossipReceived += input.batch.count
        this.sharedView.arrive(input.batch, nowMs)
        return this.transactionsArrived()
    }
  }

  /** Switches Byzantine behaviour on or off while running (fault schedules in scenarios). */
  setByzantine(byzantine: ReplicaByzantine): void {
    this.byzantine = byzantine
    this.engine.setByzantine(this.engineByzantine() ?? {})
  }

  // Transactions.

  private addToMempool(admission: Admission): { code: string; message?: string } | undefined {
    if (!admission.ok) return { code: admission.code, message: admission.message }
    const tx = admission.tx
    // The ledger refuses a transaction from an unknown signer, or one signed with a key that is not
    // the signer's, without consuming a nonce; let into the mempool, such a transaction would never
    // leave it by nonce and could fill it. Refuse it here, against the committed ledger.
    const account = accountOf(this.ledger, tx.signer)
    if (account === undefined) return { code: 'UNKNOWN_ACCOUNT', message: `${tx.signer} has no account on this network` }
    if (!equalBytes(account.publicKey, tx.envelope.publicKey)) return { code: 'BAD_SIGNATURE', message: `the transaction is signed with a key that is not ${tx.signer}'s` }
    const refusal: MempoolRefusal | undefined = this.mempool.add(tx, admission.encodedBytes, lastNonceOf(this.ledger, tx.signer), this.nowMs)
    if (refusal === undefined) return undefined
    return { code: refusal }
  }

  /** Words for a mempool refusal, built only for client submissions (gossip needs only the code). */
  private refusalMessage(code: string, tx: AdmittedTransaction): string {
    const messages: Record<MempoolRefusal, string> = {
      DUPLICATE: 'transaction is already waiting',
      STALE_NONCE: `nonce ${tx.envelope.nonce} of ${tx.signer} is not above its last committed nonce (a replay)`,
      DUPLICATE_NONCE: `another transaction of ${tx.signer} with nonce ${tx.envelope.nonce} is already waiting`,
      MEMPOOL_FULL: `the mempool holds ${this.limits.mempoolTransactionsMax} transactions; try again later`,
      SIGNER_QUEUE_FULL: `${tx.signer} already has ${this.limits.mempoolTransactionsPerSignerMax} transactions waiting`
    }
    return messages[code as MempoolRefusal] ?? code
  }

  private receiveBatch(from: string, bytes: Uint8Array): ReplicaAction[] {
    let admissions: readonly Admission[]
    try {
      admissions = this.admission.admitBatch(bytes, this.limits.gossipBatchTransactionsMax, this.limits.gossipBatchBytesMax)
    } catch (error) {
      assert(error instanceof AdmissionError, `unexpected error admitting a batch: ${String(error)}`)
      this.counters.gossipRefused['BATCH_MALFORMED'] = (this.counters.gossipRefused['BATCH_MALFORMED'] ?? 0) + 1
      return [{ kind: 'messageVerdict', from, verdict: 'reject', code: 'BATCH_MALFORMED' }]
    }
    let forged = false
    for (const admission of admissions) {
      this.counters.gossipReceived++
      const refusal = this.addToMempool(admission)
      if (refusal !== undefined) {
        this.counters.gossipRefused[refusal.code] = (this.counters.gossipRefused[refusal.code] ?? 0) + 1
        if (!admission.ok && admission.code !== 'WRONG_CHAIN') forged = true
      }
    }
    // A validator relays only what it admitted; a batch with a forged or malformed transaction
    // could never have been valid, so it counts against the peer.
    return [{ kind: 'messageVerdict', from, verdict: forged ? 'reject' : 'accept', code: forged ? 'BATCH_MALFORMED' : null }, ...this.transactionsArrived()]
  }

  private flush(): ReplicaAction[] {
    this.flushScheduled = false
    if (this.sharedView !== undefined) {
      const txs: AdmittedTransaction[] = []
      for (const { tx } of this.outgoing) if (tx !== undefined) txs.push(tx)
      this.outgoing = []
      const batch = this.sharedView.batchOf(txs)
      return batch.count === 0 ? [] : [{ kind: 'shareTransactions', batch }]
    }
    const actions: ReplicaAction[] = []
    // Batches are bounded by count and by bytes (with room for the array framing), so no honest
    // batch is ever refused as oversized by a peer.
    const bytesMax = this.limits.gossipBatchBytesMax - 16
    let batch: Encodable[] = []
    let batchBytes = 0
    for (const { envelope, encodedBytes } of this.outgoing) {
      if (batch.length > 0 && (batch.length >= this.limits.gossipBatchTransactionsMax || batchBytes + encodedBytes > bytesMax)) {
        actions.push({ kind: 'gossipTransactions', bytes: encode(batch), count: batch.length })
        batch = []
        batchBytes = 0
      }
      batch.push(transactionToTuple(envelope))
      batchBytes += encodedBytes
    }
    if (batch.length > 0) actions.push({ kind: 'gossipTransactions', bytes: encode(batch), count: batch.length })
    this.outgoing = []
    return actions
  }

  /** If the engine waits for transactions and the mempool now holds some, tells it. */
  private transactionsArrived(): ReplicaAction[] {
    const height = this.awaitingTransactionsHeight
    if (height === undefined || this.mempool.size === 0) return []
    this.awaitingTransactionsHeight = undefined
    return this.runEngine({ kind: 'transactionsAvailable', height })
  }

  // The engine and the application boundary.

  private runEngine(input: ConsensusInput, from?: string): ReplicaAction[] {
    const out: ReplicaAction[] = []
    const queue: ConsensusAction[] = this.engine.step(input)
    for (let i = 0; i < queue.length; i++) {
      const action = queue[i]!
      const answer = this.handle(action, out, from)
      if (answer !== undefined) {
        // The application answers synchronously; what the engine does next happens right here,
        // before the rest of the list, as if the answer had arrived at once.
        queue.splice(i + 1, 0, ...this.engine.step(answer))
      }
    }
    return out
  }

  /** Performs one engine action: translates I/O for the driver, answers application requests. */
  private handle(action: ConsensusAction, out: ReplicaAction[], from: string | undefined): ConsensusInput | undefined {
    switch (action.kind) {
      case 'messageVerdict':
        out.push({ kind: 'messageVerdict', from: from ?? '', verdict: action.verdict, code: action.code })
        return undefined
      case 'persist':
        // The engine's action itself: its bytes are encoded when the driver first reads them.
        out.push(action)
        return undefined
      case 'broadcast':
        out.push({ kind: 'broadcast', bytes: action.bytes, message: action.message })
        return undefined
      case 'send':
        out.push({ kind: 'send', to: action.to, bytes: action.bytes, message: action.message })
        return undefined
      case 'scheduleTimeout':
        out.push({ kind: 'scheduleTimeout', timeout: { kind: 'consensus', key: action.timeout }, durationMs: action.durationMs })
        return undefined
      case 'evidence':
        out.push({ kind: 'evidence', evidence: action.evidence })
        return undefined
      case 'loadBlocks':
        out.push({ kind: 'loadBlocks', to: action.to, fromHeight: action.fromHeight, count: action.count })
        return undefined
      case 'awaitTransactions':
        if (this.mempool.size > 0) return { kind: 'transactionsAvailable', height: action.height }
        this.awaitingTransactionsHeight = action.height
        return undefined
      case 'requestProposal':
        return { kind: 'proposalValue', height: action.height, round: action.round, payload: this.prepareProposal(), timeMs: Math.max(this.nowMs, action.previousTimeMs + 1) }
      case 'processProposal': {
        const accept = this.processProposal(action.block, action.blockHash)
        if (!accept) this.counters.proposalsRejected++
        return { kind: 'proposalVerdict', height: action.height, blockHash: action.blockHash, accept }
      }
      case 'decide': {
        const committed = this.finalize(action.block, action.blockHash, action.certificate, action.source)
        out.push({ kind: 'commit', committed })
        return { kind: 'committed', height: action.height, appHash: committed.stateRoot }
      }
    }
  }

  /** PrepareProposal: transactions from the mempool, in arrival and nonce order, within the block bounds. */
  private prepareProposal(): Encodable {
    const censor = this.byzantine.censorSigner
    const ledger = this.ledger
    const txs = this.mempool.reap({
      transactionsMax: this.limits.blockTransactionsMax,
      bytesMax: this.limits.blockBytesMax,
      lastNonceOf: (signer) => lastNonceOf(ledger, signer),
      nowMs: this.nowMs,
      gapGraceMs: this.limits.nonceGapGraceMs,
      ...(censor === undefined ? {} : { skip: (tx: AdmittedTransaction) => censor(tx.signer) })
    })
    const envelopes = txs.map((tx) => tx.envelope)
    if (this.byzantine.replayTransactions === true) {
      for (const tx of this.recentlyCommitted.slice(-16)) envelopes.push(tx.envelope)
    }
    const payload: Encodable[] = envelopes.map(transactionToTuple)
    rememberPayloadEncoding(payload, encodePayloadOf(envelopes))
    // Its transactions are admitted already: remember them for the payload's admission, unless one
    // appears twice (a replayed one), which the admission must refuse as it would from a peer.
    const admitted = this.byzantine.replayTransactions === true ? [...txs, ...this.recentlyCommitted.slice(-16)] : txs
    if (new Set(admitted.map((tx) => tx.id)).size === admitted.length) builtPayloads.set(payload, admitted)
    return payload
  }

  /** Decodes and admits a block payload; undefined when any transaction is malformed, forged or repeated. */
  /**
   * Admits a block payload. `transactionsMax` applies to proposals only: a decided block is
   * certified by a quorum, and a node whose local limit is smaller must still apply it.
   */
  private payloadTransactions(payload: Encodable, transactionsMax = Number.MAX_SAFE_INTEGER): readonly AdmittedTransaction[] | undefined {
    if (!Array.isArray(payload) || payload.length > transactionsMax) return undefined
    return builtPayloads.get(payload) ?? this.admission.admitPayload(payload as readonly Encodable[])
  }

  /**
   * Why an honest proposer could not have built this payload, or undefined. Every transaction must
   * come from a signer with an account and its registered key, and carry a nonce above the
   * signer's committed nonce and above any earlier one of the signer in the block: a replay, or a
   * transaction the ledger would refuse without consuming a nonce, would otherwise ride in block
   * after block (and overwrite the receipt of the transaction it replays).
   */
  private payloadProblem(txs: readonly AdmittedTransaction[]): string | undefined {
    const lastInBlock = new Map<string, bigint>()
    for (const tx of txs) {
      const account = accountOf(this.ledger, tx.signer)
      if (account === undefined) return `${tx.signer} has no account`
      if (!equalBytes(account.publicKey, tx.envelope.publicKey)) return `${tx.id.slice(0, 16)} is not signed with ${tx.signer}'s key`
      const floor = lastInBlock.get(tx.signer) ?? lastNonceOf(this.ledger, tx.signer)
      if (tx.envelope.nonce <= floor) return `${tx.id.slice(0, 16)} replays nonce ${tx.envelope.nonce} of ${tx.signer}`
      lastInBlock.set(tx.signer, tx.envelope.nonce)
    }
    return undefined
  }

  /**
   * ProcessProposal: a block is acceptable when every transaction decodes, is signed by its signer
   * and appears once, and the block follows the ledger's height and time. Transactions the ledger
   * refuses (funds, policy, replays) are not grounds to refuse the block: they get receipts. The
   * execution is kept, so deciding this block costs nothing more.
   */
  private processProposal(block: Block, blockHash: Uint8Array): boolean {
    if (checkBlockHeader(this.ledger, { height: block.header.height, timeMs: block.header.timeMs }) !== undefined) return false
    // Block time is the ledger's clock for quota periods and structuring windows: a proposer must
    // not move it ahead of the validators' clocks (and so reset a day's quotas early).
    if (block.header.timeMs > this.nowMs + this.limits.blockTimeDriftMaxMs) return false
    const txs = this.payloadTransactions(block.payload, this.limits.blockTransactionsMax)
    if (txs === undefined) return false
    const problem = this.executions !== undefined ? this.executions.check(this.ledger, blockHash, () => this.payloadProblem(txs)) : this.payloadProblem(txs)
    if (problem !== undefined) return false
    const key = bytesToHex(blockHash)
    if (!this.pendingExecutions.has(key)) {
      if (this.pendingExecutions.size >= pendingExecutionsMax) this.pendingExecutions.delete(this.pendingExecutions.keys().next().value as string)
      const executed = this.execute(block, blockHash, txs)
      this.pendingExecutions.set(key, { executed, transactions: txs })
    }
    return true
  }

  /** FinalizeBlock + Commit: apply the decided block to the ledger. */
  private finalize(block: Block, blockHash: Uint8Array, certificate: CommitCertificate, source: 'consensus' | 'catchUp'): CommittedBlock {
    const key = bytesToHex(blockHash)
    let entry = this.pendingExecutions.get(key)
    if (entry === undefined) {
      // Decided without having been processed here (catch-up, or a proposal that arrived late):
      // a quorum accepted it, so a payload that does not admit means more than a third lied.
      const txs = this.payloadTransactions(block.payload)
      assert(txs !== undefined, `decided block ${key.slice(0, 16)} at height ${block.header.height} has an invalid payload`)
      const problem = checkBlockHeader(this.ledger, { height: block.header.height, timeMs: block.header.timeMs })
      assert(problem === undefined, problem ?? '')
      entry = { executed: this.execute(block, blockHash, txs), transactions: txs }
    }
    this.pendingExecutions.clear()
    const { executed, transactions } = entry
    this.ledger = commitBlock(this.ledger, executed.pending)
    const ledger = this.ledger
    this.mempool.removeCommitted(transactions, (signer) => lastNonceOf(ledger, signer), block.header.height)
    this.counters.blocksCommitted++
    this.counters.transactionsCommitted += transactions.length
    if (this.byzantine.replayTransactions === true) this.recentlyCommitted = [...this.recentlyCommitted, ...transactions].slice(-64)
    return {
      height: block.header.height,
      block,
      blockHash,
      certificate,
      transactions,
      receipts: executed.receipts,
      events: executed.events,
      writes: executed.pending.writes,
      stateRoot: executed.stateRoot,
      source
    }
  }

  private execute(block: Block, blockHash: Uint8Array, transactions: readonly AdmittedTransaction[]): ExecutedBlock {
    const ledgerBlock = { height: block.header.height, timeMs: block.header.timeMs, transactions }
    if (this.executions !== undefined) return this.executions.execute(this.ledger, ledgerBlock, blockHash, this.signatureCheck)
    return executeBlock(this.ledger, ledgerBlock, this.signatureCheck)
  }

  private engineByzantine(): ByzantineBehaviour | undefined {
    return this.byzantine.consensus
  }

  private advanceClock(nowMs: number): void {
    // The driver's clock may be coarse; the replica never lets its own view go backwards.
    if (nowMs > this.nowMs) this.nowMs = nowMs
  }
}

/** `encode(transactionDomainTag)`: what signing bytes hold after their array header and before the chain id. */
const domainTagBytes = encode(transactionDomainTag).length

/**
 * `encode(envelopes.map(transactionToTuple))` without packing the transactions again. A transaction
 * tuple `[chainId, signer, publicKey, nonce, body, signature]` and the signing tuple `[tag, chainId,
 * signer, publicKey, nonce, body]` are both six-element arrays sharing five encoded fields, which an
 * envelope carries already encoded in its signing bytes; so each transaction is the array header,
 * the signing bytes after the header and tag, and the signature as a bin (a test checks the result
 * against encode byte for byte).
 */
export function encodePayloadOf(envelopes: readonly TransactionEnvelope[]): Uint8Array {
  const count = envelopes.length
  let length = count < 16 ? 1 : count < 0x10000 ? 3 : 5
  for (const envelope of envelopes) length += 1 + envelope.signingBytes.length - 1 - domainTagBytes + binHeaderBytes(envelope.signature.length) + envelope.signature.length
  const out = new Uint8Array(length)
  let at = 0
  if (count < 16) out[at++] = 0x90 | count
  else if (count < 0x10000) {
    out[at++] = 0xdc
    out[at++] = count >> 8
    out[at++] = count & 0xff
  } else {
    out[at++] = 0xdd
    out[at++] = count >>> 24
    out[at++] = (count >> 16) & 0xff
    out[at++] = (count >> 8) & 0xff
    out[at++] = count & 0xff
  }
  for (const envelope of envelopes) {
    const signing = envelope.signingBytes
    out[at++] = 0x96
    out.set(signing.subarray(1 + domainTagBytes), at)
    at += signing.length - 1 - domainTagBytes
    const signature = envelope.signature
    const size = signature.length
    if (size < 0x100) {
      out[at++] = 0xc4
      out[at++] = size
    } else if (size < 0x10000) {
      out[at++] = 0xc5
      out[at++] = size >> 8
      out[at++] = size & 0xff
    } else {
      out[at++] = 0xc6
      out[at++] = size >>> 24
      out[at++] = (size >> 16) & 0xff
      out[at++] = (size >> 8) & 0xff
      out[at++] = size & 0xff
    }
    out.set(signature, at)
    at += size
  }
  assert(at === length, 'a spliced payload fills its bytes')
  return out
}

function binHeaderBytes(size: number): number {
  return size < 0x100 ? 2 : size < 0x10000 ? 3 : 5
}
