// Cluster scenarios: real engines in the seeded harness, checked after every step (agreement,
// certificates, no conflicting honest votes, persist before send, no false evidence) and for
// liveness once the faults heal. Each seed is one assertion; a failing seed prints how to replay it.
import t from 'tap'
import { Prng } from '../../../src/consensus/testing/prng.ts'
import { twinName, validatorName, type ClusterSpec, type FaultSpec, type NetworkSpec } from '../../../src/consensus/testing/cluster.ts'
import { faultsTolerated, shrinkSpec } from '../../../src/consensus/testing/fuzz.ts'
import { runCluster } from '../../../src/consensus/testing/cluster.ts'
import { runSeeds, seedsFrom } from './clusterRuns.ts'

const clean: NetworkSpec = { latencyMinMs: 5, latencyMaxMs: 40, dropProbability: 0, duplicateProbability: 0, relay: true }
const sizes = [4, 7, 10] as const

function base(seed: number, validators: number, overrides: Partial<ClusterSpec> = {}): ClusterSpec {
  return { seed, validators, network: clean, healAtMs: 1500, heightsAfterHeal: 3, ...overrides }
}

for (const n of sizes) {
  t.test(`n = ${n} on a clean network: every validator decides and all agree`, async (t) => {
    runSeeds(t, seedsFrom(100, 10), (seed) => base(seed, n, { healAtMs: 300 }), {}, (result) =>
      result.nodes.every((node) => node.height >= result.heightAtHeal + 3) ? null : 'a validator fell behind'
    )
  })

  t.test(`n = ${n} with f = ${faultsTolerated(n)} validators crashed for good`, async (t) => {
    runSeeds(t, seedsFrom(200, 10), (seed) => {
      const rng = new Prng(seed)
      const crashed = rng.shuffle(Array.from({ length: n }, (_, i) => i)).slice(0, faultsTolerated(n))
      const faults: FaultSpec[] = crashed.map((i) => ({ kind: 'crash', atMs: rng.int(1500), node: validatorName(i) }))
      return base(seed, n, { faults })
    })
  })

  t.test(`n = ${n} with f = ${faultsTolerated(n)} validators equivocating (two proposals, two votes): safe, live, and caught`, async (t) => {
    runSeeds(
      t,
      seedsFrom(300, 10),
      (seed) => {
        const rng = new Prng(seed)
        const culprits = rng.shuffle(Array.from({ length: n }, (_, i) => i)).slice(0, faultsTolerated(n))
        return base(seed, n, { byzantine: culprits.map((validator) => ({ validator, behaviours: ['equivocate'] })) })
      },
      {},
      (result) => {
        const accused = new Set(result.nodes.filter((node) => node.honest).flatMap((node) => node.evidence.map((e) => (e.kind === 'invalidSignature' ? e.peer : e.validator))))
        const culprits = (result.spec.byzantine ?? []).map((b) => validatorName(b.validator))
        const missed = culprits.filter((c) => !accused.has(c))
        return missed.length === 0 ? null : `no evidence against ${missed.join(', ')}`
      }
    )
  })

  t.test(`n = ${n}: a partition of the honest validators, neither side a quorum, heals and every validator decides again`, async (t) => {
    runSeeds(t, seedsFrom(400, 10), (seed) => {
      const rng = new Prng(seed)
      const order = rng.shuffle(Array.from({ length: n }, (_, i) => validatorName(i)))
      const half = Math.floor(n / 2)
      const at = rng.range(100, 600)
      return base(seed, n, {
        healAtMs: 2500,
        faults: [{ kind: 'partition', atMs: at, untilMs: 2500, groups: [order.slice(0, half), order.slice(half)] }]
      })
    })
  })

  t.test(`n = ${n}: heavy reordering, duplication and loss`, async (t) => {
    runSeeds(t, seedsFrom(500, 10), (seed) =>
      base(seed, n, { healAtMs: 2500, network: { latencyMinMs: 1, latencyMaxMs: 150, dropProbability: 0.15, duplicateProbability: 0.3, relay: seed % 2 === 0 } })
    )
  })

  t.test(`n = ${n}: Twins, f = ${faultsTolerated(n)} validators run twice under one key over round-by-round partitions`, async (t) => {
    runSeeds(t, seedsFrom(600, 15), (seed) => twinsSpec(seed, n, faultsTolerated(n)))
  })
}

