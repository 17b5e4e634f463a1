/**
 * The node's LevelDB store: what survives a crash.
 *
 * One LevelDB per node, split by sublevels:
 *   blocks/<height>    [headerTuple, payload, certificateTuple]        committed blocks with their commit certificates
 *   state/<key>        encode(value)                                  the ledger's entries as of meta/stateHeight (ledger/stateKeys.ts)
 *   stateLog/<height>  [key, value, key, value, ...]                  a committed block's ledger writes, above meta/stateHeight
 *   meta/stateHeight   height                                         the height state/ is at (absent in a store written before the log: the tip's)
 *   meta/tip           [height, blockHash, timeMs, stateRoot]          the last committed block
 *   meta/chain         [chainId, genesisRoot]                          which network this store belongs to
 *   receipts/<txId>    [height, index, status, reason, message, rule, received, reports]   written once, never overwritten
 *   blockReceipts/<height>  [receipt tuple without height, ...]       every receipt of a block, in block order (the API's block view)
 *   issued/<customer>  bigint                                         highest nonce the node signed for a customer (POST /v1/payments)
 *   wal/<sequence>     framed record (walFrame.ts)                     consensus WAL, above the tip only
 *   evidence/<seq>     encodeEvidence(evidence)                        misbehaviour seen, kept for operators
 * Heights and sequences are zero-padded decimal so keys sort in number order.
 *
 * Durability: a WAL append is one synced batch (`sync: true`: fsync before it resolves), and a
 * committed block is one synced atomic batch holding the block, its certificate, the ledger's
 * writes, the tip, the receipts and the deletion of the WAL records it made stale. LevelDB applies
 * a batch all or nothing, so after any crash the store is at one block's boundary, with the WAL
 * records written since. On open the store recovers the ledger state from its entries, the tip,
 * and the WAL records above the tip; a record that fails its frame check (a torn last write) is
 * dropped with everything after it, never decoded.
 *
 * Ledger writes go to the log, one record per block, and into state/ only every
 * `stateSnapshotBlocks` blocks (each key once, at its latest value, with the log records it
 * covers deleted in the same batch). A payment writes some ten entries, and a LevelDB write costs
 * a few microseconds of JavaScript and native work however small it is, so writing each entry at
 * every block was a tenth of a loaded node's CPU; keys written again and again (the FX provider's
 * balances, token supplies, policy counters) are now written once per snapshot. Recovery reads
 * state/ and applies the log records above meta/stateHeight in height order.
 *
 * Receipts are put-if-absent: the first block that finalized a transaction id owns its receipt. A
 * later block carrying the same transaction again (a replay a Byzantine proposer slipped into a
 * certified block, which the ledger refuses as REPLAY) must not overwrite the receipt that
 * says it settled. The existing ids are read with one `getMany` per block, not one awaited get per
 * transaction.
 */
import { createHash } from 'node:crypto'
import { Level } from 'level'
import { bytesToHex, equalBytes } from '../../protocol/bytes.ts'
import { decode, encode, type Encodable } from '../../protocol/encoding.ts'
import { CorridorError } from '../../protocol/errors.ts'
import { assert } from '../../protocol/assert.ts'
import {
  blockFromTuple,
  blockHash,
  certificateFromTuple,
  certificateToTuple,
  decodeWalRecord,
  encodeEvidence,
  genesisTip,
  headerToTuple,
  walRecordHeight,
  type Block,
  type CertifiedBlock,
  type ChainTip,
  type CommitCertificate,
  type ConsensusLimits,
  type Evidence,
  type WalRecord
} from '../../consensus/index.ts'
import { restoreLedgerState, type LedgerState, type Sha256 } from '../../ledger/state.ts'
import type { Receipt, ReceiptStatus } from '../../ledger/execute.ts'
import type { CommittedBlock } from '../replica/replica.ts'
import { decodeWalFrame, encodeWalFrame } from './walFrame.ts'

export const storeErrorCodes = ['STORE_WRONG_CHAIN', 'STORE_GENESIS_MISMATCH', 'STORE_CORRUPT', 'STORE_LOCKED', 'STORE_CLOSED', 'STORE_UNAVAILABLE'] as const
export type StoreErrorCode = (typeof storeErrorCodes)[number]

