/**
 * Where the cluster layer sits (docs/ARCHITECTURE.md): cluster/ may import every layer below the
 * command line (protocol, ledger, consensus, config, platform, node, sim) but never cli/; and no
 * layer but cli/ imports cluster/ (the node and the simulator know nothing of local clusters).
 * The core layers' own rules are test/unit/architecture/layers.test.ts.
 */
import t from 'tap'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const src = resolve(import.meta.dirname, '../../../src')

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith('.ts') ? [path] : []
  })
}

const importPattern = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g

/** Each source file's layer (its first folder under src/) and the layers it imports. */
function imports(): Array<{ file: string; layer: string; target: string }> {
  return filesUnder(src).flatMap((file) => {
    const source = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '')
    const layer = relative(src, file).split('/')[0]!
    return [...source.matchAll(importPattern)]
      .map((match) => (match[1] ?? match[2])!)
      .filter((specifier) => specifier.startsWith('.'))
      .map((specifier) => ({ file: relative(src, file), layer, target: relative(src, resolve(dirname(file), specifier)).split('/')[0]! }))
  })
}

t.test('cluster/ imports no cli/, and only cli/ imports cluster/', async (t) => {
  const all = imports()
  t.ok(all.some((entry) => entry.layer === 'cluster'), 'cluster/ has sources with imports')
  t.same(
    all.filter((entry) => entry.layer === 'cluster' && entry.target === 'cli').map((entry) => entry.file),
    [],
    'cluster/ does not import the command line'
  )
  t.same(
    all.filter((entry) => entry.target === 'cluster' && entry.layer !== 'cluster' && entry.layer !== 'cli').map((entry) => `${entry.file} imports cluster/`),
    [],
    'nothing below the command line imports cluster/'
  )
})
