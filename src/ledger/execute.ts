/**
 * Block execution: (state, block) -> (pending state, receipts), then commit.
 *
 * Every transaction goes through the same gate, in this order:
 *   1. wrong chain id                -> WRONG_CHAIN      nothing written
 *   2. signer has no account         -> UNKNOWN_ACCOUNT  nothing written
 *   3. key not the registered one, or the signature check fails
 *                                    -> BAD_SIGNATURE    nothing written (or anyone could burn a
 *                                                        victim's nonces)
 *   4. nonce not above the last one  -> REPLAY           nothing written
 *   5. the nonce is consumed; the kind's own checks run on reads only, and only when every check
 *      passed (the policy engine's included) are the writes made. So a rejection changes the
 *      signer's nonce and nothing else, and no rejection can leave a transaction half applied.
 *
 * The hot path (payments) does no parsing, no key building and no object spreading: keys were
 * computed at admission, account records are parsed once per stored value, and each transaction
 * is one pass of reads, checks and writes.
 */
import { assert } from '../protocol/assert.ts'
import { equalBytes } from '../protocol/bytes.ts'
import type { Encodable } from '../protocol/encoding.ts'
import type { TransactionEnvelope } from '../protocol/envelope.ts'
import { portableVerifier } from '../protocol/keys.ts'
import { verifyTransactionSignature } from '../protocol/envelope.ts'
import { decodeAccountRecord, isCustomerKind, withFrozen, type AccountRecord } from './accounts.ts'
import { amountMax, formatMoney } from './currency.ts'
import { convertWithSpread, type FxTable } from './fx.ts'
import { evaluateTransfer } from './policy/engine.ts'
import type { JurisdictionPolicy } from './policy/schema.ts'
import type { PolicyReport, PolicySet, PolicyStateReader, PolicyTransfer, PolicyTransferKind } from './policy/types.ts'
import type { ReasonCode } from './reasons.ts'
import { entriesDigest, LedgerState, nextStateRoot, rememberPolicy, type StateStore } from './state.ts'
import { SharedStateView } from './sharedState.ts'
import { stateKeys, statePrefixes } from './stateKeys.ts'
import type { TokenRef } from './tokens.ts'
import type {
  AdmittedFreeze,
  AdmittedFxRateUpdate,
  AdmittedIssue,
  AdmittedPayment,
  AdmittedPolicyUpdate,
  AdmittedTransaction,
  AdmittedTransfer
} from './transactions.ts'

/** A block as the ledger sees it: consensus has agreed on its height, time and transactions. */
export interface LedgerBlock {
  readonly height: number
  /** Block time agreed by consensus, ms since the epoch: the clock of quota periods. */
  readonly timeMs: number
  readonly transactions: readonly AdmittedTransaction[]
}

/** Whether a transaction's signature is valid. The replica backs it with its admission cache. */
export type SignatureCheck = (tx: TransactionEnvelope) => boolean

export type ReceiptStatus = 'settled' | 'rejected'

export interface Receipt {
  readonly transactionId: string
  readonly status: ReceiptStatus
  /** Why it was rejected; undefined when settled. */
  readonly reason: ReasonCode | undefined
  /** What happened, for a person: 'settled', or what to fix. */
  readonly message: string
  /** The policy rule that refused it, e.g. "CN.outbound.quotas[0].perYear". */
  readonly rule: string | undefined
  /** Report events of a settled transaction (large value, suspected structuring). */
  readonly reports: readonly PolicyReport[]
  /** For a settled payment, what reached the payee in the payee token's minor units. */
  readonly received: bigint | undefined
}

/** Something a block produced that an observer reads (a regulator's report feed). */
export interface LedgerEvent {
  readonly kind: 'policy-report'
  readonly height: number
  readonly transactionId: string
  readonly report: PolicyReport
}

/**
 * A block executed on an overlay of its base state, not yet committed. Its writes are what one
 * LevelDB batch would hold.
 */
export class PendingBlock {
  readonly base: LedgerState
  readonly height: number
  readonly timeMs: number
  readonly writes: ReadonlyMap<string, Encodable>
  readonly fx: FxTable
  readonly policies: PolicySet
  readonly stateRoot: Uint8Array

  constructor(base: LedgerState, height: number, timeMs: number, writes: ReadonlyMap<string, Encodable>, fx: FxTable, policies: PolicySet, stateRoot: Uint8Array) {
    this.base = base
    this.height = height
    this.timeMs = timeMs
    this.writes = writes
    this.fx = fx
    this.policies = policies
    this.stateRoot = stateRoot
  }
}

