/**
 * The bytes a workload worker (workloadFeedWorker.ts) sends the simulation thread: arrivals and
 * their signed submissions, a few thousand per chunk, in one ArrayBuffer each. Reading a chunk
 * must cost the simulation thread far less than generating and signing did, so nothing in it is
 * parsed: numbers are read where they lie, signing bytes and signatures are views into the chunk
 * (no ArrayBuffer each, which the garbage collector would track one by one), and strings that
 * recur (accounts, tokens, banks, currencies) are sent once and then referred to by index.
 *
 * A chunk is a sequence of arrivals:
 *
 *   arrival:    f64 time, u32 source, f64 next arrival (NaN: none), u32 submissions
 *   submission: string via, string signer, bigint nonce, value body, bytes signingBytes,
 *               bytes signature, string id, string kind, string payer, string payee,
 *               string payerBank, string payeeBank, string payerJurisdiction,
 *               string payeeJurisdiction, string payerKind, bigint amount, string currency,
 *               string receivedCurrency, f64 amountUsdCents
 *
 * Numbers are little-endian. A string is a tag byte and either a u32 index into the table of
 * strings sent so far or the string itself (latin1, or UTF-16 when it needs to be). A string is
 * added to the table the second time a chunk uses it, so per-transfer strings (document
 * references, ids) stay out of the table. The envelope's chain id and public key are not sent:
 * the reader takes them from its own world, so the modeled verifier's fast path, which compares
 * public keys by identity, applies.
 */
import { assert } from '../protocol/assert.ts'
import type { Encodable } from '../protocol/encoding.ts'
import type { TransactionEnvelope } from '../protocol/envelope.ts'
import type { Submission, TransferInfo } from './workload.ts'

const tagNull = 0
const tagStringIndex = 1
const tagStringLatin1 = 2
const tagStringUtf16 = 3
const tagBigInt64 = 4
const tagBigIntDecimal = 5
const tagArray = 6
const tagNumber = 7
const tagTrue = 8
const tagFalse = 9
const tagBytes = 10
const tagObject = 11

/**
 * Buffer's own latin1 decoder, which `toString('latin1', start, end)` calls after checking its
 * arguments: a transaction id is decoded per transfer, and the checks cost as much as the decoding.
 */
interface Latin1Decoder {
  latin1Slice(start: number, end: number): string
}
const hasLatin1Slice = typeof (Buffer.prototype as unknown as Partial<Latin1Decoder>).latin1Slice === 'function'

function decodeLatin1(buffer: Buffer, start: number, end: number): string {
  return hasLatin1Slice ? (buffer as unknown as Latin1Decoder).latin1Slice(start, end) : buffer.toString('latin1', start, end)
}

/** Strings in the table at most; later repeated strings are sent whole every time. */
const stringTableEntriesMax = 1 << 20
/** Longest literal string, array or object the codec takes (a length is a u32, but nothing here comes near). */
const lengthMax = 0xffff_ffff

const kinds = ['payment', 'fxRateUpdate'] as const
const payerKinds = ['corporate', 'individual', 'institution'] as const

/** One chunk as posted: the bytes, the strings added to the table by it, and how many arrivals it holds. */
export interface WorkloadChunk {
  readonly buffer: ArrayBuffer
  readonly strings: readonly string[]
  readonly arrivals: number
  readonly submissions: number
}

/** Writes chunks (in the worker). */
export class WorkloadChunkWriter {
  private bytes = new Uint8Array(1 << 20)
  private view = new DataView(this.bytes.buffer)
  private offset = 0
  private readonly table = new Map<string, number>()
  /** Strings this chunk used once so far: a second use adds them to the table. */
  private readonly seenOnce = new Set<string>()
  private newStrings: string[] = []
  private arrivalCount = 0
  private submissionCount = 0

  constructor(private readonly chainId: string) {}

