/**
 * `corridor consensus ...`: the consensus engine's commands. `fuzz` runs the in-process cluster
 * harness over many seeds with random faults, in the manner of TigerBeetle's VOPR, and on a
 * failure prints the seed, how to replay it, and the shortest failing trace it can find.
 */
import { parseArgs } from 'node:util'
import { readFileSync } from 'node:fs'
import type { CommandGroup } from './main.ts'
import { createNativeSigner, createNativeVerifier } from '../platform/ed25519Native.ts'
import { createCachingVerifier } from '../consensus/verifierCache.ts'
import { runCluster, type ClusterResult, type ClusterSpec, type RunOptions } from '../consensus/testing/cluster.ts'
import { describeSpec, faultsTolerated, shrinkSpec, specFromSeed, traceOf } from '../consensus/testing/fuzz.ts'
import type { NativeEd25519, SignatureScheme } from '../consensus/testing/keys.ts'

const fuzzUsage = `usage: corridor consensus fuzz --seeds N [options]

Runs the consensus engine in an in-process cluster for N seeds. Each seed draws the cluster size,
Byzantine validators (equivocate, withhold votes, sign garbage, silent or partial proposer,
censor, twins), crashes and restarts from the WAL, partitions, loss, duplication and latency;
runs a safety phase with the faults and a liveness phase after they heal; and checks agreement,
certificates, no conflicting honest votes, persist-before-send, evidence and liveness after every
step. Exits 1 if any seed breaks an invariant, printing the seed, how to replay it, and the
shortest failing trace found by shrinking.

options:
  --seeds N          number of seeds to run (required unless --replay)
  --seed-start S     first seed (default 1)
  --validators n     cluster size (default: drawn per seed from 4, 5, 7, 10)
  --byzantine k      faulty validators per seed (default: drawn from 0..f); more than f
                     is allowed, to show that the checkers catch what the algorithm cannot prevent
  --signatures S     ed25519 (native, the default) or fast (a keyed hash, about 30x cheaper)
  --replay SPEC      run one spec (JSON, or @file) with a trace, as printed for a failing seed
  --trace-lines L    trace lines to print for a failure (default 80)
  --no-shrink        report failures without shrinking them
  --json             print the summary as JSON
  -h, --help         this help
`

const groupUsage = `usage: corridor consensus <command> [options]

commands:
  fuzz     run the cluster harness for many seeds with random faults

Run 'corridor consensus <command> --help' for a command's options.
`

function nativeEd25519(): NativeEd25519 {
  return { createSigner: createNativeSigner, verifier: createNativeVerifier() }
}

