/**
 * Transaction bodies. Each kind is a canonical tuple with a leading kind tag; the envelope
 * (protocol/envelope.ts) carries the signer, key, nonce, chain id and signature around it:
 *
 *   ['issue', token, account, amount]                 mint against a deposit (token's issuer only)
 *   ['redeem', token, account, amount]                burn on withdrawal (token's issuer only)
 *   ['transfer', token, recipient, amount]            the same token from the signer to recipient
 *   ['payment', payee, payerToken, payeeToken, amount, purpose | null, documentRef | null,
 *    fxProvider | null]                               cross-bank, optionally cross-currency; amount
 *                                                     is what leaves the payer, in payerToken
 *   ['fxRateUpdate', [[currency, rate], ...]]         rates scaled by 10^9, currencies ascending
 *   ['policyUpdate', jurisdiction, document]          a jurisdiction's whole policy document
 *   ['freeze', account] / ['unfreeze', account]
 *
 * `admitTransaction` checks the body's shape once, when a transaction enters the process, and
 * precomputes the state keys execution needs, so executing a block never parses or builds a key
 * twice. A transaction that cannot be admitted is a typed error and never reaches a block; a
 * proposal that carries one must be rejected whole by the replica.
 */
import type { Encodable } from '../protocol/encoding.ts'
import type { TransactionEnvelope } from '../protocol/envelope.ts'
import { CorridorError } from '../protocol/errors.ts'
import { isValidId } from '../protocol/ids.ts'
import { protocolLimits } from '../protocol/limits.ts'
import { amountMax, formatMoney, isKnownCurrency } from './currency.ts'
import { TransactionError } from './errors.ts'
import { fxRateScale } from './fx.ts'
import { parsePolicyDocument, type JurisdictionPolicy } from './policy/schema.ts'
import { accountKeys } from './stateKeys.ts'
import { tokenRef, type TokenRef } from './tokens.ts'

export const transactionKinds = ['issue', 'redeem', 'transfer', 'payment', 'fxRateUpdate', 'policyUpdate', 'freeze', 'unfreeze'] as const
export type TransactionKind = (typeof transactionKinds)[number]

export interface IssueBody {
  readonly kind: 'issue'
  readonly token: string
  readonly account: string
  readonly amount: bigint
}
export interface RedeemBody {
  readonly kind: 'redeem'
  readonly token: string
  readonly account: string
  readonly amount: bigint
}
export interface TransferBody {
  readonly kind: 'transfer'
  readonly token: string
  readonly recipient: string
  readonly amount: bigint
}
export interface PaymentBody {
  readonly kind: 'payment'
  readonly payee: string
  /** A deposit token of the payer's home bank. */
  readonly payerToken: string
  /** A deposit token of the payee's home bank. */
  readonly payeeToken: string
  /** What leaves the payer, in payerToken's minor units. */
  readonly amount: bigint
  readonly purpose: string | undefined
  readonly documentRef: string | undefined
  /** Required exactly when the two tokens' currencies differ. */
  readonly fxProvider: string | undefined
}
export interface FxRateUpdateBody {
  readonly kind: 'fxRateUpdate'
  /** Units of the currency per unit of the FX base, scaled by 10^9; currencies ascending. */
  readonly rates: ReadonlyArray<readonly [currency: string, rate: bigint]>
}
export interface PolicyUpdateBody {
  readonly kind: 'policyUpdate'
  readonly jurisdiction: string
  /** The whole policy document as a canonical value (maps with string keys, integers, strings). */
  readonly document: Encodable
}
export interface FreezeBody {
  readonly kind: 'freeze' | 'unfreeze'
  readonly account: string
}

export type TransactionBody = IssueBody | RedeemBody | TransferBody | PaymentBody | FxRateUpdateBody | PolicyUpdateBody | FreezeBody

/** Largest FX rate a transaction may set: a million units per unit of base, scaled. */
export const fxRateMax = 1_000_000n * fxRateScale
/** Most rates one FX rate update may carry. */
export const fxRatesPerUpdateMax = 64