export interface ExecutedBlock {
  readonly pending: PendingBlock
  /** One per transaction, in block order. */
  readonly receipts: Receipt[]
  readonly events: LedgerEvent[]
  readonly stateRoot: Uint8Array
}

/**
 * Why a block cannot be executed on this state, or undefined when it can. The replica checks a
 * proposal with this before executing it; `executeBlock` asserts the same, because by then a
 * failure is a bug in the caller.
 */
export function checkBlockHeader(state: LedgerState, block: Pick<LedgerBlock, 'height' | 'timeMs'>): string | undefined {
  if (block.height !== state.height + 1) return `block height ${block.height} does not follow the state's height ${state.height}`
  if (!Number.isSafeInteger(block.timeMs) || block.timeMs < state.timeMs) {
    return `block time ${block.timeMs} ms is before the previous block's ${state.timeMs} ms`
  }
  return undefined
}

const accountKeyFirstCode = statePrefixes.account.charCodeAt(0)
const slashCode = '/'.charCodeAt(0)
const policyUsageFirstCode = statePrefixes.policyUsage.charCodeAt(0)

const noReports: readonly PolicyReport[] = Object.freeze([])
/** Largest lifetime issued or redeemed total: what the canonical encoding holds. */
const counterMax = 2n ** 64n - 1n

function settledReceipt(transactionId: string, reports: readonly PolicyReport[], received: bigint | undefined): Receipt {
  return { transactionId, status: 'settled', reason: undefined, message: 'settled', rule: undefined, reports, received }
}

function rejectedReceipt(transactionId: string, reason: ReasonCode, message: string, rule?: string): Receipt {
  return { transactionId, status: 'rejected', reason, message, rule, reports: noReports, received: undefined }
}

function canHold(account: AccountRecord, token: TokenRef, settlementIssuer: string): boolean {
  if (!token.isSettlement) return account.homeBank === token.issuer
  const kind = account.kind
  return (kind === 'bank' || kind === 'fx-provider' || kind === 'central-bank') && account.id !== settlementIssuer
}

function holderRule(token: TokenRef): string {
  return token.isSettlement
    ? `${token.id} is held by banks, FX providers and other central banks`
    : `${token.id} is held only by customers of ${token.issuer}`
}

class BlockExecutor {
  readonly base: StateStore
  readonly writes = new Map<string, Encodable>()
  readonly accountCache: Map<string, AccountRecord>
  readonly tokenIssuers: ReadonlyMap<string, string>
  /** Account records written by this block (freezes); until one is, reads skip the overlay. */
  accountWrites = 0
  readonly chainId: string
  readonly height: number
  readonly timeMs: number
  readonly signatureCheck: SignatureCheck
  readonly events: LedgerEvent[] = []
  fx: FxTable
  policies: PolicySet
  readonly reader: PolicyStateReader

  constructor(state: LedgerState, block: LedgerBlock, signatureCheck: SignatureCheck) {
    this.base = state.mutableStore()
    const caches = state.caches()
    this.accountCache = caches.accounts
    this.tokenIssuers = caches.tokenIssuers
    this.chainId = state.chainId
    this.height = block.height
    this.timeMs = block.timeMs
    this.signatureCheck = signatureCheck
    this.fx = state.fx
    this.policies = state.policies
    const writes = this.writes
    const base = this.base
    this.reader = {
      get(key: string): Encodable | undefined {
        const value = writes.get(key)
        return value !== undefined ? value : base.get(key)
      }
    }
  }

  read(key: string): Encodable | undefined {
    const value = this.writes.get(key)
    return value !== undefined ? value : this.base.get(key)
  }

  readAmount(key: string): bigint {
    const value = this.writes.get(key) ?? this.base.get(key)
    if (value === undefined) return 0n
    // Messages are built only on failure: a template literal in every call costs as much as the read.
    if (typeof value !== 'bigint') assert(false, `${key} holds an amount`)
    return value
  }

  account(key: string): AccountRecord | undefined {
    if (this.accountWrites > 0) {
      const written = this.writes.get(key)
      if (written !== undefined) return decodeAccountRecord(key.slice(statePrefixes.account.length), written)
    }
    let record = this.accountCache.get(key)
    if (record === undefined) {
      const value = this.base.get(key)
      if (value === undefined) return undefined
      record = decodeAccountRecord(key.slice(statePrefixes.account.length), value)
      this.accountCache.set(key, record)
    }
    return record
  }

  /** The issuer account id of a token, or undefined when the token does not exist. */
  tokenIssuer(token: TokenRef): string | undefined {
    return this.tokenIssuers.get(token.id)
  }