function replayCommand(seed: number, validators: string | undefined, byzantine: string | undefined, signatures: SignatureScheme): string {
  const parts = ['node bin/corridor.js consensus fuzz --seeds 1', `--seed-start ${seed}`]
  if (validators !== undefined) parts.push(`--validators ${validators}`)
  if (byzantine !== undefined) parts.push(`--byzantine ${byzantine}`)
  if (signatures !== 'ed25519') parts.push(`--signatures ${signatures}`)
  return parts.join(' ')
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`
}

class Progress {
  private lastDrawMs = 0
  private lastLineMs = 0
  private readonly startMs = Date.now()
  private readonly tty: boolean

  constructor(
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream
  ) {
    this.tty = stream.isTTY === true
  }

  update(done: number, failing: number, force = false): void {
    const now = Date.now()
    const elapsed = ((now - this.startMs) / 1000).toFixed(1)
    if (this.tty) {
      if (!force && now - this.lastDrawMs < 100) return
      this.lastDrawMs = now
      const width = 30
      const filled = Math.round((done / this.total) * width)
      const bar = '#'.repeat(filled) + '.'.repeat(width - filled)
      this.stream.write(`\r[${bar}] ${done}/${this.total} seeds, ${failing} failing, ${elapsed}s`)
      if (done === this.total) this.stream.write('\n')
      return
    }
    const every = Math.max(1, Math.ceil(this.total / 10))
    if (force || done === this.total || done % every === 0 || now - this.lastLineMs > 10_000) {
      this.lastLineMs = now
      this.stream.write(`fuzz: ${done}/${this.total} seeds, ${failing} failing, ${elapsed}s\n`)
    }
  }

  clear(): void {
    if (this.tty) this.stream.write('\r\x1b[2K')
  }
}

function printTrace(result: ClusterResult, lines: number): void {
  const trace = result.trace
  const shown = trace.slice(Math.max(0, trace.length - lines))
  process.stdout.write(`trace (last ${shown.length} of ${trace.length} lines, up to the violation):\n`)
  for (const line of shown) process.stdout.write(`  ${line}\n`)
}

function runReplay(specText: string, options: RunOptions, traceLines: number): number {
  const text = specText.startsWith('@') ? readFileSync(specText.slice(1), 'utf8') : specText
  const spec = JSON.parse(text) as ClusterSpec
  const result = traceOf(spec, options)
  process.stdout.write(`replay: ${describeSpec(spec)}\n`)
  if (result.violation === null) {
    process.stdout.write(`no violation: ${result.steps} steps, ${result.timeMs} ms virtual, height ${result.decidedHeightMax}\n`)
    printTrace(result, traceLines)
    return 0
  }
  process.stdout.write(`VIOLATION ${result.violation.kind}: ${result.violation.message}\n`)
  printTrace(result, traceLines)
  return 1
}

async function fuzz(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      seeds: { type: 'string' },
      'seed-start': { type: 'string' },
      validators: { type: 'string' },
      byzantine: { type: 'string' },
      signatures: { type: 'string' },
      replay: { type: 'string' },
      'trace-lines': { type: 'string' },
      'no-shrink': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' }
    },
    strict: true,
    allowPositionals: false
  })
  if (values.help === true) {
    process.stdout.write(fuzzUsage)
    return 0
  }
  const integer = (name: string, text: string | undefined, fallback: number, minimum: number): number => {
    if (text === undefined) return fallback
    const value = Number(text)
    if (!Number.isSafeInteger(value) || value < minimum) throw new UsageError(`--${name} must be an integer of at least ${minimum}, got ${JSON.stringify(text)}`)
    return value
  }
  const signatures = (values.signatures ?? 'ed25519') as SignatureScheme
  if (signatures !== 'ed25519' && signatures !== 'fast') throw new UsageError(`--signatures is ed25519 or fast, got ${JSON.stringify(values.signatures)}`)
  const native = signatures === 'ed25519' ? nativeEd25519() : undefined
  const runOptions: RunOptions = {
    scheme: signatures,
    ...(native !== undefined ? { native, verifier: createCachingVerifier(native.verifier) } : {})
  }
  const traceLines = integer('trace-lines', values['trace-lines'], 80, 1)
  if (values.replay !== undefined) return runReplay(values.replay, runOptions, traceLines)

  if (values.seeds === undefined) throw new UsageError('--seeds is required')
  const seeds = integer('seeds', values.seeds, 0, 1)
  const seedStart = integer('seed-start', values['seed-start'], 1, 0)
  const validators = values.validators === undefined ? undefined : integer('validators', values.validators, 4, 1)
  if (validators !== undefined && (validators < 1 || validators > 32)) throw new UsageError('--validators must be from 1 to 32')
  const byzantine = values.byzantine === undefined ? undefined : integer('byzantine', values.byzantine, 0, 0)
  if (validators !== undefined && byzantine !== undefined && byzantine > faultsTolerated(validators)) {
    process.stderr.write(`fuzz: warning: ${byzantine} faulty validators is more than f = ${faultsTolerated(validators)} for n = ${validators}; agreement is not guaranteed and failures are expected\n`)
  }

  const progress = new Progress(seeds, process.stderr)
  const failures: { seed: number; spec: ClusterSpec; result: ClusterResult }[] = []
  let steps = 0
  let heights = 0
  let evidence = 0
  const startMs = Date.now()
  for (let i = 0; i < seeds; i++) {
    const seed = seedStart + i
    const spec = specFromSeed(seed, { ...(validators !== undefined ? { validators } : {}), ...(byzantine !== undefined ? { byzantine } : {}) })
    const result = runCluster(spec, runOptions)
    steps += result.steps
    heights += result.decidedHeightMax
    for (const node of result.nodes) if (node.honest) evidence += node.evidence.length
    if (result.violation !== null) {
      failures.push({ seed, spec, result })
      progress.clear()
      process.stderr.write(`fuzz: seed ${seed} FAILED: ${result.violation.kind}\n`)
    }
    progress.update(i + 1, failures.length)
  }
  const elapsedMs = Date.now() - startMs
  const summary = {
    seeds,
    seedStart,
    failing: failures.map((f) => f.seed),
    steps,
    decidedHeights: heights,
    evidenceRecorded: evidence,
    elapsedMs,
    signatures
  }
  if (values.json === true) process.stdout.write(JSON.stringify(summary) + '\n')
  else {
    process.stdout.write(
      `fuzz: ${seeds} seeds from ${seedStart}: ${failures.length === 0 ? 'all invariants held' : `${failures.length} FAILING`}; ` +
        `${steps} steps, ${heights} heights decided, ${evidence} evidence records, ${(elapsedMs / 1000).toFixed(1)}s (${signatures} signatures)\n`
    )
  }
  if (failures.length === 0) return 0

  const validatorsText = values.validators
  const byzantineText = values.byzantine
  for (const failure of failures) {
    process.stdout.write(`\nseed ${failure.seed}: ${failure.result.violation!.kind}: ${failure.result.violation!.message}\n`)
    process.stdout.write(`  cluster: ${describeSpec(failure.spec)}\n`)
    process.stdout.write(`  replay:  ${replayCommand(failure.seed, validatorsText, byzantineText, signatures)}\n`)
  }
  const first = failures[0]!
  let shortest = { spec: first.spec, result: first.result, runs: 0 }
  if (values['no-shrink'] !== true) {
    process.stderr.write(`fuzz: shrinking seed ${first.seed}...\n`)
    shortest = shrinkSpec(first.spec, first.result, runOptions)
  }
  const traced = traceOf(shortest.spec, runOptions)
  process.stdout.write(
    `\nshortest failing run for seed ${first.seed}${shortest.runs > 0 ? ` (shrunk in ${shortest.runs} runs)` : ''}: ${describeSpec(shortest.spec)}\n` +
      `  violation at step ${traced.violation?.step ?? '?'}, ${traced.violation?.timeMs ?? '?'} ms virtual: ${traced.violation?.kind ?? 'none (not reproduced!)'}: ${traced.violation?.message ?? ''}\n` +
      `  replay:  node bin/corridor.js consensus fuzz --replay ${shellQuote(JSON.stringify(shortest.spec))}${signatures !== 'ed25519' ? ` --signatures ${signatures}` : ''}\n`
  )
  printTrace(traced, traceLines)
  return 1
}

class UsageError extends Error {}

export const consensusCommands: CommandGroup = {
  summary: 'the BFT engine: fuzz',
  async run(args) {
    const [command, ...rest] = args
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(groupUsage)
      return command === undefined ? 2 : 0
    }
    try {
      if (command === 'fuzz') return await fuzz(rest)
      process.stderr.write(`corridor consensus: unknown command '${command}'\n\n${groupUsage}`)
      return 2
    } catch (error) {
      if (error instanceof UsageError || (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) {
        process.stderr.write(`corridor consensus ${command}: ${error.message}\n\n${fuzzUsage}`)
        return 2
      }
      throw error
    }
  }
}
