// Fuzz seeds 351-700 (a second file so tap runs the two halves in parallel).
// Replay one: node bin/corridor.js consensus fuzz --seeds 1 --seed-start <seed> --signatures fast
import t from 'tap'
import { seedsFrom } from './clusterRuns.ts'
import { fuzzSeeds } from './fuzzSeeds.ts'

t.test('fuzz seeds 351-700: every invariant holds and the cluster is live after healing', async (t) => {
  fuzzSeeds(t, seedsFrom(351, 350))
})
