/**
 * `corridor cluster run` of the Byzantine scenario (a shortened copy of
 * configs/scenarios/byzantine-equivocate.yaml in test/e2e/fixtures): one of four real node
 * processes, started with --byzantine-allowed, is switched through its admin endpoint to
 * equivocate, then to sign garbage, then to censor. The run must pass (exit 0): every invariant
 * holds on the honest nodes, the equivocation left evidence, and the payments finalized through
 * the honest proposers; in under two minutes.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '../..')

t.test('cluster run of byzantine-equivocate-short passes: invariants hold, evidence recorded, payments final', { timeout: 200_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'corridor-cluster-byzantine-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const started = Date.now()
  let code = 0
  let stdout = ''
  try {
    ;({ stdout } = await run(process.execPath, [join(root, 'bin', 'corridor.js'), 'cluster', 'run', join(root, 'test/e2e/fixtures/byzantine-equivocate-short.yaml'), '--out', join(dir, 'out')], { cwd: root, timeout: 170_000, maxBuffer: 16 * 1024 * 1024 }))
  } catch (error) {
    const failure = error as { code: number; stdout: string }
    code = failure.code
    stdout = failure.stdout
  }
  const seconds = (Date.now() - started) / 1000
  t.comment(`cluster run of byzantine-equivocate-short: ${seconds.toFixed(1)} s`)
  t.equal(code, 0, 'the run passes (exit 0)')
  if (code !== 0) t.comment(stdout.slice(-3000))
  t.ok(seconds < 120, `it took ${seconds.toFixed(1)} s (< 120 s)`)
  const summary = JSON.parse(readFileSync(join(dir, 'out', 'summary.json'), 'utf8')) as {
    backend: string
    ok: boolean
    evidence: number
    faults: number
    finalized: number
    invariants: { ok: boolean; checked: string[]; violations: unknown[] }
    expectations: { ok: boolean }
    submission: { offeredTps: number; achievedTps: number }
  }
  t.equal(summary.backend, 'cluster')
  t.same(summary.invariants.violations, [], 'no invariant violated')
  t.same([...summary.invariants.checked].sort(), ['agreement', 'conservation', 'liveness', 'non-negative', 'policy', 'state-root'], 'every invariant checked')
  t.ok(summary.evidence > 0, `the equivocation left evidence (${summary.evidence})`)
  t.equal(summary.faults, 6, 'three behaviours switched on and off')
  t.ok(summary.finalized >= 0.99, `payments final through the honest proposers (${(summary.finalized * 100).toFixed(1)}%)`)
  t.ok(summary.expectations.ok && summary.ok, 'expectations met')
  t.ok(summary.submission.offeredTps > 0 && summary.submission.achievedTps > 0, 'offered and achieved submission rates reported')
  const events = readFileSync(join(dir, 'out', 'events.jsonl'), 'utf8')
  t.match(events, /"fault":"dbs turns Byzantine: equivocate"/, 'events.jsonl records the behaviours')
})