// The same rule as the policy schema's purpose codes (ISO 20022 ExternalPurpose1Code and the like).
const purposePattern = /^[A-Z0-9]{1,35}$/
const jurisdictionPattern = /^[A-Z]{2}$/
// C0 and C1 control characters: never part of a reference a person typed.
const controlCharacterPattern = /[\u0000-\u001f\u007f-\u009f]/
/**
 * A surrogate without its pair is no character and has no UTF-8 encoding: msgpackr writes it as
 * CESU bytes, which `decode` refuses, so a body holding one could be signed but never decoded by
 * a peer.
 */
const loneSurrogatePattern = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Encodes a body as the canonical tuple the envelope signs. */
export function encodeTransactionBody(body: TransactionBody): Encodable {
  switch (body.kind) {
    case 'issue':
    case 'redeem':
      return [body.kind, body.token, body.account, body.amount]
    case 'transfer':
      return ['transfer', body.token, body.recipient, body.amount]
    case 'payment':
      return [
        'payment',
        body.payee,
        body.payerToken,
        body.payeeToken,
        body.amount,
        body.purpose ?? null,
        body.documentRef ?? null,
        body.fxProvider ?? null
      ]
    case 'fxRateUpdate':
      return ['fxRateUpdate', body.rates.map(([currency, rate]) => [currency, rate])]
    case 'policyUpdate':
      return ['policyUpdate', body.jurisdiction, body.document]
    case 'freeze':
    case 'unfreeze':
      return [body.kind, body.account]
  }
}

function malformed(message: string): never {
  throw new TransactionError('MALFORMED_BODY', message)
}

function checkTuple(value: readonly Encodable[], length: number, shape: string): void {
  if (value.length !== length) malformed(`a ${value[0] as string} body is ${shape}, got ${value.length} elements`)
}

function checkAccountId(value: Encodable | undefined, what: string): string {
  if (!isValidId(value)) {
    throw new TransactionError(
      'BAD_ID',
      `${what} must be an account id of 1-${protocolLimits.idLengthMax} characters a-z, 0-9, '-', '_', ':', got ${JSON.stringify(value)?.slice(0, 90)}`
    )
  }
  return value
}

function checkToken(value: Encodable | undefined, what: string): TokenRef {
  try {
    return tokenRef(value)
  } catch (error) {
    if (error instanceof TransactionError) throw new TransactionError(error.code, `${what}: ${error.message}`)
    throw error
  }
}

function checkAmount(value: Encodable | undefined, what: string): bigint {
  if (typeof value !== 'bigint') {
    throw new TransactionError('INVALID_AMOUNT', `${what} must be a 64-bit integer of minor units, got ${typeof value === 'number' ? `the small number ${value}` : typeof value}`)
  }
  if (value <= 0n) throw new TransactionError('INVALID_AMOUNT', `${what} must be above zero, got ${value}`)
  if (value > amountMax) throw new TransactionError('INVALID_AMOUNT', `${what} ${value} exceeds the ledger's maximum of ${amountMax} minor units`)
  return value
}

function checkOptionalText(value: Encodable | undefined, what: string): string | undefined {
  if (value === null) return undefined
  if (typeof value !== 'string') malformed(`${what} must be a string or nil`)
  if (value.length === 0 || value.length > protocolLimits.textLengthMax || controlCharacterPattern.test(value) || loneSurrogatePattern.test(value)) {
    throw new TransactionError('BAD_TEXT', `${what} must be 1-${protocolLimits.textLengthMax} printable characters, got ${JSON.stringify(value.slice(0, 40))}${value.length > 40 ? '...' : ''}`)
  }
  return value
}

/**
 * Checks a decoded body and returns it typed. Throws TransactionError naming the field and what
 * was expected. Decoding here is total: any Encodable gives a body or a typed error.
 */
