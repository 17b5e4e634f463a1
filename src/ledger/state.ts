/**
 * The ledger state, block overlays and the state root.
 *
 * State is a flat key-value space (see stateKeys.ts) held in one Map. A block executes on an
 * overlay (`PendingBlock`): reads fall through to the committed state, writes stay in the
 * overlay, so a proposal can be executed and thrown away (ABCI++ ProcessProposal) or committed
 * later (Commit). Committing writes the overlay into the same Map rather than copying it: a copy
 * per block would cost time proportional to the whole state. The committed `LedgerState` object
 * is therefore consumed by `commitBlock`, like a LevelDB batch write: the old handle is retired
 * and any later use of it is an assertion failure. `cloneLedgerState` makes an independent copy
 * when one is wanted (tests, forks in the simulator).
 *
 * Beside the Map the state keeps parsed views that execution needs on every payment: the FX table
 * and the policies in force. Both are rebuilt only when a block writes `fx/` or `policy/` keys.
 * Account records are parsed through a cache keyed by the stored tuple (accounts.ts).
 *
 * State root. A full Merkle tree would make each block's root cost proportional to its writes
 * times the tree depth, with hashing in JS at about 100 MB/s; instead the root is a hash chain
 * over each block's writes:
 *
 *   root_h = H('corridor.stateroot', encode([root_{h-1}, h, timeMs_h, D(writes_h)]))
 *   D(entries) = H('corridor.statediff', encode([k1, v1, k2, v2, ...]))  keys ascending, each once
 *
 * with root_0 computed the same way from 32 zero bytes and the whole genesis state. Its cost is
 * proportional to what a block touched, two replicas agree on it exactly when they applied the
 * same writes in the same blocks (which is what consensus needs: they apply the same blocks from
 * the same genesis), and `fullStateDigest` (D over the whole state) compares two states directly
 * for tests and catch-up. What it does not give is a proof that one key has one value (no Merkle
 * path); a light client or state sync from untrusted peers would need a tree.
 */
import { assert } from '../protocol/assert.ts'
import { utf8 } from '../protocol/bytes.ts'
import { encode, type Encodable } from '../protocol/encoding.ts'
import { hashBytesLength, sha256 as portableSha256 } from '../protocol/hash.ts'
import { decodeAccountRecord, type AccountRecord } from './accounts.ts'
import { fxRateScale, type FxTable } from './fx.ts'
import { parsePolicyDocument, type JurisdictionPolicy } from './policy/schema.ts'
import type { PolicySet } from './policy/types.ts'
import { accountKeys, internKey, stateKeys, statePrefixes } from './stateKeys.ts'

/** SHA-256 as a function. The default is @noble/hashes; a driver may inject node:crypto's, which gives the same bytes about fifteen times faster. */
export type Sha256 = (bytes: Uint8Array) => Uint8Array

export const stateRootTag = 'corridor.stateroot'
export const stateDiffTag = 'corridor.statediff'
export const zeroRoot: Uint8Array = new Uint8Array(hashBytesLength)

const tagPrefixes = new Map<string, Uint8Array>()
function taggedHash(sha256: Sha256, tag: string, bytes: Uint8Array): Uint8Array {
  let prefix = tagPrefixes.get(tag)
  if (prefix === undefined) {
    prefix = new Uint8Array([...utf8(tag), 0])
    tagPrefixes.set(tag, prefix)
  }
  const input = new Uint8Array(prefix.length + bytes.length)
  input.set(prefix, 0)
  input.set(bytes, prefix.length)
  return sha256(input)
}

/**
 * The bytes D hashes: the tag, a zero byte, then exactly `encode([k1, v1, k2, v2, ...])`. Keys and
 * amounts (nearly every entry a block writes) are written here directly in MessagePack's forms,
 * the same bytes msgpackr writes (str fixstr/str8/str16/str32 by UTF-8 length, bigint as int64
 * 0xd3 or uint64 0xcf); any other value is appended as `encode(value)`. About twice as fast as
 * packing the array with msgpackr, and a test checks the two agree byte for byte.
 */
class DigestWriter {
  #bytes = new Uint8Array(1 << 16)
  #view = new DataView(this.#bytes.buffer)
  length = 0

  reset(): void {
    this.length = 0
  }

