/**
 * The fuzzer behind `corridor sim fuzz`, in the manner of TigerBeetle's VOPR: each seed draws its
 * own world and fault parameters from the seeded PRNG (how many banks, latency, jitter, message
 * loss and duplication, crashes with storage faults, pauses, partitions, link delays and up to f
 * Byzantine validators with random behaviours), then runs in two phases:
 *
 * - safety: faults come and go while the workload runs; agreement, state roots, conservation,
 *   non-negative balances and the policy check must hold throughout;
 * - liveness: every fault is over (each `until` falls before this phase; crashed nodes are
 *   restarted), the workload continues lightly, and every honest node must converge: the
 *   simulator's liveness invariant (Simulation.finish) requires every node that is up to reach
 *   the top height and every transfer submitted after the faults healed to become final.
 *
 * A seed is a scenario document: the fuzzer builds it, the simulator runs it, and a failing seed
 * is written out as a YAML file that `corridor sim run` replays bit for bit. Everything here is
 * pure except `loadFuzzBase` and `writeReproduction`, which read and write files.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { stringify as toYaml } from 'yaml'
import { loadDataFile } from '../config/files.ts'
import { Random } from './random.ts'
import { byzantineBehaviours } from './scenario/schema.ts'
import { parseDurationMs, parseRatePerSecond } from './scenario/units.ts'
import type { RunSummary } from './report/types.ts'

/** How long each phase lasts, in simulated ms. */
export interface FuzzPhases {
  /** Faults are drawn inside [1s, safetyMs] and all end by then. */
  readonly safetyMs: number
  /** Healed network, light workload; the scenario's duration is safetyMs + livenessMs. */
  readonly livenessMs: number
  /** After the workload stops, time for the last transfers to finalize. */
  readonly drainMs: number
}

export const defaultFuzzPhases: FuzzPhases = { safetyMs: 18_000, livenessMs: 12_000, drainMs: 10_000 }

/** What a seed builds on: banks, customers, workload and policies. Faults and network come from the seed. */
export interface FuzzBase {
  /** The scenario document (policies inlined, so a reproduction file stands alone). */
  readonly document: Readonly<Record<string, unknown>>
  /** Where it came from, for messages: a path or "built-in". */
  readonly source: string
  /** Draw the number of banks (4 to 7, the first n of the base's banks) rather than keep them all. */
  readonly drawBankCount: boolean
}

/** Bank counts the built-in base draws from. */
export const fuzzBanksMin = 4
export const fuzzBanksMax = 7
/** Fault events per seed at most (a crash and its restart count as one). */
export const fuzzFaultsMax = 8
/** How the liveness phase thins the workload: each trade or remittance runs at this fraction of its rate. */
const livenessRateFraction = 0.25

const repositoryRoot = resolve(import.meta.dirname, '..', '..')

const builtInBanks = [
  { id: 'icbc', jurisdiction: 'CN', currencies: ['CNY', 'CNH'] },
  { id: 'enbd', jurisdiction: 'AE', currencies: ['AED'] },
  { id: 'bochk', jurisdiction: 'HK', currencies: ['HKD', 'CNH'] },
  { id: 'dbs', jurisdiction: 'SG', currencies: ['SGD'] },
  { id: 'snb', jurisdiction: 'SA', currencies: ['SAR'] },
  { id: 'boc', jurisdiction: 'CN', currencies: ['CNY'] },
  { id: 'ocbc', jurisdiction: 'SG', currencies: ['SGD'] }
] as const

/**
 * The built-in base: seven banks in five jurisdictions (a seed keeps the first four to seven),
 * corporates at every bank, individuals at ICBC, trade both ways on the China-UAE corridor and
 * around Hong Kong and Singapore, remittances, FX moves, and the example capital-control policies.
 */