  write(key: string, value: Encodable): void {
    this.writes.set(key, value)
  }

  debit(key: string, balance: bigint, amount: bigint): void {
    if (balance < amount) assert(false, `debit of ${key} keeps it non-negative`)
    this.writes.set(key, balance - amount)
  }

  applyPolicyWrites(writes: ReadonlyArray<readonly [string, Encodable]>): void {
    for (let i = 0; i < writes.length; i++) {
      const [key, value] = writes[i]!
      if (key.charCodeAt(0) !== policyUsageFirstCode || key.charCodeAt(1) !== slashCode) assert(false, `the policy engine writes only p/ keys, not ${key}`)
      this.writes.set(key, value)
    }
  }

  emit(transactionId: string, reports: readonly PolicyReport[]): void {
    for (let i = 0; i < reports.length; i++) {
      this.events.push({ kind: 'policy-report', height: this.height, transactionId, report: reports[i]! })
    }
  }

  execute(tx: AdmittedTransaction): Receipt {
    const envelope = tx.envelope
    if (envelope.chainId !== this.chainId) {
      return rejectedReceipt(tx.id, 'WRONG_CHAIN', `signed for network ${envelope.chainId}, this is ${this.chainId}`)
    }
    const signer = this.account(tx.signerAccountKey)
    if (signer === undefined) return rejectedReceipt(tx.id, 'UNKNOWN_ACCOUNT', `signer ${tx.signer} has no account`)
    if (!equalBytes(envelope.publicKey, signer.publicKey)) {
      return rejectedReceipt(tx.id, 'BAD_SIGNATURE', `the envelope's key is not the key registered for ${tx.signer}`)
    }
    if (!this.signatureCheck(envelope)) return rejectedReceipt(tx.id, 'BAD_SIGNATURE', `the signature does not verify with ${tx.signer}'s key`)
    const lastNonce = this.readAmount(tx.nonceKey)
    if (envelope.nonce <= lastNonce) {
      return rejectedReceipt(tx.id, 'REPLAY', `nonce ${envelope.nonce} is not above ${tx.signer}'s last nonce ${lastNonce}`)
    }
    this.write(tx.nonceKey, envelope.nonce)
    switch (tx.kind) {
      case 'payment':
        return this.payment(tx, signer)
      case 'transfer':
        return this.transfer(tx, signer)
      case 'issue':
        return this.issue(tx, signer)
      case 'redeem':
        return this.redeem(tx, signer)
      case 'fxRateUpdate':
        return this.fxRateUpdate(tx, signer)
      case 'policyUpdate':
        return this.policyUpdate(tx, signer)
      case 'freeze':
      case 'unfreeze':
        return this.freeze(tx, signer)
    }
  }

  evaluate(
    kind: PolicyTransferKind,
    payer: AccountRecord,
    payee: AccountRecord,
    payerToken: TokenRef,
    payeeToken: TokenRef,
    sent: bigint,
    received: bigint,
    payeeBalanceAfter: bigint,
    mintedSupplyAfter: bigint | undefined,
    purpose: string | undefined,
    documentRef: string | undefined
  ) {
    assert(payer.party !== undefined && payee.party !== undefined, 'parties of a transfer can hold value')
    const transfer: PolicyTransfer = {
      kind,
      timeMs: this.timeMs,
      payer: payer.party,
      payee: payee.party,
      payerToken: payerToken.id,
      payeeToken: payeeToken.id,
      sent: { amount: sent, currency: payerToken.currency },
      received: { amount: received, currency: payeeToken.currency },
      payeeBalanceAfter,
      mintedSupplyAfter,
      purpose,
      documentRef
    }
    return evaluateTransfer(this.policies, this.fx, transfer, this.reader)
  }

