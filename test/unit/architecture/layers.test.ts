/**
 * The rule that holds Corridor together: the core (protocol, ledger, consensus, the replica) does
 * no I/O, reads no clock and draws no randomness; and each layer imports only the layers below it.
 * This test reads the sources and fails on any import or call that breaks the rule.
 */
import t from 'tap'
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs'
import { join, relative, dirname, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '../../..')
const src = join(root, 'src')

/** What each core layer may import, as paths relative to src/. */
const allowedImports: Record<string, string[]> = {
  protocol: ['protocol/'],
  ledger: ['protocol/', 'ledger/', 'config/errors.ts', 'config/validate.ts'],
  consensus: ['protocol/', 'consensus/'],
  'node/replica': ['protocol/', 'ledger/', 'consensus/', 'node/replica/', 'config/errors.ts', 'config/validate.ts']
}
const allowedPackages = [/^msgpackr$/, /^@noble\//, /^zod$/]

const forbiddenCalls: Array<[RegExp, string]> = [
  [/\bDate\.now\s*\(/, 'reads the clock (Date.now)'],
  [/\bnew Date\s*\(\s*\)/, 'reads the clock (new Date())'],
  [/\bperformance\.now\s*\(/, 'reads the clock (performance.now)'],
  [/\bMath\.random\s*\(/, 'draws randomness (Math.random)'],
  [/\b(setTimeout|setInterval|setImmediate|queueMicrotask)\s*\(/, 'uses a timer'],
  [/\bprocess\.(env|argv|stdout|stderr|exit|hrtime)\b/, 'touches the process'],
  [/\bcrypto\.getRandomValues\b/, 'draws randomness (getRandomValues)']
]

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith('.ts') ? [path] : []
  })
}

function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1')
}

const importPattern = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g

for (const [layer, allowed] of Object.entries(allowedImports)) {
  t.test(`${layer}/ stays pure and imports only ${allowed.join(', ')}`, async (t) => {
    const files = filesUnder(join(src, layer)).filter((file) => !file.includes(`${join(src, layer)}/testing/`))
    for (const file of files) {
      const name = relative(root, file)
      const source = stripComments(readFileSync(file, 'utf8'))
      for (const match of source.matchAll(importPattern)) {
        const specifier = (match[1] ?? match[2])!
        if (specifier.startsWith('.')) {
          const target = relative(src, resolve(dirname(file), specifier))
          t.ok(
            allowed.some((prefix) => target === prefix || target.startsWith(prefix)),
            `${name} imports ${target}, outside ${allowed.join(', ')}`
          )
        } else {
          t.ok(
            allowedPackages.some((pattern) => pattern.test(specifier)),
            `${name} imports package ${specifier}; the core may use only msgpackr, @noble/* and zod`
          )
        }
      }
      for (const [pattern, what] of forbiddenCalls) {
        t.notOk(pattern.test(source), `${name} ${what}`)
      }
    }
    t.ok(files.length > 0 || layer === 'node/replica', `${layer}/ has sources`)
  })
}
