/**
 * A local network of real node processes under one directory: `corridor cluster up/down`, the
 * end-to-end tests, the cluster benchmark and `corridor cluster run` all start, stop, kill and
 * pause nodes through this one class.
 *
 *   DIR/network.json, genesis.json, <bank>/...   written by initNetwork (see src/config/networkInit.ts)
 *   DIR/cluster.json                              the banks, their configs and API addresses, and
 *                                                 the pid of each node process started
 *   DIR/<bank>/node.log                           the node's JSON log lines (appended across restarts)
 *   DIR/admin.token                               with fault injection: the admin bearer token (0600)
 *
 * Node processes are detached, so `cluster up` can return and leave them running; `cluster down`
 * (another process) finds them by pid and checks /proc/<pid>/cmdline before signalling, so a pid
 * reused by an unrelated process after a crash is never killed.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, openSync, closeSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { initNetwork, standardBankSpecs, type BankSpec, type NetworkInitOptions } from '../config/networkInit.ts'
import { standardFxRates } from '../ledger/testing/network.ts'
import { ClusterError } from './errors.ts'
import { NodeClient, waitFor } from './nodeClient.ts'
import { freePortRange } from './ports.ts'

const corridorBin = resolve(import.meta.dirname, '../../bin/corridor.js')
const projectRoot = resolve(import.meta.dirname, '../..')

export interface ClusterNode {
  readonly bank: string
  readonly config: string
  readonly api: string
  pid?: number | undefined
}

interface Manifest {
  readonly version: 1
  readonly banks: ClusterNode[]
  readonly faultInjection: boolean
}

export interface CreateClusterOptions {
  readonly dir: string
  /** A number of standard banks, or the banks themselves (e.g. a scenario's). */
  readonly banks: number | readonly BankSpec[]
  readonly customersPerBank?: number
  readonly fxRates?: Readonly<Record<string, string | number>>
  readonly logLevel?: string
  /** Start nodes with the fault layer and the admin endpoints (testing only): writes DIR/admin.token. */
  readonly faultInjection?: boolean
  readonly basePort?: number
  readonly httpBasePort?: number
  /** A genesis built elsewhere, with the banks' validator keys (see initNetwork's `prebuilt`). */
  readonly genesis?: NetworkInitOptions['prebuilt']
  /** Network-wide consensus settings for network.json (see initNetwork's `consensus`). */
  readonly consensus?: NetworkInitOptions['consensus']
}

export type StopOutcome = 'stopped' | 'killed' | 'not-running'

/**
 * V8 options a node runs with (docs/operations.md gives them to banks too): a 32 MiB young
 * generation instead of V8's default 16 MiB. A node allocates short-lived objects for every
 * message and payment; with the default, scavenges ran often enough to promote many of them to
 * the old generation, and the collector took some 10% more CPU per payment under load.
 */
export const nodeProcessFlags: readonly string[] = ['--max-semi-space-size=32']

export class LocalCluster {
  readonly dir: string
  readonly nodes: readonly ClusterNode[]
  readonly faultInjection: boolean
  /**
   * Node.js options for the node processes started from now on (not saved in cluster.json):
   * `nodeProcessFlags` by default; add for example `--cpu-prof --cpu-prof-dir=/tmp/prof` to
   * profile them (bench/clusterNode.ts).
   */
  nodeExecArgv: readonly string[] = nodeProcessFlags
  readonly #children = new Map<string, ChildProcess>()

  private constructor(dir: string, manifest: Manifest) {
    this.dir = dir
    this.nodes = manifest.banks
    this.faultInjection = manifest.faultInjection
  }

