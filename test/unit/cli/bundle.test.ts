import t from 'tap'
import { mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { cliBundle } from '../../../bin/bundle.js'

// A miniature repository: the two entry points the node bundle is built from, one importing a
// TypeScript sibling with its .ts extension as the real sources do.
function makeRepository(): string {
  const root = mkdtempSync(join(tmpdir(), 'corridor-bundle-'))
  mkdirSync(join(root, 'src', 'cli'), { recursive: true })
  writeFileSync(join(root, 'src', 'polyfill.ts'), 'export {}\n(globalThis as { polyfilled?: boolean }).polyfilled = true\n')
  writeFileSync(join(root, 'src', 'cli', 'answer.ts'), 'export const answer: number = 42\n')
  writeFileSync(
    join(root, 'src', 'cli', 'main.ts'),
    "import { answer } from './answer.ts'\nexport function main(): number { return answer }\nexport function fail(): never { throw new Error('from main.ts') }\n"
  )
  writeFileSync(join(root, 'package-lock.json'), '{}\n')
  return root
}

t.test('the node bundle is built once, runs the sources, and maps errors back to them', async (t) => {
  const root = makeRepository()
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  const [polyfill, cli] = await cliBundle(root)
  t.match(polyfill, /\.build\/cli\/polyfill\.mjs$/)
  t.match(cli, /\.build\/cli\/corridor\.mjs$/)
  await import(pathToFileURL(polyfill).href)
  t.equal((globalThis as { polyfilled?: boolean }).polyfilled, true, 'the polyfill ran')
  const module = (await import(pathToFileURL(cli).href)) as { main(): number; fail(): never }
  t.equal(module.main(), 42)
  process.setSourceMapsEnabled(true)
  let stack = ''
  try {
    module.fail()
  } catch (error) {
    stack = (error as Error).stack ?? ''
  }
  t.match(stack, /src\/cli\/main\.ts:3/, 'the stack names the TypeScript source and line')

  const builtMs = statSync(cli).mtimeMs
  await cliBundle(root)
  t.equal(statSync(cli).mtimeMs, builtMs, 'nothing newer: not rebuilt')
})

t.test('an edited source is never run stale, and a broken one is reported', async (t) => {
  const root = makeRepository()
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  const [, cli] = await cliBundle(root)
  const later = new Date(statSync(cli).mtimeMs + 5_000)
  writeFileSync(join(root, 'src', 'cli', 'answer.ts'), 'export const answer: number = 43\n')
  utimesSync(join(root, 'src', 'cli', 'answer.ts'), later, later)
  await cliBundle(root)
  // A fresh URL: the module cache would otherwise hand back the first build.
  const module = (await import(`${pathToFileURL(cli).href}?v=2`)) as { main(): number }
  t.equal(module.main(), 43, 'rebuilt after a source changed')

  writeFileSync(join(root, 'src', 'cli', 'answer.ts'), 'export const answer: number = \n')
  const broken = new Date(later.getTime() + 5_000)
  utimesSync(join(root, 'src', 'cli', 'answer.ts'), broken, broken)
  await t.rejects(cliBundle(root), /answer\.ts/, 'the error names the file')
  const again = (await import(`${pathToFileURL(cli).href}?v=3`)) as { main(): number }
  t.equal(again.main(), 43, 'the last good bundle is left in place, not a half-written one')
})