export function builtInFuzzBase(): FuzzBase {
  const policies = ['cn', 'hk', 'ae', 'sg'].map((code) => loadDataFile(join(repositoryRoot, 'configs', 'policies', `${code}.yaml`)))
  return {
    source: 'built-in',
    drawBankCount: true,
    document: {
      name: 'fuzz',
      crypto: 'real',
      banks: builtInBanks.map((bank) => ({ ...bank, currencies: [...bank.currencies] })),
      fx: { base: 'USD', rates: { CNY: 7.1, CNH: 7.12, AED: 3.6725, HKD: 7.8, SGD: 1.34, SAR: 3.75 } },
      population: [
        ...builtInBanks.map((bank) => ({ bank: bank.id, kind: 'corporate', count: 40, balance: `5000000 ${bank.currencies[0]}` })),
        { bank: 'icbc', kind: 'individual', count: 30, balance: '300000 CNY' }
      ],
      workload: [
        { kind: 'trade', from: 'CN', to: 'AE', rate: '8/s', amount: { median: '20000 USD', sigma: 1.0 }, purpose: 'GDDS' },
        { kind: 'trade', from: 'AE', to: 'CN', rate: '4/s', amount: { median: '15000 USD', sigma: 1.0 }, purpose: 'GDDS' },
        { kind: 'trade', from: 'HK', to: 'SG', rate: '3/s', amount: { median: '10000 USD', sigma: 1.0 }, purpose: 'GDDS' },
        { kind: 'trade', from: 'SG', to: 'CN', rate: '3/s', amount: { median: '10000 USD', sigma: 1.0 }, purpose: 'GDDS' },
        { kind: 'trade', from: 'SA', to: 'CN', rate: '3/s', amount: { median: '30000 USD', sigma: 1.0 }, purpose: 'GDDS' },
        { kind: 'remittance', from: 'CN', to: 'SG', rate: '2/s', amount: { median: '4000 USD', sigma: 0.8 }, purpose: 'STDY', payees: 10 },
        { kind: 'fx', currency: 'AED', every: '5s', volatility: '0.1%' }
      ],
      policies
    }
  }
}

/** A base from a scenario file: its banks (all of them), customers, workload and policies (inlined). */
export function loadFuzzBase(path: string): FuzzBase {
  const raw = loadDataFile(path)
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`${path}: a scenario is a map of fields`)
  const document = { ...(raw as Record<string, unknown>) }
  const references = typeof document['policies'] === 'string' ? [document['policies']] : Array.isArray(document['policies']) ? (document['policies'] as unknown[]) : []
  document['policies'] = references.map((reference) => (typeof reference === 'string' ? loadDataFile(resolve(dirname(path), reference)) : reference))
  return { document, source: path, drawBankCount: false }
}

interface BaseBank {
  readonly id: string
  readonly jurisdiction: string
  readonly power?: number
}

/** Whole milliseconds as seconds, exactly: 4300 -> "4.3s". */
function seconds(ms: number): string {
  return `${ms / 1000}s`
}

/** A time in [fromMs, toMs), on a 100 ms grid so the file reads well. */
function drawTime(random: Random, fromMs: number, toMs: number): number {
  const steps = Math.max(1, Math.floor((toMs - fromMs) / 100))
  return fromMs + 100 * random.int(steps)
}

function percent(fraction: number): string {
  return `${Math.round(fraction * 1000) / 10}%`
}

