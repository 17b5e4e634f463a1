/**
 * Node configuration: three kinds of file, validated with zod at start-up; errors name the file
 * and the path of the bad field (ConfigError), including rules between files (the key must be the
 * bank's validator key; every validator in the network file is a bank of the genesis).
 *
 * network file (shared by every bank of a network):
 *   genesis: genesis.json                       path, relative to this file
 *   validators:                                 one per bank of the genesis
 *     - { id: icbc, address: /ip4/127.0.0.1/tcp/7001, api: http://127.0.0.1:8001 }
 *   consensus:                                  optional, network-wide (every validator must run
 *     timeoutProposeBaseMs: 1000                the same timeouts); integers in ms, each optional,
 *     timeoutCommitMs: 0                        merged over the node's defaults (networkConsensusFields)
 *     blockTransactionsMax: 2000                and the largest block, in transactions (a block above it is
 *                                               invalid, so it too must be the same everywhere)
 *
 * node file (one per bank):
 *   network: ../network.json                    path, relative to this file
 *   validatorId: icbc
 *   keyFile: icbc.key.json                      written by `corridor node keygen`, mode 0600
 *   dataDir: data                               LevelDB lives here
 *   listen: /ip4/127.0.0.1/tcp/7001
 *   http: { host: 127.0.0.1, port: 8001 }
 *   logLevel: info                              fatal|error|warn|info|debug|trace|silent
 *   customerKeys: customers.json                optional: keys the bank signs payments with
 *
 * key file: { "secretKey": "<64 hex>", "publicKey": "<64 hex>" }
 * customer key store: { "keys": [{ "id": "icbc-corporate-0", "secretKey": "<64 hex>" }] }
 */
import { readFileSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { z } from 'zod'
import { multiaddr } from '@multiformats/multiaddr'
import { ConfigError, type ConfigIssue } from '../config/errors.ts'
import { loadDataFile, parseDataText } from '../config/files.ts'
import { validateDocument } from '../config/validate.ts'
import { loadGenesisFile } from '../config/genesis.ts'
import { genesisValidators, type GenesisDocument } from '../ledger/genesis.ts'
import type { LedgerState } from '../ledger/state.ts'
import { bytesToHex, hexToBytes } from '../protocol/bytes.ts'
import { isValidId } from '../protocol/ids.ts'
import { keyPairFromSecret, secretKeyBytesLength, type Signer } from '../protocol/keys.ts'
import { createNativeSigner } from '../platform/ed25519Native.ts'
import { nativeSha256 } from './store/index.ts'
import { defaultConsensusLimits, type ConsensusLimits } from '../consensus/limits.ts'
import { defaultReplicaLimits, type ReplicaLimits } from './replica/limits.ts'

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof logLevels)[number]

const hex64 = z.string().regex(/^[0-9a-fA-F]{64}$/, 'expected 64 hex digits (32 bytes)')
const id = z.string().refine(isValidId, { message: "expected an id of 1-64 characters a-z, 0-9, '-', '_' or ':'" })
const tcpMultiaddr = z.string().refine(
  (value) => {
    try {
      return multiaddr(value).getComponents().some((component) => component.name === 'tcp')
    } catch {
      return false
    }
  },
  { message: 'expected a TCP multiaddr such as /ip4/127.0.0.1/tcp/7001' }
)
const port = z.number().int().min(0).max(65535)

/**
 * The consensus settings a network file may set (src/consensus/limits.ts names, milliseconds).
 * Base timeouts are at least 1 ms, the rest may be 0; none beyond the engine's timeoutMaxMs.
 */
export const networkConsensusFields = [
  'timeoutProposeBaseMs',
  'timeoutProposeDeltaMs',
  'timeoutPrevoteBaseMs',
  'timeoutPrevoteDeltaMs',
  'timeoutPrecommitBaseMs',
  'timeoutPrecommitDeltaMs',
  'timeoutCommitMs',
  'emptyBlockIntervalMs'
] as const satisfies ReadonlyArray<keyof ConsensusLimits>
export type NetworkConsensus = Partial<Pick<ConsensusLimits, (typeof networkConsensusFields)[number]>>

const milliseconds = (minimum: number): z.ZodNumber =>
  z
    .number({ message: 'expected a number of milliseconds' })
    .int('expected a whole number of milliseconds')
    .min(minimum, `expected at least ${minimum} ms`)
    .max(defaultConsensusLimits.timeoutMaxMs, `expected at most ${defaultConsensusLimits.timeoutMaxMs} ms (the engine's timeoutMaxMs)`)