  /** Gives back a buffer grown for a whole-state digest, so it is not kept for the process's life. */
  release(): void {
    if (this.#bytes.length > digestWriterBytesKept) {
      this.#bytes = new Uint8Array(1 << 16)
      this.#view = new DataView(this.#bytes.buffer)
    }
    this.length = 0
  }

  result(): Uint8Array {
    return this.#bytes.subarray(0, this.length)
  }

  #reserve(count: number): void {
    if (this.length + count <= this.#bytes.length) return
    let size = this.#bytes.length * 2
    while (size < this.length + count) size *= 2
    const bytes = new Uint8Array(size)
    bytes.set(this.#bytes.subarray(0, this.length))
    this.#bytes = bytes
    this.#view = new DataView(bytes.buffer)
  }

  raw(bytes: Uint8Array): void {
    this.#reserve(bytes.length)
    this.#bytes.set(bytes, this.length)
    this.length += bytes.length
  }

  arrayHeader(count: number): void {
    this.#reserve(5)
    if (count < 16) {
      this.#bytes[this.length++] = 0x90 | count
    } else if (count < 0x10000) {
      this.#bytes[this.length] = 0xdc
      this.#view.setUint16(this.length + 1, count)
      this.length += 3
    } else {
      this.#bytes[this.length] = 0xdd
      this.#view.setUint32(this.length + 1, count)
      this.length += 5
    }
  }

  #stringHeader(byteLength: number): void {
    if (byteLength < 32) {
      this.#bytes[this.length++] = 0xa0 | byteLength
    } else if (byteLength < 0x100) {
      this.#bytes[this.length++] = 0xd9
      this.#bytes[this.length++] = byteLength
    } else if (byteLength < 0x10000) {
      this.#bytes[this.length] = 0xda
      this.#view.setUint16(this.length + 1, byteLength)
      this.length += 3
    } else {
      this.#bytes[this.length] = 0xdb
      this.#view.setUint32(this.length + 1, byteLength)
      this.length += 5
    }
  }

  string(text: string): void {
    const count = text.length
    this.#reserve(count + 5)
    const start = this.length
    this.#stringHeader(count)
    const bytes = this.#bytes
    let at = this.length
    for (let i = 0; i < count; i++) {
      const code = text.charCodeAt(i)
      if (code >= 0x80) {
        // Not ASCII: start over with the UTF-8 bytes, whose length decides the header.
        this.length = start
        const encoded = utf8(text)
        this.#reserve(encoded.length + 5)
        this.#stringHeader(encoded.length)
        this.raw(encoded)
        return
      }
      bytes[at++] = code
    }
    this.length = at
  }

  bigint(value: bigint): void {
    this.#reserve(9)
    if (value >= int64Min && value <= int64Max) {
      this.#bytes[this.length] = 0xd3
      this.#view.setBigInt64(this.length + 1, value)
    } else {
      assert(value >= 0n && value <= uint64Max, 'an amount in the state fits in 64 bits')
      this.#bytes[this.length] = 0xcf
      this.#view.setBigUint64(this.length + 1, value)
    }
    this.length += 9
  }

  /** Non-negative integers below 2^32, in msgpack's shortest form (as msgpackr writes them). */
  #smallInteger(value: number): void {
    this.#reserve(5)
    if (value < 0x80) {
      this.#bytes[this.length++] = value
    } else if (value < 0x100) {
      this.#bytes[this.length++] = 0xcc
      this.#bytes[this.length++] = value
    } else if (value < 0x10000) {
      this.#bytes[this.length] = 0xcd
      this.#view.setUint16(this.length + 1, value)
      this.length += 3
    } else {
      this.#bytes[this.length] = 0xce
      this.#view.setUint32(this.length + 1, value)
      this.length += 5
    }
  }

  value(value: Encodable): void {
    if (typeof value === 'bigint') this.bigint(value)
    else if (typeof value === 'string') this.string(value)
    else if (typeof value === 'number' && value >>> 0 === value) this.#smallInteger(value)
    else if (Array.isArray(value)) {
      // Policy usage state: short tuples of day numbers, amounts and ids.
      const list = value as readonly Encodable[]
      this.arrayHeader(list.length)
      for (let i = 0; i < list.length; i++) this.value(list[i]!)
    } else this.raw(encode(value))
  }
}

