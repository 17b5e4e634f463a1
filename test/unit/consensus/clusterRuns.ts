// Helpers for the cluster tests: run specs over seeds, fail with the seed and a replay command.
import { relative } from 'node:path'
import type { Test } from 'tap'
import { runCluster, type ClusterResult, type ClusterSpec, type RunOptions } from '../../../src/consensus/testing/cluster.ts'
import { describeSpec } from '../../../src/consensus/testing/fuzz.ts'
import { createNativeSigner, createNativeVerifier } from '../../../src/platform/ed25519Native.ts'
import { createCachingVerifier } from '../../../src/consensus/verifierCache.ts'

/** Set CORRIDOR_SEED to run only that seed of every seeded test. */
export function seedsFrom(start: number, count: number): number[] {
  const only = process.env['CORRIDOR_SEED']
  if (only !== undefined && only !== '') return [Number(only)]
  return Array.from({ length: count }, (_, i) => start + i)
}

const nativeEd25519 = { createSigner: createNativeSigner, verifier: createNativeVerifier() }
const nativeVerifier = createCachingVerifier(nativeEd25519.verifier)

export function ed25519Options(): RunOptions {
  return { scheme: 'ed25519', native: nativeEd25519, verifier: nativeVerifier }
}

export function replayCommand(spec: ClusterSpec, options: RunOptions): string {
  const scheme = options.scheme ?? 'fast'
  return `node bin/corridor.js consensus fuzz --replay '${JSON.stringify(spec)}'${scheme === 'fast' ? ' --signatures fast' : ''}`
}

/**
 * Runs a spec per seed; each seed is one assertion that no invariant broke. A failure names the
 * seed, the violation, and the command that replays it with a trace.
 */
export function runSeeds(
  t: Test,
  seeds: readonly number[],
  makeSpec: (seed: number) => ClusterSpec,
  options: RunOptions = {},
  check?: (result: ClusterResult, seed: number) => string | null
): ClusterResult[] {
  const results: ClusterResult[] = []
  for (const seed of seeds) {
    const spec = makeSpec(seed)
    const result = runCluster(spec, options)
    results.push(result)
    const problem = result.violation !== null ? `${result.violation.kind}: ${result.violation.message}` : (check?.(result, seed) ?? null)
    if (problem === null) t.pass(`seed ${seed}`)
    else {
      const file = relative(process.cwd(), process.argv[1] ?? 'test/unit/consensus')
      t.fail(`seed ${seed} (${describeSpec(spec)}): ${problem}\n  replay: ${replayCommand(spec, options)}\n  or: CORRIDOR_SEED=${seed} npx tap ${file}`)
    }
  }
  return results
}
