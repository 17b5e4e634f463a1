/**
 * `corridor cluster up | status | down` as a user runs them: `up` returns once the network is
 * finalizing and prints each bank's API address (which answers), `down` stops every process, and
 * `up` again starts the same network from its data, and `up` with fixed ports uses them. Bad
 * arguments are usage errors (exit 2); test/unit/cluster/commands.test.ts has the cases.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { freePortRange } from '../../src/cluster/ports.ts'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '../..')

async function corridor(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(root, 'bin', 'corridor.js'), ...args], { cwd: root, timeout: 120_000 })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string }
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr }
  }
}

/** Alive and not a zombie (an exited node whose parent, `cluster up`, is gone may wait for init to reap it). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

t.test('the binary: a bad argument exits 2 naming the flag (the other cases: test/unit/cluster/commands.test.ts)', async (t) => {
  const result = await corridor('cluster', 'up', '--dir', 'x', '--banks', '0')
  t.equal(result.code, 2)
  t.match(result.stderr, /--banks must be an integer from 1 to 64, got 0/)
  const missing = await corridor('cluster', 'down', '--dir', join(tmpdir(), 'no-such-cluster'))
  t.equal(missing.code, 1)
  t.match(missing.stderr, /CLUSTER_NOT_FOUND: no cluster in/)
})

t.test('cluster up returns when finalizing and prints the API addresses; down stops it; up again restarts it', async (t) => {
  const parent = mkdtempSync(join(tmpdir(), 'corridor-cli-cluster-'))
  const dir = join(parent, 'net')
  t.teardown(async () => {
    await corridor('cluster', 'down', '--dir', dir)
    rmSync(parent, { recursive: true, force: true })
  })
  const basePort = await freePortRange(8)
  const up = await corridor('cluster', 'up', '--banks', '4', '--dir', dir, '--base-port', String(basePort))
  t.equal(up.code, 0, `up exits 0 (${up.stderr.trim()})`)
  const apis = [...up.stdout.matchAll(/(http:\/\/127\.0\.0\.1:\d+)/g)].map((m) => m[1]!)
  t.same(apis, [4, 5, 6, 7].map((i) => `http://127.0.0.1:${basePort + i}`), `up prints four API addresses, on --base-port ${basePort} + 4 + i`)
  for (const api of apis) {
    const health = (await (await fetch(`${api}/v1/health`)).json()) as { height: number; peers: number }
    t.ok(health.height >= 1 && health.peers === 3, `${api} answers: height ${health.height}, ${health.peers} peers`)
  }
  const pids = (JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')) as { banks: Array<{ pid: number }> }).banks.map((b) => b.pid)
  t.ok(pids.every(alive), 'four node processes run after up has returned')

  const again = await corridor('cluster', 'up', '--dir', dir)
  t.match(again.stdout, /already running \(4 nodes\)/, 'up on a running cluster says so')

  const status = await corridor('cluster', 'status', '--dir', dir)
  t.equal((status.stdout.match(/running {2}pid/g) ?? []).length, 4, 'status lists four running nodes')

  const down = await corridor('cluster', 'down', '--dir', dir)
  t.equal(down.code, 0)
  t.equal((down.stdout.match(/ stopped\n/g) ?? []).length, 4, 'down stops four nodes cleanly')
  t.ok(pids.every((pid) => !alive(pid)), 'no node process is left')

  const restarted = await corridor('cluster', 'up', '--dir', dir)
  t.equal(restarted.code, 0)
  t.match(restarted.stdout, /starting 4 stopped nodes/, 'up starts the stopped cluster from its data')
  const height = Number(/height (\d+)/.exec(restarted.stdout)?.[1])
  t.ok(height > 1, `the restarted network continues its chain (height ${height})`)
})
