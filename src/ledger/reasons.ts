/**
 * Receipt reason codes: the closed set of reasons a transaction in a block can be rejected for.
 * Each is safe as a metric label and stable across versions (the simulator's CSVs and the
 * regulator's reports key on them). The ledger's own reasons come first, then the capital-control
 * and compliance reasons of the policy engine, which the ledger passes through unchanged.
 */
import { policyReasonCodes } from './policy/types.ts'

export const ledgerReasonCodes = [
  /** The payer or holder has less of the token than the transaction moves. */
  'INSUFFICIENT_FUNDS',
  /** A bank or FX provider lacks the settlement asset a payment's settlement leg needs. */
  'INSUFFICIENT_LIQUIDITY',
  /** The signature is invalid, or the envelope's key is not the signer's registered key. Nothing is written. */
  'BAD_SIGNATURE',
  /** The nonce is not above the signer's last one. Nothing is written. */
  'REPLAY',
  /** The transaction was signed for another network. Nothing is written. */
  'WRONG_CHAIN',
  /** The signer, payee, holder or FX provider is not registered. */
  'UNKNOWN_ACCOUNT',
  /** The token (or the settlement asset a payment needs) does not exist. */
  'UNKNOWN_TOKEN',
  /** An account the transaction would debit or credit, or an institution in its path, is frozen. */
  'FROZEN',
  /** The signer may not do this (not the token's issuer, not the account's bank or regulator, ...). */
  'UNAUTHORIZED',
  /** The receiving account may not hold this token (a deposit token outside its bank's customers, ...). */
  'INELIGIBLE_HOLDER',
  /** The FX table has no rate for a currency of the payment, or the FX provider does not quote it. */
  'FX_RATE_UNAVAILABLE',
  /** An amount is out of range for this state: a balance or supply would exceed the ledger's maximum, or a conversion rounds to zero. */
  'INVALID_AMOUNT'
] as const

export type LedgerReasonCode = (typeof ledgerReasonCodes)[number]

export const reasonCodes = [...ledgerReasonCodes, ...policyReasonCodes] as const
export type ReasonCode = (typeof reasonCodes)[number]

const reasonCodeSet: ReadonlySet<string> = new Set(reasonCodes)
export function isReasonCode(value: unknown): value is ReasonCode {
  return typeof value === 'string' && reasonCodeSet.has(value)
}
