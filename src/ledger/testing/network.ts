/**
 * Test and demo networks: a genesis document with deterministic keys, the state built from it,
 * signers for every entity and a nonce counter per signer, so a test (or the simulator, or the
 * demo) writes `network.apply([network.pay('icbc-corporate-0', ...)])` and reads receipts.
 *
 * The standard network mirrors configs/genesis/demo.yaml: four jurisdictions (CN, HK, AE, SG),
 * one bank each (icbc with CNY and CNH, bochk with HKD and CNH, enbd with AED, dbs with SGD),
 * their central banks (pboc issues CNY, hkma HKD and CNH, cbuae AED, mas SGD), one FX provider
 * quoting all five currencies, a regulator per jurisdiction, and customers at every bank.
 */
import type { Encodable } from '../../protocol/encoding.ts'
import { signTransaction, type TransactionEnvelope } from '../../protocol/envelope.ts'
import { bytesToHex } from '../../protocol/bytes.ts'
import type { Signer, SignatureVerifier } from '../../protocol/keys.ts'
import { createNativeVerifier } from '../../platform/ed25519Native.ts'
import { apply, executeBlock, type AppliedBlock, type ExecutedBlock, type LedgerBlock, type SignatureCheck } from '../execute.ts'
import { buildGenesis, parseGenesisDocument, type BuildGenesisOptions, type GenesisDocument, type GenesisDocumentInput } from '../genesis.ts'
import { type LedgerState, type Sha256 } from '../state.ts'
import { admitTransaction, encodeTransactionBody, type AdmittedTransaction, type TransactionBody } from '../transactions.ts'
import { depositTokenId, settlementTokenId } from '../tokens.ts'
import { verifyTransactionSignature } from '../../protocol/envelope.ts'
import { createFastSigner, deriveSecretKey, type SignerFactory } from './keys.ts'

export interface StandardNetworkOptions {
  readonly chainId?: string
  readonly keySeed?: string
  readonly genesisTimeMs?: number
  /** Customers at each bank; default 4. */
  readonly customersPerBank?: number
  /** Every fourth customer is an individual, the rest corporates, unless this says otherwise (0 to 1). */
  readonly individualShare?: number
  /** Each customer's opening balance in each of its bank's currencies, in major units; default "1000000". */
  readonly customerBalance?: string
  /** Each bank's and the FX provider's settlement-asset holding per currency, major units; default "1000000000". */
  readonly reserve?: string
  readonly spreadBasisPoints?: number
  /** Policy documents by jurisdiction; none by default. */
  readonly policies?: Record<string, unknown>
  readonly signerFactory?: SignerFactory
}

export const standardBanks = [
  { id: 'icbc', jurisdiction: 'CN', currencies: ['CNY', 'CNH'] },
  { id: 'bochk', jurisdiction: 'HK', currencies: ['HKD', 'CNH'] },
  { id: 'enbd', jurisdiction: 'AE', currencies: ['AED'] },
  { id: 'dbs', jurisdiction: 'SG', currencies: ['SGD'] }
] as const
export const standardCentralBanks = [
  { id: 'pboc', jurisdiction: 'CN', currencies: ['CNY'] },
  { id: 'hkma', jurisdiction: 'HK', currencies: ['HKD', 'CNH'] },
  { id: 'cbuae', jurisdiction: 'AE', currencies: ['AED'] },
  { id: 'mas', jurisdiction: 'SG', currencies: ['SGD'] }
] as const
export const standardFxProvider = { id: 'fxhub', jurisdiction: 'SG', currencies: ['AED', 'CNH', 'CNY', 'HKD', 'SGD'] } as const
export const standardFxRates = { CNY: '7.10', CNH: '7.12', HKD: '7.80', AED: '3.6725', SGD: '1.34' } as const

/** The id of the n-th customer of a bank in the standard network. */
export function standardCustomerId(bank: string, kind: 'corporate' | 'individual', index: number): string {
  return `${bank}-${kind}-${index}`
}

/** The genesis document of the standard network, with keys derived from the key seed. */
export function standardGenesisDocument(options: StandardNetworkOptions = {}): GenesisDocument {
  return standardNetworkParts(options).document
}