  /** Submissions written since the last `take`. */
  get submissions(): number {
    return this.submissionCount
  }

  get arrivals(): number {
    return this.arrivalCount
  }

  writeArrival(timeMs: number, source: number, nextMs: number | undefined, submissions: readonly Submission[]): void {
    this.reserve(24)
    this.view.setFloat64(this.offset, timeMs, true)
    this.view.setUint32(this.offset + 8, source, true)
    this.view.setFloat64(this.offset + 12, nextMs === undefined ? NaN : nextMs, true)
    this.view.setUint32(this.offset + 20, submissions.length, true)
    this.offset += 24
    for (const submission of submissions) this.writeSubmission(submission)
    this.arrivalCount++
    this.submissionCount += submissions.length
  }

  /** The chunk written so far; the writer starts a new one. */
  take(): WorkloadChunk {
    const chunk: WorkloadChunk = { buffer: this.bytes.buffer.slice(0, this.offset), strings: this.newStrings, arrivals: this.arrivalCount, submissions: this.submissionCount }
    this.offset = 0
    this.newStrings = []
    this.seenOnce.clear()
    this.arrivalCount = 0
    this.submissionCount = 0
    return chunk
  }

  private writeSubmission(submission: Submission): void {
    const envelope = submission.envelope
    const info = submission.info
    assert(envelope.chainId === this.chainId, 'a workload envelope is signed for the scenario chain')
    this.writeAccountString(submission.via)
    this.writeAccountString(envelope.signer)
    this.writeBigInt(envelope.nonce)
    this.writeValue(envelope.body)
    this.writeBytes(envelope.signingBytes)
    this.writeBytes(envelope.signature)
    this.writeLiteral(envelope.id)
    this.writeAccountString(info.kind)
    this.writeAccountString(info.payer)
    this.writeAccountString(info.payee)
    this.writeAccountString(info.payerBank)
    this.writeAccountString(info.payeeBank)
    this.writeAccountString(info.payerJurisdiction)
    this.writeAccountString(info.payeeJurisdiction)
    this.writeAccountString(info.payerKind)
    this.writeBigInt(info.amount)
    this.writeAccountString(info.currency)
    this.writeAccountString(info.receivedCurrency)
    this.reserve(8)
    this.view.setFloat64(this.offset, info.amountUsdCents, true)
    this.offset += 8
  }

  private reserve(bytes: number): void {
    if (this.offset + bytes <= this.bytes.length) return
    let length = this.bytes.length * 2
    while (length < this.offset + bytes) length *= 2
    const grown = new Uint8Array(length)
    grown.set(this.bytes.subarray(0, this.offset))
    this.bytes = grown
    this.view = new DataView(grown.buffer)
  }

  private writeLength(length: number): void {
    assert(length <= lengthMax, 'a workload value fits a chunk')
    this.reserve(4)
    this.view.setUint32(this.offset, length, true)
    this.offset += 4
  }

  /**
   * A string of the transfer's parties, banks, jurisdictions, kinds and currencies: from a set the
   * world bounds, so added to the table at once. The reader then hands out one string object per
   * value, which the maps it goes into compare by identity before they compare characters.
   */
  private writeAccountString(value: string): void {
    const index = this.table.get(value)
    if (index !== undefined) this.writeStringIndex(index)
    else if (this.table.size < stringTableEntriesMax) this.writeStringIndex(this.addToTable(value))
    else this.writeLiteral(value)
  }

  /** A string of a transaction body: added to the table the second time a chunk uses it (document references are used once). */
  private writeString(value: string): void {
    const index = this.table.get(value)
    if (index !== undefined) this.writeStringIndex(index)
    else if (this.seenOnce.has(value) && this.table.size < stringTableEntriesMax) this.writeStringIndex(this.addToTable(value))
    else {
      this.seenOnce.add(value)
      this.writeLiteral(value)
    }
  }