/** The scenario document of one seed. Same seed and base, same document. */
export function fuzzScenarioDocument(seed: number, base: FuzzBase, phases: FuzzPhases = defaultFuzzPhases): Record<string, unknown> {
  const random = new Random(seed).fork('fuzz')
  const baseBanks = (base.document['banks'] as BaseBank[] | undefined) ?? []
  const bankCount = base.drawBankCount ? random.intBetween(Math.min(fuzzBanksMin, baseBanks.length), Math.min(fuzzBanksMax, baseBanks.length)) : baseBanks.length
  const banks = baseBanks.slice(0, bankCount)
  const ids = banks.map((bank) => bank.id)
  const kept = new Set(ids)
  const jurisdictions = new Set(banks.map((bank) => bank.jurisdiction))
  const { safetyMs, livenessMs, drainMs } = phases
  const faultStartMs = 1000

  // The network between faults: latency, jitter and a little background loss and duplication that
  // stay through the liveness phase (a healed network is not a perfect one). Latency starts at
  // 20 ms: blocks follow each other a few latencies apart, and a faster network only costs time.
  const latencyMs = random.intBetween(20, 120)
  const jitter = random.pick([0, 0.05, 0.1, 0.25])
  const drop = random.pick([0, 0, 0.005, 0.01, 0.02])
  const duplicate = random.pick([0, 0, 0.01, 0.05])

  const faults: Array<Record<string, unknown>> = []
  const window = (): { at: number; until: number } => {
    const at = drawTime(random, faultStartMs, safetyMs - 500)
    return { at, until: Math.min(safetyMs, at + 500 + 100 * random.int(80)) }
  }
  const link = (): [string, string] | undefined => {
    if (random.chance(0.5)) return undefined
    const [a, b] = random.shuffle([...ids])
    return [a!, b!]
  }
  const faultCount = random.intBetween(1, fuzzFaultsMax)
  for (let i = 0; i < faultCount; i++) {
    const { at, until } = window()
    const kind = random.pick(['crash', 'pause', 'partition', 'delay', 'drop', 'duplicate'] as const)
    switch (kind) {
      case 'crash': {
        const node = random.pick(ids)
        faults.push({ at: seconds(at), crash: node, storage: random.pick(['intact', 'lose-unsynced', 'torn-wal'] as const) })
        faults.push({ at: seconds(until), restart: node })
        break
      }
      case 'pause':
        faults.push({ at: seconds(at), pause: random.pick(ids), until: seconds(until) })
        break
      case 'partition': {
        const shuffled = random.shuffle([...ids])
        const groups = random.chance(0.25) && ids.length >= 5 ? 3 : 2
        const cuts = [...new Set(Array.from({ length: groups - 1 }, () => 1 + random.int(shuffled.length - 1)))].sort((x, y) => x - y)
        const parts: string[][] = []
        let from = 0
        for (const cut of [...cuts, shuffled.length]) {
          parts.push(shuffled.slice(from, cut))
          from = cut
        }
        faults.push({ at: seconds(at), partition: parts.filter((part) => part.length > 0), until: seconds(until) })
        break
      }
      case 'delay': {
        const on = link()
        faults.push({ at: seconds(at), delay: { ...(on ? { link: on } : {}), latency: seconds(50 + 10 * random.int(100)) }, until: seconds(until) })
        break
      }
      case 'drop': {
        const on = link()
        faults.push({ at: seconds(at), drop: { ...(on ? { link: on } : {}), probability: percent(0.05 + 0.05 * random.int(10)) }, until: seconds(until) })
        break
      }
      case 'duplicate': {
        const on = link()
        faults.push({ at: seconds(at), duplicate: { ...(on ? { link: on } : {}), probability: percent(0.05 + 0.05 * random.int(10)) }, until: seconds(until) })
        break
      }
    }
  }

  // Up to f Byzantine validators (by voting power: together under one third), each with one or
  // two behaviours in turn, all honest again before the liveness phase.
  const totalPower = banks.reduce((sum, bank) => sum + (bank.power ?? 1), 0)
  const f = Math.floor((banks.length - 1) / 3)
  const byzantineCount = random.int(f + 1)
  let byzantinePower = 0
  for (const bank of random.shuffle([...banks]).slice(0, byzantineCount)) {
    if ((byzantinePower + (bank.power ?? 1)) * 3 >= totalPower) continue
    byzantinePower += bank.power ?? 1
    const spells = random.intBetween(1, 2)
    for (let spell = 0; spell < spells; spell++) {
      const { at, until } = window()
      faults.push({ at: seconds(at), byzantine: bank.id, behaviour: random.pick(byzantineBehaviours), until: seconds(until) })
    }
  }
  faults.sort((a, b) => durationOf(a['at']) - durationOf(b['at']))

  // The workload: the base's trade and remittance flows at full rate in the safety phase and at a
  // quarter of it in the liveness phase; FX moves throughout; shocks only inside the safety phase.
  const workload: Array<Record<string, unknown>> = []
  for (const entry of (base.document['workload'] as Array<Record<string, unknown>> | undefined) ?? []) {
    const kind = entry['kind']
    if (kind === 'trade' || kind === 'remittance') {
      if (!jurisdictions.has(entry['from'] as string) || !jurisdictions.has(entry['to'] as string)) continue
      const { start: _start, end: _end, ...rest } = entry
      const rate = parseRatePerSecond(entry['rate']) ?? 0
      workload.push({ ...rest, rate: `${round(rate, 3)}/s`, end: seconds(safetyMs) })
      workload.push({ ...rest, rate: `${round(Math.max(0.5, rate * livenessRateFraction), 3)}/s`, start: seconds(safetyMs) })
    } else if (kind === 'liquidity-shock') {
      if (kept.has(entry['bank'] as string) && durationOf(entry['at']) < safetyMs && jurisdictions.has(entry['to'] as string)) workload.push({ ...entry })
    } else if (kind === 'fx') {
      const { start: _start, end: _end, ...rest } = entry
      workload.push(rest)
    }
  }

  const population = ((base.document['population'] as Array<Record<string, unknown>> | undefined) ?? []).filter((group) => kept.has(group['bank'] as string))
  const description =
    `Fuzz seed ${seed} (${base.source === 'built-in' ? 'built-in base' : `base ${base.source}`}): ${banks.length} banks, ` +
    `latency ${latencyMs}ms, jitter ${percent(jitter)}, drop ${percent(drop)}, duplicate ${percent(duplicate)}; ` +
    `${faults.length} fault events in the safety phase (0-${seconds(safetyMs)}), then a healed liveness phase to ${seconds(safetyMs + livenessMs)} and ${seconds(drainMs)} of drain.`
  const { name: _name, description: _description, seed: _seed, duration: _duration, drain: _drain, faults: _faults, expect: _expect, ...rest } = base.document
  const network = (rest['network'] as Record<string, unknown> | undefined) ?? {}
  return {
    name: `fuzz-${seed}`,
    description,
    seed,
    duration: seconds(safetyMs + livenessMs),
    drain: seconds(drainMs),
    ...rest,
    banks,
    network: {
      ...network,
      latency: { ...((network['latency'] as Record<string, unknown> | undefined) ?? {}), default: `${latencyMs}ms` },
      jitter: percent(jitter),
      drop: percent(drop),
      duplicate: percent(duplicate)
    },
    population,
    workload,
    faults,
    expect: { invariants: 'all' },
    // Last, so a reproduction file shows the faults before the long policy documents.
    policies: rest['policies'] ?? []
  }
}

