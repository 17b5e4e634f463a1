/**
 * A scenario's faults against real node processes (docs/faults.md):
 *
 *   crash          SIGKILL (LocalCluster.kill); with `storage: lose-unsynced` or `torn-wal`, the
 *                  killed node's LevelDB is then opened and its last WAL record dropped or torn
 *                  (storageFaults.ts), before anything can restart it
 *   restart        a new process on the same data directory (LocalCluster.start)
 *   pause/until    SIGSTOP, then SIGCONT
 *   partition      `blocked` on both sides of every cut pair, through PUT /v1/admin/faults
 *   delay/drop/duplicate (link or everywhere)   per-peer entries of the same endpoint, set at the
 *                  receiving node (at both ends of a link, since the simulator's links are two-way)
 *   heal           every partition and link fault ends
 *   byzantine      PUT /v1/admin/byzantine at the faulty node; DELETE at `until`
 *   chaos          the faults the simulator draws for the window (expandChaos: the same stream,
 *                  the scenario seed's 'chaos' fork, the same draws in the same order), injected
 *                  as the listed kinds above
 *
 * The scenario's latency table (`network.latency`, `network.jitter`) is laid under the faults as
 * each node's per-peer delay, so the network the nodes see has the scenario's latencies rather
 * than loopback's. PUT replaces a node's whole fault state, so this class keeps one model of the
 * network (latency + partition + link rules) and writes each node's view of it after every change,
 * and again to a node that restarts or resumes (a new process starts with no faults).
 */
import type { Scenario, ScenarioFault } from '../sim/scenario/schema.ts'
import { Random } from '../sim/random.ts'
import type { LocalCluster } from './localCluster.ts'
import { waitFor } from './nodeClient.ts'
import { applyStorageFault, type StorageFault, type StorageFaultResult } from './storageFaults.ts'

export interface FaultStep {
  readonly atMs: number
  readonly label: string
  readonly apply: () => Promise<void>
  /** True for the end of a fault (heal, restart, resume, honest again). */
  readonly ends: boolean
}

interface LinkRule {
  readonly link: readonly [string, string] | undefined
  readonly extraLatencyMs: number
  readonly drop: number
  readonly duplicate: number
}

interface PeerFault {
  blocked?: boolean
  delayMs?: number
  jitterMs?: number
  drop?: number
  duplicate?: number
}

export class FaultDriver {
  readonly #cluster: LocalCluster
  readonly #scenario: Scenario
  readonly #banks: readonly string[]
  readonly #jurisdiction: ReadonlyMap<string, string>
  readonly #token: string
  readonly #paused = new Set<string>()
  readonly #crashed = new Set<string>()
  /** Restarted, not yet answering: #restore writes its state (the model as it is then) once it answers. */
  readonly #restoring = new Set<string>()
  readonly #byzantine = new Map<string, string[]>()
  readonly #rules = new Map<number, LinkRule>()
  #partition: ReadonlyArray<readonly string[]> | undefined
  #nextRule = 1
  readonly #log: (line: string) => void
  /** Errors from background work (a restarted node that never answered), reported at the end. */
  readonly errors: string[] = []
  /** What each storage fault did to the stored WAL. */
  readonly storageFaults: Array<StorageFaultResult & { readonly bank: string }> = []
  /** Applies a storage fault to a killed node's store (replaceable in tests without processes). */
  applyStorageFault: (dataDir: string, fault: StorageFault) => Promise<StorageFaultResult> = applyStorageFault
  /** Called once a restarted node answers and has its faults back (the run resubmits what it may have lost). */
  onRestored: (bank: string) => void = () => undefined

  constructor(cluster: LocalCluster, scenario: Scenario, log: (line: string) => void) {
    this.#cluster = cluster
    this.#scenario = scenario
    this.#banks = scenario.banks.map((bank) => bank.id)
    this.#jurisdiction = new Map(scenario.banks.map((bank) => [bank.id, bank.jurisdiction]))
    this.#token = cluster.adminToken ?? ''
    this.#log = log
  }