  private addToTable(value: string): number {
    const added = this.table.size
    this.table.set(value, added)
    this.newStrings.push(value)
    return added
  }

  private writeStringIndex(index: number): void {
    this.reserve(5)
    this.bytes[this.offset] = tagStringIndex
    this.view.setUint32(this.offset + 1, index, true)
    this.offset += 5
  }

  /** A string sent whole, never added to the table. */
  private writeLiteral(value: string): void {
    let wide = false
    for (let i = 0; i < value.length; i++) {
      if (value.charCodeAt(i) > 0xff) {
        wide = true
        break
      }
    }
    this.reserve(1)
    this.bytes[this.offset++] = wide ? tagStringUtf16 : tagStringLatin1
    this.writeLength(value.length)
    this.reserve(wide ? 2 * value.length : value.length)
    if (wide) {
      for (let i = 0; i < value.length; i++) this.view.setUint16(this.offset + 2 * i, value.charCodeAt(i), true)
      this.offset += 2 * value.length
    } else {
      for (let i = 0; i < value.length; i++) this.bytes[this.offset + i] = value.charCodeAt(i)
      this.offset += value.length
    }
  }

  private writeBigInt(value: bigint): void {
    if (BigInt.asIntN(64, value) === value) {
      this.reserve(9)
      this.bytes[this.offset] = tagBigInt64
      this.view.setBigInt64(this.offset + 1, value, true)
      this.offset += 9
      return
    }
    this.reserve(1)
    this.bytes[this.offset++] = tagBigIntDecimal
    const text = value.toString()
    this.writeLength(text.length)
    this.reserve(text.length)
    for (let i = 0; i < text.length; i++) this.bytes[this.offset + i] = text.charCodeAt(i)
    this.offset += text.length
  }

  private writeBytes(value: Uint8Array): void {
    this.writeLength(value.length)
    this.reserve(value.length)
    this.bytes.set(value, this.offset)
    this.offset += value.length
  }

  private writeValue(value: Encodable): void {
    if (value === null) {
      this.reserve(1)
      this.bytes[this.offset++] = tagNull
    } else if (typeof value === 'string') {
      this.writeString(value)
    } else if (typeof value === 'bigint') {
      this.writeBigInt(value)
    } else if (typeof value === 'number') {
      this.reserve(9)
      this.bytes[this.offset] = tagNumber
      this.view.setFloat64(this.offset + 1, value, true)
      this.offset += 9
    } else if (typeof value === 'boolean') {
      this.reserve(1)
      this.bytes[this.offset++] = value ? tagTrue : tagFalse
    } else if (value instanceof Uint8Array) {
      this.reserve(1)
      this.bytes[this.offset++] = tagBytes
      this.writeBytes(value)
    } else if (Array.isArray(value)) {
      this.reserve(1)
      this.bytes[this.offset++] = tagArray
      this.writeLength(value.length)
      for (const item of value as readonly Encodable[]) this.writeValue(item)
    } else if (typeof value === 'object') {
      const entries = Object.entries(value)
      this.reserve(1)
      this.bytes[this.offset++] = tagObject
      this.writeLength(entries.length)
      for (const [key, item] of entries) {
        this.writeString(key)
        this.writeValue(item)
      }
    } else {
      assert(false, `a transaction body holds only encodable values, got ${typeof value}`)
    }
  }
}

/** What the reader needs of the simulation's world. */
export interface WorkloadChunkReaderContext {
  readonly chainId: string
  /** The public key of a signer: the world's own object, not a copy. */
  publicKeyOf(signer: string): Uint8Array
  /** The simulation's own object for a string of its world (an account id, a bank), or the string itself. */
  canonical?(value: string): string
}

/** One arrival as read: the submissions and the time of the source's next arrival. */
export interface ReadArrival {
  readonly timeMs: number
  readonly source: number
  readonly nextMs: number | undefined
  readonly submissions: Submission[]
}

