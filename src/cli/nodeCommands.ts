/**
 * `corridor node ...`: a bank's validator node.
 *
 *   keygen --out FILE          a validator key file (JSON, mode 0600; never overwrites)
 *   start --config FILE        runs the node until SIGINT or SIGTERM, then shuts down cleanly
 *     [--log-level L] [--fault-injection --admin-token-file FILE [--fault-seed N]]
 *     [--byzantine-allowed] [--byzantine b1,b2]    testing only (docs/operations.md, "Fault injection")
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { pino } from 'pino'
import type { CommandGroup } from './main.ts'
import { bytesToHex } from '../protocol/bytes.ts'
import { keyPairFromSecret } from '../protocol/keys.ts'
import { CorridorError } from '../protocol/errors.ts'
import { byzantineBehaviourNames, isByzantineBehaviourName, type ByzantineBehaviourName } from '../node/byzantine.ts'

const usage = `usage: corridor node <command> [options]

commands:
  keygen --out FILE                 write a new validator key (JSON, mode 0600); refuses to overwrite
  start --config FILE [--log-level L]
                                    run the node (LevelDB, libp2p, HTTP API) until SIGINT/SIGTERM
        [--fault-injection --admin-token-file FILE [--fault-seed N]]
                                    testing only: a fault layer in the transport, driven through
                                    /v1/admin/faults with the token in FILE (mode 0600)
        [--byzantine-allowed] [--byzantine b1,b2]
                                    testing only (needs --fault-injection): Byzantine behaviours
                                    switched through /v1/admin/byzantine; --byzantine starts with
                                    them on (${byzantineBehaviourNames.join(', ')})
`

/** Writes a fresh key file: 32 random secret bytes and the public key, hex. Mode 0600, never overwrites. */
export function writeKeyFile(path: string): { publicKey: string } {
  const secretKey = new Uint8Array(randomBytes(32))
  const publicKey = bytesToHex(keyPairFromSecret(secretKey).publicKey)
  try {
    writeFileSync(path, JSON.stringify({ secretKey: bytesToHex(secretKey), publicKey }, null, 2) + '\n', { mode: 0o600, flag: 'wx' })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new CorridorError('KEY_FILE_EXISTS', `${path} exists; refusing to overwrite a key`)
    throw new CorridorError('KEY_FILE_UNWRITABLE', `cannot write ${path}: ${(error as Error).message}`)
  }
  return { publicKey }
}

async function keygen(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { out: { type: 'string' } } })
  if (values.out === undefined) {
    process.stderr.write(`corridor node keygen: --out FILE is required\n\n${usage}`)
    return 2
  }
  const { publicKey } = writeKeyFile(values.out)
  process.stdout.write(`wrote ${values.out} (mode 0600)\npublic key ${publicKey}\n`)
  return 0
}

/** What `node start` was asked for, checked; or the usage error to print (exit 2). */
export type StartArguments =
  | {
      readonly ok: true
      readonly config: string
      readonly logLevel: string | undefined
      /** Set with --fault-injection. */
      readonly faultInjection: { readonly seed: number | undefined } | undefined
      /** Set with --byzantine-allowed or --byzantine: the behaviours on from the start. */
      readonly byzantine: { readonly initial: readonly ByzantineBehaviourName[] } | undefined
      /** The admin endpoints' bearer token, read from --admin-token-file. */
      readonly adminToken: string | undefined
    }
  | { readonly ok: false; readonly message: string }

/** Longest admin token read from a file; a token is a line of text, not a document. */
const adminTokenLengthMax = 4096

/**
 * Parses and checks the arguments of `node start`, reading the admin token file. Every refusal
 * names the flag. Throws node:util's ERR_PARSE_ARGS errors for unknown flags (main prints them).
 */