export const networkConsensusSchema = z.strictObject({
  ...(Object.fromEntries(networkConsensusFields.map((field) => [field, milliseconds(field.endsWith('BaseMs') ? 1 : 0).optional()])) as Record<
    (typeof networkConsensusFields)[number],
    z.ZodOptional<z.ZodNumber>
  >),
  blockTransactionsMax: z
    .number({ message: 'expected a number of transactions' })
    .int('expected a whole number of transactions')
    .min(1, 'expected at least 1 transaction')
    .max(defaultReplicaLimits.mempoolTransactionsMax, `expected at most ${defaultReplicaLimits.mempoolTransactionsMax} (the mempool's size)`)
    .optional()
})

/** network.json's `consensus` section: consensus timing and the block size bound, each optional. */
export type NetworkConsensusSettings = z.output<typeof networkConsensusSchema>

export const networkFileSchema = z.strictObject({
  genesis: z.string().min(1),
  validators: z
    .array(z.strictObject({ id, address: tcpMultiaddr, api: z.string().url().optional() }))
    .min(1, 'expected at least one validator'),
  consensus: networkConsensusSchema.optional()
})

export const nodeFileSchema = z.strictObject({
  network: z.string().min(1),
  validatorId: id,
  keyFile: z.string().min(1),
  dataDir: z.string().min(1),
  listen: tcpMultiaddr,
  http: z.strictObject({ host: z.string().min(1).default('127.0.0.1'), port }).default({ host: '127.0.0.1', port: 8080 }),
  logLevel: z.enum(logLevels).default('info'),
  customerKeys: z.string().min(1).optional()
})

export const keyFileSchema = z.strictObject({ secretKey: hex64, publicKey: hex64 })
export const customerKeysSchema = z.strictObject({ keys: z.array(z.strictObject({ id, secretKey: hex64 })) })

export interface ValidatorEndpoint {
  readonly id: string
  readonly publicKey: Uint8Array
  readonly power: number
  readonly address: string
  readonly api: string | undefined
}

/** Everything a node needs, loaded, validated and cross-checked. */
export interface NodeConfig {
  readonly path: string
  readonly validatorId: string
  readonly secretKey: Uint8Array
  readonly publicKey: Uint8Array
  readonly genesisDocument: GenesisDocument
  readonly genesis: LedgerState
  readonly validators: readonly ValidatorEndpoint[]
  readonly dataDir: string
  readonly listen: string
  readonly http: { readonly host: string; readonly port: number }
  readonly logLevel: LogLevel
  /** Customers this bank signs payments for (`POST /v1/payments`), by id. */
  readonly customerSigners: ReadonlyMap<string, Signer>
  /** The network file's `consensus` settings (only those it sets; the node's defaults fill the rest). */
  readonly consensusLimits: NetworkConsensus
  /** The network file's `consensus.blockTransactionsMax`, if set (a replica limit). */
  readonly replicaLimits: Partial<Pick<ReplicaLimits, 'blockTransactionsMax'>>
}

/** Reads a key file, refusing one that others can read. Throws ConfigError. */
export function loadKeyFile(path: string): { secretKey: Uint8Array; publicKey: Uint8Array } {
  let mode: number
  try {
    mode = statSync(path).mode
  } catch {
    throw new ConfigError('CONFIG_UNREADABLE', path, [{ path: '', message: 'no such key file (create one with `corridor node keygen --out FILE`)' }])
  }
  if ((mode & 0o077) !== 0) {
    throw new ConfigError('CONFIG_INVALID', path, [{ path: '', message: `key file mode is ${(mode & 0o777).toString(8)}; it must not be readable by group or others (chmod 600)` }])
  }
  const document = validateDocument(keyFileSchema, parseDataText(readFileSync(path, 'utf8'), path.endsWith('.json') ? path : `${path}.json`), path)
  const secretKey = hexToBytes(document.secretKey, secretKeyBytesLength)
  const publicKey = keyPairFromSecret(secretKey).publicKey
  if (bytesToHex(publicKey) !== document.publicKey.toLowerCase()) {
    throw new ConfigError('CONFIG_INVALID', path, [{ path: 'publicKey', message: 'is not the public key of secretKey' }])
  }
  return { secretKey, publicKey }
}

