/**
 * Fuzzing in the manner of TigerBeetle's VOPR: each seed draws a cluster (size, Byzantine
 * validators and their behaviours, twins, crashes and restarts, partitions, loss, duplication,
 * latency), runs it through a safety phase with faults and a liveness phase after they heal, and
 * reports the first broken invariant. A failing spec is shrunk by re-running it with fewer faults,
 * fewer Byzantine validators and a cleaner network while it still fails the same way, and the
 * shortest failing run is replayed with a trace.
 */
import { Prng } from './prng.ts'
import { byzantineKinds, runCluster, twinName, validatorName, type ByzantineKind, type ClusterResult, type ClusterSpec, type FaultSpec, type RunOptions } from './cluster.ts'

export interface FuzzOptions {
  /** Cluster size; drawn from {4, 5, 7, 10} per seed when absent. */
  readonly validators?: number
  /** Faulty validators (Byzantine or twinned); drawn from 0..f per seed when absent. More than f is unsafe by design. */
  readonly byzantine?: number
}

/** The largest f with n >= 3f + 1. */
export function faultsTolerated(validators: number): number {
  return Math.floor((validators - 1) / 3)
}

/** Draws a cluster spec from a seed. The same seed and options always give the same spec. */
export function specFromSeed(seed: number, options: FuzzOptions = {}): ClusterSpec {
  const rng = new Prng(seed)
  const validators = options.validators ?? rng.pick([4, 4, 5, 7, 10])
  const f = faultsTolerated(validators)
  const faultyCount = Math.min(validators, options.byzantine ?? rng.int(f + 1))
  const order = rng.shuffle(Array.from({ length: validators }, (_, i) => i))
  const faultyIndices = order.slice(0, faultyCount)
  const honestIndices = order.slice(faultyCount)

  const byzantine: { validator: number; behaviours: ByzantineKind[] }[] = []
  const twins: number[] = []
  for (const index of faultyIndices) {
    if (rng.chance(0.25)) {
      twins.push(index)
      continue
    }
    const behaviours = new Set<ByzantineKind>([rng.pick(byzantineKinds)])
    if (rng.chance(0.3)) behaviours.add(rng.pick(byzantineKinds))
    byzantine.push({ validator: index, behaviours: [...behaviours] })
  }

  const healAtMs = rng.range(800, 6000)
  const nodes = [...Array.from({ length: validators }, (_, i) => validatorName(i)), ...twins.map(twinName)]
  const faults: FaultSpec[] = []

  // Honest crashes: permanent ones only while faulty + crashed stays within f, so liveness must hold.
  const permanentCrashes = rng.int(Math.max(0, f - faultyCount) + 1)
  const crashable = rng.shuffle(honestIndices)
  for (let i = 0; i < permanentCrashes; i++) faults.push({ kind: 'crash', atMs: rng.int(healAtMs), node: validatorName(crashable[i]!) })
  // Crash-and-restart of other honest validators, restarting from their WAL before the heal.
  const restarts = rng.int(3)
  for (let i = 0; i < restarts; i++) {
    const index = crashable[permanentCrashes + i]
    if (index === undefined) break
    const at = rng.int(healAtMs - 50)
    faults.push({ kind: 'crash', atMs: at, node: validatorName(index) })
    faults.push({ kind: 'restart', atMs: rng.range(at + 1, healAtMs - 1), node: validatorName(index) })
  }

  // Partitions: a few random splits, or round-by-round partitions when there are twins.
  const partitionWindows = twins.length > 0 ? 0 : rng.int(3)
  for (let i = 0; i < partitionWindows; i++) {
    const at = rng.int(healAtMs)
    faults.push({ kind: 'partition', atMs: at, untilMs: rng.range(at + 1, healAtMs), groups: randomSplit(rng, nodes) })
  }
  if (twins.length > 0) {
    const slotMs = rng.range(150, 600)
    for (let at = 0; at < healAtMs; at += slotMs) {
      if (rng.chance(0.2)) continue
      faults.push({ kind: 'partition', atMs: at, untilMs: at + slotMs, groups: twinsSplit(rng, nodes, twins) })
    }
  }

  const lossy = rng.chance(0.6)
  const latencyMinMs = rng.range(1, 20)
  const network = {
    latencyMinMs,
    latencyMaxMs: latencyMinMs + rng.range(0, 80),
    dropProbability: lossy ? rng.pick([0.05, 0.1, 0.2, 0.4]) : 0,
    duplicateProbability: rng.chance(0.5) ? rng.pick([0.05, 0.2]) : 0,
    relay: rng.chance(0.8)
  }
  // Weights (drawn last, so they do not perturb the draws above): faulty and permanently crashed
  // validators keep power 1, the others get 1 to 3, so the faulty power stays below 1/3 of the total.
  let powers: number[] | undefined
  if (rng.chance(0.25)) {
    const light = new Set([...faultyIndices, ...crashable.slice(0, permanentCrashes)])
    powers = Array.from({ length: validators }, (_, i) => (light.has(i) ? 1 : rng.range(1, 3)))
  }
  return {
    seed,
    validators,
    ...(powers !== undefined ? { powers } : {}),
    ...(byzantine.length > 0 ? { byzantine } : {}),
    ...(twins.length > 0 ? { twins } : {}),
    network,
    faults: faults.sort((a, b) => a.atMs - b.atMs),
    healAtMs,
    heightsAfterHeal: 2
  }
}

