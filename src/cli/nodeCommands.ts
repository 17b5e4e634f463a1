/**
 * `corridor node ...`: a bank's validator node.
 *
 *   keygen --out FILE          a validator key file (JSON, mode 0600; never overwrites)
 *   start --config FILE        runs the node until SIGINT or SIGTERM, then shuts down cleanly
 */
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { pino } from 'pino'
import type { CommandGroup } from './main.ts'
import { bytesToHex } from '../protocol/bytes.ts'
import { keyPairFromSecret } from '../protocol/keys.ts'
import { CorridorError } from '../protocol/errors.ts'

const usage = `usage: corridor node <command> [options]

commands:
  keygen --out FILE                 write a new validator key (JSON, mode 0600); refuses to overwrite
  start --config FILE [--log-level L]
                                    run the node (LevelDB, libp2p, HTTP API) until SIGINT/SIGTERM
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

async function start(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string' }, 'log-level': { type: 'string' } } })
  if (values.config === undefined) {
    process.stderr.write(`corridor node start: --config FILE is required\n\n${usage}`)
    return 2
  }
  // Loaded here so `corridor node keygen` does not load libp2p, LevelDB and fastify.
  const { loadNodeConfig, logLevels } = await import('../node/config.ts')
  const { createNodeService } = await import('../node/service.ts')
  const { buildHttpApi } = await import('../node/http/api.ts')
  const config = loadNodeConfig(values.config)
  const level = values['log-level'] ?? config.logLevel
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
      customerSigners: config.customerSigners
    },
    { logger, onFatal: () => done.resolve(1) }
  )
  await node.start()
  const app = buildHttpApi(node, logger)
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