  payment(tx: AdmittedPayment, payer: AccountRecord): Receipt {
    const id = tx.id
    const body = tx.body
    const amount = body.amount
    const payerToken = tx.payerToken
    const payeeToken = tx.payeeToken
    if (!isCustomerKind(payer.kind)) {
      return rejectedReceipt(id, 'UNAUTHORIZED', `${payer.id} is a ${payer.kind}; payments are made by customers (institutions move settlement assets by transfer)`)
    }
    if (payer.frozen) return rejectedReceipt(id, 'FROZEN', `payer ${payer.id} is frozen`)
    if (payerToken.issuer !== payer.homeBank) {
      return rejectedReceipt(id, 'INELIGIBLE_HOLDER', `${payer.id} banks with ${payer.homeBank} and pays from its deposit tokens, not ${payerToken.id}`)
    }
    if (this.tokenIssuer(payerToken) === undefined) return rejectedReceipt(id, 'UNKNOWN_TOKEN', `${payer.homeBank} does not issue ${payerToken.id}`)
    const payee = this.account(tx.payeeKey)
    if (payee === undefined) return rejectedReceipt(id, 'UNKNOWN_ACCOUNT', `payee ${body.payee} has no account`)
    if (payeeToken.issuer !== payee.homeBank) {
      return rejectedReceipt(
        id,
        'INELIGIBLE_HOLDER',
        payee.homeBank === undefined
          ? `payee ${payee.id} is a ${payee.kind}; payments go to customers`
          : `${payee.id} banks with ${payee.homeBank} and cannot receive ${payeeToken.id}`
      )
    }
    if (this.tokenIssuer(payeeToken) === undefined) return rejectedReceipt(id, 'UNKNOWN_TOKEN', `${payee.homeBank} does not issue ${payeeToken.id}`)
    if (payee.frozen) return rejectedReceipt(id, 'FROZEN', `payee ${payee.id} is frozen`)
    const payerBalance = this.readAmount(tx.payerBalanceKey)
    if (payerBalance < amount) {
      return rejectedReceipt(id, 'INSUFFICIENT_FUNDS', `${payer.id} holds ${formatMoney(payerBalance, payerToken.currency)} of ${payerToken.id}, less than ${formatMoney(amount, payerToken.currency)}`)
    }

    if (payerToken === payeeToken) return this.sameTokenPayment(tx, payer, payee, payerBalance)

    const payerBank = this.account(tx.payerBankKey)
    const payeeBank = this.account(tx.payeeBankKey)
    assert(payerBank !== undefined && payeeBank !== undefined, 'the issuer of an existing token has an account')
    if (payerBank.frozen) return rejectedReceipt(id, 'FROZEN', `the payer's bank ${payerBank.id} is frozen`)
    if (payeeBank.frozen) return rejectedReceipt(id, 'FROZEN', `the payee's bank ${payeeBank.id} is frozen`)
    const payerSettlement = payerToken.settlement
    const payeeSettlement = payeeToken.settlement
    if (this.tokenIssuer(payerSettlement) === undefined) {
      return rejectedReceipt(id, 'UNKNOWN_TOKEN', `no settlement asset ${payerSettlement.id}: no central bank issues ${payerToken.currency} on this network`)
    }
    if (this.tokenIssuer(payeeSettlement) === undefined) {
      return rejectedReceipt(id, 'UNKNOWN_TOKEN', `no settlement asset ${payeeSettlement.id}: no central bank issues ${payeeToken.currency} on this network`)
    }

    let received = amount
    let fxProvider: AccountRecord | undefined
    if (tx.fxProviderKey !== undefined) {
      fxProvider = this.account(tx.fxProviderKey)
      if (fxProvider === undefined) return rejectedReceipt(id, 'UNKNOWN_ACCOUNT', `FX provider ${body.fxProvider} has no account`)
      if (fxProvider.kind !== 'fx-provider') return rejectedReceipt(id, 'UNAUTHORIZED', `${fxProvider.id} is a ${fxProvider.kind}, not an FX provider`)
      if (fxProvider.frozen) return rejectedReceipt(id, 'FROZEN', `FX provider ${fxProvider.id} is frozen`)
      if (!fxProvider.currencies.includes(payerToken.currency) || !fxProvider.currencies.includes(payeeToken.currency)) {
        return rejectedReceipt(id, 'FX_RATE_UNAVAILABLE', `${fxProvider.id} does not quote ${payerToken.currency}/${payeeToken.currency}; it quotes ${fxProvider.currencies.join(', ')}`)
      }
      const converted = convertWithSpread(this.fx, amount, payerToken.currency, payeeToken.currency, fxProvider.spreadBasisPoints ?? 0)
      if (converted === undefined) {
        return rejectedReceipt(id, 'FX_RATE_UNAVAILABLE', `the FX table has no rate for ${this.fx.rates.has(payerToken.currency) ? payeeToken.currency : payerToken.currency}`)
      }
      if (converted <= 0n) {
        return rejectedReceipt(id, 'INVALID_AMOUNT', `${formatMoney(amount, payerToken.currency)} converts to less than one minor unit of ${payeeToken.currency}`)
      }
      received = converted
    }

    // Settlement legs: payer bank -> (FX provider ->) payee bank, in settlement assets.
    const payerBankSettlement = this.readAmount(tx.payerBankSettlementKey)
    if (payerBankSettlement < amount) {
      return rejectedReceipt(id, 'INSUFFICIENT_LIQUIDITY', `${payerBank.id} holds ${formatMoney(payerBankSettlement, payerToken.currency)} of ${payerSettlement.id}, less than the ${formatMoney(amount, payerToken.currency)} to settle`)
    }
    let fxPayerSettlementAfter = 0n
    let fxPayeeSettlement = 0n
    if (fxProvider !== undefined) {
      fxPayeeSettlement = this.readAmount(tx.fxPayeeSettlementKey)
      if (fxPayeeSettlement < received) {
        return rejectedReceipt(id, 'INSUFFICIENT_LIQUIDITY', `${fxProvider.id} holds ${formatMoney(fxPayeeSettlement, payeeToken.currency)} of ${payeeSettlement.id}, less than the ${formatMoney(received, payeeToken.currency)} to deliver`)
      }
      fxPayerSettlementAfter = this.readAmount(tx.fxPayerSettlementKey) + amount
      if (fxPayerSettlementAfter > amountMax) return this.overflow(id, fxProvider.id, payerSettlement)
    }
    const payeeBankSettlementAfter = this.readAmount(tx.payeeBankSettlementKey) + received
    if (payeeBankSettlementAfter > amountMax) return this.overflow(id, payeeBank.id, payeeSettlement)

    // Burn at the payer's bank, mint at the payee's.
    const payeeBalanceAfter = this.readAmount(tx.payeeBalanceKey) + received
    if (payeeBalanceAfter > amountMax) return this.overflow(id, payee.id, payeeToken)
    const payerSupply = this.readAmount(payerToken.supplyKey)
    const payerRedeemedAfter = this.readAmount(payerToken.redeemedKey) + amount
    const payeeSupplyAfter = this.readAmount(payeeToken.supplyKey) + received
    const payeeIssuedAfter = this.readAmount(payeeToken.issuedKey) + received
    if (payeeSupplyAfter > amountMax || payeeIssuedAfter > counterMax) return this.overflow(id, payee.id, payeeToken)

    const verdict = this.evaluate('payment', payer, payee, payerToken, payeeToken, amount, received, payeeBalanceAfter, payeeSupplyAfter, body.purpose, body.documentRef)
    if (!verdict.ok) return rejectedReceipt(id, verdict.reason, verdict.message, verdict.rule)

    this.debit(tx.payerBalanceKey, payerBalance, amount)
    this.debit(payerToken.supplyKey, payerSupply, amount)
    this.write(payerToken.redeemedKey, payerRedeemedAfter)
    this.debit(tx.payerBankSettlementKey, payerBankSettlement, amount)
    if (fxProvider !== undefined) {
      this.write(tx.fxPayerSettlementKey, fxPayerSettlementAfter)
      this.debit(tx.fxPayeeSettlementKey, fxPayeeSettlement, received)
    }
    this.write(tx.payeeBankSettlementKey, payeeBankSettlementAfter)
    this.write(tx.payeeBalanceKey, payeeBalanceAfter)
    this.write(payeeToken.supplyKey, payeeSupplyAfter)
    this.write(payeeToken.issuedKey, payeeIssuedAfter)
    if (verdict.writes.length > 0) this.applyPolicyWrites(verdict.writes)
    if (verdict.reports.length > 0) this.emit(id, verdict.reports)
    return settledReceipt(id, verdict.reports, received)
  }