export class StoreError extends CorridorError<StoreErrorCode> {
  constructor(code: StoreErrorCode, message: string) {
    super(code, message)
    this.name = 'StoreError'
  }
}

/** SHA-256 on node:crypto: the same bytes as the portable one, about fifteen times faster. */
export const nativeSha256: Sha256 = (bytes) => new Uint8Array(createHash('sha256').update(bytes).digest())

export interface LevelStoreOptions {
  /** Directory of the LevelDB (created if missing). */
  readonly path: string
  /** The network's height-0 state: written on first open, checked against on every later one. */
  readonly genesis: LedgerState
  /** To decode blocks and WAL records read back (size bounds). */
  readonly consensusLimits: ConsensusLimits
}

/** What the store recovered on open: enough to build a replica. */
export interface RecoveredState {
  readonly ledger: LedgerState
  readonly tip: ChainTip
  /** WAL records above the tip, in write order. */
  readonly wal: readonly WalRecord[]
  /** Records dropped from the WAL's tail because they failed their frame check or did not decode. */
  readonly walDropped: number
}

export interface StoredReceipt {
  readonly transactionId: string
  readonly height: number
  /** Position of the transaction in its block. */
  readonly index: number
  readonly status: ReceiptStatus
  readonly reason: string | null
  readonly message: string
  readonly rule: string | null
  readonly received: bigint | null
  readonly reports: ReadonlyArray<{ readonly kind: string; readonly jurisdiction: string; readonly detail: string }>
}

export interface StoredBlock extends CertifiedBlock {
  readonly height: number
  readonly blockHash: Uint8Array
}

const padWidth = 16
function padKey(value: number): string {
  return value.toString().padStart(padWidth, '0')
}

/** Blocks between two snapshots of the ledger into state/ (see the header). */
export const stateSnapshotBlocks = 64

/** Bytes a stored value may have when read back: a block with its certificate, at most. */
const storedValueBytesMax = 64 * 1024 * 1024

/** The slice of a sublevel the store uses (classic-level honours `sync` on put and batch). */
interface Sub {
  get(key: string): Promise<Uint8Array | undefined>
  getMany(keys: string[]): Promise<Array<Uint8Array | undefined>>
  put(key: string, value: Uint8Array, options?: { sync?: boolean }): Promise<void>
  iterator(options?: { gte?: string; lte?: string }): AsyncIterable<[string, Uint8Array]>
  keys(): AsyncIterable<string>
}
type BatchOperation = { type: 'put'; sublevel: Sub; key: string; value: Uint8Array } | { type: 'del'; sublevel: Sub; key: string }

export class LevelStore {
  readonly path: string
  readonly #db: Level<string, Uint8Array>
  readonly #blocks: Sub
  readonly #state: Sub
  readonly #stateLog: Sub
  readonly #meta: Sub
  readonly #receipts: Sub
  readonly #wal: Sub
  readonly #evidence: Sub
  readonly #issued: Sub
  readonly #blockReceipts: Sub
  readonly #limits: ConsensusLimits
  #tip: ChainTip
  #walSequence = 0
  /** Live WAL records (sequence and height), so a commit deletes the ones it made stale. */
  #walIndex: Array<{ readonly sequence: number; readonly height: number }> = []
  #evidenceSequence = 0
  #closed = false
  /** The height state/ is at; the log holds the blocks above it. */
  #stateHeight = 0
  /** Ledger entries written since the snapshot at #stateHeight, latest value of each. */
  #unsnapshotted = new Map<string, Encodable>()
  #recovered: RecoveredState | undefined

  private constructor(path: string, db: Level<string, Uint8Array>, limits: ConsensusLimits, tip: ChainTip) {
    this.path = path
    this.#db = db
    const sub = (name: string): Sub => db.sublevel<string, Uint8Array>(name, { keyEncoding: 'utf8', valueEncoding: 'view' }) as unknown as Sub
    this.#blocks = sub('blocks')
    this.#state = sub('state')
    this.#stateLog = sub('stateLog')
    this.#meta = sub('meta')
    this.#receipts = sub('receipts')
    this.#wal = sub('wal')
    this.#evidence = sub('evidence')
    this.#issued = sub('issued')
    this.#blockReceipts = sub('blockReceipts')
    this.#limits = limits
    this.#tip = tip
  }