/** Reads chunks (on the simulation thread), one arrival at a time. */
export class WorkloadChunkReader {
  private readonly table: string[] = []
  /** Public keys by table index, for signers sent by index. */
  private readonly tablePublicKeys: Array<Uint8Array | undefined> = []
  private arrayBuffer = new ArrayBuffer(0)
  private bytes = new Uint8Array(0)
  private view = new DataView(this.bytes.buffer)
  private buffer = Buffer.alloc(0)
  private offset = 0
  private arrivalsLeft = 0

  constructor(private readonly context: WorkloadChunkReaderContext) {}

  /** Arrivals left in the current chunk. */
  get remaining(): number {
    return this.arrivalsLeft
  }

  /** Starts reading a chunk; the previous one must have been read to its end. */
  start(chunk: WorkloadChunk): void {
    assert(this.arrivalsLeft === 0, 'a workload chunk is read to its end before the next')
    const canonical = this.context.canonical
    for (const value of chunk.strings) this.table.push(canonical === undefined ? value : canonical(value))
    this.arrayBuffer = chunk.buffer
    this.bytes = new Uint8Array(chunk.buffer)
    this.view = new DataView(chunk.buffer)
    this.buffer = Buffer.from(chunk.buffer)
    this.offset = 0
    this.arrivalsLeft = chunk.arrivals
  }

  /** The next arrival of the chunk. */
  next(): ReadArrival {
    assert(this.arrivalsLeft > 0, 'a workload chunk has an arrival left')
    this.arrivalsLeft--
    const view = this.view
    const timeMs = view.getFloat64(this.offset, true)
    const source = view.getUint32(this.offset + 8, true)
    const next = view.getFloat64(this.offset + 12, true)
    const count = view.getUint32(this.offset + 20, true)
    this.offset += 24
    const submissions: Submission[] = []
    for (let i = 0; i < count; i++) submissions.push(this.readSubmission())
    if (this.arrivalsLeft === 0) assert(this.offset === this.bytes.length, 'a workload chunk ends after its last arrival')
    return { timeMs, source, nextMs: Number.isNaN(next) ? undefined : next, submissions }
  }

  private readSubmission(): Submission {
    const via = this.readString()
    const signerAt = this.offset
    const signer = this.readString()
    const publicKey = this.bytes[signerAt] === tagStringIndex ? this.tablePublicKey(this.view.getUint32(signerAt + 1, true), signer) : this.context.publicKeyOf(signer)
    const nonce = this.readBigInt()
    const body = this.readValue()
    const signingBytes = this.readBytes()
    const signature = this.readBytes()
    const id = this.readString()
    const envelope: TransactionEnvelope = { chainId: this.context.chainId, signer, publicKey, nonce, body, signature, signingBytes, id }
    const kind = this.readString()
    const payer = this.readString()
    const payee = this.readString()
    const payerBank = this.readString()
    const payeeBank = this.readString()
    const payerJurisdiction = this.readString()
    const payeeJurisdiction = this.readString()
    const payerKind = this.readString()
    const amount = this.readBigInt()
    const currency = this.readString()
    const receivedCurrency = this.readString()
    const amountUsdCents = this.view.getFloat64(this.offset, true)
    this.offset += 8
    assert((kinds as readonly string[]).includes(kind) && (payerKinds as readonly string[]).includes(payerKind), 'a workload submission has a known kind')
    const info: TransferInfo = {
      kind: kind as TransferInfo['kind'],
      payer,
      payee,
      payerBank,
      payeeBank,
      payerJurisdiction,
      payeeJurisdiction,
      payerKind: payerKind as TransferInfo['payerKind'],
      amount,
      currency,
      receivedCurrency,
      amountUsdCents
    }
    return { envelope, info, via }
  }

  private tablePublicKey(index: number, signer: string): Uint8Array {
    let publicKey = this.tablePublicKeys[index]
    if (publicKey === undefined) {
      publicKey = this.context.publicKeyOf(signer)
      this.tablePublicKeys[index] = publicKey
    }
    return publicKey
  }