export function parseStartArguments(args: string[]): StartArguments {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      'log-level': { type: 'string' },
      'fault-injection': { type: 'boolean' },
      'admin-token-file': { type: 'string' },
      'fault-seed': { type: 'string' },
      'byzantine-allowed': { type: 'boolean' },
      byzantine: { type: 'string' }
    }
  })
  const refuse = (message: string): StartArguments => ({ ok: false, message })
  if (values.config === undefined) return refuse('--config FILE is required')
  const faultInjection = values['fault-injection'] === true
  if (!faultInjection) {
    for (const flag of ['admin-token-file', 'fault-seed', 'byzantine-allowed', 'byzantine'] as const) {
      if (values[flag] !== undefined) return refuse(`--${flag} needs --fault-injection (testing only)`)
    }
  }
  let seed: number | undefined
  if (values['fault-seed'] !== undefined) {
    if (!/^[0-9]{1,10}$/.test(values['fault-seed']) || Number(values['fault-seed']) > 0xffffffff) return refuse('--fault-seed must be an integer from 0 to 4294967295')
    seed = Number(values['fault-seed'])
  }
  let initial: ByzantineBehaviourName[] = []
  if (values.byzantine !== undefined) {
    const names = values.byzantine.split(',').map((name) => name.trim()).filter((name) => name !== '')
    const unknown = names.filter((name) => !isByzantineBehaviourName(name))
    if (names.length === 0 || unknown.length > 0) return refuse(`--byzantine expects a comma-separated list of ${byzantineBehaviourNames.join(', ')}${unknown.length > 0 ? `; unknown: ${unknown.join(', ')}` : ''}`)
    initial = names as ByzantineBehaviourName[]
  }
  let adminToken: string | undefined
  if (faultInjection) {
    const path = values['admin-token-file']
    if (path === undefined) return refuse('--fault-injection requires --admin-token-file FILE (a file holding the admin token, mode 0600)')
    let mode: number
    try {
      mode = statSync(path).mode
    } catch {
      return refuse(`--admin-token-file ${path}: no such file`)
    }
    if ((mode & 0o077) !== 0) return refuse(`--admin-token-file ${path}: mode ${(mode & 0o777).toString(8)}; it must not be readable by group or others (chmod 600)`)
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (error) {
      return refuse(`--admin-token-file ${path}: cannot be read (${(error as Error).message})`)
    }
    adminToken = text.trim()
    if (adminToken === '') return refuse(`--admin-token-file ${path}: the file is empty`)
    if (adminToken.length > adminTokenLengthMax || /\s/.test(adminToken)) return refuse(`--admin-token-file ${path}: expected one token of at most ${adminTokenLengthMax} characters without spaces`)
  }
  const byzantine = values['byzantine-allowed'] === true || values.byzantine !== undefined ? { initial } : undefined
  return { ok: true, config: values.config, logLevel: values['log-level'], faultInjection: faultInjection ? { seed } : undefined, byzantine, adminToken }
}

async function start(args: string[]): Promise<number> {
  const parsed = parseStartArguments(args)
  if (!parsed.ok) {
    process.stderr.write(`corridor node start: ${parsed.message}\n\n${usage}`)
    return 2
  }
  // Loaded here so `corridor node keygen` does not load libp2p, LevelDB and fastify.
  const { loadNodeConfig, logLevels } = await import('../node/config.ts')
  const { createNodeService } = await import('../node/service.ts')
  const { buildHttpApi } = await import('../node/http/api.ts')
  const config = loadNodeConfig(parsed.config)
  const level = parsed.logLevel ?? config.logLevel
  if (!(logLevels as readonly string[]).includes(level)) {
    process.stderr.write(`corridor node start: --log-level must be one of ${logLevels.join(', ')}\n`)
    return 2
  }
  const logger = pino({ level, base: { bank: config.validatorId } })
  let finish: (code: number) => void = () => {}
  const finished = new Promise<number>((resolve) => (finish = resolve))
  const done = { resolve: (code: number) => finish(code), promise: finished }
  const node = createNodeService(
    {
      validatorId: config.validatorId,
      secretKey: config.secretKey,
      genesisDocument: config.genesisDocument,
      genesis: config.genesis,
      validators: config.validators,
      dataDir: config.dataDir,
      listen: config.listen,
      customerSigners: config.customerSigners,
      // The network file's consensus settings, over the node's defaults (the service merges them).
      ...(Object.keys(config.consensusLimits).length === 0 ? {} : { consensusLimits: config.consensusLimits }),
      ...(Object.keys(config.replicaLimits).length === 0 ? {} : { replicaLimits: config.replicaLimits }),
      ...(parsed.faultInjection === undefined ? {} : { faultInjection: parsed.faultInjection.seed === undefined ? {} : { seed: parsed.faultInjection.seed } }),
      ...(parsed.byzantine === undefined ? {} : { byzantine: parsed.byzantine })
    },
    { logger, onFatal: () => done.resolve(1) }
  )
  await node.start()
  const app = buildHttpApi(node, logger, parsed.adminToken === undefined ? {} : { adminToken: parsed.adminToken })
  try {
    await app.listen({ host: config.http.host, port: config.http.port })
  } catch (error) {
    logger.error({ err: error, port: config.http.port }, 'HTTP API failed to listen')
    await node.stop()
    return 1
  }
  logger.info({ api: `http://${config.http.host}:${config.http.port}`, p2p: node.listenAddresses() }, 'node ready')
  let stopping = false
  const shutdown = (signal: string): void => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'shutting down')
    done.resolve(0)
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  const code = await done.promise
  await app.close().catch(() => {})
  await node.stop()
  logger.info({}, 'node shut down')
  logger.flush()
  // libp2p can keep a socket handle for a moment after stop; do not let it hold the process.
  setTimeout(() => process.exit(code), 2000).unref()
  return code
}

export const nodeCommands: CommandGroup = {
  summary: 'a bank validator node: keygen, start',
  async run(args: string[]): Promise<number> {
    const [command, ...rest] = args
    switch (command) {
      case 'keygen':
        return keygen(rest)
      case 'start':
        return start(rest)
      case undefined:
      case '--help':
      case '-h':
        process.stdout.write(usage)
        return command === undefined ? 2 : 0
      default:
        process.stderr.write(`corridor node: unknown command '${command}'\n\n${usage}`)
        return 2
    }
  }
}