  /** Same bank, same currency: the payment is a transfer of one deposit token between customers. */
  sameTokenPayment(tx: AdmittedPayment, payer: AccountRecord, payee: AccountRecord, payerBalance: bigint): Receipt {
    const amount = tx.body.amount
    const token = tx.payerToken
    const payeeBalanceAfter = this.readAmount(tx.payeeBalanceKey) + amount
    if (payeeBalanceAfter > amountMax) return this.overflow(tx.id, payee.id, token)
    const verdict = this.evaluate('payment', payer, payee, token, token, amount, amount, payeeBalanceAfter, undefined, tx.body.purpose, tx.body.documentRef)
    if (!verdict.ok) return rejectedReceipt(tx.id, verdict.reason, verdict.message, verdict.rule)
    this.debit(tx.payerBalanceKey, payerBalance, amount)
    this.write(tx.payeeBalanceKey, payeeBalanceAfter)
    if (verdict.writes.length > 0) this.applyPolicyWrites(verdict.writes)
    if (verdict.reports.length > 0) this.emit(tx.id, verdict.reports)
    return settledReceipt(tx.id, verdict.reports, amount)
  }

  overflow(id: string, account: string, token: TokenRef): Receipt {
    return rejectedReceipt(id, 'INVALID_AMOUNT', `${account}'s balance or the supply of ${token.id} would exceed the ledger's maximum of ${formatMoney(amountMax, token.currency)}`)
  }

