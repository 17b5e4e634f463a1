/**
 * The cluster backend's fault model without processes: what each node's fault layer is told
 * (PUT /v1/admin/faults, replace-all) as a scenario's partition heals and a link slows down, the
 * scenario's latency table under it all, the order of the steps, and what a crash, restart and
 * pause do to the cluster. The cluster here is a recorder with LocalCluster's shape.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { loadScenarioFile } from '../../../src/sim/scenario/load.ts'
import { FaultDriver } from '../../../src/cluster/faultDriver.ts'
import type { LocalCluster } from '../../../src/cluster/localCluster.ts'
import type { Scenario } from '../../../src/sim/scenario/schema.ts'

const scenarios = resolve(import.meta.dirname, '../../../configs/scenarios')

interface Call {
  readonly bank: string
  readonly method: string
  readonly path: string
  readonly body: { peers?: Record<string, Record<string, unknown>>; behaviours?: string[] }
  readonly authorization: string | undefined
}

function recorder(banks: readonly string[]): { cluster: LocalCluster; calls: Call[]; signals: string[] } {
  const calls: Call[] = []
  const signals: string[] = []
  const running = new Set(banks)
  const cluster = {
    adminToken: 'secret',
    isRunning: (bank: string) => running.has(bank),
    kill: async (bank: string) => void (running.delete(bank), signals.push(`SIGKILL ${bank}`)),
    dataDir: (bank: string) => `/cluster/${bank}/data`,
    start: (bank: string) => void (running.add(bank), signals.push(`start ${bank}`)),
    pause: async (bank: string) => void signals.push(`SIGSTOP ${bank}`),
    resume: async (bank: string) => void signals.push(`SIGCONT ${bank}`),
    client: (bank: string) => ({
      request: async (method: string, path: string, body: Call['body'], headers: Record<string, string>) => {
        calls.push({ bank, method, path, body, authorization: headers['authorization'] })
        return {}
      },
      health: async () => ({ height: 1 })
    })
  }
  return { cluster: cluster as unknown as LocalCluster, calls, signals }
}

t.test('partition and heal, a slow link, the latency table underneath', async (t) => {
  const { scenario } = loadScenarioFile(join(scenarios, 'partition-heal.yaml'))
  const banks = scenario.banks.map((bank) => bank.id)
  const { cluster, calls } = recorder(banks)
  const driver = new FaultDriver(cluster, scenario, () => undefined)
  const steps = driver.steps()
  t.same(
    steps.map((step) => [step.atMs, step.label, step.ends]),
    [
      [15_000, 'partition icbc+bochk | enbd+dbs', false],
      [25_000, 'heal partition', true],
      [35_000, 'delay +300ms on icbc-enbd', false],
      [45_000, 'end delay +300ms on icbc-enbd', true]
    ],
    'the steps in time order, ends marked'
  )

  await driver.install()
  t.equal(calls.length, 4, 'install writes every node')
  t.ok(calls.every((call) => call.method === 'PUT' && call.path === '/v1/admin/faults' && call.authorization === 'Bearer secret'), 'PUT /v1/admin/faults with the bearer token')
  const icbc = (): Record<string, Record<string, unknown>> => calls.filter((call) => call.bank === 'icbc').at(-1)!.body.peers!
  t.same(icbc(), { bochk: { delayMs: 10, jitterMs: 1 }, enbd: { delayMs: 90, jitterMs: 9 }, dbs: { delayMs: 40, jitterMs: 4 } }, 'the latency table (CN-HK 10 ms, CN-AE 90 ms, default 40 ms) and 10% jitter per peer')

  calls.length = 0
  await steps[0]!.apply()
  t.same(Object.keys(icbc()).filter((peer) => icbc()[peer]!['blocked'] === true), ['enbd', 'dbs'], 'partitioned: icbc blocks the other half')
  const dbs = calls.find((call) => call.bank === 'dbs')!.body.peers!
  t.same(Object.keys(dbs).filter((peer) => dbs[peer]!['blocked'] === true), ['icbc', 'bochk'], 'and dbs blocks the first half')
  t.equal(dbs['enbd']!['blocked'], undefined, 'a bank is not cut off from its own side')

  await steps[1]!.apply()
  t.ok(Object.values(icbc()).every((peer) => peer['blocked'] === undefined), 'healed: nothing blocked, the whole state replaced')

  await steps[2]!.apply()
  t.equal(icbc()['enbd']!['delayMs'], 390, 'the slow link adds 300 ms to CN-AE')
  t.equal(icbc()['dbs']!['delayMs'], 40, 'other links keep their latency')
  const enbd = calls.filter((call) => call.bank === 'enbd').at(-1)!.body.peers!
  t.equal(enbd['icbc']!['delayMs'], 390, 'at both ends of the link')
  await steps[3]!.apply()
  t.equal(icbc()['enbd']!['delayMs'], 90, 'the delay ends')
})

t.test('a bank no partition group names is cut off from everyone; drop and duplicate combine', async (t) => {
  const base = loadScenarioFile(join(scenarios, 'partition-heal.yaml')).scenario
  const scenario: Scenario = {
    ...base,
    network: { ...base.network, drop: 0.1 },
    faults: [
      { at: 1_000, partition: [['icbc', 'bochk', 'enbd']] },
      { at: 2_000, drop: { probability: 0.5 } },
      { at: 2_000, duplicate: { probability: 0.2, link: ['icbc', 'bochk'] } },
      { at: 3_000, heal: true }
    ] as unknown as Scenario['faults']
  }
  const { cluster } = recorder(scenario.banks.map((bank) => bank.id))
  const driver = new FaultDriver(cluster, scenario, () => undefined)
  const steps = driver.steps()
  await steps[0]!.apply()
  t.equal(driver.peerFault('dbs', 'icbc').blocked, true, 'dbs, in no group, hears nobody')
  t.equal(driver.peerFault('icbc', 'dbs').blocked, true, 'and nobody hears dbs')
  t.equal(driver.peerFault('icbc', 'enbd').blocked, undefined)
  await steps[1]!.apply()
  await steps[2]!.apply()
  t.equal(driver.peerFault('icbc', 'bochk').drop, 1 - 0.9 * 0.5, 'the network drop and the fault drop combine as independent losses')
  t.equal(driver.peerFault('icbc', 'bochk').duplicate, 0.2, 'duplicate on the link')
  t.equal(driver.peerFault('icbc', 'enbd').duplicate, undefined, 'not off the link')
  await steps[3]!.apply()
  t.equal(driver.peerFault('dbs', 'icbc').blocked, undefined, 'heal ends the partition')
  t.equal(driver.peerFault('icbc', 'bochk').drop, 0.1, 'and the link faults, not the network drop')
})

t.test('crash, restart, pause and Byzantine behaviour', async (t) => {
  const base = loadScenarioFile(join(scenarios, 'crash-restart.yaml')).scenario
  const scenario: Scenario = {
    ...base,
    faults: [
      { at: 1_000, crash: 'enbd', storage: 'intact' },
      { at: 2_000, restart: 'enbd' },
      { at: 3_000, pause: 'dbs', until: 4_000 },
      { at: 5_000, byzantine: 'bochk', behaviour: 'equivocate', until: 6_000 }
    ] as unknown as Scenario['faults']
  }
  const { cluster, calls, signals } = recorder(scenario.banks.map((bank) => bank.id))
  const driver = new FaultDriver(cluster, scenario, () => undefined)
  const steps = driver.steps()
  t.same(steps.map((step) => step.label), ['crash enbd', 'restart enbd', 'pause dbs', 'resume dbs', 'bochk turns Byzantine: equivocate', 'bochk honest again'])
  for (const step of steps.slice(0, 3)) await step.apply()
  t.ok(driver.isPaused('dbs'), 'dbs paused')
  t.notOk(driver.isCrashed('enbd'), 'enbd back after its restart')
  calls.length = 0
  await driver.install()
  t.same(calls.map((call) => call.bank).sort(), ['bochk', 'enbd', 'icbc'], 'a paused node is not written (it gets its state when it resumes)')
  for (const step of steps.slice(3)) await step.apply()
  t.same(signals, ['SIGKILL enbd', 'start enbd', 'SIGSTOP dbs', 'SIGCONT dbs'])
  const byzantine = calls.filter((call) => call.path === '/v1/admin/byzantine')
  t.same(byzantine.map((call) => [call.bank, call.body.behaviours]), [['bochk', ['equivocate']], ['bochk', []]], 'the behaviour switched on and off at the faulty node only')
  t.same(driver.errors, [])
})

t.test('a crash with a storage fault: SIGKILL, then the fault on the killed node\'s store, before the restart', async (t) => {
  const base = loadScenarioFile(join(scenarios, 'crash-restart.yaml')).scenario
  const scenario: Scenario = {
    ...base,
    faults: [
      { at: 1_000, crash: 'enbd', storage: 'lose-unsynced' },
      { at: 2_000, restart: 'enbd' },
      { at: 3_000, crash: 'dbs', storage: 'torn-wal' },
      { at: 4_000, crash: 'icbc', storage: 'intact' }
    ] as unknown as Scenario['faults']
  }
  const { cluster, signals } = recorder(scenario.banks.map((bank) => bank.id))
  const lines: string[] = []
  const driver = new FaultDriver(cluster, scenario, (line) => lines.push(line))
  driver.applyStorageFault = async (dataDir, fault) => {
    signals.push(`${fault} ${dataDir}`)
    return fault === 'torn-wal' ? { fault, records: 4, dropped: [], torn: { key: '0000000000000012', bytes: 300, keptBytes: 150 } } : { fault, records: 3, dropped: ['0000000000000007'], torn: undefined }
  }
  const steps = driver.steps()
  t.same(steps.map((step) => step.label), ['crash enbd (lose-unsynced)', 'restart enbd', 'crash dbs (torn-wal)', 'crash icbc'])
  for (const step of steps) await step.apply()
  t.same(signals, ['SIGKILL enbd', 'lose-unsynced /cluster/enbd/data', 'start enbd', 'SIGKILL dbs', 'torn-wal /cluster/dbs/data', 'SIGKILL icbc'], 'each storage fault after its kill, none for intact')
  t.same(driver.storageFaults.map((entry) => [entry.bank, entry.fault]), [['enbd', 'lose-unsynced'], ['dbs', 'torn-wal']])
  t.match(lines.join('\n'), /enbd: lose-unsynced: WAL record 7 dropped \(of 3\)/)
  t.match(lines.join('\n'), /dbs: torn-wal: WAL record 12 torn \(150 of 300 bytes kept\)/)
})

t.test('chaos: the faults the simulator draws for the window, at the same times, in the same order', async (t) => {
  const { runScenarioFile } = await import('../../../src/sim/run.ts')
  const { expandChaos } = await import('../../../src/cluster/faultDriver.ts')
  const path = join(scenarios, 'crash-restart.yaml')
  const overrides = { duration: '30s', drain: '2s', faults: [{ chaos: { from: '2s', until: '28s', every: '3s', kinds: ['crash', 'pause', 'partition', 'delay', 'drop', 'duplicate'], recoverAfter: '2s' } }] }
  const dir = t.testdir({})
  await runScenarioFile(path, { overrides, out: dir })
  const simulated = readFileSync(join(dir, 'events.jsonl'), 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as { t: number; kind: string; fault?: string })
    .filter((event) => event.kind === 'fault')
    .map((event) => [event.t, event.fault])
  const { scenario } = loadScenarioFile(path, overrides)
  t.equal(expandChaos(scenario).length > 9, true, 'faults drawn')
  const { cluster } = recorder(scenario.banks.map((bank) => bank.id))
  const steps = new FaultDriver(cluster, scenario, () => undefined).steps()
  t.same(
    steps.map((step) => [step.atMs, step.label]),
    simulated,
    'the cluster backend injects what the simulator injected'
  )
  t.ok(new Set(steps.map((step) => step.label.split(' ')[0])).size >= 3, `several kinds: ${[...new Set(steps.map((step) => step.label.split(' ')[0]))].join(', ')}`)
})
