/**
 * What became of every submitted transfer, kept in columns of typed arrays rather than one object
 * per transfer. A million transfers as objects (a record, its TransferInfo, an id string, a Map
 * entry) held some 720 bytes each and millions of objects the garbage collector marked again at
 * every full collection; here they take about 130 bytes each and no objects. Strings (accounts,
 * banks, jurisdictions, currencies, reason codes) are kept once in a table and stored as indexes.
 * Only transfers still waiting for a receipt are found by id.
 */
import { bytesToHex } from '../protocol/bytes.ts'
import { assert } from '../protocol/assert.ts'
import type { TransferInfo } from './workload.ts'

/** One transfer, as read back (a fresh object per read). */
export interface Tracked {
  readonly id: string
  readonly info: TransferInfo
  readonly submitMs: number
  /** The bank whose node it was submitted to (the liveness check skips nodes still down at the end). */
  readonly via: string
  readonly finalMs: number | undefined
  readonly status: 'settled' | 'rejected' | 'pending'
  readonly reason: string
  readonly received: bigint | undefined
  /** Refused by the node at admission: answered at once, never in a block, so no finality latency. */
  readonly refused: boolean
}

const statuses = ['pending', 'settled', 'rejected'] as const

/** The value of each lower-case hex digit by character code ('0'-'9', 'a'-'f'; ids are lower-case hex): a load rather than a call per digit. */
const hexDigitValues = (() => {
  const values = new Uint8Array(128)
  for (let digit = 0; digit < 16; digit++) values[digit.toString(16).charCodeAt(0)] = digit
  return values
})()
const idBytes = 32

/** A party's strings and their indexes, remembered so that adding a transfer looks up one string per party instead of three. */
interface Party {
  readonly bank: string
  readonly jurisdiction: string
  readonly index: number
  readonly bankIndex: number
  readonly jurisdictionIndex: number
}

/** Columns of `text` whose last string and index `column` remembers. */
const kindColumn = 0
const payerKindColumn = 7
const currencyColumn = 8
const receivedCurrencyColumn = 9

export class TransferLog {
  private count = 0
  private capacity = 0
  private readonly strings: string[] = []
  private readonly stringIndex = new Map<string, number>()
  /** Transfers without a receipt yet, by id. */
  private readonly pending = new Map<string, number>()
  private ids = new Uint8Array(0)
  /** kind, payer, payee, payerBank, payeeBank, payerJurisdiction, payeeJurisdiction, payerKind, currency, receivedCurrency, via, reason: string-table indexes. */
  private text = new Int32Array(0)
  private amount = new BigInt64Array(0)
  private received = new BigInt64Array(0)
  private amountUsdCents = new Float64Array(0)
  private submitMs = new Float64Array(0)
  private finalMs = new Float64Array(0)
  /** Status index, +4 when refused at admission, +8 when `received` is set. */
  private flags = new Uint8Array(0)
  /** Payers and payees by account id (see Party). */
  private readonly parties = new Map<string, Party>()
  /** The last string written to each column and its index: most transfers repeat the last kind, payer kind or currency. */
  private readonly lastText: Array<string | undefined> = new Array<string | undefined>(12).fill(undefined)
  private readonly lastIndex = new Int32Array(12)
  private readonly noReason = this.intern('')

  get size(): number {
    return this.count
  }

  /** Transfers still waiting for a receipt. */
  get pendingCount(): number {
    return this.pending.size
  }

  add(id: string, info: TransferInfo, submitMs: number, via: string): void {
    if (this.count === this.capacity) this.grow()
    const index = this.count++
    assert(id.length === 2 * idBytes, 'a transfer id is a 32-byte hex digest')
    const ids = this.ids
    const offset = index * idBytes
    const digits = hexDigitValues
    for (let i = 0; i < idBytes; i++) ids[offset + i] = (digits[id.charCodeAt(2 * i) & 127]! << 4) | digits[id.charCodeAt(2 * i + 1) & 127]!
    const text = this.text
    const base = index * 12
    const payer = this.party(info.payer, info.payerBank, info.payerJurisdiction)
    const payee = this.party(info.payee, info.payeeBank, info.payeeJurisdiction)
    text[base] = this.column(kindColumn, info.kind)
    text[base + 1] = payer.index
    text[base + 2] = payee.index
    text[base + 3] = payer.bankIndex
    text[base + 4] = payee.bankIndex
    text[base + 5] = payer.jurisdictionIndex
    text[base + 6] = payee.jurisdictionIndex
    text[base + 7] = this.column(payerKindColumn, info.payerKind)
    text[base + 8] = this.column(currencyColumn, info.currency)
    text[base + 9] = this.column(receivedCurrencyColumn, info.receivedCurrency)
    text[base + 10] = via === info.payerBank ? payer.bankIndex : this.intern(via)
    text[base + 11] = this.noReason
    this.amount[index] = info.amount
    this.amountUsdCents[index] = info.amountUsdCents
    this.submitMs[index] = submitMs
    this.finalMs[index] = NaN
    this.flags[index] = 0
    this.pending.set(id, index)
  }