  transfer(tx: AdmittedTransfer, sender: AccountRecord): Receipt {
    const id = tx.id
    const token = tx.token
    const amount = tx.body.amount
    const issuer = this.tokenIssuer(token)
    if (issuer === undefined) return rejectedReceipt(id, 'UNKNOWN_TOKEN', `no token ${token.id} on this network`)
    if (!canHold(sender, token, issuer)) return rejectedReceipt(id, 'INELIGIBLE_HOLDER', `${sender.id} cannot hold ${token.id}: ${holderRule(token)}`)
    if (sender.frozen) return rejectedReceipt(id, 'FROZEN', `${sender.id} is frozen`)
    const recipient = this.account(tx.recipientKey)
    if (recipient === undefined) return rejectedReceipt(id, 'UNKNOWN_ACCOUNT', `recipient ${tx.body.recipient} has no account`)
    if (!canHold(recipient, token, issuer)) return rejectedReceipt(id, 'INELIGIBLE_HOLDER', `${recipient.id} cannot hold ${token.id}: ${holderRule(token)}`)
    if (recipient.frozen) return rejectedReceipt(id, 'FROZEN', `recipient ${recipient.id} is frozen`)
    const senderBalance = this.readAmount(tx.senderBalanceKey)
    if (senderBalance < amount) {
      return rejectedReceipt(id, 'INSUFFICIENT_FUNDS', `${sender.id} holds ${formatMoney(senderBalance, token.currency)} of ${token.id}, less than ${formatMoney(amount, token.currency)}`)
    }
    const recipientBalanceAfter = this.readAmount(tx.recipientBalanceKey) + amount
    if (recipientBalanceAfter > amountMax) return this.overflow(id, recipient.id, token)
    const verdict = this.evaluate('transfer', sender, recipient, token, token, amount, amount, recipientBalanceAfter, undefined, undefined, undefined)
    if (!verdict.ok) return rejectedReceipt(id, verdict.reason, verdict.message, verdict.rule)
    this.debit(tx.senderBalanceKey, senderBalance, amount)
    this.write(tx.recipientBalanceKey, recipientBalanceAfter)
    if (verdict.writes.length > 0) this.applyPolicyWrites(verdict.writes)
    if (verdict.reports.length > 0) this.emit(id, verdict.reports)
    return settledReceipt(id, verdict.reports, undefined)
  }

  issue(tx: AdmittedIssue, signer: AccountRecord): Receipt {
    const id = tx.id
    const token = tx.token
    const amount = tx.body.amount
    const issuer = this.tokenIssuer(token)
    if (issuer === undefined) return rejectedReceipt(id, 'UNKNOWN_TOKEN', `no token ${token.id} on this network`)
    if (issuer !== signer.id) return rejectedReceipt(id, 'UNAUTHORIZED', `only ${issuer} issues ${token.id}, not ${signer.id}`)
    if (signer.frozen) return rejectedReceipt(id, 'FROZEN', `issuer ${signer.id} is frozen`)
    const holder = this.account(tx.accountKey)
    if (holder === undefined) return rejectedReceipt(id, 'UNKNOWN_ACCOUNT', `${tx.body.account} has no account`)
    if (!canHold(holder, token, issuer)) return rejectedReceipt(id, 'INELIGIBLE_HOLDER', `${holder.id} cannot hold ${token.id}: ${holderRule(token)}`)
    if (holder.frozen) return rejectedReceipt(id, 'FROZEN', `${holder.id} is frozen`)
    const balanceAfter = this.readAmount(tx.balanceKey) + amount
    const supplyAfter = this.readAmount(token.supplyKey) + amount
    const issuedAfter = this.readAmount(token.issuedKey) + amount
    if (balanceAfter > amountMax || supplyAfter > amountMax || issuedAfter > counterMax) return this.overflow(id, holder.id, token)
    const verdict = this.evaluate('issue', signer, holder, token, token, amount, amount, balanceAfter, supplyAfter, undefined, undefined)
    if (!verdict.ok) return rejectedReceipt(id, verdict.reason, verdict.message, verdict.rule)
    this.write(tx.balanceKey, balanceAfter)
    this.write(token.supplyKey, supplyAfter)
    this.write(token.issuedKey, issuedAfter)
    if (verdict.writes.length > 0) this.applyPolicyWrites(verdict.writes)
    if (verdict.reports.length > 0) this.emit(id, verdict.reports)
    return settledReceipt(id, verdict.reports, undefined)
  }

