/**
 * A network directory for N banks: genesis, network file, keys and one node config per bank (see
 * `corridor network init`, which documents the layout). Used by the CLI, `corridor cluster` and the
 * end-to-end tests.
 *
 *   DIR/genesis.json                    banks (validator keys), central banks per currency, an FX
 *                                       provider, customers with opening balances; no policies
 *   DIR/network.json                    the genesis path and each validator's p2p and API address
 *   DIR/institutions.keys.json          secret keys of central banks and the FX provider (0600)
 *   DIR/<bank>/validator.key.json       the bank's key (0600): signs votes and its transactions
 *   DIR/<bank>/customers.keys.json      its customers' keys, for POST /v1/payments (0600)
 *   DIR/<bank>/node.json                the node config: `corridor node start --config DIR/<bank>/node.json`
 */
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseGenesisDocument, buildGenesis, type GenesisDocumentInput } from '../ledger/genesis.ts'
import { standardBanks } from '../ledger/testing/network.ts'
import { bytesToHex, hexToBytes } from '../protocol/bytes.ts'
import { keyPairFromSecret } from '../protocol/keys.ts'
import { createNativeSigner } from '../platform/ed25519Native.ts'
import { CorridorError } from '../protocol/errors.ts'
import type { NetworkConsensusSettings } from '../node/config.ts'

export interface BankSpec {
  readonly id: string
  readonly jurisdiction: string
  readonly currencies: readonly string[]
}

function newKey(): { secretKey: string; publicKey: string } {
  const secret = new Uint8Array(randomBytes(32))
  // Derived natively: a network of thousands of customers derives thousands of keys.
  return { secretKey: bytesToHex(secret), publicKey: bytesToHex(createNativeSigner(secret).publicKey) }
}

function writeSecret(path: string, value: unknown): void {
  writeFileSync(path, JSON.stringify(value, null, 2) + '\n', { mode: 0o600, flag: 'wx' })
}

export interface NetworkInitOptions {
  readonly dir: string
  readonly banks: readonly BankSpec[]
  readonly fxRates: Readonly<Record<string, string | number>>
  readonly customersPerBank: number
  readonly basePort: number
  readonly httpBasePort: number
  readonly logLevel: string
  /**
   * A genesis built elsewhere (the scenario world of `corridor cluster run`): written as
   * genesis.json instead of a generated one, with each bank's validator key given here. `banks`,
   * `fxRates` and `customersPerBank` then only name the banks; no customer key files are written
   * (whoever built the genesis signs for its customers).
   */
  readonly prebuilt?: {
    readonly document: GenesisDocumentInput
    /** Bank id -> its secret key as 64 hex digits (the key of its genesis validator entry). */
    readonly validatorSecretKeys: Readonly<Record<string, string>>
  }
  /** Network-wide consensus settings written as network.json's `consensus` (src/node/config.ts). @default none: the node's defaults */
  readonly consensus?: NetworkConsensusSettings
}

/** network.json: the genesis path, the validators and, when given, the consensus settings. */
function writeNetworkFile(dir: string, options: NetworkInitOptions, validators: ReadonlyArray<{ id: string; address: string; api: string }>): void {
  const consensus = options.consensus !== undefined && Object.keys(options.consensus).length > 0 ? { consensus: options.consensus } : {}
  writeFileSync(join(dir, 'network.json'), JSON.stringify({ genesis: 'genesis.json', validators, ...consensus }, null, 2) + '\n')
}

/** Writes a network directory. Returns each node config path with its API address. Throws CorridorError. */
export function initNetwork(options: NetworkInitOptions): Array<{ bank: string; config: string; api: string }> {
  const dir = resolve(options.dir)
  if (existsSync(join(dir, 'network.json'))) throw new CorridorError('NETWORK_EXISTS', `${dir}/network.json exists; refusing to overwrite a network`)
  if (options.prebuilt !== undefined) return writePrebuiltNetwork(dir, options, options.prebuilt)
  mkdirSync(dir, { recursive: true })
  const institutionKeys: Record<string, string> = {}
  const currencies = [...new Set(options.banks.flatMap((bank) => bank.currencies))].sort()
  for (const code of currencies) {
    if (code !== 'USD' && options.fxRates[code] === undefined) throw new CorridorError('BAD_NETWORK', `no FX rate for ${code} (against USD); add it to the scenario's fx.rates`)
  }
  const reserve = '1000000000'
  const centralBanks = currencies.map((code) => {
    const key = newKey()
    const id = `cb-${code.toLowerCase()}`
    institutionKeys[id] = key.secretKey
    return { id, jurisdiction: options.banks.find((bank) => bank.currencies.includes(code))!.jurisdiction, currencies: [code], publicKey: key.publicKey, balances: [] }
  })
  const bankKeys = new Map<string, { secretKey: string; publicKey: string }>()
  const customerKeys = new Map<string, Array<{ id: string; secretKey: string }>>()
  const customers: NonNullable<GenesisDocumentInput['customers']> = []
  for (const bank of options.banks) {
    bankKeys.set(bank.id, newKey())
    const keys: Array<{ id: string; secretKey: string }> = []
    for (let index = 0; index < options.customersPerBank; index++) {
      const key = newKey()
      const id = `${bank.id}-customer-${index}`
      keys.push({ id, secretKey: key.secretKey })
      customers.push({ id, kind: 'corporate', jurisdiction: bank.jurisdiction, bank: bank.id, publicKey: key.publicKey, kycTier: 2, balances: bank.currencies.map((code) => `1000000 ${code}`) })
    }
    customerKeys.set(bank.id, keys)
  }
  const fxKey = newKey()
  const fxProviders = currencies.length >= 2 ? [{ id: 'fxhub', jurisdiction: options.banks[0]!.jurisdiction, currencies, spreadBasisPoints: 20, publicKey: fxKey.publicKey, balances: currencies.map((code) => `${reserve} ${code}`) }] : []
  if (fxProviders.length > 0) institutionKeys['fxhub'] = fxKey.secretKey
  const rates: Record<string, string | number> = {}
  for (const code of currencies) if (code !== 'USD') rates[code] = options.fxRates[code]!
  const input: GenesisDocumentInput = {
    chainId: `corridor-${bytesToHex(new Uint8Array(randomBytes(4)))}`,
    genesisTimeMs: Date.now(),
    fx: { base: 'USD', rates },
    centralBanks,
    banks: options.banks.map((bank) => ({ id: bank.id, jurisdiction: bank.jurisdiction, currencies: [...bank.currencies], publicKey: bankKeys.get(bank.id)!.publicKey, balances: bank.currencies.map((code) => `${reserve} ${code}`) })),
    fxProviders,
    customers,
    policies: {}
  }
  // Validate before writing anything: a network that cannot build is refused here, not at start.
  const document = parseGenesisDocument(input, 'generated genesis')
  buildGenesis(document, { source: 'generated genesis' })

  writeFileSync(join(dir, 'genesis.json'), JSON.stringify(input, null, 2) + '\n')
  writeSecret(join(dir, 'institutions.keys.json'), { keys: Object.entries(institutionKeys).map(([id, secretKey]) => ({ id, secretKey })) })
  const validators = options.banks.map((bank, index) => ({
    id: bank.id,
    address: `/ip4/127.0.0.1/tcp/${options.basePort + index}`,
    api: `http://127.0.0.1:${options.httpBasePort + index}`
  }))
  writeNetworkFile(dir, options, validators)
  return writeNodeConfigs(dir, options, validators, (bank) => bankKeys.get(bank)!, (bank) => ({ keys: customerKeys.get(bank)! }))
}