export function decodeTransactionBody(value: Encodable): TransactionBody {
  if (!Array.isArray(value) || value.length === 0) malformed('a transaction body is a tuple whose first element names its kind')
  const tuple = value as readonly Encodable[]
  const kind = tuple[0]
  switch (kind) {
    case 'issue':
    case 'redeem': {
      checkTuple(tuple, 4, `[${kind}, token, account, amount]`)
      return {
        kind,
        token: checkToken(tuple[1], `${kind} token`).id,
        account: checkAccountId(tuple[2], `${kind} account`),
        amount: checkAmount(tuple[3], `${kind} amount`)
      }
    }
    case 'transfer': {
      checkTuple(tuple, 4, '[transfer, token, recipient, amount]')
      return {
        kind,
        token: checkToken(tuple[1], 'transfer token').id,
        recipient: checkAccountId(tuple[2], 'transfer recipient'),
        amount: checkAmount(tuple[3], 'transfer amount')
      }
    }
    case 'payment': {
      checkTuple(tuple, 8, '[payment, payee, payerToken, payeeToken, amount, purpose, documentRef, fxProvider]')
      const payee = checkAccountId(tuple[1], 'payment payee')
      const payerToken = checkToken(tuple[2], 'payment payer token')
      const payeeToken = checkToken(tuple[3], 'payment payee token')
      const amount = checkAmount(tuple[4], 'payment amount')
      const purposeValue = tuple[5]
      if (purposeValue !== null && (typeof purposeValue !== 'string' || !purposePattern.test(purposeValue))) {
        throw new TransactionError('BAD_ID', `payment purpose code must be 1-35 upper-case letters and digits (GDDS, SCVE, ...) or nil, got ${JSON.stringify(purposeValue)?.slice(0, 60)}`)
      }
      const documentRef = checkOptionalText(tuple[6], 'payment trade document reference')
      const fxValue = tuple[7]
      const fxProvider = fxValue === null ? undefined : checkAccountId(fxValue, 'payment FX provider')
      if (payerToken.isSettlement || payeeToken.isSettlement) {
        malformed(`payments move deposit tokens; settlement assets (${payerToken.isSettlement ? payerToken.id : payeeToken.id}) move by transfer between institutions`)
      }
      const crossCurrency = payerToken.currency !== payeeToken.currency
      if (crossCurrency && fxProvider === undefined) {
        malformed(`a payment from ${payerToken.currency} to ${payeeToken.currency} must name the FX provider that converts it`)
      }
      if (!crossCurrency && fxProvider !== undefined) {
        malformed(`a payment in one currency (${payerToken.currency}) must not name an FX provider`)
      }
      return { kind, payee, payerToken: payerToken.id, payeeToken: payeeToken.id, amount, purpose: purposeValue ?? undefined, documentRef, fxProvider }
    }
    case 'fxRateUpdate': {
      checkTuple(tuple, 2, '[fxRateUpdate, [[currency, rate], ...]]')
      const list = tuple[1]
      if (!Array.isArray(list) || list.length === 0) malformed('an FX rate update carries a non-empty list of [currency, rate] pairs')
      if (list.length > fxRatesPerUpdateMax) malformed(`an FX rate update carries at most ${fxRatesPerUpdateMax} rates, got ${list.length}`)
      const rates: Array<readonly [string, bigint]> = []
      let previous = ''
      for (const entry of list as readonly Encodable[]) {
        if (!Array.isArray(entry) || entry.length !== 2) malformed('each FX rate is a [currency, rate] pair')
        const [currency, rate] = entry as readonly Encodable[]
        if (!isKnownCurrency(currency)) throw new TransactionError('UNKNOWN_CURRENCY', `FX rate for ${JSON.stringify(currency)}: not an ISO 4217 currency the ledger knows`)
        if (!(currency > previous)) throw new TransactionError('INVALID_RATE', `FX rates must be listed once each in ascending currency order; ${currency} follows ${previous}`)
        previous = currency
        if (typeof rate !== 'bigint' || rate <= 0n || rate > fxRateMax) {
          throw new TransactionError('INVALID_RATE', `FX rate for ${currency} must be a bigint from 1 to ${fxRateMax} (units per unit of base scaled by 10^9), got ${String(rate)}`)
        }
        rates.push([currency, rate])
      }
      return { kind, rates }
    }
    case 'policyUpdate': {
      checkTuple(tuple, 3, '[policyUpdate, jurisdiction, document]')
      const jurisdiction = tuple[1]
      if (typeof jurisdiction !== 'string' || !jurisdictionPattern.test(jurisdiction)) {
        throw new TransactionError('BAD_ID', `policy update jurisdiction must be an ISO 3166 alpha-2 code like "CN", got ${JSON.stringify(jurisdiction)?.slice(0, 40)}`)
      }
      return { kind, jurisdiction, document: tuple[2]! }
    }
    case 'freeze':
    case 'unfreeze': {
      checkTuple(tuple, 2, `[${kind}, account]`)
      return { kind, account: checkAccountId(tuple[1], `${kind} account`) }
    }
    default:
      throw new TransactionError('UNKNOWN_KIND', `unknown transaction kind ${JSON.stringify(kind)?.slice(0, 40)}; expected one of ${transactionKinds.join(', ')}`)
  }
}

