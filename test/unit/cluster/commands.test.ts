/**
 * `corridor cluster` argument errors, in process (no node is started): each is a usage error,
 * exit 2, with a message that names the flag; a directory without a cluster is exit 1 with the
 * error code. The flow of `up`, `status` and `down` with real processes is test/e2e/clusterCommands.
 */
import t from 'tap'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { main } from '../../../src/cli/main.ts'
import { portRangeProblem } from '../../../src/cli/clusterCommands.ts'

/** Runs `corridor ...args` in this process and captures what it writes. */
async function corridor(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = []
  const err: string[] = []
  const stdoutWrite = process.stdout.write
  const stderrWrite = process.stderr.write
  process.stdout.write = ((chunk: string | Uint8Array) => out.push(String(chunk)) > 0) as typeof process.stdout.write
  process.stderr.write = ((chunk: string | Uint8Array) => err.push(String(chunk)) > 0) as typeof process.stderr.write
  try {
    const code = await main(args)
    return { code, stdout: out.join(''), stderr: err.join('') }
  } finally {
    process.stdout.write = stdoutWrite
    process.stderr.write = stderrWrite
  }
}

t.test('bad arguments are usage errors (exit 2) that name the flag', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['cluster', 'up'], /--dir DIR is required/],
    [['cluster', 'up', '--dir', 'x', '--banks', '0'], /--banks must be an integer from 1 to 64, got 0/],
    [['cluster', 'up', '--dir', 'x', '--banks', 'four'], /--banks must be an integer from 1 to 64, got four/],
    [['cluster', 'up', '--dir', 'x', '--customers=-1'], /--customers must be an integer from 1 to 10000, got -1/],
    [['cluster', 'up', '--dir', 'x', '--timeout', '0'], /--timeout must be an integer from 1 to 3600, got 0/],
    [['cluster', 'up', '--dir', 'x', '--base-port', '80'], /--base-port must be an integer from 1024 to 65535, got 80/],
    [['cluster', 'up', '--dir', 'x', '--base-port', '65534'], /--base-port 65534 leaves no room for 4 banks/],
    [['cluster', 'up', '--dir', 'x', '--base-port', '30000', '--http-base-port', '30002'], /--base-port 30000 and --http-base-port 30002 overlap for 4 banks/],
    [['cluster', 'up', '--dir', 'x', '--http-base-port', 'x'], /--http-base-port must be an integer/],
    [['cluster', 'up', '--dir', 'x', '--log-level', 'loud'], /--log-level must be one of .*got loud/],
    [['cluster', 'up', '--dir', 'x', '--bogus'], /Unknown option '--bogus'/],
    [['cluster', 'up', '--dir'], /--dir/],
    [['cluster', 'down'], /--dir DIR is required/],
    [['cluster', 'status'], /--dir DIR is required/],
    [['cluster', 'run'], /expected one scenario file/],
    [['cluster', 'run', 'a.yaml', 'b.yaml'], /expected one scenario file/],
    [['cluster', 'run', 'a.yaml', '--speed', '0'], /--speed must be a number above 0 and at most 100, got 0/],
    [['cluster', 'run', 'a.yaml', '--speed', 'fast'], /--speed must be a number above 0 and at most 100, got fast/],
    [['cluster', 'run', 'a.yaml', '--seed=-3'], /--seed must be an integer from 0 to 4294967295, got -3/],
    [['cluster', 'run', 'a.yaml', '--hosts', 'netns'], /--hosts netns is not available: it needs root privileges/],
    [['cluster', 'run', 'a.yaml', '--hosts', 'docker'], /--hosts must be local .*got docker/],
    [['cluster', 'run', 'a.yaml', '--log-level', 'loud'], /--log-level must be one of/],
    [['cluster', 'frobnicate'], /unknown command 'frobnicate'/],
    [['cluster'], /^$/]
  ]
  for (const [args, message] of cases) {
    const result = await corridor(...args)
    t.equal(result.code, 2, `${args.join(' ')}: exit 2`)
    t.match(result.stderr, message, `${args.join(' ')}: ${message.source}`)
    t.notMatch(result.stderr, /\n\s+at .+:\d+:\d+\)?\n/, `${args.join(' ')}: no stack trace`)
  }
})

t.test('a directory without a cluster: exit 1 with the code and the way out', async (t) => {
  const dir = join(tmpdir(), `no-such-cluster-${process.pid}`)
  for (const command of ['down', 'status']) {
    const result = await corridor('cluster', command, '--dir', dir)
    t.equal(result.code, 1, `${command}: exit 1`)
    t.match(result.stderr, /CLUSTER_NOT_FOUND: no cluster in .*create one with 'corridor cluster up --banks N --dir/)
  }
})

t.test('--help prints the commands and exits 0', async (t) => {
  const result = await corridor('cluster', '--help')
  t.equal(result.code, 0)
  for (const command of ['up --dir DIR', 'down --dir DIR', 'status --dir DIR', 'run <scenario>', '--base-port P']) t.match(result.stdout, command)
})

t.test('port ranges', async (t) => {
  t.equal(portRangeProblem(4, undefined, undefined), undefined, 'none given: free ranges are found')
  t.equal(portRangeProblem(4, 30_000, undefined), undefined, 'HTTP after the p2p range')
  t.equal(portRangeProblem(4, 30_000, 30_004), undefined, 'adjacent ranges')
  t.equal(portRangeProblem(4, 30_004, 30_000), undefined, 'the HTTP range first')
  t.match(portRangeProblem(4, 30_000, 30_003), /overlap/)
  t.match(portRangeProblem(4, 65_530, undefined), /--http-base-port 65534 leaves no room/)
  t.equal(portRangeProblem(1, 65_535, 65_534), undefined, 'one bank at the top of the range')
})
