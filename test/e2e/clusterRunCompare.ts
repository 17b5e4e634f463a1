/**
 * Shared by clusterRun*.test.ts (one file per scenario, so the test runner spreads the three real
 * runs over its jobs): `corridor cluster run` against real node processes, compared with
 * `corridor sim run` of the same scenario file: the crash-and-restart, the partition-and-heal and the Byzantine
 * (equivocate, invalid signatures, censor) scenarios, the real files in configs/scenarios (45-50 s
 * of workload and 15-20 s of drain each), must pass on the cluster backend (exit 0: every invariant
 * and every expectation, latency.p50 < 1s of crash-restart included) in under two minutes of wall
 * time, keep every invariant on both backends,
 * generate the same transfers, and settle or reject every one of them with the same amount
 * received on both: every payment is within policy, and the few refused for funds are refused
 * whatever the order (their payers only pay, so their own nonce order decides). Where the
 * simulator records evidence (equivocation), the cluster must record some too.
 */
import type { Test } from 'tap'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '../..')

async function corridor(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(root, 'bin', 'corridor.js'), ...args], { cwd: root, timeout: 170_000, maxBuffer: 16 * 1024 * 1024 })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string }
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr }
  }
}

interface Summary {
  backend: string
  transfers: { submitted: number; settled: number; pending: number }
  invariants: { ok: boolean; checked: string[]; violations: unknown[] }
  submission?: { offeredTps: number; achievedTps: number }
  evidence: number
  wallMs: number
}

/** id -> status and amount received, from transfers.csv. */
function outcomes(dir: string): Map<string, string> {
  const [header, ...rows] = readFileSync(join(dir, 'transfers.csv'), 'utf8').trimEnd().split('\n')
  const columns = header!.split(',')
  const id = columns.indexOf('id')
  const status = columns.indexOf('status')
  const received = columns.indexOf('received')
  return new Map(rows.map((row) => row.split(',')).map((cells) => [cells[id]!, `${cells[status]} ${cells[received]}`]))
}

/** Runs the scenario file (a path from the repository's root) on both backends and compares them (see above). Up to about two and a half minutes. */
export async function compareBackends(t: Test, file: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'corridor-cluster-run-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const scenario = join(root, file)
  const started = Date.now()
  const cluster = await corridor('cluster', 'run', scenario, '--out', join(dir, 'cluster-out'))
  const clusterSeconds = (Date.now() - started) / 1000
  t.comment(`cluster run of ${file}: ${clusterSeconds.toFixed(1)} s`)
  t.ok(clusterSeconds < 120, `cluster run took ${clusterSeconds.toFixed(1)} s (< 120 s)`)
  t.equal(cluster.code, 0, 'the cluster run passes: every invariant and every expectation of the scenario')
  if (cluster.code !== 0) t.comment(cluster.stdout.slice(-3000) + cluster.stderr.slice(-1000))
  const sim = await corridor('sim', 'run', scenario, '--out', join(dir, 'sim-out'))
  const clusterSummary = JSON.parse(readFileSync(join(dir, 'cluster-out', 'summary.json'), 'utf8')) as Summary
  const simSummary = JSON.parse(readFileSync(join(dir, 'sim-out', 'summary.json'), 'utf8')) as Summary

  t.equal(clusterSummary.backend, 'cluster')
  t.equal(simSummary.backend, 'sim')
  // The invariant verdicts, both ways.
  t.same(clusterSummary.invariants.violations, [], 'cluster invariants hold')
  if (!clusterSummary.invariants.ok) t.comment(cluster.stdout.slice(-3000))
  t.ok(simSummary.invariants.ok, 'sim invariants hold')
  t.equal(clusterSummary.invariants.ok, simSummary.invariants.ok, 'same invariant verdict')
  t.same([...clusterSummary.invariants.checked].sort(), [...simSummary.invariants.checked].sort(), 'the same invariants checked')
  // An invariant failure exits 1 on either backend; a missed expectation too (the cluster's
  // latency figures are not the simulator's), so only the invariants are compared by verdict.
  if (!clusterSummary.invariants.ok) t.equal(cluster.code, 1)
  if (sim.code !== 0) t.comment(sim.stdout.slice(-1000))

  // The same workload, and every payment funded and within policy: every one settles, with the same amount received.
  t.equal(clusterSummary.transfers.submitted, simSummary.transfers.submitted, 'same transfers generated')
  t.equal(clusterSummary.transfers.pending, 0, 'nothing left pending on the cluster')
  if (clusterSummary.transfers.pending !== 0) t.comment(cluster.stdout.slice(-3000))
  // Equivocation leaves evidence on both (the counts differ: real timing, other rounds).
  if (simSummary.evidence > 0) t.ok(clusterSummary.evidence > 0, `evidence on both backends (sim ${simSummary.evidence}, cluster ${clusterSummary.evidence})`)
  const clusterOutcomes = outcomes(join(dir, 'cluster-out'))
  const simOutcomes = outcomes(join(dir, 'sim-out'))
  t.same([...clusterOutcomes.keys()].sort(), [...simOutcomes.keys()].sort(), 'same transaction ids')
  let differing = 0
  for (const [id, outcome] of simOutcomes) if (clusterOutcomes.get(id) !== outcome) differing++
  t.equal(differing, 0, 'every transfer has the same outcome and amount received on both backends')

  t.ok(clusterSummary.submission !== undefined && clusterSummary.submission.offeredTps > 0 && clusterSummary.submission.achievedTps > 0, 'offered and achieved submission rates')
  for (const output of ['transfers.csv', 'events.jsonl', 'report.html']) t.ok(readFileSync(join(dir, 'cluster-out', output)).length > 0, `${output} written`)
}