  private readLength(): number {
    const length = this.view.getUint32(this.offset, true)
    this.offset += 4
    return length
  }

  private readString(): string {
    const tag = this.bytes[this.offset++]
    if (tag === tagStringIndex) {
      const value = this.table[this.view.getUint32(this.offset, true)]
      this.offset += 4
      assert(value !== undefined, 'a workload string index is in the table')
      return value
    }
    const length = this.readLength()
    if (tag === tagStringLatin1) {
      const value = decodeLatin1(this.buffer, this.offset, this.offset + length)
      this.offset += length
      return value
    }
    assert(tag === tagStringUtf16, `a workload string has a string tag, got ${tag}`)
    let value = ''
    for (let i = 0; i < length; i++) value += String.fromCharCode(this.view.getUint16(this.offset + 2 * i, true))
    this.offset += 2 * length
    return value
  }

  private readBigInt(): bigint {
    const tag = this.bytes[this.offset++]
    if (tag === tagBigInt64) {
      const value = this.view.getBigInt64(this.offset, true)
      this.offset += 8
      return value
    }
    assert(tag === tagBigIntDecimal, `a workload integer has an integer tag, got ${tag}`)
    const length = this.readLength()
    const value = BigInt(decodeLatin1(this.buffer, this.offset, this.offset + length))
    this.offset += length
    return value
  }

  /** A view into the chunk, not a copy. */
  private readBytes(): Uint8Array {
    const length = this.readLength()
    // A view made directly: subarray looks up the species constructor first.
    const value = new Uint8Array(this.arrayBuffer, this.offset, length)
    this.offset += length
    return value
  }

  private readValue(): Encodable {
    const tag = this.bytes[this.offset]
    switch (tag) {
      case tagNull:
        this.offset++
        return null
      case tagStringIndex:
      case tagStringLatin1:
      case tagStringUtf16:
        return this.readString()
      case tagBigInt64:
      case tagBigIntDecimal:
        return this.readBigInt()
      case tagNumber: {
        const value = this.view.getFloat64(this.offset + 1, true)
        this.offset += 9
        return value
      }
      case tagTrue:
      case tagFalse:
        this.offset++
        return tag === tagTrue
      case tagBytes:
        this.offset++
        return this.readBytes()
      case tagArray: {
        this.offset++
        const length = this.readLength()
        const items: Encodable[] = []
        for (let i = 0; i < length; i++) items.push(this.readValue())
        return items
      }
      case tagObject: {
        this.offset++
        const length = this.readLength()
        const object: Record<string, Encodable> = {}
        for (let i = 0; i < length; i++) {
          const key = this.readString()
          object[key] = this.readValue()
        }
        return object
      }
      default:
        assert(false, `a workload value has a known tag, got ${tag}`)
    }
  }
}

// Between the threads.

/** Slots of the Int32Array over the control SharedArrayBuffer. */
export const controlSlots = {
  /** Messages the worker posted (it adds one after each post, then notifies). */
  posted: 0,
  /** Messages the simulation thread took (it adds one after each take, then notifies). */
  taken: 1,
  /** The worker's state: running, finished or failed. */
  state: 2,
  /** Set by the simulation thread when it needs no more: the worker stops. */
  stop: 3
} as const
export const controlSlotsCount = 4
export const workerStates = { running: 0, finished: 1, failed: 2 } as const

export type WorkloadFeedMessage =
  /** The first arrival of each source, in source order (null: the source is empty). */
  | { readonly kind: 'start'; readonly firsts: ReadonlyArray<number | null> }
  | { readonly kind: 'chunk'; readonly chunk: WorkloadChunk }
  /** Every arrival was sent. */
  | { readonly kind: 'end' }
  | { readonly kind: 'error'; readonly message: string; readonly stack: string }