/** Blocks write far less than this; only whole-state digests grow the buffer past it. */
const digestWriterBytesKept = 8 * 1024 * 1024
const int64Min = -(2n ** 63n)
const int64Max = 2n ** 63n - 1n
const uint64Max = 2n ** 64n - 1n
const digestWriter = new DigestWriter()
const stateDiffPrefix = new Uint8Array([...utf8(stateDiffTag), 0])

/** The canonical encoding of entries as a flat array sorted by key (what D hashes, without the tag). */
export function encodeSortedEntries(entries: ReadonlyMap<string, Encodable>): Uint8Array {
  const bytes = writeSortedEntries(entries, false).slice()
  digestWriter.release()
  return bytes
}

function writeSortedEntries(entries: ReadonlyMap<string, Encodable>, tagged: boolean): Uint8Array {
  // Sorting the keys alone lets the engine compare strings natively, several times faster than
  // sorting pairs with a comparator; the values are then looked up in key order.
  const keys = [...entries.keys()].sort()
  const writer = digestWriter
  writer.reset()
  if (tagged) writer.raw(stateDiffPrefix)
  writer.arrayHeader(keys.length * 2)
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!
    writer.string(key)
    writer.value(entries.get(key)!)
  }
  return writer.result()
}

/** D(entries): the digest of a set of entries, independent of the order they are given in. */
export function entriesDigest(entries: ReadonlyMap<string, Encodable>, sha256: Sha256 = portableSha256): Uint8Array {
  const digest = sha256(writeSortedEntries(entries, true))
  digestWriter.release()
  return digest
}

/** One link of the root chain. */
export function nextStateRoot(sha256: Sha256, previousRoot: Uint8Array, height: number, timeMs: number, diffDigest: Uint8Array): Uint8Array {
  return taggedHash(sha256, stateRootTag, encode([previousRoot, height, timeMs, diffDigest]))
}

export interface LedgerStateInit {
  /** Copied (with interned keys); the caller keeps its Map. */
  readonly entries: ReadonlyMap<string, Encodable>
  /** Height of the last committed block; 0 for genesis. */
  readonly height: number
  /** Time of the last committed block (genesis time at height 0), ms since the epoch. */
  readonly timeMs: number
  /** Root after that block; computed from the entries when omitted at height 0. */
  readonly stateRoot?: Uint8Array
  readonly sha256?: Sha256
}

/** Parsed views kept beside the Map; shared, like the Map, with the state commitBlock returns. */
export interface LedgerStateCaches {
  /** Parsed account records by `a/` key, filled on first read, invalidated by commitBlock on write. */
  readonly accounts: Map<string, AccountRecord>
  /** Issuer of each token (the `t/` entries). Tokens are created only at genesis. */
  readonly tokenIssuers: ReadonlyMap<string, string>
}

/**
 * Committed entries read at one height without a Map of their own: a replica's view of the
 * content shared by the replicas of a process (sharedState.ts). `materialize` copies them out.
 */
export interface SharedStateReader {
  get(key: string): Encodable | undefined
  materialize(): Map<string, Encodable>
  /** Every committed entry, as `materialize()` would hold it, without building the copy. */
  forEachEntry(visit: (value: Encodable | undefined, key: string) => void): void
}

/** Where a state's committed entries live: its own Map, or a view of shared content. */
export type StateStore = Map<string, Encodable> | SharedStateReader

interface LedgerStateParts {
  readonly store: StateStore
  readonly caches: LedgerStateCaches
  readonly height: number
  readonly timeMs: number
  readonly stateRoot: Uint8Array
  readonly chainId: string
  readonly fx: FxTable
  readonly policies: PolicySet
  readonly sha256: Sha256
}

/**
 * A committed ledger state at one height. Read it through `get` or the helpers below; execute
 * blocks on it with `executeBlock` (execute.ts). Its Map is shared with the state that
 * `commitBlock` returns, which retires this one.
 */
export class LedgerState {
  readonly chainId: string
  readonly height: number
  readonly timeMs: number
  readonly stateRoot: Uint8Array
  /** The FX table in force (from `g/fxBase` and `fx/` keys). */
  readonly fx: FxTable
  /** The policies in force by jurisdiction (from `policy/` keys). */
  readonly policies: PolicySet
  readonly sha256: Sha256
  readonly #store: StateStore
  readonly #caches: LedgerStateCaches
  #retired = false