// Admitted transactions: the body checked once, with every state key execution needs.

interface AdmittedCommon {
  readonly envelope: TransactionEnvelope
  readonly id: string
  readonly signer: string
  readonly signerAccountKey: string
  readonly nonceKey: string
}

export interface AdmittedIssue extends AdmittedCommon {
  readonly kind: 'issue' | 'redeem'
  readonly body: IssueBody | RedeemBody
  readonly token: TokenRef
  readonly accountKey: string
  readonly balanceKey: string
}
export interface AdmittedTransfer extends AdmittedCommon {
  readonly kind: 'transfer'
  readonly body: TransferBody
  readonly token: TokenRef
  readonly recipientKey: string
  readonly senderBalanceKey: string
  readonly recipientBalanceKey: string
}
export interface AdmittedPayment extends AdmittedCommon {
  readonly kind: 'payment'
  readonly body: PaymentBody
  readonly payerToken: TokenRef
  readonly payeeToken: TokenRef
  readonly payeeKey: string
  readonly payerBankKey: string
  readonly payeeBankKey: string
  /** Undefined when the currencies are the same. */
  readonly fxProviderKey: string | undefined
  readonly payerBalanceKey: string
  readonly payeeBalanceKey: string
  /** b/<payer bank>/cb.<payer currency> */
  readonly payerBankSettlementKey: string
  /** b/<payee bank>/cb.<payee currency> */
  readonly payeeBankSettlementKey: string
  /** b/<FX provider>/cb.<payer currency>, or '' without FX. */
  readonly fxPayerSettlementKey: string
  /** b/<FX provider>/cb.<payee currency>, or '' without FX. */
  readonly fxPayeeSettlementKey: string
}
export interface AdmittedFxRateUpdate extends AdmittedCommon {
  readonly kind: 'fxRateUpdate'
  readonly body: FxRateUpdateBody
}
export interface AdmittedPolicyUpdate extends AdmittedCommon {
  readonly kind: 'policyUpdate'
  readonly body: PolicyUpdateBody
  /** The document parsed at admission; execution stores the raw one and uses this. */
  readonly policy: JurisdictionPolicy
}
export interface AdmittedFreeze extends AdmittedCommon {
  readonly kind: 'freeze' | 'unfreeze'
  readonly body: FreezeBody
  readonly accountKey: string
}

export type AdmittedTransaction =
  | AdmittedIssue
  | AdmittedTransfer
  | AdmittedPayment
  | AdmittedFxRateUpdate
  | AdmittedPolicyUpdate
  | AdmittedFreeze

/**
 * Admits a signed envelope: checks its body once and precomputes the state keys its execution
 * reads and writes. Stateless (no state, no signature check: both happen in `executeBlock`), so
 * it can run anywhere a transaction first arrives. Throws TransactionError.
 */
