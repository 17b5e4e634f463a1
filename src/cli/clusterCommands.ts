/**
 * `corridor cluster up | down | status`: a local network of real node processes under one
 * directory (src/cluster/localCluster.ts). `up` returns once the network is finalizing blocks and
 * prints each bank's API address; the nodes keep running until `down`.
 */
import { parseArgs } from 'node:util'
import { existsSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { commandGroup } from './commandGroup.ts'
import { logLevels } from '../node/config.ts'
import { LocalCluster } from '../cluster/localCluster.ts'
import { ClusterError } from '../cluster/errors.ts'
import { ConfigError } from '../config/errors.ts'
import { integerOption } from './options.ts'

const usage = `usage: corridor cluster <command> [options]

commands:
  up --dir DIR [--banks N] [--base-port P] [--http-base-port P] [--customers N] [--log-level L]
     [--timeout S] [--fault-injection]
        create a network of N banks under DIR (default 4; keys, genesis, node configs) and start a
        node process per bank, or start again the stopped nodes of the cluster already in DIR;
        libp2p on 127.0.0.1 ports P+i (default: a free range), the HTTP APIs on the HTTP base
        port + i (default: --base-port + N, or a free range);
        returns when every node is connected to the others and finalizing blocks, and prints
        each bank's API address. --fault-injection starts the nodes with the testing-only fault
        layer and admin endpoints (token in DIR/admin.token; docs/operations.md, section 8).
  down --dir DIR [--purge]
        stop every node (SIGTERM, then SIGKILL after 10 s); the data stays for the next 'up'
        unless --purge removes DIR.
  status --dir DIR
        each node: running or not, pid, height, peers, API address.
  run <scenario> [--out DIR] [--speed X] [--seed N] [--log-level L] [--keep] [--hosts local]
        run a scenario file (the format of 'corridor sim run') against real node processes: the
        scenario's banks as nodes (genesis from the scenario, in DIR/cluster), its workload
        submitted in real time (compressed X times by --speed), its faults injected for real
        (docs/faults.md), the invariants read through every node's API about once a second and
        at the end. Writes summary.json, transfers.csv, events.jsonl and report.html in DIR
        (default out/<scenario>-cluster). Exit 1 on a violated invariant or a failed expectation.
        --keep leaves the nodes running. --hosts local (the only one): every node on loopback,
        the scenario's latency laid on by each node's fault layer; --hosts netns (a network
        namespace per bank with netem) is not available (docs/faults.md).
`

function usageError(command: string, message: string): number {
  process.stderr.write(`corridor cluster ${command}: ${message}\n\n${usage}`)
  return 2
}

function reportClusterError(command: string, error: unknown): number {
  if (error instanceof ClusterError) {
    process.stderr.write(`corridor cluster ${command}: ${error.code}: ${error.message}\n`)
    return 1
  }
  throw error
}

async function up(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      dir: { type: 'string' },
      banks: { type: 'string' },
      'base-port': { type: 'string' },
      'http-base-port': { type: 'string' },
      customers: { type: 'string' },
      'log-level': { type: 'string' },
      timeout: { type: 'string' },
      'fault-injection': { type: 'boolean' }
    }
  })
  if (values.dir === undefined) return usageError('up', '--dir DIR is required')
  const banks = integerOption(values.banks, 'banks', 1, 64)
  const customers = integerOption(values.customers, 'customers', 1, 10_000)
  const timeout = integerOption(values.timeout, 'timeout', 1, 3_600)
  const basePort = integerOption(values['base-port'], 'base-port', 1_024, 65_535)
  const httpBasePort = integerOption(values['http-base-port'], 'http-base-port', 1_024, 65_535)
  for (const problem of [banks, customers, timeout, basePort, httpBasePort]) if (typeof problem === 'string') return usageError('up', problem)
  const portProblem = portRangeProblem((banks as number | undefined) ?? 4, basePort as number | undefined, httpBasePort as number | undefined)
  if (portProblem !== undefined) return usageError('up', portProblem)
  const logLevel = values['log-level']
  if (logLevel !== undefined && !(logLevels as readonly string[]).includes(logLevel)) return usageError('up', `--log-level must be one of ${logLevels.join(', ')}, got ${logLevel}`)
  try {
    let cluster: LocalCluster
    if (existsSync(join(values.dir, 'cluster.json'))) {
      cluster = LocalCluster.open(values.dir)
      if (typeof banks === 'number' && banks !== cluster.nodes.length) {
        return usageError('up', `${resolve(values.dir)} holds a cluster of ${cluster.nodes.length} banks, not ${banks}; omit --banks to start it again, or choose another --dir`)
      }
      if (basePort !== undefined || httpBasePort !== undefined) {
        return usageError('up', `${resolve(values.dir)} holds a cluster whose ports are in its node configs; omit --base-port and --http-base-port to start it again, or choose another --dir`)
      }
      const running = cluster.running()
      if (running.length === cluster.nodes.length) {
        process.stdout.write(`cluster in ${cluster.dir} is already running (${running.length} nodes)\n`)
      } else {
        process.stdout.write(`cluster in ${cluster.dir}: starting ${cluster.nodes.length - running.length} stopped node${cluster.nodes.length - running.length === 1 ? '' : 's'}\n`)
      }
    } else {
      cluster = await LocalCluster.create({
        dir: values.dir,
        banks: (banks as number | undefined) ?? 4,
        ...(customers === undefined ? {} : { customersPerBank: customers as number }),
        ...(basePort === undefined ? {} : { basePort: basePort as number, httpBasePort: (httpBasePort as number | undefined) ?? (basePort as number) + ((banks as number | undefined) ?? 4) }),
        ...(basePort === undefined && httpBasePort !== undefined ? { httpBasePort: httpBasePort as number } : {}),
        ...(logLevel === undefined ? {} : { logLevel }),
        faultInjection: values['fault-injection'] ?? false
      })
      process.stdout.write(`cluster of ${cluster.nodes.length} banks created in ${cluster.dir}\n`)
    }
    cluster.startAll()
    const started = Date.now()
    const heights = await cluster.waitFinalizing(((timeout as number | undefined) ?? 60) * 1000)
    process.stdout.write(`finalizing after ${((Date.now() - started) / 1000).toFixed(1)} s:\n`)
    for (const node of cluster.nodes) process.stdout.write(`  ${node.bank.padEnd(12)} ${node.api}   pid ${node.pid}   height ${heights[node.bank]}   log ${cluster.logPath(node.bank)}\n`)
    process.stdout.write(`stop with: corridor cluster down --dir ${values.dir}\n`)
    return 0
  } catch (error) {
    return reportClusterError('up', error)
  }
}

