/**
 * Bounds of policy documents and of the usage state the engine keeps. A policy may arrive in a
 * policy-update transaction, so every list has a bound checked at parse time; the state the engine
 * writes is bounded per key by these too (a structuring window keeps at most
 * `distinctSendersMin` senders per payee, itself at most `structuringSendersMax`).
 */
import { assert } from '../../protocol/assert.ts'

export const policyLimits = {
  /** Rules of one kind in one flow section (quotas, purposes, documents, large-value reports). */
  rulesPerListMax: 32,
  /** Entries in a list of jurisdictions, purpose codes or token patterns. */
  listEntriesMax: 256,
  /** Sanctioned entity ids in one policy. */
  sanctionedEntitiesMax: 100_000,
  /** Per-bank limit entries in one policy. */
  bankLimitsMax: 1_024,
  /** Holding-limit rules in one policy. */
  holdingLimitsMax: 64,
  /** Highest KYC tier a rule may name (tiers start at 1). */
  kycTierMax: 9,
  /** Largest `distinctSendersMin` of a structuring rule; also the most senders kept per payee. */
  structuringSendersMax: 64,
  /** Longest structuring window, in days of the jurisdiction's calendar. */
  structuringWindowDaysMax: 31,
  /** Longest purpose code (ISO 20022 allows 35 characters for proprietary codes). */
  purposeCodeLengthMax: 35,
  /** Longest free-text note (`version`, `effective`). */
  noteLengthMax: 256,
  /** State-key strings memoised per flow and rule (a cost memo, see StateKeys in compile.ts). */
  stateKeysCachedMax: 100_000
} as const

// A tier is a bit in a 32-bit mask: see PartySelector in compile.ts.
assert(policyLimits.kycTierMax < 31, 'KYC tiers must fit in a 32-bit mask')
assert(policyLimits.structuringSendersMax >= 2, 'structuring needs at least two senders')
