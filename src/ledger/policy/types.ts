/**
 * The contract between the ledger and the policy engine (capital controls and compliance).
 *
 * The engine is a pure function of the rules in force, the FX table, the transfer and the usage
 * state it keeps (quota counters, structuring windows). It never writes: it returns the writes
 * the ledger must apply if, and only if, the whole transaction succeeds, so a rejected
 * transaction leaves no trace in policy state either.
 */
import type { Encodable } from '../../protocol/encoding.ts'
import type { Money } from '../currency.ts'
import type { FxTable } from '../fx.ts'

export type PartyKind = 'individual' | 'corporate' | 'bank' | 'central-bank' | 'fx-provider'

export interface PolicyParty {
  readonly id: string
  readonly kind: PartyKind
  /** ISO 3166 alpha-2 code, or a ledger jurisdiction such as HK. */
  readonly jurisdiction: string
  /** The home bank of a customer; a bank's own id for a bank; undefined otherwise. */
  readonly bank: string | undefined
  /** KYC tier of a customer (1 = lowest); undefined for institutions. */
  readonly kycTier: number | undefined
}

export type PolicyTransferKind = 'payment' | 'transfer' | 'issue' | 'redeem'

export interface PolicyTransfer {
  readonly kind: PolicyTransferKind
  /** Block time in ms since the epoch: the clock of quota periods and structuring windows. */
  readonly timeMs: number
  /** For issue, the issuing bank; for redeem, the holder. */
  readonly payer: PolicyParty
  /** For issue, the customer credited; for redeem, the issuing bank. */
  readonly payee: PolicyParty
  readonly payerToken: string
  readonly payeeToken: string
  /** What leaves the payer, in the payer token's currency. */
  readonly sent: Money
  /** What reaches the payee, in the payee token's currency (after FX). */
  readonly received: Money
  /** The payee's balance of payeeToken after this transfer would be credited (holding limits). */
  readonly payeeBalanceAfter: bigint
  /** Outstanding supply of the token minted to the payee after this transfer, when one is minted. */
  readonly mintedSupplyAfter: bigint | undefined
  readonly purpose: string | undefined
  readonly documentRef: string | undefined
}

/** Policy usage state, read through the ledger's pending block state. Keys start with 'p/'. */
export interface PolicyStateReader {
  get(key: string): Encodable | undefined
}

export const policyReasonCodes = [
  'CC_QUOTA_EXCEEDED',
  'CC_CORRIDOR_BLOCKED',
  'CC_PURPOSE_REQUIRED',
  'CC_PURPOSE_NOT_ALLOWED',
  'CC_DOCUMENT_REQUIRED',
  'CC_DOMESTIC_USE_PROHIBITED',
  'CC_HOLDING_LIMIT_EXCEEDED',
  'CC_BANK_LIMIT_EXCEEDED',
  'AML_SANCTIONED',
  'AML_STRUCTURING'
] as const
export type PolicyReasonCode = (typeof policyReasonCodes)[number]

export type PolicyReportKind = 'LARGE_VALUE' | 'STRUCTURING_SUSPECTED'

/** An event a regulator reads: emitted with the receipt of a transaction that settled. */
export interface PolicyReport {
  readonly kind: PolicyReportKind
  /** The jurisdiction whose regulator receives the report. */
  readonly jurisdiction: string
  /** The amount in the jurisdiction's reference currency. */
  readonly reference: Money
  readonly detail: string
}

export type PolicyVerdict =
  | {
      readonly ok: true
      /** Usage-state writes to apply with the transaction (quota counters, windows). */
      readonly writes: ReadonlyArray<readonly [key: string, value: Encodable]>
      readonly reports: readonly PolicyReport[]
    }
  | {
      readonly ok: false
      readonly reason: PolicyReasonCode
      /** Which rule refused, e.g. "CN.outbound.quotas[0].perYear". */
      readonly rule: string
      readonly message: string
    }

/** Rules in force, by jurisdiction. Built by the schema in schema.ts from rule files. */
export type PolicySet = ReadonlyMap<string, import('./schema.ts').JurisdictionPolicy>

export type EvaluateTransfer = (policies: PolicySet, fx: FxTable, transfer: PolicyTransfer, state: PolicyStateReader) => PolicyVerdict