  /** Use `restoreLedgerState` or `buildGenesis`; this takes already-derived parts. */
  private constructor(parts: LedgerStateParts) {
    this.#store = parts.store
    this.#caches = parts.caches
    this.chainId = parts.chainId
    this.height = parts.height
    this.timeMs = parts.timeMs
    this.stateRoot = parts.stateRoot
    this.fx = parts.fx
    this.policies = parts.policies
    this.sha256 = parts.sha256
  }

  /** @internal for state.ts and execute.ts */
  static fromParts(parts: LedgerStateParts): LedgerState {
    return new LedgerState(parts)
  }

  get retired(): boolean {
    return this.#retired
  }

  /**
   * The committed entries. Read-only: all writes go through blocks. A state that reads shared
   * content (sharedState.ts) has no Map of its own: it gets a copy, which costs time proportional
   * to the whole state.
   */
  get entries(): ReadonlyMap<string, Encodable> {
    this.#checkLive()
    const store = this.#store
    return store instanceof Map ? store : store.materialize()
  }

  get(key: string): Encodable | undefined {
    this.#checkLive()
    return this.#store.get(key)
  }

  /**
   * Visits every committed entry, in no promised order. For a state reading shared content this
   * costs what `entries` costs without the copy: the invariant checks of a simulation run it
   * every simulated second.
   */
  forEachEntry(visit: (value: Encodable | undefined, key: string) => void): void {
    this.#checkLive()
    const store = this.#store
    if (store instanceof Map) store.forEach(visit)
    else store.forEachEntry(visit)
  }

  #checkLive(): void {
    if (this.#retired) assert(false, `ledger state at height ${this.height} was consumed by commitBlock`)
  }

  /** @internal the live store, for the overlay's read path (no retirement check per read) and commitBlock. */
  mutableStore(): StateStore {
    this.#checkLive()
    return this.#store
  }

  /** @internal the parsed views, for execution. */
  caches(): LedgerStateCaches {
    this.#checkLive()
    return this.#caches
  }