/** Ports given on the command line: within 1,024-65,535 for every bank, the two ranges apart. */
export function portRangeProblem(banks: number, basePort: number | undefined, httpBasePort: number | undefined): string | undefined {
  if (basePort !== undefined && basePort + banks - 1 > 65_535) return `--base-port ${basePort} leaves no room for ${banks} banks (ports ${basePort} to ${basePort + banks - 1})`
  const http = httpBasePort ?? (basePort === undefined ? undefined : basePort + banks)
  if (http !== undefined && http + banks - 1 > 65_535) return `--http-base-port ${http} leaves no room for ${banks} banks (ports ${http} to ${http + banks - 1})`
  if (basePort !== undefined && http !== undefined && Math.abs(http - basePort) < banks) return `--base-port ${basePort} and --http-base-port ${http} overlap for ${banks} banks (each range needs ${banks} ports)`
  return undefined
}

async function down(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { dir: { type: 'string' }, purge: { type: 'boolean' } } })
  if (values.dir === undefined) return usageError('down', '--dir DIR is required')
  try {
    const cluster = LocalCluster.open(values.dir)
    const outcomes = await cluster.stopAll()
    for (const [bank, outcome] of Object.entries(outcomes)) process.stdout.write(`  ${bank.padEnd(12)} ${outcome}\n`)
    if (values.purge === true) {
      rmSync(cluster.dir, { recursive: true, force: true })
      process.stdout.write(`removed ${cluster.dir}\n`)
    } else {
      process.stdout.write(`data kept in ${cluster.dir}; 'corridor cluster up --dir ${values.dir}' starts it again\n`)
    }
    return 0
  } catch (error) {
    return reportClusterError('down', error)
  }
}

async function status(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { dir: { type: 'string' } } })
  if (values.dir === undefined) return usageError('status', '--dir DIR is required')
  try {
    const cluster = LocalCluster.open(values.dir)
    for (const node of cluster.nodes) {
      if (!cluster.isRunning(node.bank)) {
        process.stdout.write(`  ${node.bank.padEnd(12)} stopped\n`)
        continue
      }
      const health = await cluster.client(node.bank, 2_000).health().catch(() => undefined)
      process.stdout.write(`  ${node.bank.padEnd(12)} running  pid ${node.pid}  ${health === undefined ? 'API not answering' : `height ${health.height}  peers ${health.peers}`}  ${node.api}\n`)
    }
    return 0
  } catch (error) {
    return reportClusterError('status', error)
  }
}

