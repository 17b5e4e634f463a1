// Fuzz seeds 1-350 with the fast test signatures: random cluster sizes, Byzantine validators,
// twins, crashes and restarts, partitions, loss, duplication and reordering (see fuzz.ts).
// Replay one: node bin/corridor.js consensus fuzz --seeds 1 --seed-start <seed> --signatures fast
import t from 'tap'
import { seedsFrom } from './clusterRuns.ts'
import { fuzzSeeds } from './fuzzSeeds.ts'

t.test('fuzz seeds 1-350: every invariant holds and the cluster is live after healing', async (t) => {
  fuzzSeeds(t, seedsFrom(1, 350))
})
