/**
 * Workload generators: what the scenario's customers do, as signed transactions arriving over
 * simulated time. Arrivals are Poisson processes; amounts are log-normal around the scenario's
 * median; every draw comes from the run's seeded PRNG, so a seed fixes the whole workload.
 */
import { transactionSigningBytes, type TransactionEnvelope } from '../protocol/envelope.ts'
import { nativeHashTaggedHex } from './modeledCrypto.ts'
import type { Signer } from '../protocol/keys.ts'
import { convert, type FxTable } from '../ledger/fx.ts'
import { depositTokenId } from '../ledger/tokens.ts'
import { encodeTransactionBody, type TransactionBody } from '../ledger/transactions.ts'
import { Random } from './random.ts'
import type { Scenario, ScenarioWorkload } from './scenario/schema.ts'
import { customerKey, fxProviderId, type Customer, type World } from './world.ts'

/** What the simulator tracks about a submitted transfer, for transfers.csv and the summary. */
export interface TransferInfo {
  readonly kind: 'payment' | 'fxRateUpdate'
  readonly payer: string
  readonly payee: string
  readonly payerBank: string
  readonly payeeBank: string
  readonly payerJurisdiction: string
  readonly payeeJurisdiction: string
  readonly payerKind: 'corporate' | 'individual' | 'institution'
  readonly amount: bigint
  readonly currency: string
  readonly receivedCurrency: string
  /** The amount in USD cents at the opening FX table, for volumes and the baseline. */
  readonly amountUsdCents: number
}

export interface Submission {
  readonly envelope: TransactionEnvelope
  readonly info: TransferInfo
  /** The bank whose node the transaction is submitted to. */
  readonly via: string
}

/** Generates submissions for one workload entry. `next` returns the following arrival or undefined. */
export interface WorkloadSource {
  readonly label: string
  /** Time of the first arrival, ms since start, or undefined when the source is empty. */
  first(): number | undefined
  /** The submissions arriving at `timeMs` and the time of the next arrival. */
  arrive(timeMs: number): { submissions: Submission[]; nextMs: number | undefined }
}

/** The tag of transaction ids (protocol/envelope.ts withId). */
const transactionIdTag = 'corridor.txid'

export class Signing {
  private readonly nonces = new Map<string, bigint>()
  constructor(
    private readonly chainId: string,
    private readonly signers: ReadonlyMap<string, Signer>
  ) {}

  sign(signer: string, body: TransactionBody): TransactionEnvelope {
    const key = this.signers.get(signer)
    if (key === undefined) throw new Error(`no key for ${signer}`)
    const nonce = (this.nonces.get(signer) ?? 0n) + 1n
    this.nonces.set(signer, nonce)
    // signTransaction, with the id hashed on node:crypto (the same SHA-256; see nativeHashTagged).
    const chainId = this.chainId
    const publicKey = key.publicKey
    const encodedBody = encodeTransactionBody(body)
    const signingBytes = transactionSigningBytes({ chainId, signer, publicKey, nonce, body: encodedBody })
    // The envelope written out rather than spread from the unsigned one: a spread per transfer cost as much as signing.
    return { chainId, signer, publicKey, nonce, body: encodedBody, signature: key.sign(signingBytes), signingBytes, id: nativeHashTaggedHex(transactionIdTag, signingBytes) }
  }
}

export interface WorkloadContext {
  readonly world: World
  readonly fx: FxTable
  readonly signing: Signing
  readonly random: Random
  readonly durationMs: number
}

/**
 * A scenario's workload as the simulator runs it: one source per entry, each drawing from its own
 * stream of the run's seed ('workload', then 'workload-<index>'), and one `Signing` across them,
 * so a signer's nonces follow the order in which arrivals are handled. The simulation thread
 * (inline), the workload worker and the cluster backend's driver all build it here, so they
 * cannot drift apart.
 */
export function createScenarioSources(scenario: Scenario, world: World, fx: FxTable): WorkloadSource[] {
  const signing = new Signing(world.document.chainId, world.signers)
  const random = new Random(scenario.seed).fork('workload')
  return scenario.workload.map((entry, index) => createWorkloadSource(entry, index, { world, fx, signing, random, durationMs: scenario.duration }))
}

