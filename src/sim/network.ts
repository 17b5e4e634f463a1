/**
 * The simulated network: for each message sent, when (and whether, and how often) it arrives.
 * Latency comes from the jurisdiction pair with uniform jitter; loss, duplication, partitions and
 * extra per-link delay are faults that can be switched on and off during a run. All draws come
 * from the run's seeded PRNG, so delivery times are reproducible.
 */
import type { Random } from './random.ts'
import { assert } from '../protocol/assert.ts'

export interface NetworkOptions {
  /** One-way latency in ms by "XX-YY" jurisdiction pair (either order) and `default`. */
  readonly latencyMs: Readonly<Record<string, number>>
  /** Uniform jitter as a fraction of the latency, in [0, 1]. */
  readonly jitter: number
  readonly dropProbability: number
  readonly duplicateProbability: number
}

/** A link fault applies to one direction-agnostic pair of nodes, or to every link when no pair is named. */
interface LinkRule {
  readonly id: number
  readonly link: readonly [string, string] | undefined
  readonly extraLatencyMs: number
  readonly dropProbability: number
  readonly duplicateProbability: number
}

export class SimulatedNetwork {
  private readonly options: NetworkOptions
  private readonly random: Random
  private readonly jurisdictionOf: ReadonlyMap<string, string>
  /** Base latency by sending node, then receiving node. */
  private readonly pairLatency = new Map<string, Map<string, number>>()
  /** Where `routeInto` leaves the delays of the deliveries it found. */
  readonly delays: number[] = [0, 0]
  /** Partition group per node; nodes in different groups cannot talk. Empty when healed. */
  private partitionGroup = new Map<string, number>()
  private rules: LinkRule[] = []
  private nextRuleId = 1
  private down = new Set<string>()

  constructor(options: NetworkOptions, jurisdictionOf: ReadonlyMap<string, string>, random: Random) {
    assert(options.jitter >= 0 && options.jitter <= 1, 'jitter is a fraction')
    this.options = options
    this.jurisdictionOf = jurisdictionOf
    this.random = random
  }

  /** Base one-way latency between two nodes, before jitter and faults. */
  baseLatencyMs(from: string, to: string): number {
    // By node pair, two lookups of the ids the simulator passes (the same string objects every
    // time), rather than a jurisdiction-pair key built for every message.
    let row = this.pairLatency.get(from)
    if (row === undefined) {
      row = new Map()
      this.pairLatency.set(from, row)
    }
    let latency = row.get(to)
    if (latency === undefined) {
      const a = this.jurisdictionOf.get(from) ?? ''
      const b = this.jurisdictionOf.get(to) ?? ''
      latency = this.options.latencyMs[`${a}-${b}`] ?? this.options.latencyMs[`${b}-${a}`] ?? this.options.latencyMs['default'] ?? 20
      row.set(to, latency)
    }
    return latency
  }

  /**
   * Deliveries of one message from `from` to `to`: how many there are (0 if lost, 2 if
   * duplicated), their delays left in `delays`, valid until the next call. Nothing is allocated:
   * the simulator routes a message to each of n - 1 nodes, millions of times a run.
   */
  routeInto(from: string, to: string): number {
    if (from === to) {
      this.delays[0] = 0
      return 1
    }
    if (this.down.size > 0 && (this.down.has(from) || this.down.has(to))) return 0
    if (this.partitionGroup.size > 0 && this.partitionGroup.get(from) !== this.partitionGroup.get(to)) return 0
    let drop = this.options.dropProbability
    let duplicate = this.options.duplicateProbability
    let extra = 0
    const rules = this.rules
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!
      if (rule.link !== undefined && !((rule.link[0] === from && rule.link[1] === to) || (rule.link[0] === to && rule.link[1] === from))) continue
      drop = 1 - (1 - drop) * (1 - rule.dropProbability)
      duplicate = 1 - (1 - duplicate) * (1 - rule.duplicateProbability)
      extra += rule.extraLatencyMs
    }
    if (drop > 0 && this.random.chance(drop)) return 0
    this.delays[0] = this.delayMs(from, to) + extra
    if (duplicate > 0 && this.random.chance(duplicate)) {
      this.delays[1] = this.delayMs(from, to) + extra
      return 2
    }
    return 1
  }

  private delayMs(from: string, to: string): number {
    const base = this.baseLatencyMs(from, to)
    if (this.options.jitter === 0) return base
    return Math.max(0, base * (1 + this.options.jitter * (2 * this.random.next() - 1)))
  }

  /** Splits the nodes into groups; nodes not named form one more group of their own. */
  partition(groups: ReadonlyArray<readonly string[]>): void {
    const next = new Map<string, number>()
    groups.forEach((group, index) => group.forEach((node) => next.set(node, index + 1)))
    for (const node of this.jurisdictionOf.keys()) if (!next.has(node)) next.set(node, 0)
    this.partitionGroup = next
  }

  healPartition(): void {
    this.partitionGroup = new Map()
  }

  /** Adds a link fault and returns its id, to remove it later. */
  addRule(rule: { link?: readonly [string, string]; extraLatencyMs?: number; dropProbability?: number; duplicateProbability?: number }): number {
    const id = this.nextRuleId++
    this.rules.push({
      id,
      link: rule.link,
      extraLatencyMs: rule.extraLatencyMs ?? 0,
      dropProbability: rule.dropProbability ?? 0,
      duplicateProbability: rule.duplicateProbability ?? 0
    })
    return id
  }

  removeRule(id: number): void {
    this.rules = this.rules.filter((rule) => rule.id !== id)
  }

  /** Heals everything: partitions and link faults. Crashed nodes stay down until restarted. */
  healAll(): void {
    this.healPartition()
    this.rules = []
  }

  /** A crashed or paused node neither sends nor receives. */
  setDown(node: string, down: boolean): void {
    if (down) this.down.add(node)
    else this.down.delete(node)
  }

  isDown(node: string): boolean {
    return this.down.has(node)
  }
}