  /**
   * Records the receipt (or the refusal at admission) of transfer `id` if it is still waiting;
   * returns its index, or -1 when it is not waiting (unknown, or final already).
   */
  finishPending(id: string, finalMs: number, status: 'settled' | 'rejected', reason: string, received: bigint | undefined, refused: boolean): number {
    const index = this.pending.get(id)
    if (index === undefined) return -1
    this.pending.delete(id)
    this.finalMs[index] = finalMs
    this.text[index * 12 + 11] = this.intern(reason)
    let flags = status === 'settled' ? 1 : 2
    if (refused) flags |= 4
    if (received !== undefined) {
      this.received[index] = received
      flags |= 8
    }
    this.flags[index] = flags
    return index
  }

  idOf(index: number): string {
    return bytesToHex(this.ids.subarray(index * idBytes, (index + 1) * idBytes))
  }

  submitMsOf(index: number): number {
    return this.submitMs[index]!
  }

  isFinal(index: number): boolean {
    return (this.flags[index]! & 3) !== 0
  }

  viaOf(index: number): string {
    return this.strings[this.text[index * 12 + 10]!]!
  }

  infoOf(index: number): TransferInfo {
    const text = this.text
    const strings = this.strings
    const base = index * 12
    return {
      kind: strings[text[base]!] as TransferInfo['kind'],
      payer: strings[text[base + 1]!]!,
      payee: strings[text[base + 2]!]!,
      payerBank: strings[text[base + 3]!]!,
      payeeBank: strings[text[base + 4]!]!,
      payerJurisdiction: strings[text[base + 5]!]!,
      payeeJurisdiction: strings[text[base + 6]!]!,
      payerKind: strings[text[base + 7]!] as TransferInfo['payerKind'],
      amount: this.amount[index]!,
      currency: strings[text[base + 8]!]!,
      receivedCurrency: strings[text[base + 9]!]!,
      amountUsdCents: this.amountUsdCents[index]!
    }
  }

  at(index: number): Tracked {
    const flags = this.flags[index]!
    const final = (flags & 3) !== 0
    return {
      id: this.idOf(index),
      info: this.infoOf(index),
      submitMs: this.submitMs[index]!,
      via: this.viaOf(index),
      finalMs: final ? this.finalMs[index]! : undefined,
      status: statuses[flags & 3]!,
      reason: this.strings[this.text[index * 12 + 11]!]!,
      received: (flags & 8) !== 0 ? this.received[index]! : undefined,
      refused: (flags & 4) !== 0
    }
  }

  /** Every transfer in submission order, each read into a fresh object. */
  *values(): IterableIterator<Tracked> {
    for (let index = 0; index < this.count; index++) yield this.at(index)
  }

  private party(id: string, bank: string, jurisdiction: string): Party {
    let party = this.parties.get(id)
    // A party's bank and jurisdiction do not change; should they, the party is remembered anew.
    if (party === undefined || party.bank !== bank || party.jurisdiction !== jurisdiction) {
      party = { bank, jurisdiction, index: this.intern(id), bankIndex: this.intern(bank), jurisdictionIndex: this.intern(jurisdiction) }
      this.parties.set(id, party)
    }
    return party
  }

  private column(column: number, text: string): number {
    if (text === this.lastText[column]) return this.lastIndex[column]!
    const index = this.intern(text)
    this.lastText[column] = text
    this.lastIndex[column] = index
    return index
  }

  private intern(text: string): number {
    let index = this.stringIndex.get(text)
    if (index === undefined) {
      index = this.strings.length
      this.strings.push(text)
      this.stringIndex.set(text, index)
    }
    return index
  }

  private grow(): void {
    const capacity = Math.max(1024, this.capacity * 2)
    const grown = <T extends Uint8Array | Int32Array | Float64Array | BigInt64Array>(old: T, make: (length: number) => T, width = 1): T => {
      const next = make(capacity * width)
      next.set(old as never)
      return next
    }
    this.ids = grown(this.ids, (n) => new Uint8Array(n), idBytes)
    this.text = grown(this.text, (n) => new Int32Array(n), 12)
    this.amount = grown(this.amount, (n) => new BigInt64Array(n))
    this.received = grown(this.received, (n) => new BigInt64Array(n))
    this.amountUsdCents = grown(this.amountUsdCents, (n) => new Float64Array(n))
    this.submitMs = grown(this.submitMs, (n) => new Float64Array(n))
    this.finalMs = grown(this.finalMs, (n) => new Float64Array(n))
    this.flags = grown(this.flags, (n) => new Uint8Array(n))
    this.capacity = capacity
  }
}
