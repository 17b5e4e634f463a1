/**
 * `corridor network init`: everything a local or test network of N banks needs, under one directory.
 *
 *   DIR/genesis.json                    banks (validator keys), central banks per currency, an FX
 *                                       provider, customers with opening balances; no policies
 *   DIR/network.json                    the genesis path and each validator's p2p and API address
 *   DIR/institutions.keys.json          secret keys of central banks and the FX provider (0600)
 *   DIR/<bank>/validator.key.json       the bank's key (0600): signs votes and its transactions
 *   DIR/<bank>/customers.keys.json      its customers' keys, for POST /v1/payments (0600)
 *   DIR/<bank>/node.json                the node config: `corridor node start --config DIR/<bank>/node.json`
 *
 * Banks come from the standard four (icbc, bochk, enbd, dbs, cycled with a suffix beyond four) or
 * from a scenario's `banks` and `fx`. Ports: p2p basePort + i, HTTP httpBasePort + i, on loopback.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { z } from 'zod'
import type { CommandGroup } from './main.ts'
import { loadDataFile } from '../config/files.ts'
import { validateDocument } from '../config/validate.ts'
import { ConfigError } from '../config/errors.ts'
import { parseGenesisDocument, buildGenesis, type GenesisDocumentInput } from '../ledger/genesis.ts'
import { standardBanks, standardFxRates } from '../ledger/testing/network.ts'
import { bytesToHex } from '../protocol/bytes.ts'
import { keyPairFromSecret } from '../protocol/keys.ts'
import { CorridorError } from '../protocol/errors.ts'

const usage = `usage: corridor network init --dir DIR [options]

options:
  --banks N              banks (validators), from the standard four cycled (default 4)
  --scenario FILE        take the banks and FX rates from a scenario file instead
  --customers N          customers per bank, with keys the bank's node holds (default 8)
  --base-port P          first p2p TCP port (default 7101); bank i listens on P + i
  --http-base-port P     first HTTP API port (default 8101)
  --log-level L          log level written to each node config (default info)
`

interface BankSpec {
  readonly id: string
  readonly jurisdiction: string
  readonly currencies: readonly string[]
}

const scenarioBanksSchema = z.looseObject({
  banks: z.array(z.looseObject({ id: z.string(), jurisdiction: z.string(), currencies: z.array(z.string()).min(1) })).min(1),
  fx: z.looseObject({ rates: z.record(z.string(), z.union([z.number(), z.string()])) }).optional()
})

function newKey(): { secretKey: string; publicKey: string } {
  const secret = new Uint8Array(randomBytes(32))
  return { secretKey: bytesToHex(secret), publicKey: bytesToHex(keyPairFromSecret(secret).publicKey) }
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
}

/** Writes a network directory. Returns each node config path with its API address. Throws CorridorError. */
export function initNetwork(options: NetworkInitOptions): Array<{ bank: string; config: string; api: string }> {
  const dir = resolve(options.dir)
  if (existsSync(join(dir, 'network.json'))) throw new CorridorError('NETWORK_EXISTS', `${dir}/network.json exists; refusing to overwrite a network`)
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
  writeFileSync(join(dir, 'network.json'), JSON.stringify({ genesis: 'genesis.json', validators }, null, 2) + '\n')
  return options.banks.map((bank, index) => {
    const bankDir = join(dir, bank.id)
    mkdirSync(bankDir, { recursive: true })
    writeSecret(join(bankDir, 'validator.key.json'), bankKeys.get(bank.id)!)
    writeSecret(join(bankDir, 'customers.keys.json'), { keys: customerKeys.get(bank.id)! })
    const config = {
      network: '../network.json',
      validatorId: bank.id,
      keyFile: 'validator.key.json',
      dataDir: 'data',
      listen: validators[index]!.address,
      http: { host: '127.0.0.1', port: options.httpBasePort + index },
      logLevel: options.logLevel,
      customerKeys: 'customers.keys.json'
    }
    const path = join(bankDir, 'node.json')
    writeFileSync(path, JSON.stringify(config, null, 2) + '\n')
    return { bank: bank.id, config: path, api: validators[index]!.api }
  })
}

/** The standard banks, cycled with a numeric suffix beyond four. */
export function standardBankSpecs(count: number): BankSpec[] {
  return Array.from({ length: count }, (_, index) => {
    const template = standardBanks[index % standardBanks.length]!
    const round = Math.floor(index / standardBanks.length)
    return { id: round === 0 ? template.id : `${template.id}-${round + 1}`, jurisdiction: template.jurisdiction, currencies: [...template.currencies] }
  })
}

function positiveInteger(value: string, name: string, max: number): number {
  const number = Number(value)
  if (!Number.isSafeInteger(number) || number < 1 || number > max) throw new ConfigError('CONFIG_INVALID', 'command line', [{ path: `--${name}`, message: `expected an integer from 1 to ${max}, got ${value}` }])
  return number
}

async function init(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      dir: { type: 'string' },
      banks: { type: 'string', default: '4' },
      scenario: { type: 'string' },
      customers: { type: 'string', default: '8' },
      'base-port': { type: 'string', default: '7101' },
      'http-base-port': { type: 'string', default: '8101' },
      'log-level': { type: 'string', default: 'info' }
    }
  })
  if (values.dir === undefined) {
    process.stderr.write(`corridor network init: --dir DIR is required\n\n${usage}`)
    return 2
  }
  let banks: BankSpec[]
  let fxRates: Record<string, string | number> = { ...standardFxRates }
  if (values.scenario !== undefined) {
    const scenario = validateDocument(scenarioBanksSchema, loadDataFile(values.scenario), values.scenario)
    banks = scenario.banks.map((bank) => ({ id: bank.id, jurisdiction: bank.jurisdiction, currencies: bank.currencies }))
    fxRates = { ...fxRates, ...scenario.fx?.rates }
  } else {
    banks = standardBankSpecs(positiveInteger(values.banks, 'banks', 64))
  }
  const nodes = initNetwork({
    dir: values.dir,
    banks,
    fxRates,
    customersPerBank: positiveInteger(values.customers, 'customers', 10_000),
    basePort: positiveInteger(values['base-port'], 'base-port', 65_000),
    httpBasePort: positiveInteger(values['http-base-port'], 'http-base-port', 65_000),
    logLevel: values['log-level']
  })
  process.stdout.write(`network of ${nodes.length} banks in ${resolve(values.dir)}\n`)
  for (const node of nodes) process.stdout.write(`  ${node.bank.padEnd(12)} corridor node start --config ${node.config}   (API ${node.api})\n`)
  return 0
}

export const networkCommands: CommandGroup = {
  summary: 'network set-up: init (keys, genesis, node configs)',
  async run(args: string[]): Promise<number> {
    const [command, ...rest] = args
    if (command === 'init') return init(rest)
    if (command === undefined || command === '--help' || command === '-h') {
      process.stdout.write(usage)
      return command === undefined ? 2 : 0
    }
    process.stderr.write(`corridor network: unknown command '${command}'\n\n${usage}`)
    return 2
  }
}
