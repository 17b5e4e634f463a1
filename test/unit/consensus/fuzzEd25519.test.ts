// Fuzz seeds with real Ed25519 signatures (native signer and verifier, one caching verifier for
// the process), and the properties of the fuzzer itself: determinism and coverage of its draws.
// Replay one: node bin/corridor.js consensus fuzz --seeds 1 --seed-start <seed>
import t from 'tap'
import { runCluster } from '../../../src/consensus/testing/cluster.ts'
import { describeSpec, specFromSeed } from '../../../src/consensus/testing/fuzz.ts'
import { ed25519Options, seedsFrom } from './clusterRuns.ts'
import { fuzzSeeds } from './fuzzSeeds.ts'

t.test('fuzz seeds 10001-10040 with real Ed25519 signatures', async (t) => {
  fuzzSeeds(t, seedsFrom(10_001, 40), ed25519Options())
})

t.test('a seed replays bit for bit: same spec, same trace', async (t) => {
  for (const seed of [3, 17, 42]) {
    const spec = specFromSeed(seed)
    t.same(specFromSeed(seed), spec)
    const first = runCluster(spec, { trace: true })
    const second = runCluster(spec, { trace: true })
    t.equal(first.steps, second.steps)
    t.same(first.trace, second.trace, `seed ${seed}: ${describeSpec(spec)}`)
  }
})

t.test('the fuzzer draws every kind of fault over the suite\'s seeds', async (t) => {
  const seen = new Set<string>()
  for (let seed = 1; seed <= 700; seed++) {
    const spec = specFromSeed(seed)
    seen.add(`n=${spec.validators}`)
    for (const b of spec.byzantine ?? []) for (const kind of b.behaviours) seen.add(kind)
    if ((spec.twins ?? []).length > 0) seen.add('twins')
    for (const f of spec.faults ?? []) seen.add(f.kind)
    if (spec.network.dropProbability > 0) seen.add('drop')
    if (spec.network.duplicateProbability > 0) seen.add('duplicate')
    if (!spec.network.relay) seen.add('no-relay')
    if (spec.powers !== undefined) seen.add('weights')
  }
  for (const kind of ['n=4', 'n=5', 'n=7', 'n=10', 'equivocate', 'withholdVotes', 'signGarbage', 'silentProposer', 'proposeToSome', 'censor', 'twins', 'crash', 'restart', 'partition', 'drop', 'duplicate', 'no-relay', 'weights']) {
    t.ok(seen.has(kind), kind)
  }
})