/** Twins (Bano et al.): `count` validators run as two engines; every slot a new partition separates each pair. */
function twinsSpec(seed: number, n: number, count: number): ClusterSpec {
  const rng = new Prng(seed)
  const twins = rng.shuffle(Array.from({ length: n }, (_, i) => i)).slice(0, count)
  const healAtMs = 3000
  const slotMs = rng.range(150, 450)
  const faults: FaultSpec[] = []
  for (let at = 0; at < healAtMs; at += slotMs) {
    const groups: string[][] = [[], []]
    for (const index of twins) {
      const side = rng.int(2)
      groups[side]!.push(validatorName(index))
      groups[1 - side]!.push(twinName(index))
    }
    for (let i = 0; i < n; i++) if (!twins.includes(i)) groups[rng.int(2)]!.push(validatorName(i))
    faults.push({ kind: 'partition', atMs: at, untilMs: at + slotMs, groups })
  }
  return { seed, validators: n, twins, network: { ...clean, relay: rng.chance(0.5) }, faults, healAtMs, heightsAfterHeal: 2 }
}

t.test('restart in the middle of a round from the WAL: no restarted validator ever signs a conflicting vote', async (t) => {
  let midHeight = 0
  const results = runSeeds(t, seedsFrom(700, 40), (seed) => {
    const rng = new Prng(seed)
    const n = rng.pick([4, 7])
    const faults: FaultSpec[] = []
    // Many short crashes of random validators: most land between a vote and the decision.
    for (let i = 0; i < 8; i++) {
      const node = validatorName(rng.int(n))
      const at = rng.range(50, 2400)
      faults.push({ kind: 'crash', atMs: at, node }, { kind: 'restart', atMs: at + rng.range(1, 120), node })
    }
    return base(seed, n, { healAtMs: 2500, faults: faults.sort((a, b) => a.atMs - b.atMs), network: { ...clean, dropProbability: 0.05 } })
  })
  for (const result of results) midHeight += result.restartsMidHeight
  t.ok(midHeight > 100, `${midHeight} restarts resumed a height from WAL records`)
})

t.test('a validator down for many heights catches up with certified blocks after it restarts', async (t) => {
  runSeeds(
    t,
    seedsFrom(800, 10),
    (seed) => base(seed, 4, { healAtMs: 3500, faults: [{ kind: 'crash', atMs: 200, node: 'v3' }, { kind: 'restart', atMs: 3000, node: 'v3' }] }),
    {},
    (result) => {
      const v3 = result.nodes.find((node) => node.nodeId === 'v3')!
      return (v3.metrics?.decisionsByCatchUp ?? 0) > 0 ? null : 'v3 decided nothing by catch-up'
    }
  )
})

t.test('weighted validators: one heavy bank and three light ones stay safe and live under crashes', async (t) => {
  runSeeds(t, seedsFrom(900, 10), (seed) =>
    base(seed, 5, { powers: [3, 1, 1, 1, 1], healAtMs: 2000, faults: [{ kind: 'crash', atMs: 300 + seed % 700, node: 'v4' }], network: { ...clean, dropProbability: 0.1 } })
  )
})

t.test('beyond f: with f + 1 twins agreement can break, the checker catches it, and the shrinker keeps it failing', async (t) => {
  let caught: ReturnType<typeof runCluster> | null = null
  for (const seed of seedsFrom(1, 30)) {
    const result = runCluster(twinsSpec(seed, 4, 2))
    if (result.violation?.kind === 'agreement') {
      caught = result
      break
    }
  }
  t.ok(caught !== null, 'an agreement violation found among 30 seeds')
  if (caught === null) return
  t.match(caught.violation?.message, /honest .* decided .* and honest .* decided/)
  const shrunk = shrinkSpec(caught.spec, caught, {}, 40)
  t.equal(shrunk.result.violation?.kind, 'agreement', 'the shrunk spec still breaks agreement')
  t.ok((shrunk.spec.faults?.length ?? 0) <= (caught.spec.faults?.length ?? 0))
})