/** Loads a node file with the network, genesis and key files it names. Throws ConfigError. */
export function loadNodeConfig(path: string): NodeConfig {
  const node = validateDocument(nodeFileSchema, loadDataFile(path), path)
  const base = dirname(path)
  const networkPath = resolve(base, node.network)
  const network = validateDocument(networkFileSchema, loadDataFile(networkPath), networkPath)
  const genesisPath = resolve(dirname(networkPath), network.genesis)
  const loaded = loadGenesisFile(genesisPath, { sha256: nativeSha256 })

  const issues: ConfigIssue[] = []
  const fromGenesis = new Map(genesisValidators(loaded.document).map((validator) => [validator.id, validator]))
  const listed = new Set<string>()
  const validators: ValidatorEndpoint[] = []
  network.validators.forEach((entry, index) => {
    const validator = fromGenesis.get(entry.id)
    if (validator === undefined) issues.push({ path: `validators[${index}].id`, message: `${entry.id} is not a bank of the genesis ${genesisPath}` })
    else if (listed.has(entry.id)) issues.push({ path: `validators[${index}].id`, message: `${entry.id} is listed twice` })
    else validators.push({ id: entry.id, publicKey: validator.publicKey, power: validator.votingPower, address: entry.address, api: entry.api })
    listed.add(entry.id)
  })
  for (const id of fromGenesis.keys()) if (!listed.has(id)) issues.push({ path: 'validators', message: `bank ${id} of the genesis has no entry (every validator needs an address)` })
  if (issues.length > 0) throw new ConfigError('CONFIG_INVALID', networkPath, issues)

  const self = validators.find((validator) => validator.id === node.validatorId)
  if (self === undefined) throw new ConfigError('CONFIG_INVALID', path, [{ path: 'validatorId', message: `${node.validatorId} is not a validator of ${networkPath}` }])
  const keyPath = resolve(base, node.keyFile)
  const key = loadKeyFile(keyPath)
  if (bytesToHex(key.publicKey) !== bytesToHex(self.publicKey)) {
    throw new ConfigError('CONFIG_INVALID', path, [{ path: 'keyFile', message: `${keyPath} holds key ${bytesToHex(key.publicKey).slice(0, 16)}…, but ${node.validatorId}'s validator key in the genesis is ${bytesToHex(self.publicKey).slice(0, 16)}…` }])
  }

  const customerSigners = new Map<string, Signer>()
  if (node.customerKeys !== undefined) {
    const keysPath = resolve(base, node.customerKeys)
    const store = validateDocument(customerKeysSchema, loadDataFile(keysPath), keysPath)
    const customers = new Map(loaded.document.customers.map((customer) => [customer.id, customer]))
    const keyIssues: ConfigIssue[] = []
    store.keys.forEach((entry, index) => {
      const customer = customers.get(entry.id)
      if (customer === undefined) return keyIssues.push({ path: `keys[${index}].id`, message: `${entry.id} is not a customer in the genesis` })
      if (customer.bank !== node.validatorId) return keyIssues.push({ path: `keys[${index}].id`, message: `${entry.id} banks with ${customer.bank}, not ${node.validatorId}` })
      const signer = createNativeSigner(hexToBytes(entry.secretKey, secretKeyBytesLength))
      if (bytesToHex(signer.publicKey) !== customer.publicKey.toLowerCase()) return keyIssues.push({ path: `keys[${index}].secretKey`, message: `is not the key registered for ${entry.id}` })
      customerSigners.set(entry.id, signer)
      return undefined
    })
    if (keyIssues.length > 0) throw new ConfigError('CONFIG_INVALID', keysPath, keyIssues)
  }

  return {
    path,
    validatorId: node.validatorId,
    secretKey: key.secretKey,
    publicKey: key.publicKey,
    genesisDocument: loaded.document,
    genesis: loaded.state,
    validators,
    dataDir: resolve(base, node.dataDir),
    listen: node.listen,
    http: node.http,
    logLevel: node.logLevel,
    customerSigners,
    consensusLimits: Object.fromEntries(
      Object.entries(network.consensus ?? {}).filter(([field, value]) => value !== undefined && field !== 'blockTransactionsMax')
    ) as NetworkConsensus,
    replicaLimits: network.consensus?.blockTransactionsMax === undefined ? {} : { blockTransactionsMax: network.consensus.blockTransactionsMax }
  }
}
