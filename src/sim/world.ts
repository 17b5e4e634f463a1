/**
 * The world of a scenario: its genesis (banks, central banks, an FX provider, regulators and the
 * customer population), every entity's keys, and the signers the workload uses. Keys derive from
 * the scenario's name and seed, so a run is reproducible and needs no key files.
 */
import { bytesToHex } from '../protocol/bytes.ts'
import type { Signer } from '../protocol/keys.ts'
import { currencyExponent, formatAmount } from '../ledger/currency.ts'
import { parseGenesisDocument, type GenesisDocument, type GenesisDocumentInput } from '../ledger/genesis.ts'
import { createFastSigner, deriveSecretKey } from '../ledger/testing/keys.ts'
import type { JurisdictionPolicy } from '../ledger/policy/schema.ts'
import type { Scenario } from './scenario/schema.ts'
import { createModeledSigner } from './modeledCrypto.ts'

/** Which central bank issues each currency's settlement asset, and where it sits. */
const centralBankOfCurrency: Readonly<Record<string, { id: string; jurisdiction: string }>> = {
  CNY: { id: 'pboc', jurisdiction: 'CN' },
  CNH: { id: 'hkma', jurisdiction: 'HK' },
  HKD: { id: 'hkma', jurisdiction: 'HK' },
  AED: { id: 'cbuae', jurisdiction: 'AE' },
  SGD: { id: 'mas', jurisdiction: 'SG' },
  SAR: { id: 'sama', jurisdiction: 'SA' },
  THB: { id: 'bot', jurisdiction: 'TH' },
  USD: { id: 'fed', jurisdiction: 'US' },
  EUR: { id: 'ecb', jurisdiction: 'DE' },
  GBP: { id: 'boe', jurisdiction: 'GB' },
  JPY: { id: 'boj', jurisdiction: 'JP' },
  INR: { id: 'rbi', jurisdiction: 'IN' },
  MYR: { id: 'bnm', jurisdiction: 'MY' },
  IDR: { id: 'bi', jurisdiction: 'ID' }
}

export const fxProviderId = 'fxhub'
/** A scenario's keys: secret(id) = SHA-256("corridor.key" 0 "sim/<name>/<seed>/<id>"). */
export function scenarioKeySeed(scenario: Scenario): string {
  return `sim/${scenario.name}/${scenario.seed}`
}

/** Monday 2026-01-05 09:00 in Beijing: quota days and banking hours start from a working morning. */
export const defaultStartMs = Date.UTC(2026, 0, 5, 1, 0, 0)

export interface Customer {
  readonly id: string
  readonly bank: string
  readonly jurisdiction: string
  readonly kind: 'corporate' | 'individual'
  /** The currencies the customer holds at its bank. */
  readonly currencies: readonly string[]
}

export interface World {
  readonly document: GenesisDocument
  readonly signers: ReadonlyMap<string, Signer>
  readonly customers: readonly Customer[]
  /** Customers by jurisdiction and kind: "CN/corporate". */
  readonly customersBy: ReadonlyMap<string, readonly Customer[]>
  readonly bankJurisdiction: ReadonlyMap<string, string>
  readonly startMs: number
}

export function customerKey(jurisdiction: string, kind: string): string {
  return `${jurisdiction}/${kind}`
}