function standardNetworkParts(options: StandardNetworkOptions): { document: GenesisDocument; signers: Map<string, Signer> } {
  const keySeed = options.keySeed ?? 'corridor-test'
  const factory = options.signerFactory ?? createFastSigner
  const signers = new Map<string, Signer>()
  const publicKey = (id: string): string => {
    const signer = factory(deriveSecretKey(keySeed, id))
    signers.set(id, signer)
    return bytesToHex(signer.publicKey)
  }
  const customersPerBank = options.customersPerBank ?? 4
  const individualShare = options.individualShare ?? 0.25
  const customerBalance = options.customerBalance ?? '1000000'
  const reserve = options.reserve ?? '1000000000'
  const customers: GenesisDocumentInput['customers'] = []
  for (const bank of standardBanks) {
    for (let index = 0; index < customersPerBank; index++) {
      // Spread individuals evenly: customer i is an individual when the running share falls behind.
      const individual = Math.floor((index + 1) * individualShare) > Math.floor(index * individualShare)
      const kind = individual ? 'individual' : 'corporate'
      const id = standardCustomerId(bank.id, kind, index)
      customers.push({
        id,
        kind,
        jurisdiction: bank.jurisdiction,
        bank: bank.id,
        publicKey: publicKey(id),
        kycTier: individual ? 1 : 2,
        balances: bank.currencies.map((code) => `${customerBalance} ${code}`)
      })
    }
  }
  const input: GenesisDocumentInput = {
    chainId: options.chainId ?? 'corridor-test',
    genesisTimeMs: options.genesisTimeMs ?? Date.UTC(2025, 0, 6),
    keySeed,
    fx: { base: 'USD', rates: { ...standardFxRates } },
    centralBanks: standardCentralBanks.map((centralBank) => ({ ...centralBank, currencies: [...centralBank.currencies], publicKey: publicKey(centralBank.id), balances: [] })),
    banks: standardBanks.map((bank) => ({
      ...bank,
      currencies: [...bank.currencies],
      publicKey: publicKey(bank.id),
      balances: bank.currencies.map((code) => `${reserve} ${code}`)
    })),
    fxProviders: [
      {
        ...standardFxProvider,
        currencies: [...standardFxProvider.currencies],
        spreadBasisPoints: options.spreadBasisPoints ?? 20,
        publicKey: publicKey(standardFxProvider.id),
        balances: standardFxProvider.currencies.map((code) => `${reserve} ${code}`)
      }
    ],
    regulators: standardBanks.map((bank) => {
      const id = `regulator-${bank.jurisdiction.toLowerCase()}`
      return { id, jurisdiction: bank.jurisdiction, publicKey: publicKey(id) }
    }),
    customers,
    policies: options.policies ?? {}
  }
  return { document: parseGenesisDocument(input, 'standard test network'), signers }
}

/** The ids of every entity in a genesis document. */
export function genesisEntityIds(document: GenesisDocument): string[] {
  return [
    ...document.centralBanks.map((entity) => entity.id),
    ...document.banks.map((entity) => entity.id),
    ...document.fxProviders.map((entity) => entity.id),
    ...document.regulators.map((entity) => entity.id),
    ...document.customers.map((entity) => entity.id)
  ]
}

/**
 * Signers for every entity of a document whose keys derive from its `keySeed`. Throws when the
 * document has no seed or a key does not match the one derived (the file was edited by hand).
 */
export function deriveSigners(document: GenesisDocument, signerFactory: SignerFactory = createFastSigner): Map<string, Signer> {
  const keySeed = document.keySeed
  if (keySeed === undefined) throw new Error('the genesis document has no keySeed: its secret keys cannot be derived')
  const registered = new Map<string, string>()
  for (const list of [document.centralBanks, document.banks, document.fxProviders, document.regulators, document.customers]) {
    for (const entity of list) registered.set(entity.id, entity.publicKey.toLowerCase())
  }
  const signers = new Map<string, Signer>()
  for (const [id, publicKeyHex] of registered) {
    const signer = signerFactory(deriveSecretKey(keySeed, id))
    if (bytesToHex(signer.publicKey) !== publicKeyHex) {
      throw new Error(`the public key of ${id} is not the one derived from keySeed ${JSON.stringify(keySeed)}; regenerate the file or remove keySeed`)
    }
    signers.set(id, signer)
  }
  return signers
}

export interface SignOptions {
  /** Default: the signer's next nonce. */
  readonly nonce?: bigint
  /** Default: the network's. */
  readonly chainId?: string
  /** Sign with another entity's key (for BAD_SIGNATURE tests). */
  readonly signWith?: string
}

export interface TestNetworkOptions {
  readonly signerFactory?: SignerFactory
  /** Default: verify with node:crypto (correct and fast enough for tests). */
  readonly signatureCheck?: SignatureCheck
  /** Block interval for `block()`, ms; default 1000. */
  readonly blockIntervalMs?: number
}

/** A network under test: its state, its signers, and helpers that sign, admit and apply. */
export class TestNetwork {
  readonly document: GenesisDocument
  readonly signers: ReadonlyMap<string, Signer>
  readonly chainId: string
  readonly signatureCheck: SignatureCheck
  readonly blockIntervalMs: number
  /** The committed state; replaced by `apply`. */
  state: LedgerState
  readonly #nonces = new Map<string, bigint>()