function writeNodeConfigs(
  dir: string,
  options: NetworkInitOptions,
  validators: ReadonlyArray<{ id: string; address: string; api: string }>,
  validatorKey: (bank: string) => { secretKey: string; publicKey: string },
  customerKeyStore: ((bank: string) => { keys: Array<{ id: string; secretKey: string }> }) | undefined
): Array<{ bank: string; config: string; api: string }> {
  return options.banks.map((bank, index) => {
    const bankDir = join(dir, bank.id)
    mkdirSync(bankDir, { recursive: true })
    writeSecret(join(bankDir, 'validator.key.json'), validatorKey(bank.id))
    if (customerKeyStore !== undefined) writeSecret(join(bankDir, 'customers.keys.json'), customerKeyStore(bank.id))
    const config = {
      network: '../network.json',
      validatorId: bank.id,
      keyFile: 'validator.key.json',
      dataDir: 'data',
      listen: validators[index]!.address,
      http: { host: '127.0.0.1', port: options.httpBasePort + index },
      logLevel: options.logLevel,
      ...(customerKeyStore === undefined ? {} : { customerKeys: 'customers.keys.json' })
    }
    const path = join(bankDir, 'node.json')
    writeFileSync(path, JSON.stringify(config, null, 2) + '\n')
    return { bank: bank.id, config: path, api: validators[index]!.api }
  })
}

function writePrebuiltNetwork(dir: string, options: NetworkInitOptions, prebuilt: NonNullable<NetworkInitOptions['prebuilt']>): Array<{ bank: string; config: string; api: string }> {
  const document = parseGenesisDocument(prebuilt.document, 'prebuilt genesis')
  buildGenesis(document, { source: 'prebuilt genesis' })
  const keys = new Map<string, { secretKey: string; publicKey: string }>()
  for (const bank of options.banks) {
    const entry = document.banks.find((candidate) => candidate.id === bank.id)
    if (entry === undefined) throw new CorridorError('BAD_NETWORK', `bank ${bank.id} is not in the prebuilt genesis`)
    const secretKey = prebuilt.validatorSecretKeys[bank.id]
    if (secretKey === undefined) throw new CorridorError('BAD_NETWORK', `no validator key for ${bank.id}`)
    const publicKey = bytesToHex(keyPairFromSecret(hexToBytes(secretKey, 32)).publicKey)
    if (publicKey !== (entry.validatorPublicKey ?? entry.publicKey).toLowerCase()) throw new CorridorError('BAD_NETWORK', `the validator key given for ${bank.id} is not the one in the prebuilt genesis`)
    keys.set(bank.id, { secretKey, publicKey })
  }
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'genesis.json'), JSON.stringify(prebuilt.document, null, 2) + '\n')
  const validators = options.banks.map((bank, index) => ({
    id: bank.id,
    address: `/ip4/127.0.0.1/tcp/${options.basePort + index}`,
    api: `http://127.0.0.1:${options.httpBasePort + index}`
  }))
  writeNetworkFile(dir, options, validators)
  return writeNodeConfigs(dir, options, validators, (bank) => keys.get(bank)!, undefined)
}

/** The standard banks, cycled with a numeric suffix beyond four. */
export function standardBankSpecs(count: number): BankSpec[] {
  return Array.from({ length: count }, (_, index) => {
    const template = standardBanks[index % standardBanks.length]!
    const round = Math.floor(index / standardBanks.length)
    return { id: round === 0 ? template.id : `${template.id}-${round + 1}`, jurisdiction: template.jurisdiction, currencies: [...template.currencies] }
  })
}