  redeem(tx: AdmittedIssue, signer: AccountRecord): Receipt {
    const id = tx.id
    const token = tx.token
    const amount = tx.body.amount
    const issuer = this.tokenIssuer(token)
    if (issuer === undefined) return rejectedReceipt(id, 'UNKNOWN_TOKEN', `no token ${token.id} on this network`)
    if (issuer !== signer.id) return rejectedReceipt(id, 'UNAUTHORIZED', `only ${issuer} redeems ${token.id}, not ${signer.id}`)
    if (signer.frozen) return rejectedReceipt(id, 'FROZEN', `issuer ${signer.id} is frozen`)
    const holder = this.account(tx.accountKey)
    if (holder === undefined) return rejectedReceipt(id, 'UNKNOWN_ACCOUNT', `${tx.body.account} has no account`)
    if (holder.frozen) return rejectedReceipt(id, 'FROZEN', `${holder.id} is frozen`)
    const balance = this.readAmount(tx.balanceKey)
    if (balance < amount) {
      return rejectedReceipt(id, 'INSUFFICIENT_FUNDS', `${holder.id} holds ${formatMoney(balance, token.currency)} of ${token.id}, less than ${formatMoney(amount, token.currency)} to redeem`)
    }
    const supply = this.readAmount(token.supplyKey)
    const redeemedAfter = this.readAmount(token.redeemedKey) + amount
    const verdict = this.evaluate('redeem', holder, signer, token, token, amount, amount, 0n, undefined, undefined, undefined)
    if (!verdict.ok) return rejectedReceipt(id, verdict.reason, verdict.message, verdict.rule)
    this.debit(tx.balanceKey, balance, amount)
    this.debit(token.supplyKey, supply, amount)
    this.write(token.redeemedKey, redeemedAfter)
    if (verdict.writes.length > 0) this.applyPolicyWrites(verdict.writes)
    if (verdict.reports.length > 0) this.emit(id, verdict.reports)
    return settledReceipt(id, verdict.reports, undefined)
  }

  fxRateUpdate(tx: AdmittedFxRateUpdate, signer: AccountRecord): Receipt {
    if (signer.kind !== 'fx-provider') return rejectedReceipt(tx.id, 'UNAUTHORIZED', `${signer.id} is a ${signer.kind}; only FX providers set rates`)
    if (signer.frozen) return rejectedReceipt(tx.id, 'FROZEN', `FX provider ${signer.id} is frozen`)
    const rates = tx.body.rates
    for (const [currency] of rates) {
      if (currency === this.fx.base) return rejectedReceipt(tx.id, 'UNAUTHORIZED', `${currency} is the FX base; its rate is 1 by definition`)
      if (!signer.currencies.includes(currency)) return rejectedReceipt(tx.id, 'UNAUTHORIZED', `${signer.id} does not quote ${currency}; it quotes ${signer.currencies.join(', ')}`)
    }
    const table = new Map(this.fx.rates)
    for (const [currency, rate] of rates) {
      table.set(currency, rate)
      this.write(stateKeys.fxRate(currency), rate)
    }
    this.fx = { base: this.fx.base, rates: table }
    return settledReceipt(tx.id, noReports, undefined)
  }

  policyUpdate(tx: AdmittedPolicyUpdate, signer: AccountRecord): Receipt {
    const jurisdiction = tx.body.jurisdiction
    if (signer.kind !== 'regulator' || signer.jurisdiction !== jurisdiction) {
      return rejectedReceipt(tx.id, 'UNAUTHORIZED', `only a regulator of ${jurisdiction} replaces its policy; ${signer.id} is a ${signer.kind} of ${signer.jurisdiction}`)
    }
    rememberPolicy(tx.body.document, tx.policy)
    this.write(stateKeys.policy(jurisdiction), tx.body.document)
    const policies = new Map<string, JurisdictionPolicy>(this.policies)
    policies.set(jurisdiction, tx.policy)
    this.policies = policies
    return settledReceipt(tx.id, noReports, undefined)
  }

