// Shared body of the fuzz test files: seeds drawn by specFromSeed, each one assertion.
import type { Test } from 'tap'
import { specFromSeed } from '../../../src/consensus/testing/fuzz.ts'
import type { RunOptions } from '../../../src/consensus/testing/cluster.ts'
import { runSeeds } from './clusterRuns.ts'

export function fuzzSeeds(t: Test, seeds: readonly number[], options: RunOptions = {}): void {
  const scheme = options.scheme ?? 'fast'
  runSeeds(t, seeds, (seed) => specFromSeed(seed), options, (result) => {
    // The fuzz spec is itself the replay for the CLI: `--seeds 1 --seed-start <seed>`.
    void scheme
    return result.stoppedBy === 'liveness-met' ? null : `stopped by ${result.stoppedBy}`
  })
}
