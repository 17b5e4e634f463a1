/**
 * Account records: every entity that signs or holds anything (banks, central banks, FX providers,
 * regulators, customers) has one at `a/<id>`, stored as a fixed tuple
 *
 *   [kind, jurisdiction, homeBank | null, currencies, publicKey, kycTier | null,
 *    spreadBasisPoints | null, frozen]
 *
 * State values are decoded once and the parsed record is remembered against the tuple's identity
 * (a WeakMap): a write stores a new tuple, so the cache never needs invalidating and reading an
 * account on the hot path costs two map lookups.
 */
import { assert } from '../protocol/assert.ts'
import type { Encodable } from '../protocol/encoding.ts'
import { publicKeyBytesLength } from '../protocol/keys.ts'
import type { PartyKind, PolicyParty } from './policy/types.ts'

export const accountKinds = ['bank', 'central-bank', 'fx-provider', 'regulator', 'corporate', 'individual'] as const
export type AccountKind = (typeof accountKinds)[number]
export type CustomerKind = 'corporate' | 'individual'

export interface AccountRecord {
  readonly id: string
  readonly kind: AccountKind
  /** ISO 3166 alpha-2 code of the jurisdiction the entity answers to. */
  readonly jurisdiction: string
  /** The bank a customer holds its deposits at; undefined for institutions. */
  readonly homeBank: string | undefined
  /** A bank's deposit currencies, a central bank's issued currencies, an FX provider's quoted ones. */
  readonly currencies: readonly string[]
  /** The only key whose signatures count for this account. */
  readonly publicKey: Uint8Array
  /** A customer's KYC tier (1 = lowest). */
  readonly kycTier: number | undefined
  /** An FX provider's spread below the ledger's rate, in basis points. */
  readonly spreadBasisPoints: number | undefined
  /** A frozen account can neither send nor receive; institutions in a payment's path block it. */
  readonly frozen: boolean
  /** The account as the policy engine sees it; undefined for regulators, who never move value. */
  readonly party: PolicyParty | undefined
}

export interface AccountRecordInit {
  readonly kind: AccountKind
  readonly jurisdiction: string
  readonly homeBank?: string | undefined
  readonly currencies?: readonly string[]
  readonly publicKey: Uint8Array
  readonly kycTier?: number | undefined
  readonly spreadBasisPoints?: number | undefined
  readonly frozen?: boolean
}

export function isCustomerKind(kind: AccountKind): kind is CustomerKind {
  return kind === 'corporate' || kind === 'individual'
}

/** Encodes an account record as its state tuple. */
export function encodeAccountRecord(init: AccountRecordInit): Encodable {
  return [
    init.kind,
    init.jurisdiction,
    init.homeBank ?? null,
    [...(init.currencies ?? [])],
    init.publicKey,
    init.kycTier ?? null,
    init.spreadBasisPoints ?? null,
    init.frozen ?? false
  ]
}

/** The same record with `frozen` changed, as a new state tuple. */
export function withFrozen(record: AccountRecord, frozen: boolean): Encodable {
  return encodeAccountRecord({ ...record, frozen })
}

const parsedRecords = new WeakMap<object, AccountRecord>()

/** The parsed record of a stored tuple, when it was parsed before: the hot path's one lookup. */
export function cachedAccountRecord(value: Encodable): AccountRecord | undefined {
  return typeof value === 'object' && value !== null ? parsedRecords.get(value) : undefined
}
const accountKindSet: ReadonlySet<string> = new Set(accountKinds)

/**
 * Decodes the state tuple stored at `a/<id>`. State is written only by the ledger, so a malformed
 * record means corrupt state: an assertion, not an error.
 */
export function decodeAccountRecord(id: string, value: Encodable): AccountRecord {
  assert(Array.isArray(value), `account record of ${id} is a tuple`)
  const cached = parsedRecords.get(value)
  if (cached !== undefined) {
    assert(cached.id === id, `account record of ${id} is not shared with ${cached.id}`)
    return cached
  }
  const tuple = value as readonly Encodable[]
  const [kind, jurisdiction, homeBank, currencies, publicKey, kycTier, spreadBasisPoints, frozen] = tuple
  assert(tuple.length === 8, `account record of ${id} has 8 fields`)
  assert(typeof kind === 'string' && accountKindSet.has(kind), `account record of ${id} has a known kind`)
  assert(typeof jurisdiction === 'string', `account record of ${id} has a jurisdiction`)
  assert(homeBank === null || typeof homeBank === 'string', `account record of ${id} has a home bank or null`)
  assert(Array.isArray(currencies) && currencies.every((c) => typeof c === 'string'), `account record of ${id} has currencies`)
  assert(publicKey instanceof Uint8Array && publicKey.length === publicKeyBytesLength, `account record of ${id} has a public key`)
  assert(kycTier === null || typeof kycTier === 'number', `account record of ${id} has a KYC tier or null`)
  assert(spreadBasisPoints === null || typeof spreadBasisPoints === 'number', `account record of ${id} has a spread or null`)
  assert(typeof frozen === 'boolean', `account record of ${id} has a frozen flag`)
  const accountKind = kind as AccountKind
  const home = homeBank ?? undefined
  const record: AccountRecord = {
    id,
    kind: accountKind,
    jurisdiction,
    homeBank: home,
    currencies: currencies as string[],
    publicKey,
    kycTier: kycTier ?? undefined,
    spreadBasisPoints: spreadBasisPoints ?? undefined,
    frozen,
    party:
      accountKind === 'regulator'
        ? undefined
        : {
            id,
            kind: accountKind as PartyKind,
            jurisdiction,
            bank: accountKind === 'bank' ? id : home,
            kycTier: kycTier ?? undefined
          }
  }
  parsedRecords.set(value, record)
  return record
}