  /** Writes a new network under `dir` (refused if one is there) and its cluster.json; starts nothing. */
  static async create(options: CreateClusterOptions): Promise<LocalCluster> {
    const dir = resolve(options.dir)
    if (existsSync(join(dir, 'cluster.json')) || existsSync(join(dir, 'network.json'))) {
      throw new ClusterError('CLUSTER_EXISTS', `${dir} already holds a network; use 'corridor cluster up --dir ${options.dir}' to start it again, or choose another directory`)
    }
    const banks = typeof options.banks === 'number' ? standardBankSpecs(options.banks) : options.banks
    const basePort = options.basePort ?? (await freePortRange(banks.length))
    let httpBasePort = options.httpBasePort ?? (await freePortRange(banks.length))
    while (options.httpBasePort === undefined && Math.abs(httpBasePort - basePort) < banks.length) httpBasePort = await freePortRange(banks.length)
    const nodes = initNetwork({
      dir,
      banks,
      fxRates: options.fxRates ?? standardFxRates,
      customersPerBank: options.customersPerBank ?? 8,
      basePort,
      httpBasePort,
      logLevel: options.logLevel ?? 'info',
      ...(options.genesis === undefined ? {} : { prebuilt: options.genesis }),
      ...(options.consensus === undefined ? {} : { consensus: options.consensus })
    })
    const faultInjection = options.faultInjection ?? false
    if (faultInjection) writeFileSync(join(dir, 'admin.token'), randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' })
    const cluster = new LocalCluster(dir, { version: 1, banks: nodes.map((node) => ({ bank: node.bank, config: node.config, api: node.api })), faultInjection })
    cluster.#save()
    return cluster
  }

  /** The cluster described by DIR/cluster.json. */
  static open(dir: string): LocalCluster {
    const path = join(resolve(dir), 'cluster.json')
    if (!existsSync(path)) throw new ClusterError('CLUSTER_NOT_FOUND', `no cluster in ${resolve(dir)} (no cluster.json); create one with 'corridor cluster up --banks N --dir ${dir}'`)
    let manifest: Manifest
    try {
      manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest
    } catch (error) {
      throw new ClusterError('CLUSTER_NOT_FOUND', `${path} is not valid JSON: ${(error as Error).message}`)
    }
    if (manifest.version !== 1 || !Array.isArray(manifest.banks)) throw new ClusterError('CLUSTER_NOT_FOUND', `${path} is not a cluster file of this version`)
    return new LocalCluster(resolve(dir), manifest)
  }

  node(bank: string): ClusterNode {
    const node = this.nodes.find((entry) => entry.bank === bank)
    if (node === undefined) throw new ClusterError('CLUSTER_NOT_FOUND', `no bank '${bank}' in the cluster at ${this.dir} (banks: ${this.nodes.map((n) => n.bank).join(', ')})`)
    return node
  }

  client(bank: string, timeoutMs?: number): NodeClient {
    const node = this.node(bank)
    return new NodeClient(node.bank, node.api, timeoutMs)
  }

  get adminToken(): string | undefined {
    return this.faultInjection ? readFileSync(join(this.dir, 'admin.token'), 'utf8').trim() : undefined
  }

  logPath(bank: string): string {
    return join(this.dir, this.node(bank).bank, 'node.log')
  }

  /** The last lines of a node's log, for error messages. */
  logTail(bank: string, lines = 8): string {
    const path = this.logPath(bank)
    if (!existsSync(path)) return '(no log yet)'
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  }

  /** The bank's LevelDB directory: node.json's `dataDir`, relative to that file. */
  dataDir(bank: string): string {
    const config = this.node(bank).config
    const node = JSON.parse(readFileSync(config, 'utf8')) as { dataDir?: unknown }
    if (typeof node.dataDir !== 'string') throw new ClusterError('CLUSTER_NOT_FOUND', `${config} names no dataDir`)
    return resolve(dirname(config), node.dataDir)
  }

  /** Starts the bank's node process (a new process on the same data directory if it ran before). */
  start(bank: string, extraArgs: readonly string[] = []): void {
    const node = this.node(bank)
    if (this.isRunning(bank)) throw new ClusterError('CLUSTER_RUNNING', `${bank} is already running (pid ${node.pid})`)
    const args = [corridorBin, 'node', 'start', '--config', node.config]
    if (this.faultInjection) args.push('--fault-injection', '--admin-token-file', join(this.dir, 'admin.token'), '--byzantine-allowed')
    args.push(...extraArgs)
    const log = openSync(this.logPath(bank), 'a')
    try {
      const child = spawn(process.execPath, [...this.nodeExecArgv, ...args], { cwd: projectRoot, detached: true, stdio: ['ignore', log, log] })
      child.unref()
      this.#children.set(bank, child)
      node.pid = child.pid
    } finally {
      closeSync(log)
    }
    this.#save()
  }

  startAll(): void {
    for (const node of this.nodes) if (!this.isRunning(node.bank)) this.start(node.bank)
  }

  /** Whether the bank's node process is alive (a paused one counts as alive). */
  isRunning(bank: string): boolean {
    const node = this.node(bank)
    const child = this.#children.get(bank)
    if (child !== undefined && child.pid === node.pid) return child.exitCode === null && child.signalCode === null
    return node.pid !== undefined && processIsNode(node.pid, node.config)
  }

  running(): string[] {
    return this.nodes.filter((node) => this.isRunning(node.bank)).map((node) => node.bank)
  }

  /** Sends a signal to the bank's node; for SIGKILL and SIGTERM, waits (bounded) until it is gone. */
  async signal(bank: string, signal: NodeJS.Signals, waitMs = 15_000): Promise<void> {
    const node = this.node(bank)
    if (!this.isRunning(bank) || node.pid === undefined) throw new ClusterError('NODE_EXITED', `${bank} is not running`)
    process.kill(node.pid, signal)
    if (signal === 'SIGKILL' || signal === 'SIGTERM') await waitFor(`${bank} (pid ${node.pid}) to exit after ${signal}`, async () => (this.isRunning(bank) ? undefined : true), waitMs, 50)
  }

  /** kill -9: the node loses everything it had not synced. */
  kill(bank: string): Promise<void> {
    return this.signal(bank, 'SIGKILL')
  }

  pause(bank: string): Promise<void> {
    return this.signal(bank, 'SIGSTOP')
  }

  resume(bank: string): Promise<void> {
    return this.signal(bank, 'SIGCONT')
  }

  /** SIGTERM (a clean shutdown), then SIGKILL after `graceMs`. A paused node is resumed first so it can exit. */
  async stop(bank: string, graceMs = 10_000): Promise<StopOutcome> {
    const node = this.node(bank)
    if (!this.isRunning(bank) || node.pid === undefined) return 'not-running'
    process.kill(node.pid, 'SIGCONT')
    process.kill(node.pid, 'SIGTERM')
    try {
      await waitFor(`${bank} to stop`, async () => (this.isRunning(bank) ? undefined : true), graceMs, 50)
      return 'stopped'
    } catch {
      if (this.isRunning(bank)) await this.kill(bank)
      return 'killed'
    } finally {
      node.pid = undefined
      this.#save()
    }
  }

  async stopAll(graceMs?: number): Promise<Record<string, StopOutcome>> {
    const outcomes = await Promise.all(this.nodes.map(async (node) => [node.bank, await this.stop(node.bank, graceMs)] as const))
    return Object.fromEntries(outcomes)
  }

  /**
   * Resolves once every running node (or those named) sees all the other running nodes as peers
   * and has finalized at least one new block since the call: the network is finalizing.
   */
  async waitFinalizing(timeoutMs = 60_000, banks: readonly string[] = this.running()): Promise<Record<string, number>> {
    const expectedPeers = banks.length - 1
    const clients = banks.map((bank) => this.client(bank, 2_000))
    const first = new Map<string, number>()
    return waitFor(
      `${banks.join(', ')} to connect to each other and finalize a new block`,
      async () => {
        for (const bank of banks) if (!this.isRunning(bank)) throw new ClusterError('NODE_EXITED', `${bank} exited; its log ends:\n${this.logTail(bank)}`)
        const healths = await Promise.all(clients.map((client) => client.health()))
        let ready = true
        healths.forEach((health, index) => {
          const bank = banks[index]!
          if (!first.has(bank)) first.set(bank, health.height)
          if (health.peers < expectedPeers || health.height <= first.get(bank)!) ready = false
        })
        return ready ? Object.fromEntries(healths.map((health, index) => [banks[index]!, health.height])) : undefined
      },
      timeoutMs
    ).catch((error: unknown) => {
      if (error instanceof ClusterError && error.code === 'CLUSTER_TIMEOUT') {
        throw new ClusterError('CLUSTER_TIMEOUT', `${error.message}\n${banks.map((bank) => `--- ${bank} log:\n${this.logTail(bank, 4)}`).join('\n')}`)
      }
      throw error
    })
  }

  #save(): void {
    const path = join(this.dir, 'cluster.json')
    const manifest: Manifest = { version: 1, banks: this.nodes.map((node) => ({ ...node })), faultInjection: this.faultInjection }
    writeFileSync(`${path}.tmp`, JSON.stringify(manifest, null, 2) + '\n')
    renameSync(`${path}.tmp`, path)
  }
}

/** Whether `pid` is alive and is the node started with `config` (Linux: /proc; elsewhere: alive). */
function processIsNode(pid: number, config: string): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  const cmdline = `/proc/${pid}/cmdline`
  if (!existsSync(cmdline)) return process.platform !== 'linux'
  try {
    const text = readFileSync(cmdline, 'utf8')
    if (text.length === 0) return false // a zombie: exited, not yet reaped
    return text.includes(config)
  } catch {
    return false
  }
}