function round(value: number, digits: number): number {
  return Math.round(value * 10 ** digits) / 10 ** digits
}

function durationOf(value: unknown): number {
  return parseDurationMs(value) ?? 0
}

/** One line on what a seed drew: banks, faults by kind, Byzantine behaviours. */
export function describeFuzzDocument(document: Record<string, unknown>): string {
  const banks = (document['banks'] as unknown[]).length
  const counts = new Map<string, number>()
  const byzantine: string[] = []
  for (const fault of document['faults'] as Array<Record<string, unknown>>) {
    const kind = ['crash', 'pause', 'partition', 'delay', 'drop', 'duplicate', 'byzantine'].find((key) => key in fault)
    if (kind === undefined) continue
    if (kind === 'crash') {
      const label = `crash${fault['storage'] === 'intact' ? '' : ` (${String(fault['storage'])})`}`
      counts.set(label, (counts.get(label) ?? 0) + 1)
    } else if (kind === 'byzantine') byzantine.push(`${String(fault['byzantine'])} ${String(fault['behaviour'])}`)
    else counts.set(kind, (counts.get(kind) ?? 0) + 1)
  }
  const network = document['network'] as Record<string, unknown>
  const faults = [...counts].map(([kind, count]) => (count > 1 ? `${count}x ${kind}` : kind)).join(', ')
  return `${banks} banks, drop ${String(network['drop'])}, duplicate ${String(network['duplicate'])}; ${faults || 'no crashes or network faults'}${byzantine.length > 0 ? `; Byzantine: ${byzantine.join(', ')}` : ''}`
}

/** A failing seed's reproduction: the scenario file, headed by what broke and how to replay it. */
export function reproductionYaml(document: Record<string, unknown>, failure: { summary?: RunSummary; error?: string }, path: string): string {
  const lines = [`# corridor sim fuzz: seed ${String(document['seed'])} failed.`]
  if (failure.error !== undefined) lines.push(`# The run threw: ${failure.error.split('\n')[0]}`)
  for (const violation of failure.summary?.invariants.violations.slice(0, 5) ?? []) {
    lines.push(`# ${violation.invariant} at ${violation.atMs} ms${violation.node ? ` on ${violation.node}` : ''}${violation.height !== undefined ? ` height ${violation.height}` : ''}: ${violation.message}`)
  }
  lines.push(`# Replay: corridor sim run ${path}`, `# ${describeFuzzDocument(document)}`, '')
  return lines.map((line) => line.replace(/\n/g, ' ')).join('\n') + '\n' + toYaml(document, { lineWidth: 0 })
}

/** Writes a failing seed's scenario to `directory`/fuzz-<seed>.yaml; returns the path. */
export function writeReproduction(directory: string, document: Record<string, unknown>, failure: { summary?: RunSummary; error?: string }): string {
  mkdirSync(directory, { recursive: true })
  const path = join(directory, `fuzz-${String(document['seed'])}.yaml`)
  writeFileSync(path, reproductionYaml(document, failure, path))
  return path
}