  constructor(document: GenesisDocument, state: LedgerState, signers: ReadonlyMap<string, Signer>, options: TestNetworkOptions = {}) {
    this.document = document
    this.state = state
    this.signers = signers
    this.chainId = document.chainId
    const verifier: SignatureVerifier = createNativeVerifier()
    this.signatureCheck = options.signatureCheck ?? ((tx) => verifyTransactionSignature(tx, verifier))
    this.blockIntervalMs = options.blockIntervalMs ?? 1000
  }

  /** A network from a document whose keys derive from its keySeed (the demo genesis, say). */
  static fromGenesis(document: GenesisDocument, state?: LedgerState, options: TestNetworkOptions & BuildGenesisOptions = {}): TestNetwork {
    return new TestNetwork(document, state ?? buildGenesis(document, options), deriveSigners(document, options.signerFactory), options)
  }

  /** Takes the next nonce of a signer (1, 2, 3, ... unless set otherwise). */
  nextNonce(signer: string): bigint {
    const nonce = (this.#nonces.get(signer) ?? 0n) + 1n
    this.#nonces.set(signer, nonce)
    return nonce
  }

  signer(id: string): Signer {
    const signer = this.signers.get(id)
    if (signer === undefined) throw new Error(`no signer for ${id} in this network`)
    return signer
  }

  /** Signs a body (or a raw body value, for malformed-input tests) as `signer`. */
  sign(signer: string, body: TransactionBody | Encodable, options: SignOptions = {}): TransactionEnvelope {
    const key = this.signer(signer)
    const signingKey = options.signWith === undefined ? key : this.signer(options.signWith)
    const value = isTransactionBody(body) ? encodeTransactionBody(body) : body
    return signTransaction(
      { chainId: options.chainId ?? this.chainId, signer, publicKey: signingKey.publicKey, nonce: options.nonce ?? this.nextNonce(signer), body: value },
      signingKey
    )
  }

  /** Signs and admits: what a block carries. */
  admit(signer: string, body: TransactionBody, options: SignOptions = {}): AdmittedTransaction {
    return admitTransaction(this.sign(signer, body, options))
  }

  /** A body of a cross-bank payment; the FX provider is named when the currencies differ. */
  pay(payer: string, payee: string, payerToken: string, payeeToken: string, amount: bigint, extra: { purpose?: string; documentRef?: string; fxProvider?: string } = {}): AdmittedTransaction {
    const crossCurrency = payerToken.slice(payerToken.indexOf('.') + 1) !== payeeToken.slice(payeeToken.indexOf('.') + 1)
    return this.admit(payer, {
      kind: 'payment',
      payee,
      payerToken,
      payeeToken,
      amount,
      purpose: extra.purpose,
      documentRef: extra.documentRef,
      fxProvider: extra.fxProvider ?? (crossCurrency ? this.document.fxProviders[0]?.id : undefined)
    })
  }

  /** The next block over these transactions. */
  block(transactions: readonly AdmittedTransaction[], timeMs?: number): LedgerBlock {
    return { height: this.state.height + 1, timeMs: timeMs ?? this.state.timeMs + this.blockIntervalMs, transactions }
  }

  /** Executes without committing. */
  execute(transactions: readonly AdmittedTransaction[], timeMs?: number): ExecutedBlock {
    return executeBlock(this.state, this.block(transactions, timeMs), this.signatureCheck)
  }

  /** Executes and commits; `state` moves to the new height. */
  apply(transactions: readonly AdmittedTransaction[], timeMs?: number): AppliedBlock {
    const applied = apply(this.state, this.block(transactions, timeMs), this.signatureCheck)
    this.state = applied.state
    return applied
  }

  customerIds(): string[] {
    return this.document.customers.map((customer) => customer.id)
  }
}

function isTransactionBody(value: TransactionBody | Encodable): value is TransactionBody {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array) && typeof (value as { kind?: unknown }).kind === 'string'
}

export interface CreateTestNetworkOptions extends StandardNetworkOptions, TestNetworkOptions {
  readonly sha256?: Sha256
}

/** The standard network at genesis. */
export function createTestNetwork(options: CreateTestNetworkOptions = {}): TestNetwork {
  const { document, signers } = standardNetworkParts(options)
  const state = buildGenesis(document, { source: 'standard test network', sha256: options.sha256, checkInstitutionKeys: false })
  return new TestNetwork(document, state, signers, options)
}

/** Token ids of the standard network, for tests that name them. */
export const standardTokens = {
  deposit: depositTokenId,
  settlement: settlementTokenId
} as const