export function createWorkloadSource(entry: ScenarioWorkload, index: number, context: WorkloadContext): WorkloadSource {
  const random = context.random.fork(`workload-${index}`)
  const start = 'start' in entry && entry.start !== undefined ? entry.start : 0
  const end = Math.min(context.durationMs, 'end' in entry && entry.end !== undefined ? entry.end : context.durationMs)
  switch (entry.kind) {
    case 'trade':
    case 'remittance': {
      const kind = entry.kind === 'trade' ? 'corporate' : 'individual'
      const payers = context.world.customersBy.get(customerKey(entry.from, kind)) ?? []
      let payees = context.world.customersBy.get(customerKey(entry.to, entry.kind === 'trade' ? 'corporate' : 'individual')) ?? []
      if (payees.length === 0) payees = [...(context.world.customersBy.get(customerKey(entry.to, 'corporate')) ?? []), ...(context.world.customersBy.get(customerKey(entry.to, 'individual')) ?? [])]
      if (entry.kind === 'remittance' && entry.payees !== undefined) payees = payees.slice(0, entry.payees)
      const meanGapMs = entry.rate > 0 ? 1000 / entry.rate : Infinity
      const label = `${entry.kind} ${entry.from}->${entry.to}`
      if (payers.length === 0 || payees.length === 0 || !Number.isFinite(meanGapMs)) return emptySource(label)
      const medianUsd = Number(convert(context.fx, entry.amount.median.amount, entry.amount.median.currency, 'USD') ?? 0n)
      let invoice = 0
      const make = (): Submission => {
        const payer = random.pick(payers)
        const payee = random.pick(payees)
        const payerCurrency = random.pick(payer.currencies)
        const payeeCurrency = payee.currencies[0]!
        const amountUsdCents = Math.max(100, Math.round(random.logNormal(medianUsd, entry.amount.sigma)))
        const amount = convert(context.fx, BigInt(amountUsdCents), 'USD', payerCurrency) ?? 1n
        invoice++
        const documented = entry.kind === 'trade' && random.chance(entry.documented)
        const body: TransactionBody = {
          kind: 'payment',
          payee: payee.id,
          payerToken: depositTokenId(payer.bank, payerCurrency),
          payeeToken: depositTokenId(payee.bank, payeeCurrency),
          amount: amount > 0n ? amount : 1n,
          purpose: entry.purpose,
          documentRef: documented ? `INV-${index}-${invoice}` : undefined,
          fxProvider: payerCurrency === payeeCurrency ? undefined : fxProviderId
        }
        return { envelope: context.signing.sign(payer.id, body), info: paymentInfo(payer, payee, body, payerCurrency, payeeCurrency, amountUsdCents), via: payer.bank }
      }
      return poissonSource(label, start, end, meanGapMs, random, () => [make()])
    }
    case 'fx': {
      const label = `fx ${entry.currency}`
      let rate = context.fx.rates.get(entry.currency)
      if (rate === undefined || entry.every <= 0) return emptySource(label)
      let next = start + entry.every
      return {
        label,
        first: () => (next <= end ? next : undefined),
        arrive(timeMs) {
          const move = 1 + entry.volatility * random.normal()
          rate = BigInt(Math.max(1, Math.round(Number(rate!) * move)))
          const envelope = context.signing.sign(fxProviderId, { kind: 'fxRateUpdate', rates: [[entry.currency, rate]] })
          next = timeMs + entry.every
          const info: TransferInfo = {
            kind: 'fxRateUpdate',
            payer: fxProviderId,
            payee: fxProviderId,
            payerBank: fxProviderId,
            payeeBank: fxProviderId,
            payerJurisdiction: '',
            payeeJurisdiction: '',
            payerKind: 'institution',
            amount: rate,
            currency: entry.currency,
            receivedCurrency: entry.currency,
            amountUsdCents: 0
          }
          const via = context.world.document.banks[random.int(context.world.document.banks.length)]!.id
          return { submissions: [{ envelope, info, via }], nextMs: next <= end ? next : undefined }
        }
      }
    }
    case 'liquidity-shock': {
      const label = `liquidity shock at ${entry.bank}`
      const payers = context.world.customers.filter((customer) => customer.bank === entry.bank)
      const payees = [...(context.world.customersBy.get(customerKey(entry.to, 'corporate')) ?? []), ...(context.world.customersBy.get(customerKey(entry.to, 'individual')) ?? [])]
      if (payers.length === 0 || payees.length === 0 || entry.at > context.durationMs) return emptySource(label)
      const medianUsd = Number(convert(context.fx, entry.amount.median.amount, entry.amount.median.currency, 'USD') ?? 0n)
      let fired = false
      return {
        label,
        first: () => (fired ? undefined : entry.at),
        arrive() {
          fired = true
          const submissions: Submission[] = []
          for (let i = 0; i < entry.payments; i++) {
            const payer = payers[i % payers.length]!
            const payee = random.pick(payees)
            const payerCurrency = random.pick(payer.currencies)
            const payeeCurrency = payee.currencies[0]!
            const amountUsdCents = Math.max(100, Math.round(random.logNormal(medianUsd, entry.amount.sigma)))
            const body: TransactionBody = {
              kind: 'payment',
              payee: payee.id,
              payerToken: depositTokenId(payer.bank, payerCurrency),
              payeeToken: depositTokenId(payee.bank, payeeCurrency),
              amount: convert(context.fx, BigInt(amountUsdCents), 'USD', payerCurrency) ?? 1n,
              purpose: payer.kind === 'corporate' ? 'GDDS' : 'FAMI',
              documentRef: payer.kind === 'corporate' ? `SHOCK-${i}` : undefined,
              fxProvider: payerCurrency === payeeCurrency ? undefined : fxProviderId
            }
            submissions.push({ envelope: context.signing.sign(payer.id, body), info: paymentInfo(payer, payee, body, payerCurrency, payeeCurrency, amountUsdCents), via: payer.bank })
          }
          return { submissions, nextMs: undefined }
        }
      }
    }
  }
}

function paymentInfo(payer: Customer, payee: Customer, body: TransactionBody & { kind: 'payment' }, currency: string, receivedCurrency: string, amountUsdCents: number): TransferInfo {
  return {
    kind: 'payment',
    payer: payer.id,
    payee: payee.id,
    payerBank: payer.bank,
    payeeBank: payee.bank,
    payerJurisdiction: payer.jurisdiction,
    payeeJurisdiction: payee.jurisdiction,
    payerKind: payer.kind,
    amount: body.amount,
    currency,
    receivedCurrency,
    amountUsdCents
  }
}

function emptySource(label: string): WorkloadSource {
  return { label, first: () => undefined, arrive: () => ({ submissions: [], nextMs: undefined }) }
}

function poissonSource(label: string, start: number, end: number, meanGapMs: number, random: Random, make: () => Submission[]): WorkloadSource {
  let next = start + random.exponential(meanGapMs)
  return {
    label,
    first: () => (next < end ? next : undefined),
    arrive(timeMs) {
      const submissions = make()
      next = timeMs + random.exponential(meanGapMs)
      return { submissions, nextMs: next < end ? next : undefined }
    }
  }
}