  /** @internal marks this handle consumed. */
  retire(): void {
    assert(!this.#retired, `ledger state at height ${this.height} is committed once`)
    this.#retired = true
  }
}

/** Builds the FX table from the entries. */
export function fxTableFromEntries(entries: ReadonlyMap<string, Encodable>): FxTable {
  const base = entries.get(stateKeys.fxBase)
  assert(typeof base === 'string', 'state has an FX base currency')
  const rates = new Map<string, bigint>()
  for (const [key, value] of entries) {
    if (!key.startsWith(statePrefixes.fxRate)) continue
    assert(typeof value === 'bigint' && value > 0n, `${key} is a positive rate`)
    rates.set(key.slice(statePrefixes.fxRate.length), value)
  }
  assert(rates.get(base) === fxRateScale, `the FX base ${base} has rate 1`)
  return { base, rates }
}

const parsedPolicies = new WeakMap<object, JurisdictionPolicy>()

/** Parses a stored policy document, once per stored value. */
export function policyFromDocument(jurisdiction: string, document: Encodable): JurisdictionPolicy {
  assert(typeof document === 'object' && document !== null, `policy of ${jurisdiction} is a document`)
  let policy = parsedPolicies.get(document)
  if (policy === undefined) {
    policy = parsePolicyDocument(document, `ledger state ${stateKeys.policy(jurisdiction)}`)
    parsedPolicies.set(document, policy)
  }
  return policy
}

/** Remembers the parse of a document the caller already parsed (admission, genesis). */
export function rememberPolicy(document: Encodable, policy: JurisdictionPolicy): void {
  if (typeof document === 'object' && document !== null) parsedPolicies.set(document, policy)
}

export function tokenIssuersFromEntries(entries: ReadonlyMap<string, Encodable>): Map<string, string> {
  const issuers = new Map<string, string>()
  for (const [key, value] of entries) {
    if (!key.startsWith(statePrefixes.token)) continue
    assert(typeof value === 'string', `${key} names its issuer`)
    issuers.set(key.slice(statePrefixes.token.length), value)
  }
  return issuers
}

export function policySetFromEntries(entries: ReadonlyMap<string, Encodable>): PolicySet {
  const policies = new Map<string, JurisdictionPolicy>()
  const keys = [...entries.keys()].filter((key) => key.startsWith(statePrefixes.policy)).sort()
  for (const key of keys) {
    const jurisdiction = key.slice(statePrefixes.policy.length)
    policies.set(jurisdiction, policyFromDocument(jurisdiction, entries.get(key)!))
  }
  return policies
}

/**
 * A ledger state from its entries: at genesis (height 0, root computed) or as loaded from
 * storage with the height, block time and root saved beside it.
 */
export function restoreLedgerState(init: LedgerStateInit): LedgerState {
  const sha256 = init.sha256 ?? portableSha256
  // A copy with interned keys (see internKey): entries loaded from storage come with fresh strings.
  const entries = new Map<string, Encodable>()
  for (const [key, value] of init.entries) entries.set(internKey(key), value)
  const chainId = entries.get(stateKeys.chainId)
  assert(typeof chainId === 'string', 'state has a chain id')
  assert(Number.isSafeInteger(init.height) && init.height >= 0, 'height is a non-negative integer')
  assert(Number.isSafeInteger(init.timeMs) && init.timeMs >= 0, 'block time is a non-negative integer')
  let stateRoot = init.stateRoot
  if (stateRoot === undefined) {
    assert(init.height === 0, 'a state above genesis is restored with its saved root')
    stateRoot = nextStateRoot(sha256, zeroRoot, 0, init.timeMs, entriesDigest(entries, sha256))
  }
  return LedgerState.fromParts({
    store: entries,
    caches: { accounts: new Map(), tokenIssuers: tokenIssuersFromEntries(entries) },
    height: init.height,
    timeMs: init.timeMs,
    stateRoot,
    chainId,
    fx: fxTableFromEntries(entries),
    policies: policySetFromEntries(entries),
    sha256
  })
}

/** An independent copy (values are immutable and shared). */
export function cloneLedgerState(state: LedgerState): LedgerState {
  return LedgerState.fromParts({
    store: new Map(state.entries),
    caches: { accounts: new Map(), tokenIssuers: state.caches().tokenIssuers },
    height: state.height,
    timeMs: state.timeMs,
    stateRoot: state.stateRoot,
    chainId: state.chainId,
    fx: state.fx,
    policies: state.policies,
    sha256: state.sha256
  })
}

/** D over the whole state: equal for two states exactly when their entries are equal. */
export function fullStateDigest(state: LedgerState): Uint8Array {
  return entriesDigest(state.entries, state.sha256)
}

// Readers for queries, tests and the simulator.

export function balanceOf(state: LedgerState, account: string, token: string): bigint {
  const value = state.get(stateKeys.balance(account, token))
  return value === undefined ? 0n : (value as bigint)
}

export function lastNonceOf(state: LedgerState, signer: string): bigint {
  // The memoised key (accountKeys): mempools ask this for every transaction they receive, and
  // interning the key afresh each time cost more than the lookup.
  const value = state.get(accountKeys(signer).nonce)
  return value === undefined ? 0n : (value as bigint)
}

export function accountOf(state: LedgerState, id: string): AccountRecord | undefined {
  // Mempools and proposal checks ask this for every transaction each validator sees: the memoised
  // key and the parsed-record cache execution keeps (invalidated by commitBlock on write) make it
  // one lookup instead of interning a key and decoding a record each time.
  const key = accountKeys(id).account
  const cache = state.caches().accounts
  const cached = cache.get(key)
  if (cached !== undefined) return cached
  const value = state.get(key)
  if (value === undefined) return undefined
  const record = decodeAccountRecord(id, value)
  cache.set(key, record)
  return record
}

export interface TokenTotals {
  readonly supply: bigint
  readonly issued: bigint
  readonly redeemed: bigint
}

export function tokenTotalsOf(state: LedgerState, token: string): TokenTotals {
  const read = (key: string): bigint => (state.get(key) as bigint | undefined) ?? 0n
  return { supply: read(stateKeys.supply(token)), issued: read(stateKeys.issued(token)), redeemed: read(stateKeys.redeemed(token)) }
}

/** Every token id in the state, ascending. */
export function tokenIdsOf(state: LedgerState): string[] {
  const out: string[] = []
  for (const key of state.entries.keys()) if (key.startsWith(statePrefixes.token)) out.push(key.slice(statePrefixes.token.length))
  return out.sort()
}

/** Every account record in the state, by id ascending. */
export function accountsOf(state: LedgerState): AccountRecord[] {
  const out: AccountRecord[] = []
  for (const [key, value] of state.entries) {
    if (key.startsWith(statePrefixes.account)) out.push(decodeAccountRecord(key.slice(statePrefixes.account.length), value))
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}
