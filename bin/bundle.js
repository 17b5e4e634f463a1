// A compiled copy of the CLI for the long-running node process (`corridor node start`).
//
// Every other command runs the TypeScript sources through tsx, which compiles each module on
// load: fine for a command, but a node pays it at every start, and restarts are what a crashed
// bank is waiting on. Loading through tsx took half of a node's 2.8 s from spawn to a healthy API
// here; one esbuild bundle (built in about 150 ms) halves that.
//
// The bundle is rebuilt whenever a file under src/ or package-lock.json is newer than it, so an
// edited source is never run stale. It is written to a temporary name and renamed into place, so
// nodes starting together never load a half-written file. Dependencies stay external (loaded
// from node_modules as usual), and the source map is inline, so stack traces name the .ts files.
import { build } from 'esbuild'
import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'

const defaultRoot = resolve(import.meta.dirname, '..')

/** Newest modification time (ms) of the files under `dir`, recursively. */
function newestMtimeMs(dir) {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    const mtimeMs = entry.isDirectory() ? newestMtimeMs(path) : statSync(path).mtimeMs
    if (mtimeMs > newest) newest = mtimeMs
  }
  return newest
}

function mtimeMsOf(path) {
  try {
    return statSync(path).mtimeMs
  } catch {
    return 0
  }
}

/**
 * Builds what is stale and returns the paths to import, in order: the polyfill first (libp2p
 * needs it before it loads), then the CLI. `root` is the repository (tests pass another one).
 */
export async function cliBundle(root = defaultRoot) {
  // Two levels below the root, as the sources are (src/<layer>/), so that the few paths the code
  // builds from its own location (import.meta.dirname + '../..') still name the repository.
  const outDir = join(root, '.build', 'cli')
  const outputs = [
    { entry: join(root, 'src', 'polyfill.ts'), out: join(outDir, 'polyfill.mjs') },
    { entry: join(root, 'src', 'cli', 'main.ts'), out: join(outDir, 'corridor.mjs') }
  ]
  const sourcesMs = Math.max(newestMtimeMs(join(root, 'src')), mtimeMsOf(join(root, 'package-lock.json')))
  for (const { entry, out } of outputs) {
    if (mtimeMsOf(out) >= sourcesMs) continue
    mkdirSync(outDir, { recursive: true })
    const temporary = `${out}.${process.pid}.tmp`
    try {
      await build({
        entryPoints: [entry],
        outfile: temporary,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        packages: 'external',
        sourcemap: 'inline',
        logLevel: 'silent'
      })
      renameSync(temporary, out)
    } finally {
      rmSync(temporary, { force: true })
    }
  }
  return outputs.map(({ out }) => out)
}
