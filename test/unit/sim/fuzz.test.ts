import t from 'tap'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { parseScenario } from '../../../src/sim/scenario/schema.ts'
import { builtInFuzzBase, defaultFuzzPhases, describeFuzzDocument, fuzzBanksMax, fuzzBanksMin, fuzzScenarioDocument, loadFuzzBase, writeReproduction } from '../../../src/sim/fuzz.ts'
import { runTasksInWorkers } from '../../../src/sim/workerPool.ts'
import { runScenarioFile } from '../../../src/sim/run.ts'
import type { RunSummary } from '../../../src/sim/report/types.ts'

const root = resolve(import.meta.dirname, '..', '..', '..')
const base = builtInFuzzBase()

t.test('a seed draws the same scenario every time; other seeds draw others', async (t) => {
  t.same(fuzzScenarioDocument(7, base), fuzzScenarioDocument(7, builtInFuzzBase()))
  const documents = Array.from({ length: 30 }, (_, i) => JSON.stringify(fuzzScenarioDocument(i + 1, base)))
  t.equal(new Set(documents).size, 30)
})

t.test('every drawn scenario validates and heals before its liveness phase', async (t) => {
  const { safetyMs, livenessMs, drainMs } = defaultFuzzPhases
  const seen = { banks: new Set<number>(), byzantine: 0, storage: new Set<string>(), kinds: new Set<string>() }
  for (let seed = 1; seed <= 200; seed++) {
    const scenario = parseScenario(fuzzScenarioDocument(seed, base), `fuzz seed ${seed}`)
    t.equal(scenario.seed, seed)
    t.equal(scenario.duration, safetyMs + livenessMs)
    t.equal(scenario.drain, drainMs)
    seen.banks.add(scenario.banks.length)
    const down = new Map<string, number>()
    for (const fault of scenario.faults) {
      const kind = Object.keys(fault).find((key) => key !== 'at' && key !== 'until' && key !== 'storage' && key !== 'behaviour')!
      seen.kinds.add(kind)
      if ('until' in fault && fault.until !== undefined && fault.until > safetyMs) t.fail(`seed ${seed}: ${kind} lasts into the liveness phase`)
      if ('crash' in fault) {
        seen.storage.add(fault.storage)
        down.set(fault.crash, (down.get(fault.crash) ?? 0) + 1)
      }
      if ('restart' in fault) {
        if (fault.at > safetyMs) t.fail(`seed ${seed}: restart after the safety phase`)
        down.set(fault.restart, (down.get(fault.restart) ?? 0) - 1)
      }
      if ('byzantine' in fault) seen.byzantine++
    }
    if ([...down.values()].some((count) => count !== 0)) t.fail(`seed ${seed}: a crashed node is not restarted`)
    const byzantine = new Set(scenario.faults.flatMap((fault) => ('byzantine' in fault ? [fault.byzantine] : [])))
    if (byzantine.size * 3 >= scenario.banks.length) t.fail(`seed ${seed}: ${byzantine.size} Byzantine of ${scenario.banks.length}`)
  }
  t.same([...seen.banks].sort(), Array.from({ length: fuzzBanksMax - fuzzBanksMin + 1 }, (_, i) => fuzzBanksMin + i), 'every bank count from 4 to 7')
  t.same([...seen.storage].sort(), ['intact', 'lose-unsynced', 'torn-wal'])
  t.same([...seen.kinds].sort(), ['byzantine', 'crash', 'delay', 'drop', 'duplicate', 'partition', 'pause', 'restart'])
  t.ok(seen.byzantine > 20, 'Byzantine validators in many seeds')
})

t.test('a scenario file as the base keeps its banks and inlines its policies', async (t) => {
  const fromFile = loadFuzzBase(join(root, 'configs', 'scenarios', 'calm-cn-ae.yaml'))
  const document = fuzzScenarioDocument(3, fromFile)
  const scenario = parseScenario(document, 'calm base')
  t.same(
    scenario.banks.map((bank) => bank.id),
    ['icbc', 'bochk', 'enbd', 'dbs']
  )
  t.ok(Array.isArray(document['policies']) && (document['policies'] as unknown[]).every((policy) => typeof policy === 'object'), 'policies inlined')
  t.same(scenario.expect.invariants, 'all')
  t.equal(scenario.expect.metrics.size, 0, 'the base scenario’s own expectations are dropped: the fuzzer checks invariants')
})

t.test('seeds run clean, and a seed replays to the same trace hash', async (t) => {
  const seeds = [2, 5, 2]
  const outcomes = await runTasksInWorkers(
    seeds.map((seed, id) => ({ id, document: fuzzScenarioDocument(seed, base), source: join(root, 'fuzz.yaml'), label: `fuzz seed ${seed}` })),
    { workers: 2 }
  )
  const summaries = outcomes.map((outcome) => {
    if (!('summary' in outcome)) throw new Error(`a fuzz run threw: ${outcome.error}\n${outcome.stack}`)
    return outcome.summary
  })
  for (const summary of summaries) {
    t.ok(summary.invariants.ok, `seed ${summary.seed}: ${JSON.stringify(summary.invariants.violations.slice(0, 2))}`)
    t.ok(summary.faults > 0, `seed ${summary.seed} injected faults`)
    t.ok(summary.transfers.submitted > 100)
  }
  t.equal(summaries[0]!.traceHash, summaries[2]!.traceHash, 'same seed, same trace')
  t.not(summaries[0]!.traceHash, summaries[1]!.traceHash, 'another seed, another trace')

  // The reproduction of a failing seed is a scenario file that `corridor sim run` replays bit for bit.
  const directory = mkdtempSync(join(tmpdir(), 'corridor-fuzz-'))
  const document = fuzzScenarioDocument(5, base)
  const failing: RunSummary = {
    ...summaries[1]!,
    ok: false,
    invariants: { ok: false, checked: [], violations: [{ invariant: 'agreement', atMs: 1234, node: 'dbs', height: 7, message: 'dbs committed block abc at height 7, icbc committed def' }] }
  }
  const path = writeReproduction(directory, document, { summary: failing })
  t.equal(path, join(directory, 'fuzz-5.yaml'))
  const text = readFileSync(path, 'utf8')
  t.match(text, /^# corridor sim fuzz: seed 5 failed\./)
  t.match(text, /# agreement at 1234 ms on dbs height 7: dbs committed block abc/)
  t.match(text, new RegExp(`# Replay: corridor sim run ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`))
  t.match(text, `# ${describeFuzzDocument(document)}`)
  t.same(parseYaml(text), document, 'the file holds the generated scenario, seed included')
  const replay = await runScenarioFile(path)
  t.equal(replay.report.summary.traceHash, summaries[1]!.traceHash, 'replaying the file gives the seed’s trace')

  const thrown = readFileSync(writeReproduction(directory, fuzzScenarioDocument(9, base), { error: 'ASSERTION: ledger height 3 matches\nstack' }), 'utf8')
  t.match(thrown, /# The run threw: ASSERTION: ledger height 3 matches\n/)
})
