/**
 * Typed errors of the ledger outside block execution: a transaction body that cannot be admitted
 * (these never reach a block) and a state that cannot be built. Rejections inside a block are not
 * errors but receipts with a reason code (see reasons.ts).
 */
import { CorridorError } from '../protocol/errors.ts'

export const transactionErrorCodes = [
  /** The body is not one of the tuples the ledger defines. */
  'MALFORMED_BODY',
  /** The body's leading tag names no transaction kind. */
  'UNKNOWN_KIND',
  /** An amount is not a bigint from 1 to the ledger's maximum. */
  'INVALID_AMOUNT',
  /** A currency is not an ISO 4217 code the ledger knows. */
  'UNKNOWN_CURRENCY',
  /** An account, token, jurisdiction or purpose code is not well formed. */
  'BAD_ID',
  /** A free-text field is empty, too long or holds control characters. */
  'BAD_TEXT',
  /** An FX rate is zero, out of range, or repeated. */
  'INVALID_RATE',
  /** A policy document does not pass the policy schema. */
  'INVALID_POLICY',
  /** The transaction names its own signer as the other party. */
  'SELF_TRANSFER'
] as const
export type TransactionErrorCode = (typeof transactionErrorCodes)[number]

/** A transaction refused at admission (mempool, or a proposal the replica must reject whole). */
export class TransactionError extends CorridorError<TransactionErrorCode> {
  constructor(code: TransactionErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details)
    this.name = 'TransactionError'
  }
}