export function admitTransaction(envelope: TransactionEnvelope): AdmittedTransaction {
  const body = decodeTransactionBody(envelope.body)
  const signer = envelope.signer
  const signerKeys = accountKeys(signer)
  const id = envelope.id
  const signerAccountKey = signerKeys.account
  const nonceKey = signerKeys.nonce
  // Plain literals, no spreading: an object spread followed by more fields takes V8's slow path.
  switch (body.kind) {
    case 'issue':
    case 'redeem': {
      const holder = accountKeys(body.account)
      return { envelope, id, signer, signerAccountKey, nonceKey, kind: body.kind, body, token: tokenRef(body.token), accountKey: holder.account, balanceKey: holder.balance(body.token) }
    }
    case 'transfer': {
      if (body.recipient === signer) throw new TransactionError('SELF_TRANSFER', `${signer} cannot transfer ${body.token} to itself`)
      const recipient = accountKeys(body.recipient)
      return {
        envelope,
        id,
        signer,
        signerAccountKey,
        nonceKey,
        kind: 'transfer',
        body,
        token: tokenRef(body.token),
        recipientKey: recipient.account,
        senderBalanceKey: signerKeys.balance(body.token),
        recipientBalanceKey: recipient.balance(body.token)
      }
    }
    case 'payment': {
      if (body.payee === signer) throw new TransactionError('SELF_TRANSFER', `${signer} cannot pay itself; move funds between own accounts with the bank`)
      const payerToken = tokenRef(body.payerToken)
      const payeeToken = tokenRef(body.payeeToken)
      const payee = accountKeys(body.payee)
      const payerBank = accountKeys(payerToken.issuer)
      const payeeBank = accountKeys(payeeToken.issuer)
      const fx = body.fxProvider === undefined ? undefined : accountKeys(body.fxProvider)
      return {
        envelope,
        id,
        signer,
        signerAccountKey,
        nonceKey,
        kind: 'payment',
        body,
        payerToken,
        payeeToken,
        payeeKey: payee.account,
        payerBankKey: payerBank.account,
        payeeBankKey: payeeBank.account,
        fxProviderKey: fx?.account,
        payerBalanceKey: signerKeys.balance(payerToken.id),
        payeeBalanceKey: payee.balance(payeeToken.id),
        payerBankSettlementKey: payerBank.balance(payerToken.settlement.id),
        payeeBankSettlementKey: payeeBank.balance(payeeToken.settlement.id),
        fxPayerSettlementKey: fx === undefined ? '' : fx.balance(payerToken.settlement.id),
        fxPayeeSettlementKey: fx === undefined ? '' : fx.balance(payeeToken.settlement.id)
      }
    }
    case 'fxRateUpdate':
      return { envelope, id, signer, signerAccountKey, nonceKey, kind: 'fxRateUpdate', body }
    case 'policyUpdate': {
      let policy: JurisdictionPolicy
      try {
        policy = parsePolicyDocument(body.document, `policy update by ${signer}`)
      } catch (error) {
        if (error instanceof CorridorError) throw new TransactionError('INVALID_POLICY', error.message)
        throw error
      }
      if (policy.jurisdiction !== body.jurisdiction) {
        throw new TransactionError('INVALID_POLICY', `the policy document is for ${policy.jurisdiction}, but the update names ${body.jurisdiction}`)
      }
      return { envelope, id, signer, signerAccountKey, nonceKey, kind: 'policyUpdate', body, policy }
    }
    case 'freeze':
    case 'unfreeze':
      return { envelope, id, signer, signerAccountKey, nonceKey, kind: body.kind, body, accountKey: accountKeys(body.account).account }
  }
}

/** A short human description of a body, for logs and the demo. */
export function describeTransactionBody(body: TransactionBody): string {
  switch (body.kind) {
    case 'issue':
    case 'redeem':
      return `${body.kind} ${formatMoney(body.amount, tokenRef(body.token).currency)} of ${body.token} ${body.kind === 'issue' ? 'to' : 'from'} ${body.account}`
    case 'transfer':
      return `transfer ${formatMoney(body.amount, tokenRef(body.token).currency)} of ${body.token} to ${body.recipient}`
    case 'payment':
      return `pay ${body.payee} ${formatMoney(body.amount, tokenRef(body.payerToken).currency)} from ${body.payerToken} into ${body.payeeToken}${body.fxProvider === undefined ? '' : ` via ${body.fxProvider}`}`
    case 'fxRateUpdate':
      return `set FX rates for ${body.rates.map(([currency]) => currency).join(', ')}`
    case 'policyUpdate':
      return `replace ${body.jurisdiction}'s policy`
    case 'freeze':
    case 'unfreeze':
      return `${body.kind} ${body.account}`
  }
}