async function run(args: string[]): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { out: { type: 'string' }, speed: { type: 'string' }, seed: { type: 'string' }, 'log-level': { type: 'string' }, keep: { type: 'boolean' }, hosts: { type: 'string' } }
    })
  } catch (error) {
    return usageError('run', (error as Error).message)
  }
  const { values, positionals } = parsed
  if (positionals.length !== 1) return usageError('run', 'expected one scenario file')
  const speed = values.speed === undefined ? 1 : Number(values.speed)
  if (!(Number.isFinite(speed) && speed > 0 && speed <= 100)) return usageError('run', `--speed must be a number above 0 and at most 100, got ${values.speed}`)
  const seed = integerOption(values.seed, 'seed', 0, 2 ** 32 - 1)
  if (typeof seed === 'string') return usageError('run', seed)
  const hosts = values.hosts ?? 'local'
  if (hosts === 'netns') {
    return usageError('run', "--hosts netns is not available: it needs root privileges (ip netns add, veth pairs, tc netem) and is not built; --hosts local lays the scenario's latency table on each node's fault layer instead (docs/faults.md)")
  }
  if (hosts !== 'local') return usageError('run', `--hosts must be local (netns is not available), got ${hosts}`)
  const logLevel = values['log-level']
  if (logLevel !== undefined && !(logLevels as readonly string[]).includes(logLevel)) return usageError('run', `--log-level must be one of ${logLevels.join(', ')}, got ${logLevel}`)
  const { runClusterScenario } = await import('../cluster/run.ts')
  try {
    const result = await runClusterScenario(positionals[0]!, {
      ...(values.out === undefined ? {} : { out: values.out }),
      speed,
      ...(seed === undefined ? {} : { seed }),
      ...(logLevel === undefined ? {} : { logLevel }),
      keep: values.keep ?? false,
      progress: (line) => process.stdout.write(`${line}\n`)
    })
    const s = result.summary
    const out = process.stdout
    out.write(`\n${s.scenario} (seed ${s.seed}) on real nodes: ${s.ok ? 'PASS' : 'FAIL'} in ${(s.wallMs / 1000).toFixed(1)} s\n`)
    out.write(`  transfers   ${s.transfers.submitted} submitted, ${s.transfers.finalized} final (${(s.finalized * 100).toFixed(1)}%), ${s.transfers.settled} settled, ${s.transfers.pending} pending${Object.keys(s.transfers.rejected).length === 0 ? '' : `, rejected ${Object.entries(s.transfers.rejected).map(([code, n]) => `${code} ${n}`).join(', ')}`}\n`)
    out.write(`  latency     p50 ${s.latencyMs.p50} ms, p90 ${s.latencyMs.p90} ms, p99 ${s.latencyMs.p99} ms, max ${s.latencyMs.max} ms\n`)
    out.write(`  submission  offered ${s.submission.offeredTps}/s, achieved ${s.submission.achievedTps}/s (lag p99 ${s.submission.lagMs.p99} ms); finalized ${s.throughputTps}/s\n`)
    out.write(`  chain       ${s.blocks} blocks, ${s.faults} fault events, ${s.evidence} evidence\n`)
    out.write(`  invariants  ${s.invariants.ok ? `ok (${s.invariants.checked.join(', ')})` : `${s.invariants.violations.length} violated`}\n`)
    for (const v of s.invariants.violations.slice(0, 10)) out.write(`    ${v.invariant} at ${(v.atMs / 1000).toFixed(1)} s${v.node === undefined ? '' : ` on ${v.node}`}${v.height === undefined ? '' : ` height ${v.height}`}: ${v.message}\n`)
    out.write(`  expectations ${s.expectations.ok ? 'met' : s.expectations.failed.map((f) => `${f.metric} expected ${f.expected}, got ${f.actual}`).join('; ')}\n`)
    for (const note of s.notes) out.write(`  note: ${note}\n`)
    out.write(`  outputs     ${result.outputs.summary}, transfers.csv, events.jsonl, report.html\n`)
    return s.ok ? 0 : 1
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`corridor cluster run: ${error.message}\n`)
      return 2
    }
    return reportClusterError('run', error)
  }
}

export const clusterCommands = commandGroup('cluster', 'a local network of node processes: up, down, status, run', usage, { up, down, status, run })