function randomSplit(rng: Prng, nodes: readonly string[]): string[][] {
  const groups: string[][] = [[], []]
  if (rng.chance(0.3)) groups.push([])
  for (const node of rng.shuffle(nodes)) groups[rng.int(groups.length)]!.push(node)
  return groups.filter((g) => g.length > 0)
}

/** Twins: each twin pair is split across two groups, and the other nodes are spread over both. */
function twinsSplit(rng: Prng, nodes: readonly string[], twins: readonly number[]): string[][] {
  const groups: string[][] = [[], []]
  const twinNodes = new Set<string>()
  for (const index of twins) {
    const side = rng.int(2)
    groups[side]!.push(validatorName(index))
    groups[1 - side]!.push(twinName(index))
    twinNodes.add(validatorName(index))
    twinNodes.add(twinName(index))
  }
  for (const node of nodes) if (!twinNodes.has(node)) groups[rng.int(2)]!.push(node)
  return groups
}

/** Simpler variants of a failing spec, simplest-first within each kind. */
function* simplifications(spec: ClusterSpec): Generator<ClusterSpec> {
  const faults = spec.faults ?? []
  // Drop whole kinds of faults first, then single faults.
  if (faults.some((f) => f.kind === 'partition')) yield { ...spec, faults: faults.filter((f) => f.kind !== 'partition') }
  if (faults.some((f) => f.kind !== 'partition')) yield { ...spec, faults: faults.filter((f) => f.kind === 'partition') }
  for (let i = 0; i < faults.length; i++) {
    const fault = faults[i]!
    // A restart goes with its crash.
    if (fault.kind === 'restart') continue
    const restartIndex = fault.kind === 'crash' ? faults.findIndex((g, j) => j > i && g.kind === 'restart' && g.node === fault.node) : -1
    yield { ...spec, faults: faults.filter((_, j) => j !== i && j !== restartIndex) }
  }
  const network = spec.network
  if (network.dropProbability > 0) yield { ...spec, network: { ...network, dropProbability: 0 } }
  if (network.duplicateProbability > 0) yield { ...spec, network: { ...network, duplicateProbability: 0 } }
  if (network.relay) yield { ...spec, network: { ...network, relay: false } }
  if (network.latencyMaxMs > network.latencyMinMs) yield { ...spec, network: { ...network, latencyMaxMs: network.latencyMinMs } }
  const byzantine = spec.byzantine ?? []
  for (let i = 0; i < byzantine.length; i++) {
    yield { ...spec, byzantine: byzantine.filter((_, j) => j !== i) }
    const entry = byzantine[i]!
    if (entry.behaviours.length > 1) {
      for (const kind of entry.behaviours) {
        yield { ...spec, byzantine: byzantine.map((e, j) => (j === i ? { ...e, behaviours: [kind] } : e)) }
      }
    }
  }
  const twins = spec.twins ?? []
  for (let i = 0; i < twins.length; i++) {
    const removed = twinName(twins[i]!)
    yield {
      ...spec,
      twins: twins.filter((_, j) => j !== i),
      faults: faults.map((f) => (f.kind === 'partition' ? { ...f, groups: f.groups.map((g) => g.filter((n) => n !== removed)) } : f)).filter((f) => f.kind !== 'crash' && f.kind !== 'restart' ? true : f.node !== removed)
    }
  }
  if (spec.powers !== undefined) {
    const { powers: _, ...unweighted } = spec
    yield unweighted
  }
  if (spec.heightsAfterHeal > 1) yield { ...spec, heightsAfterHeal: 1 }
  if (spec.healAtMs > 200) {
    const healAtMs = Math.floor(spec.healAtMs / 2)
    yield { ...spec, healAtMs, faults: faults.filter((f) => f.atMs < healAtMs) }
  }
}