  freeze(tx: AdmittedFreeze, signer: AccountRecord): Receipt {
    const target = this.account(tx.accountKey)
    if (target === undefined) return rejectedReceipt(tx.id, 'UNKNOWN_ACCOUNT', `${tx.body.account} has no account`)
    if (target.kind === 'regulator') return rejectedReceipt(tx.id, 'UNAUTHORIZED', `regulator ${target.id} cannot be frozen`)
    const isHomeBank = target.homeBank !== undefined && target.homeBank === signer.id
    const isRegulator = signer.kind === 'regulator' && signer.jurisdiction === target.jurisdiction
    if (!isHomeBank && !isRegulator) {
      return rejectedReceipt(tx.id, 'UNAUTHORIZED', `only ${target.homeBank === undefined ? '' : `${target.homeBank} or `}a regulator of ${target.jurisdiction} may ${tx.kind} ${target.id}`)
    }
    const frozen = tx.kind === 'freeze'
    if (target.frozen !== frozen) {
      this.write(tx.accountKey, withFrozen(target, frozen))
      this.accountWrites++
    }
    return settledReceipt(tx.id, noReports, undefined)
  }
}

/**
 * Executes a block on an overlay of `state`, which it leaves untouched. Returns the pending
 * writes (commit them with `commitBlock`, or drop them), one receipt per transaction, the events
 * and the new state root.
 */
export function executeBlock(state: LedgerState, block: LedgerBlock, signatureCheck: SignatureCheck): ExecutedBlock {
  const problem = checkBlockHeader(state, block)
  assert(problem === undefined, problem ?? '')
  const executor = new BlockExecutor(state, block, signatureCheck)
  const transactions = block.transactions
  const receipts: Receipt[] = new Array(transactions.length)
  for (let i = 0; i < transactions.length; i++) receipts[i] = executor.execute(transactions[i]!)
  const stateRoot = nextStateRoot(state.sha256, state.stateRoot, block.height, block.timeMs, entriesDigest(executor.writes, state.sha256))
  const pending = new PendingBlock(state, block.height, block.timeMs, executor.writes, executor.fx, executor.policies, stateRoot)
  return { pending, receipts, events: executor.events, stateRoot }
}

/**
 * Commits a pending block to the state it was executed on. Consumes `state` (its Map is written
 * in place and shared with the returned state); returns the state at the block's height.
 */
export function commitBlock(state: LedgerState, pending: PendingBlock): LedgerState {
  if (pending.base !== state) assert(false, `a pending block commits onto the state it was executed on (height ${pending.height - 1})`)
  const shared = state.mutableStore()
  const caches = state.caches()
  state.retire()
  if (shared instanceof SharedStateView) {
    // Content shared by the replicas of a process: the first to commit this height records the
    // writes, the others move their view up (or, if their root differs, get a copy of their own).
    const next = shared.commit(pending.height, pending.writes, pending.stateRoot)
    if (next.accountsWritten) caches.accounts.clear()
    return LedgerState.fromParts({
      store: next.store,
      caches,
      height: pending.height,
      timeMs: pending.timeMs,
      stateRoot: pending.stateRoot,
      chainId: state.chainId,
      fx: pending.fx,
      policies: pending.policies,
      sha256: state.sha256
    })
  }
  const store = shared as Map<string, Encodable>
  // forEach rather than for-of: no [key, value] pair per entry (every validator of a simulation commits every block).
  pending.writes.forEach((value, key) => {
    store.set(key, value)
    // Account records are rewritten only by freezes: rare, so checking the prefix is cheap enough.
    if (key.charCodeAt(0) === accountKeyFirstCode && key.charCodeAt(1) === slashCode) caches.accounts.delete(key)
  })
  return LedgerState.fromParts({
    store,
    caches,
    height: pending.height,
    timeMs: pending.timeMs,
    stateRoot: pending.stateRoot,
    chainId: state.chainId,
    fx: pending.fx,
    policies: pending.policies,
    sha256: state.sha256
  })
}

/** Signature check that verifies every time, portably. Correct everywhere, fast nowhere. */
export const verifyEverySignature: SignatureCheck = (tx) => verifyTransactionSignature(tx, portableVerifier)

export interface AppliedBlock {
  readonly state: LedgerState
  readonly receipts: Receipt[]
  readonly events: LedgerEvent[]
  readonly stateRoot: Uint8Array
}

/**
 * Executes and commits a block in one step: `(state, block) -> (state', receipts)`. Consumes
 * `state`. Without a signature check every signature is verified with @noble/curves.
 */
export function apply(state: LedgerState, block: LedgerBlock, signatureCheck: SignatureCheck = verifyEverySignature): AppliedBlock {
  const executed = executeBlock(state, block, signatureCheck)
  return { state: commitBlock(state, executed.pending), receipts: executed.receipts, events: executed.events, stateRoot: executed.stateRoot }
}
