/** Shared fixtures for the policy tests: an FX table, parties, transfers and an in-memory state. */
import { createFxTable, type FxTable } from '../../../../src/ledger/fx.ts'
import { parseMoney, type Money } from '../../../../src/ledger/currency.ts'
import { parsePolicyDocument, type JurisdictionPolicy } from '../../../../src/ledger/policy/schema.ts'
import type { PartyKind, PolicyParty, PolicySet, PolicyStateReader, PolicyTransfer, PolicyVerdict } from '../../../../src/ledger/policy/types.ts'
import type { Encodable } from '../../../../src/protocol/encoding.ts'

/** 1 USD = 7.10 CNY, so USD 50,000 is exactly CNY 355,000.00. */
export const fx: FxTable = createFxTable('USD', { CNY: '7.10', CNH: '7.12', AED: '3.6725', HKD: '7.80', SGD: '1.34', EUR: '0.92' })

export function party(id: string, jurisdiction: string, kind: PartyKind = 'individual', options: { bank?: string; kycTier?: number } = {}): PolicyParty {
  const institution = kind === 'bank' || kind === 'central-bank' || kind === 'fx-provider'
  return {
    id,
    kind,
    jurisdiction,
    bank: kind === 'bank' ? id : options.bank ?? (institution ? undefined : defaultBanks[jurisdiction] ?? 'bank'),
    kycTier: institution ? undefined : options.kycTier ?? 3
  }
}
const defaultBanks: Record<string, string> = { CN: 'icbc', HK: 'bochk', AE: 'enbd', SG: 'dbs' }
const defaultCurrencies: Record<string, string> = { CN: 'CNY', HK: 'HKD', AE: 'AED', SG: 'SGD' }

export interface TransferOptions {
  kind?: PolicyTransfer['kind']
  timeMs?: number
  sent?: string
  received?: string
  payerToken?: string
  payeeToken?: string
  payeeBalanceAfter?: bigint
  mintedSupplyAfter?: bigint
  purpose?: string
  documentRef?: string
}

/** 2025-06-10T04:00:00Z: midday in China. */
export const noonCnMs = Date.UTC(2025, 5, 10, 4, 0, 0)

/** A transfer; the received amount defaults to the sent one converted at `fx`, tokens to the parties' banks. */
export function transfer(payer: PolicyParty, payee: PolicyParty, options: TransferOptions = {}): PolicyTransfer {
  const sent: Money = parseMoney(options.sent ?? `100 ${defaultCurrencies[payer.jurisdiction] ?? 'USD'}`)
  let received: Money
  if (options.received !== undefined) received = parseMoney(options.received)
  else {
    const currency = defaultCurrencies[payee.jurisdiction] ?? sent.currency
    const amount = fxConvert(sent, currency)
    received = { amount, currency }
  }
  return {
    kind: options.kind ?? 'payment',
    timeMs: options.timeMs ?? noonCnMs,
    payer,
    payee,
    payerToken: options.payerToken ?? `${payer.bank ?? 'cb'}.${sent.currency}`,
    payeeToken: options.payeeToken ?? `${payee.bank ?? 'cb'}.${received.currency}`,
    sent,
    received,
    payeeBalanceAfter: options.payeeBalanceAfter ?? received.amount,
    mintedSupplyAfter: options.mintedSupplyAfter,
    purpose: options.purpose,
    documentRef: options.documentRef
  }
}

function fxConvert(money: Money, currency: string): bigint {
  const rateFrom = fx.rates.get(money.currency)!
  const rateTo = fx.rates.get(currency)!
  // Same exponents (2) for every currency used in these tests.
  return (money.amount * rateTo) / rateFrom
}

/** A policy from a document, with the three required fields filled in for the jurisdiction. */
export function policy(jurisdiction: string, rules: Record<string, unknown> = {}): JurisdictionPolicy {
  return parsePolicyDocument({ jurisdiction, referenceCurrency: defaultCurrencies[jurisdiction] ?? 'USD', utcOffset: offsets[jurisdiction] ?? 'Z', ...rules }, `test ${jurisdiction}`)
}
const offsets: Record<string, string> = { CN: '+08:00', HK: '+08:00', AE: '+04:00', SG: '+08:00' }

export function policySet(...policies: JurisdictionPolicy[]): PolicySet {
  return new Map(policies.map((entry) => [entry.jurisdiction, entry]))
}

/** Policy usage state in memory, applying a verdict's writes as the ledger would. */
export class MemoryState implements PolicyStateReader {
  readonly values = new Map<string, Encodable>()
  get(key: string): Encodable | undefined {
    return this.values.get(key)
  }
  apply(verdict: PolicyVerdict): void {
    if (!verdict.ok) return
    for (const [key, value] of verdict.writes) this.values.set(key, value)
  }
}

export function refusalOf(verdict: PolicyVerdict): string | undefined {
  return verdict.ok ? undefined : verdict.reason
}