export interface ShrinkResult {
  readonly spec: ClusterSpec
  readonly result: ClusterResult
  readonly runs: number
}

/**
 * Shrinks a failing spec: tries simpler variants and keeps any that still fails with the same kind
 * of violation, until none does or the run budget is spent. Deterministic.
 */
export function shrinkSpec(spec: ClusterSpec, failure: ClusterResult, options: RunOptions = {}, runsMax = 150): ShrinkResult {
  const kind = failure.violation?.kind
  let best = { spec, result: failure }
  let runs = 0
  let improved = true
  while (improved && runs < runsMax) {
    improved = false
    for (const candidate of simplifications(best.spec)) {
      if (runs >= runsMax) break
      runs++
      const result = runCluster(candidate, { ...options, trace: false })
      if (result.violation !== null && result.violation.kind === kind) {
        best = { spec: candidate, result }
        improved = true
        break
      }
    }
  }
  return { ...best, runs }
}

/** Replays a spec up to its violation with the trace on: the shortest trace that shows it. */
export function traceOf(spec: ClusterSpec, options: RunOptions = {}): ClusterResult {
  return runCluster(spec, { ...options, trace: true })
}

export function describeSpec(spec: ClusterSpec): string {
  const parts = [`n=${spec.validators}${spec.powers !== undefined ? ` powers=${spec.powers.join(',')}` : ''}`]
  for (const b of spec.byzantine ?? []) parts.push(`${validatorName(b.validator)}:${b.behaviours.join('+')}`)
  for (const t of spec.twins ?? []) parts.push(`${validatorName(t)}:twins`)
  const faults = spec.faults ?? []
  const crashes = faults.filter((f) => f.kind === 'crash').length
  const restarts = faults.filter((f) => f.kind === 'restart').length
  const partitions = faults.filter((f) => f.kind === 'partition').length
  if (crashes > 0) parts.push(`crashes=${crashes}`)
  if (restarts > 0) parts.push(`restarts=${restarts}`)
  if (partitions > 0) parts.push(`partitions=${partitions}`)
  const n = spec.network
  parts.push(`latency=${n.latencyMinMs}-${n.latencyMaxMs}ms`)
  if (n.dropProbability > 0) parts.push(`drop=${n.dropProbability}`)
  if (n.duplicateProbability > 0) parts.push(`dup=${n.duplicateProbability}`)
  if (!n.relay) parts.push('no-relay')
  parts.push(`heal=${spec.healAtMs}ms`)
  return parts.join(' ')
}