export function buildWorld(scenario: Scenario, policies: readonly JurisdictionPolicy[], rawPolicies: Readonly<Record<string, unknown>>): World {
  const keySeed = scenarioKeySeed(scenario)
  const factory = scenario.crypto === 'modeled' ? createModeledSigner : createFastSigner
  const signers = new Map<string, Signer>()
  const publicKey = (id: string): string => {
    const signer = factory(deriveSecretKey(keySeed, id))
    signers.set(id, signer)
    return bytesToHex(signer.publicKey)
  }
  const currencies = [...new Set(scenario.banks.flatMap((bank) => bank.currencies))].sort()
  // Central banks: the known issuer of each currency, or one per currency otherwise.
  const centralBanks = new Map<string, { id: string; jurisdiction: string; currencies: string[] }>()
  for (const code of currencies) {
    const known = centralBankOfCurrency[code] ?? { id: `cb-${code.toLowerCase()}`, jurisdiction: scenario.banks.find((b) => b.currencies.includes(code))!.jurisdiction }
    const entry = centralBanks.get(known.id) ?? { ...known, currencies: [] }
    entry.currencies.push(code)
    centralBanks.set(known.id, entry)
  }
  const jurisdictions = [...new Set(scenario.banks.map((bank) => bank.jurisdiction))].sort()
  const reserveMajor = (code: string): string => formatAmount(10n ** BigInt(12 + currencyExponent(code)), code)
  const customers: Customer[] = []
  const customerInputs: NonNullable<GenesisDocumentInput['customers']> = []
  const bankById = new Map(scenario.banks.map((bank) => [bank.id, bank]))
  scenario.population.forEach((group) => {
    const bank = bankById.get(group.bank)!
    const existing = customers.filter((c) => c.bank === group.bank && c.kind === group.kind).length
    for (let i = 0; i < group.count; i++) {
      const id = `${group.bank}-${group.kind === 'corporate' ? 'co' : 'in'}-${existing + i}`
      const customer: Customer = { id, bank: bank.id, jurisdiction: bank.jurisdiction, kind: group.kind, currencies: [group.balance.currency] }
      customers.push(customer)
      customerInputs.push({
        id,
        kind: group.kind,
        jurisdiction: bank.jurisdiction,
        bank: bank.id,
        publicKey: publicKey(id),
        kycTier: group.kycTier ?? (group.kind === 'corporate' ? 3 : 2),
        balances: [`${formatAmount(group.balance.amount, group.balance.currency)} ${group.balance.currency}`]
      })
    }
  })
  const input: GenesisDocumentInput = {
    chainId: `sim-${scenario.name}`.slice(0, 64),
    genesisTimeMs: scenario.start ?? defaultStartMs,
    keySeed,
    fx: { base: scenario.fx.base, rates: Object.fromEntries(Object.entries(scenario.fx.rates).map(([code, rate]) => [code, String(rate)])) },
    centralBanks: [...centralBanks.values()].map((cb) => ({ id: cb.id, jurisdiction: cb.jurisdiction, currencies: cb.currencies, publicKey: publicKey(cb.id), balances: [] })),
    banks: scenario.banks.map((bank) => ({
      id: bank.id,
      jurisdiction: bank.jurisdiction,
      currencies: [...bank.currencies],
      publicKey: publicKey(bank.id),
      votingPower: bank.power,
      balances: bank.reserves?.map((money) => `${formatAmount(money.amount, money.currency)} ${money.currency}`) ?? bank.currencies.map((code) => `${reserveMajor(code)} ${code}`)
    })),
    fxProviders: [
      {
        id: fxProviderId,
        jurisdiction: jurisdictions.includes('SG') ? 'SG' : jurisdictions[0]!,
        currencies: currencies.length >= 2 ? currencies : [...currencies, scenario.fx.base],
        spreadBasisPoints: 20,
        publicKey: publicKey(fxProviderId),
        balances: currencies.map((code) => `${reserveMajor(code)} ${code}`)
      }
    ],
    regulators: jurisdictions.map((jurisdiction) => {
      const id = `regulator-${jurisdiction.toLowerCase()}`
      return { id, jurisdiction, publicKey: publicKey(id) }
    }),
    customers: customerInputs,
    policies: Object.fromEntries(policies.map((policy) => [policy.jurisdiction, rawPolicies[policy.jurisdiction]]))
  }
  const document = parseGenesisDocument(input, `scenario ${scenario.name}`)
  const customersBy = new Map<string, Customer[]>()
  for (const customer of customers) {
    const key = customerKey(customer.jurisdiction, customer.kind)
    let list = customersBy.get(key)
    if (list === undefined) customersBy.set(key, (list = []))
    list.push(customer)
  }
  return {
    document,
    signers,
    customers,
    customersBy,
    bankJurisdiction: new Map(scenario.banks.map((bank) => [bank.id, bank.jurisdiction])),
    startMs: input.genesisTimeMs!
  }
}