  /** The scenario's faults in time order, each with what to do. Throws on a fault this backend cannot inject. */
  steps(): FaultStep[] {
    const steps: FaultStep[] = []
    const at = (atMs: number, label: string, ends: boolean, apply: () => Promise<void>): void => {
      steps.push({ atMs, label, ends, apply })
    }
    for (const fault of this.#scenario.faults) this.#schedule(fault, at)
    // Chaos windows after the listed faults, as the simulator schedules them (equal times keep that order).
    for (const fault of expandChaos(this.#scenario)) this.#schedule(fault, at)
    // Stable: equal times keep the scenario's order, as the simulator's event queue does.
    return steps.map((step, index) => ({ step, index })).sort((a, b) => a.step.atMs - b.step.atMs || a.index - b.index).map(({ step }) => step)
  }

  #schedule(fault: ScenarioFault, at: (atMs: number, label: string, ends: boolean, apply: () => Promise<void>) => void): void {
    if ('crash' in fault) {
      at(fault.at, `crash ${fault.crash}${fault.storage === 'intact' ? '' : ` (${fault.storage})`}`, false, async () => {
        if (!this.#cluster.isRunning(fault.crash)) return
        if (this.#paused.has(fault.crash)) this.#paused.delete(fault.crash)
        this.#crashed.add(fault.crash)
        await this.#cluster.kill(fault.crash)
        if (fault.storage !== 'intact') {
          const result = await this.applyStorageFault(this.#cluster.dataDir(fault.crash), fault.storage)
          this.storageFaults.push({ bank: fault.crash, ...result })
          const what = result.torn !== undefined ? `WAL record ${Number(result.torn.key)} torn (${result.torn.keptBytes} of ${result.torn.bytes} bytes kept)` : result.dropped.length > 0 ? `WAL record${result.dropped.length === 1 ? '' : 's'} ${result.dropped.map(Number).join(', ')} dropped` : 'no WAL record above the tip: nothing unsynced'
          this.#log(`${fault.crash}: ${fault.storage}: ${what} (of ${result.records})`)
        }
      })
    } else if ('restart' in fault) {
      at(fault.at, `restart ${fault.restart}`, true, async () => {
        if (this.#cluster.isRunning(fault.restart)) return
        this.#crashed.delete(fault.restart)
        this.#restoring.add(fault.restart)
        this.#cluster.start(fault.restart)
        void this.#restore(fault.restart)
      })
    } else if ('pause' in fault) {
      const until = fault.until ?? this.#scenario.duration
      at(fault.at, `pause ${fault.pause}`, false, async () => {
        if (!this.#cluster.isRunning(fault.pause)) return
        this.#paused.add(fault.pause)
        await this.#cluster.pause(fault.pause)
      })
      at(until, `resume ${fault.pause}`, true, async () => {
        if (!this.#paused.delete(fault.pause) || !this.#cluster.isRunning(fault.pause)) return
        await this.#cluster.resume(fault.pause)
        await this.#writeNode(fault.pause).catch((error: unknown) => this.errors.push((error as Error).message))
      })
    } else if ('partition' in fault) {
      at(fault.at, `partition ${fault.partition.map((group) => group.join('+')).join(' | ')}`, false, async () => {
        this.#partition = fault.partition
        await this.#writeAll()
      })
      if (fault.until !== undefined) {
        at(fault.until, 'heal partition', true, async () => {
          this.#partition = undefined
          await this.#writeAll()
        })
      }
    } else if ('heal' in fault) {
      at(fault.at, 'heal', true, async () => {
        this.#partition = undefined
        this.#rules.clear()
        await this.#writeAll()
      })
    } else if ('delay' in fault || 'drop' in fault || 'duplicate' in fault) {
      const rule: LinkRule =
        'delay' in fault
          ? { link: fault.delay.link, extraLatencyMs: fault.delay.latency, drop: 0, duplicate: 0 }
          : 'drop' in fault
            ? { link: fault.drop.link, extraLatencyMs: 0, drop: fault.drop.probability, duplicate: 0 }
            : { link: fault.duplicate.link, extraLatencyMs: 0, drop: 0, duplicate: fault.duplicate.probability }
      const name = 'delay' in fault ? `delay +${fault.delay.latency}ms` : 'drop' in fault ? `drop ${Math.round(fault.drop.probability * 100)}%` : `duplicate ${Math.round(fault.duplicate.probability * 100)}%`
      const link = rule.link === undefined ? '' : ` on ${rule.link.join('-')}`
      let id = 0
      at(fault.at, `${name}${link}`, false, async () => {
        id = this.#nextRule++
        this.#rules.set(id, rule)
        await this.#writeAll()
      })
      if (fault.until !== undefined) {
        at(fault.until, `end ${name}${link}`, true, async () => {
          this.#rules.delete(id)
          await this.#writeAll()
        })
      }
    } else if ('byzantine' in fault) {
      const bank = fault.byzantine
      at(fault.at, `${bank} turns Byzantine: ${fault.behaviour}`, false, async () => {
        this.#byzantine.set(bank, [fault.behaviour])
        await this.#writeByzantine(bank)
      })
      if (fault.until !== undefined) {
        at(fault.until, `${bank} honest again`, true, async () => {
          this.#byzantine.delete(bank)
          await this.#writeByzantine(bank)
        })
      }
    }
    // A chaos window is expanded by expandChaos (steps()), not scheduled itself.
  }

  /** Writes the base latency (and any faults) to every node; called once the cluster is up. */
  async install(): Promise<void> {
    await this.#writeAll()
  }

  isPaused(bank: string): boolean {
    return this.#paused.has(bank)
  }

  /** Nodes the scenario has crashed and not yet restarted. */
  isCrashed(bank: string): boolean {
    return this.#crashed.has(bank)
  }

  /** A node that came back as a new process: once its API answers, give it its faults and behaviours. */
  async #restore(bank: string): Promise<void> {
    try {
      await waitFor(`${bank} to answer after restart`, async () => ((await this.#cluster.client(bank, 1_000).health()) ? true : undefined), 60_000, 100)
      this.#restoring.delete(bank)
      await this.#writeNode(bank)
      if (this.#byzantine.has(bank)) await this.#writeByzantine(bank)
      this.#log(`${bank} restarted and answering`)
      this.onRestored(bank)
    } catch (error) {
      this.#restoring.delete(bank)
      this.errors.push(`${bank}: ${(error as Error).message}`)
    }
  }

  #latencyMs(a: string, b: string): number {
    const table = this.#scenario.network.latency
    const ja = this.#jurisdiction.get(a)!
    const jb = this.#jurisdiction.get(b)!
    return table[`${ja}-${jb}`] ?? table[`${jb}-${ja}`] ?? table['default'] ?? 20
  }

  /** What `receiver` applies to messages from `sender`. */
  peerFault(receiver: string, sender: string): PeerFault {
    const base = this.#latencyMs(sender, receiver)
    let delayMs = base
    let drop = this.#scenario.network.drop
    let duplicate = this.#scenario.network.duplicate
    for (const rule of this.#rules.values()) {
      if (rule.link !== undefined && !(rule.link.includes(receiver) && rule.link.includes(sender))) continue
      delayMs += rule.extraLatencyMs
      drop = 1 - (1 - drop) * (1 - rule.drop)
      duplicate = Math.max(duplicate, rule.duplicate)
    }
    const entry: PeerFault = { delayMs: Math.min(60_000, Math.round(delayMs)), jitterMs: Math.min(60_000, Math.round(base * this.#scenario.network.jitter)) }
    if (drop > 0) entry.drop = Math.min(1, drop)
    if (duplicate > 0) entry.duplicate = Math.min(1, duplicate)
    if (this.#partition !== undefined) {
      const group = (bank: string): number => this.#partition!.findIndex((members) => members.includes(bank))
      // A bank no group names is cut off from everyone, as in the simulator.
      const gr = group(receiver)
      if (gr < 0 || gr !== group(sender)) entry.blocked = true
    }
    return entry
  }

  async #writeNode(bank: string): Promise<void> {
    const peers = Object.fromEntries(this.#banks.filter((other) => other !== bank).map((other) => [other, this.peerFault(bank, other)]))
    await this.#cluster.client(bank, 5_000).request('PUT', '/v1/admin/faults', { peers }, { authorization: `Bearer ${this.#token}` })
  }

  /** Every running, unpaused node (a paused one gets its state when it resumes, a restarting one once it answers). */
  async #writeAll(): Promise<void> {
    const targets = this.#banks.filter((bank) => !this.#paused.has(bank) && !this.#crashed.has(bank) && !this.#restoring.has(bank) && this.#cluster.isRunning(bank))
    const results = await Promise.allSettled(targets.map((bank) => this.#writeNode(bank)))
    results.forEach((result, index) => {
      if (result.status === 'rejected') this.errors.push(`faults at ${targets[index]}: ${(result.reason as Error).message}`)
    })
  }

  async #writeByzantine(bank: string): Promise<void> {
    if (!this.#cluster.isRunning(bank) || this.#paused.has(bank)) return
    const behaviours = this.#byzantine.get(bank) ?? []
    await this.#cluster
      .client(bank, 5_000)
      .request('PUT', '/v1/admin/byzantine', { behaviours }, { authorization: `Bearer ${this.#token}` })
      .catch((error: unknown) => this.errors.push(`byzantine at ${bank}: ${(error as Error).message}`))
  }
}

/**
 * The faults a scenario's chaos windows stand for, drawn exactly as the simulator draws them
 * (src/sim/simulation.ts, scheduleFaults): one stream forked as 'chaos' from the scenario's seed
 * (forks are by name, so it is the simulator's stream), every `every` from `from` to `until` one
 * kind picked from `kinds`, undone after `recoverAfter` (or at `until`), at most f victims so a
 * quorum stays able to decide. The same scenario and seed give the same faults on both backends.
 */
export function expandChaos(scenario: Scenario): ScenarioFault[] {
  const windows = scenario.faults.flatMap((fault) => ('chaos' in fault ? [fault.chaos] : []))
  if (windows.length === 0) return []
  const nodeIds = scenario.banks.map((bank) => bank.id)
  const random = new Random(scenario.seed).fork('chaos')
  const f = Math.floor((nodeIds.length - 1) / 3)
  const faults: ScenarioFault[] = []
  for (const window of windows) {
    for (let t = window.from; t < window.until; t += window.every) {
      const kind = random.pick(window.kinds)
      const end = Math.min(t + window.recoverAfter, window.until)
      const victims = random.shuffle([...nodeIds]).slice(0, Math.max(1, f))
      switch (kind) {
        case 'crash':
          faults.push({ at: t, crash: victims[0]!, storage: random.pick(['intact', 'lose-unsynced', 'torn-wal'] as const) } as ScenarioFault)
          faults.push({ at: end, restart: victims[0]! } as ScenarioFault)
          break
        case 'pause':
          faults.push({ at: t, pause: victims[0]!, until: end } as ScenarioFault)
          break
        case 'partition': {
          const shuffled = random.shuffle([...nodeIds])
          const cut = 1 + random.int(Math.max(1, shuffled.length - 1))
          faults.push({ at: t, partition: [shuffled.slice(0, cut), shuffled.slice(cut)], until: end } as ScenarioFault)
          break
        }
        case 'delay':
          faults.push({ at: t, delay: { latency: 50 + random.int(450) }, until: end } as ScenarioFault)
          break
        case 'drop':
          faults.push({ at: t, drop: { probability: 0.05 + random.next() * 0.25 }, until: end } as ScenarioFault)
          break
        case 'duplicate':
          faults.push({ at: t, duplicate: { probability: 0.1 + random.next() * 0.4 }, until: end } as ScenarioFault)
          break
      }
    }
  }
  return faults
}
