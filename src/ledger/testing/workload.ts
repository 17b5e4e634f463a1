/**
 * Generated workloads: deterministic batches of signed payments for the demo, the benchmark and
 * tests. The same network, options and seed give the same transactions, byte for byte.
 */
import type { TransactionEnvelope } from '../../protocol/envelope.ts'
import type { GenesisDocument } from '../genesis.ts'
import { currencyExponent } from '../currency.ts'
import { depositTokenId } from '../tokens.ts'
import type { TransactionBody } from '../transactions.ts'
import { Prng, type RandomSource } from './random.ts'

/** What a workload needs of a network: its document, and a signer that allocates nonces. */
export interface WorkloadNetwork {
  readonly document: GenesisDocument
  sign(signer: string, body: TransactionBody): TransactionEnvelope
}

export interface PaymentWorkloadOptions {
  readonly count: number
  /** A seed, or a random source (the simulator passes one of its streams). */
  readonly seed: number | string | RandomSource
  /** Payer and payee in different jurisdictions; default true. */
  readonly crossBorder?: boolean
  /** Payer and payee tokens in different currencies; default true. */
  readonly crossCurrency?: boolean
  /** Payment size in whole units of the payer's currency, drawn log-uniformly; default 100 to 20,000. */
  readonly amountMajorMin?: number
  readonly amountMajorMax?: number
  /** Purpose codes to draw from; default ['GDDS'] (trade in goods). */
  readonly purposes?: readonly string[]
  /** Attach a trade document reference (INV-...) to every payment; default true. */
  readonly withDocuments?: boolean
  /** Only these customer kinds pay; default both. */
  readonly payerKinds?: ReadonlyArray<'corporate' | 'individual'>
}

interface Party {
  readonly id: string
  readonly jurisdiction: string
  readonly tokens: readonly { readonly token: string; readonly currency: string }[]
}

const pow10 = (exponent: number): bigint => 10n ** BigInt(exponent)

/**
 * A batch of signed payments between customers of the network. Draws the payer, the payee (in
 * another jurisdiction when crossBorder), one token of each (different currencies when
 * crossCurrency), an FX provider that quotes both, and an amount; pairs that cannot satisfy the
 * options are skipped. Throws when the network has no pair that can.
 */
export function generatePayments(network: WorkloadNetwork, options: PaymentWorkloadOptions): TransactionEnvelope[] {
  const random: RandomSource = typeof options.seed === 'object' ? options.seed : new Prng(options.seed)
  const draw = (bound: number): number => Math.floor(random.next() * bound)
  const crossBorder = options.crossBorder ?? true
  const crossCurrency = options.crossCurrency ?? true
  const minorMin = options.amountMajorMin ?? 100
  const minorMax = options.amountMajorMax ?? 20_000
  if (!(minorMin >= 1 && minorMax >= minorMin)) throw new RangeError('amountMajorMin must be at least 1 and at most amountMajorMax')
  const purposes = options.purposes ?? ['GDDS']
  const withDocuments = options.withDocuments ?? true
  const payerKinds = new Set(options.payerKinds ?? ['corporate', 'individual'])
  const document = network.document
  const bankCurrencies = new Map(document.banks.map((bank) => [bank.id, bank.currencies]))
  const parties: Party[] = document.customers.map((customer) => ({
    id: customer.id,
    jurisdiction: customer.jurisdiction,
    tokens: (bankCurrencies.get(customer.bank) ?? []).map((code) => ({ token: depositTokenId(customer.bank, code), currency: code }))
  }))
  // A payer pays from the currencies it opened with (all its bank's when it opened with none).
  const payers: Party[] = []
  document.customers.forEach((customer, index) => {
    if (!payerKinds.has(customer.kind)) return
    const party = parties[index]!
    const held = new Set(customer.balances.map((text) => text.trim().slice(-3)))
    const tokens = party.tokens.filter((entry) => held.has(entry.currency))
    payers.push(tokens.length === 0 ? party : { ...party, tokens })
  })
  const byJurisdiction = new Map<string, Party[]>()
  for (const party of parties) {
    const list = byJurisdiction.get(party.jurisdiction) ?? []
    list.push(party)
    byJurisdiction.set(party.jurisdiction, list)
  }
  const jurisdictions = [...byJurisdiction.keys()].sort()
  const providerFor = (from: string, to: string): string | undefined =>
    document.fxProviders.find((provider) => provider.currencies.includes(from) && provider.currencies.includes(to))?.id

  const out: TransactionEnvelope[] = []
  let attempts = 0
  const attemptsMax = options.count * 50 + 1000
  while (out.length < options.count) {
    if (++attempts > attemptsMax) throw new Error('the network has no payer and payee that satisfy the workload options')
    const payer = payers[draw(payers.length)]
    if (payer === undefined) throw new Error('the network has no customers of the requested kinds')
    let payee: Party
    if (crossBorder) {
      const others = jurisdictions.filter((code) => code !== payer.jurisdiction)
      if (others.length === 0) continue
      const list = byJurisdiction.get(others[draw(others.length)]!)!
      payee = list[draw(list.length)]!
    } else {
      payee = parties[draw(parties.length)]!
    }
    if (payee.id === payer.id) continue
    const from = payer.tokens[draw(payer.tokens.length)]
    const candidates = payee.tokens.filter((entry) => (crossCurrency ? entry.currency !== from?.currency : true))
    const to = candidates[draw(candidates.length)]
    if (from === undefined || to === undefined) continue
    const fxProvider = from.currency === to.currency ? undefined : providerFor(from.currency, to.currency)
    if (from.currency !== to.currency && fxProvider === undefined) continue
    // Log-uniform without floating-point logarithms: a uniform decade, then uniform within it.
    const decades: Array<[number, number]> = []
    for (let low = minorMin; low <= minorMax; low *= 10) decades.push([low, Math.min(low * 10 - 1, minorMax)])
    const [low, high] = decades[draw(decades.length)]!
    const major = low + draw(high - low + 1)
    const amount = BigInt(major) * pow10(currencyExponent(from.currency)) + BigInt(draw(100)) % pow10(currencyExponent(from.currency))
    const sequence = out.length
    out.push(
      network.sign(payer.id, {
        kind: 'payment',
        payee: payee.id,
        payerToken: from.token,
        payeeToken: to.token,
        amount,
        purpose: purposes[draw(purposes.length)],
        documentRef: withDocuments ? `INV-${payer.id}-${sequence}` : undefined,
        fxProvider
      })
    )
  }
  return out
}