  /** Opens (or creates) the store and recovers its state. Throws StoreError. */
  static async open(options: LevelStoreOptions): Promise<LevelStore> {
    const db = new Level<string, Uint8Array>(options.path, { keyEncoding: 'utf8', valueEncoding: 'view' })
    try {
      await db.open()
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause
      if (cause?.code === 'LEVEL_LOCKED') throw new StoreError('STORE_LOCKED', `${options.path} is in use by another process (is a node already running on this data directory?)`)
      throw new StoreError('STORE_UNAVAILABLE', `cannot open ${options.path}: ${(error as Error).message}`)
    }
    const genesis = options.genesis
    const store = new LevelStore(options.path, db, options.consensusLimits, genesisTip(genesis.chainId, genesis.timeMs, genesis.stateRoot))
    try {
      store.#recovered = await store.#recover(genesis)
    } catch (error) {
      await db.close().catch(() => {})
      throw error
    }
    return store
  }

  /** What `open` recovered. */
  get recovered(): RecoveredState {
    assert(this.#recovered !== undefined, 'the store was opened')
    return this.#recovered
  }

  get tip(): ChainTip {
    return this.#tip
  }

  get walRecords(): number {
    return this.#walIndex.length
  }

  async #recover(genesis: LedgerState): Promise<RecoveredState> {
    const chainBytes = await this.#meta.get('chain')
    if (chainBytes === undefined) {
      // A new store: write the genesis state, with the chain it belongs to, in one batch.
      const operations: BatchOperation[] = [{ type: 'put', sublevel: this.#meta, key: 'chain', value: encode([genesis.chainId, genesis.stateRoot]) }]
      for (const [key, value] of genesis.entries) operations.push({ type: 'put', sublevel: this.#state, key, value: encode(value) })
      operations.push({ type: 'put', sublevel: this.#meta, key: 'tip', value: encodeTip(this.#tip) })
      operations.push({ type: 'put', sublevel: this.#meta, key: 'stateHeight', value: encode(0) })
      await this.#write(operations)
    } else {
      const [chainId, genesisRoot] = this.#decode(chainBytes, 'meta/chain') as [string, Uint8Array]
      if (chainId !== genesis.chainId) throw new StoreError('STORE_WRONG_CHAIN', `${this.path} holds chain ${chainId}, not ${genesis.chainId}`)
      if (!equalBytes(genesisRoot, genesis.stateRoot)) {
        throw new StoreError('STORE_GENESIS_MISMATCH', `${this.path} was created from another genesis of ${chainId} (genesis root ${bytesToHex(genesisRoot).slice(0, 16)}, the config's ${bytesToHex(genesis.stateRoot).slice(0, 16)})`)
      }
    }
    const tipBytes = await this.#meta.get('tip')
    if (tipBytes === undefined) throw new StoreError('STORE_CORRUPT', `${this.path} has no tip record`)
    this.#tip = decodeTip(this.#decode(tipBytes, 'meta/tip'))

    const entries = new Map<string, Encodable>()
    for await (const [key, value] of this.#state.iterator()) entries.set(key, this.#decode(value, `state/${key}`))
    const stateHeightBytes = await this.#meta.get('stateHeight')
    this.#stateHeight = stateHeightBytes === undefined ? this.#tip.height : Number(this.#decode(stateHeightBytes, 'meta/stateHeight'))
    if (!Number.isSafeInteger(this.#stateHeight) || this.#stateHeight < 0 || this.#stateHeight > this.#tip.height) {
      throw new StoreError('STORE_CORRUPT', `${this.path} has a state snapshot at height ${this.#stateHeight}, not between 0 and the tip ${this.#tip.height}`)
    }
    let expectedHeight = this.#stateHeight + 1
    for await (const [key, value] of this.#stateLog.iterator({ gte: padKey(this.#stateHeight + 1), lte: padKey(this.#tip.height) })) {
      if (Number(key) !== expectedHeight) throw new StoreError('STORE_CORRUPT', `${this.path} lacks the ledger writes of block ${expectedHeight} (found ${Number(key)})`)
      const writes = this.#decode(value, `stateLog/${key}`)
      if (!Array.isArray(writes) || writes.length % 2 !== 0) throw new StoreError('STORE_CORRUPT', `stateLog/${key} is not a list of key and value pairs`)
      for (let i = 0; i < writes.length; i += 2) {
        entries.set(writes[i] as string, writes[i + 1]!)
        this.#unsnapshotted.set(writes[i] as string, writes[i + 1]!)
      }
      expectedHeight++
    }
    if (expectedHeight !== this.#tip.height + 1) throw new StoreError('STORE_CORRUPT', `${this.path} lacks the ledger writes of blocks ${expectedHeight} to ${this.#tip.height}`)
    const ledger = restoreLedgerState({ entries, height: this.#tip.height, timeMs: this.#tip.timeMs, stateRoot: this.#tip.appHash, sha256: genesis.sha256 })

    const wal: WalRecord[] = []
    const drop: BatchOperation[] = []
    let torn = false
    let walDropped = 0
    for await (const [key, frame] of this.#wal.iterator()) {
      const sequence = Number(key)
      if (sequence >= this.#walSequence) this.#walSequence = sequence + 1
      let record: WalRecord | undefined
      if (!torn) {
        const bytes = decodeWalFrame(frame)
        if (bytes !== undefined) {
          try {
            record = decodeWalRecord(bytes, this.#limits)
          } catch {
            record = undefined
          }
        }
        // A torn or corrupt record was never completely written, so nothing after it was either
        // (each append is synced before the next): drop it and the rest.
        if (record === undefined) torn = true
      }
      if (record === undefined) {
        walDropped++
        drop.push({ type: 'del', sublevel: this.#wal, key })
      } else if (walRecordHeight(record) <= this.#tip.height) {
        drop.push({ type: 'del', sublevel: this.#wal, key })
      } else {
        wal.push(record)
        this.#walIndex.push({ sequence, height: walRecordHeight(record) })
      }
    }
    if (drop.length > 0) await this.#write(drop)

    for await (const key of this.#evidence.keys()) this.#evidenceSequence = Math.max(this.#evidenceSequence, Number(key) + 1)
    return { ledger, tip: this.#tip, wal, walDropped }
  }

  /** Appends WAL records in one synced batch: durable when the promise resolves. */
  async appendWal(records: ReadonlyArray<{ readonly record: WalRecord; readonly bytes: Uint8Array }>): Promise<void> {
    this.#requireOpen()
    const operations: BatchOperation[] = []
    for (const { record, bytes } of records) {
      const sequence = this.#walSequence++
      operations.push({ type: 'put', sublevel: this.#wal, key: padKey(sequence), value: encodeWalFrame(bytes) })
      this.#walIndex.push({ sequence, height: walRecordHeight(record) })
    }
    await this.#write(operations)
  }

  /**
   * Writes a committed block in one synced atomic batch: block and certificate, ledger writes,
   * tip, receipts, and the deletion of WAL records at or below its height.
   */
  /**
   * Writes operations as one synced atomic batch. A chained batch hands each operation to LevelDB
   * as it is added; an array batch has abstract-level copy and check every operation object and
   * the native side convert each one, which costs about ten times the CPU (measured here: 240 ms
   * against 25 ms for a block of 20,000 writes). Nothing is written if adding one fails.
   */
  async #write(operations: readonly BatchOperation[]): Promise<void> {
    const batch = this.#db.batch()
    try {
      for (const operation of operations) {
        const options = { sublevel: operation.sublevel as never }
        if (operation.type === 'put') batch.put(operation.key, operation.value, options)
        else batch.del(operation.key, options)
      }
    } catch (error) {
      await batch.close()
      throw error
    }
    await batch.write({ sync: true })
  }

  async commitBlock(committed: CommittedBlock): Promise<void> {
    this.#requireOpen()
    assert(committed.height === this.#tip.height + 1, `block ${committed.height} follows the stored tip ${this.#tip.height}`)
    const header = committed.block.header
    const tip: ChainTip = { height: committed.height, blockHash: committed.blockHash, timeMs: header.timeMs, appHash: committed.stateRoot }
    // Every value is encoded before anything is written: an encoding failure leaves the store as it was.
    const operations: BatchOperation[] = [
      { type: 'put', sublevel: this.#blocks, key: padKey(committed.height), value: encode([headerToTuple(header), committed.block.payload, certificateToTuple(committed.certificate)]) }
    ]
    const log: Encodable[] = []
    for (const [key, value] of committed.writes) log.push(key, value)
    operations.push({ type: 'put', sublevel: this.#stateLog, key: padKey(committed.height), value: encode(log) })
    const snapshot = committed.height - this.#stateHeight >= stateSnapshotBlocks
    if (snapshot) {
      // Fold the log into state/: each key written since the last snapshot, once, at its value now.
      const latest = new Map(this.#unsnapshotted)
      for (const [key, value] of committed.writes) latest.set(key, value)
      for (const [key, value] of latest) operations.push({ type: 'put', sublevel: this.#state, key, value: encode(value) })
      for (let height = this.#stateHeight + 1; height <= committed.height; height++) operations.push({ type: 'del', sublevel: this.#stateLog, key: padKey(height) })
      operations.push({ type: 'put', sublevel: this.#meta, key: 'stateHeight', value: encode(committed.height) })
    }
    // Put-if-absent (see the header): ids already stored, or seen earlier in this block, keep their first receipt.
    const ids = committed.receipts.map((receipt) => receipt.transactionId)
    const existing = ids.length === 0 ? [] : await this.#receipts.getMany(ids)
    const written = new Set<string>()
    committed.receipts.forEach((receipt, index) => {
      if (existing[index] !== undefined || written.has(receipt.transactionId)) return
      written.add(receipt.transactionId)
      operations.push({ type: 'put', sublevel: this.#receipts, key: receipt.transactionId, value: encodeReceipt(committed.height, index, receipt) })
    })
    operations.push({ type: 'put', sublevel: this.#blockReceipts, key: padKey(committed.height), value: encode(committed.receipts.map((receipt, index) => [receipt.transactionId, ...receiptTuple(committed.height, index, receipt)])) })
    operations.push({ type: 'put', sublevel: this.#meta, key: 'tip', value: encodeTip(tip) })
    const keep: Array<{ sequence: number; height: number }> = []
    for (const entry of this.#walIndex) {
      if (entry.height <= committed.height) operations.push({ type: 'del', sublevel: this.#wal, key: padKey(entry.sequence) })
      else keep.push(entry)
    }
    await this.#write(operations)
    this.#walIndex = keep
    this.#tip = tip
    if (snapshot) {
      this.#stateHeight = committed.height
      this.#unsnapshotted = new Map()
    } else {
      for (const [key, value] of committed.writes) this.#unsnapshotted.set(key, value)
    }
  }

  /** Committed blocks with certificates from `fromHeight`, at most `count`, in height order. */
  async loadBlocks(fromHeight: number, count: number): Promise<StoredBlock[]> {
    this.#requireOpen()
    const out: StoredBlock[] = []
    if (fromHeight < 1 || count < 1 || fromHeight > this.#tip.height) return out
    const lastHeight = Math.min(this.#tip.height, fromHeight + count - 1)
    const iterator = this.#blocks.iterator({ gte: padKey(fromHeight), lte: padKey(lastHeight) })
    for await (const [key, value] of iterator) out.push(this.#decodeBlock(Number(key), value))
    return out
  }

  async loadBlock(height: number): Promise<StoredBlock | undefined> {
    this.#requireOpen()
    if (!Number.isSafeInteger(height) || height < 1 || height > this.#tip.height) return undefined
    const value = await this.#blocks.get(padKey(height))
    return value === undefined ? undefined : this.#decodeBlock(height, value)
  }

  async loadReceipt(transactionId: string): Promise<StoredReceipt | undefined> {
    this.#requireOpen()
    const value = await this.#receipts.get(transactionId)
    if (value === undefined) return undefined
    return receiptFromTuple(transactionId, this.#decode(value, `receipts/${transactionId}`))
  }

  /**
   * Every receipt of a committed block, in block order, including those of transactions the block
   * repeated (which `loadReceipt` answers with the first block's). Undefined above the tip, or for
   * a block committed by a node version that did not keep them.
   */
  async loadBlockReceipts(height: number): Promise<StoredReceipt[] | undefined> {
    this.#requireOpen()
    if (!Number.isSafeInteger(height) || height < 1 || height > this.#tip.height) return undefined
    const value = await this.#blockReceipts.get(padKey(height))
    if (value === undefined) return undefined
    const list = this.#decode(value, `blockReceipts/${height}`)
    if (!Array.isArray(list)) throw new StoreError('STORE_CORRUPT', `${this.path} blockReceipts/${height} is not a list`)
    return list.map((entry) => {
      const [transactionId, ...tuple] = entry as [string, ...Encodable[]]
      return receiptFromTuple(transactionId, tuple)
    })
  }

  /**
   * Records the highest nonce the node signed for a customer, so a restarted node never signs that
   * nonce again (a peer's mempool may still hold the first one). Not synced: a process crash keeps
   * LevelDB's log writes (they are in the OS), only a power loss could lose the last ones.
   */
  async saveIssuedNonce(customer: string, nonce: bigint): Promise<void> {
    this.#requireOpen()
    await this.#issued.put(customer, encode(nonce))
  }

  /** Highest nonces signed for customers, by customer (bounded by the node's customer key store). */
  async loadIssuedNonces(): Promise<Map<string, bigint>> {
    this.#requireOpen()
    const out = new Map<string, bigint>()
    for await (const [key, value] of this.#issued.iterator()) {
      const nonce = this.#decode(value, `issued/${key}`)
      if (typeof nonce !== 'bigint') throw new StoreError('STORE_CORRUPT', `${this.path} issued/${key} is not a nonce`)
      out.set(key, nonce)
    }
    return out
  }

  async saveEvidence(evidence: Evidence): Promise<void> {
    this.#requireOpen()
    await this.#evidence.put(padKey(this.#evidenceSequence++), encodeEvidence(evidence), { sync: true })
  }

  async evidenceCount(): Promise<number> {
    let count = 0
    for await (const _ of this.#evidence.keys()) count++
    return count
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#db.close()
  }

  get isClosed(): boolean {
    return this.#closed
  }

  #decodeBlock(height: number, value: Uint8Array): StoredBlock {
    const tuple = this.#decode(value, `blocks/${height}`)
    try {
      const [header, payload, certificate] = tuple as [Encodable, Encodable, Encodable]
      const block: Block = blockFromTuple(header, payload, { ...this.#limits, messageBytesMax: storedValueBytesMax })
      const certificateValue: CommitCertificate = certificateFromTuple(certificate, this.#limits)
      return { height, block, certificate: certificateValue, blockHash: blockHash(block.header) }
    } catch (error) {
      throw new StoreError('STORE_CORRUPT', `${this.path} blocks/${height} does not decode: ${(error as Error).message}`)
    }
  }

  #decode(bytes: Uint8Array, what: string): Encodable {
    try {
      return decode(bytes, { bytesMax: storedValueBytesMax })
    } catch (error) {
      throw new StoreError('STORE_CORRUPT', `${this.path} ${what} does not decode: ${(error as Error).message}`)
    }
  }

  #requireOpen(): void {
    if (this.#closed) throw new StoreError('STORE_CLOSED', `${this.path} is closed`)
  }
}

function encodeTip(tip: ChainTip): Uint8Array {
  return encode([tip.height, tip.blockHash, tip.timeMs, tip.appHash])
}

function decodeTip(value: Encodable): ChainTip {
  const [height, hash, timeMs, appHash] = value as [number, Uint8Array, number, Uint8Array]
  if (!Number.isSafeInteger(height) || !(hash instanceof Uint8Array) || !Number.isSafeInteger(timeMs) || !(appHash instanceof Uint8Array)) {
    throw new StoreError('STORE_CORRUPT', 'the tip record is not [height, blockHash, timeMs, stateRoot]')
  }
  return { height, blockHash: hash, timeMs, appHash }
}

function encodeReceipt(height: number, index: number, receipt: Receipt): Uint8Array {
  return encode(receiptTuple(height, index, receipt))
}

function receiptFromTuple(transactionId: string, value: Encodable): StoredReceipt {
  const [height, index, status, reason, message, rule, received, reports] = value as [
    number,
    number,
    ReceiptStatus,
    string | null,
    string,
    string | null,
    bigint | null,
    Array<[string, string, string]>
  ]
  return { transactionId, height, index, status, reason, message, rule, received, reports: reports.map(([kind, jurisdiction, detail]) => ({ kind, jurisdiction, detail })) }
}

function receiptTuple(height: number, index: number, receipt: Receipt): Encodable[] {
  return [
    height,
    index,
    receipt.status,
    receipt.reason ?? null,
    receipt.message,
    receipt.rule ?? null,
    receipt.received ?? null,
    receipt.reports.map((report) => [report.kind, report.jurisdiction, report.detail])
  ]
}
