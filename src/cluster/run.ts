/**
 * `corridor cluster run <scenario>`: the scenario format of `corridor sim run`, against real node
 * processes on this machine. The network comes from the scenario (scenarioNetwork.ts), the
 * workload is the simulator's own, signed for real and submitted in real time compressed by
 * `speed` (workloadDriver.ts), the faults are injected for real (faultDriver.ts), and the
 * invariants are read through every node's API, about once a second and at the end
 * (apiInvariants.ts). The outputs are the simulator's: summary.json (with `backend: "cluster"` and
 * the offered and achieved submission rates side by side), transfers.csv, events.jsonl and
 * report.html.
 *
 * Time: "scenario ms" are wall ms since the workload started times `speed`. Faults and arrivals
 * happen at their scenario times; the network itself (consensus timeouts, the latency laid on
 * each link) is not compressed, so a high `speed` makes a scenario harder than in the simulator.
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { loadScenarioFile } from '../sim/scenario/load.ts'
import { invariantNames, type InvariantName } from '../sim/scenario/schema.ts'
import { PolicyChecker } from '../sim/invariants.ts'
import { summarize } from '../sim/summary.ts'
import { EventLog, writeRunOutputs, type WrittenOutputs } from '../sim/output.ts'
import { percentiles } from '../sim/stats.ts'
import type { RunReport, RunSummary } from '../sim/report/types.ts'
import { ApiInvariants, type LedgerSummaryView } from './apiInvariants.ts'
import { FaultDriver } from './faultDriver.ts'
import { LocalCluster } from './localCluster.ts'
import { NodeClient, waitFor } from './nodeClient.ts'
import { createScenarioNetwork, clusterScenario } from './scenarioNetwork.ts'
import { WorkloadDriver, type Transfer } from './workloadDriver.ts'

export interface ClusterRunOptions {
  readonly out?: string
  /** Scenario seconds per wall second (default 1). */
  readonly speed?: number
  readonly seed?: number
  readonly logLevel?: string
  /** Leave the nodes running at the end (default: stop them). */
  readonly keep?: boolean
  readonly progress?: (line: string) => void
}

export interface ClusterSummary extends RunSummary {
  readonly submission: { readonly offeredTps: number; readonly achievedTps: number; readonly sent: number; readonly accepted: number; readonly lagMs: { readonly p50: number; readonly p99: number; readonly max: number } }
  readonly speed: number
  readonly traceHashOf: string
  readonly notes: readonly string[]
}

export interface ClusterRunResult {
  readonly summary: ClusterSummary
  readonly outputs: WrittenOutputs & { readonly events: string }
  readonly clusterDir: string
}

const tickMs = 25
const statusPollMs = 50
const checkEveryMs = 1_000
const progressEveryMs = 5_000
const blocksPageMax = 100
/** As the simulator: a transfer submitted after the faults healed must be final within this. */
const healedFinalityMs = 5_000
/** How long the run waits past its end for restarted nodes to answer, and then runs on after the last one does. */
const restartWaitMs = 60_000
const livenessWindowMs = 8_000
/** After the run, at most this long (wall ms) for the transfers the nodes accepted to become final. */
const pendingWaitMs = 20_000

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

interface BlockPage {
  readonly tip: number
  readonly blocks: ReadonlyArray<{
    readonly height: number
    readonly hash: string
    readonly header: { readonly appHash: string }
    readonly receipts: ReadonlyArray<{ readonly transactionId: string; readonly status: 'settled' | 'rejected'; readonly reason: string | null; readonly received: string | null }> | null
  }>
}

/** What the nodes say of a few transfers still pending at the end (for the notes: lost, waiting in a mempool, or final unseen). */
async function describePending(pending: readonly Transfer[], client: (bank: string) => NodeClient): Promise<string> {
  const shown = pending.slice(0, 5)
  const lines = await Promise.all(
    shown.map(async (transfer) => {
      const answer = await client(transfer.via)
        .get<{ status: string }>(`/v1/transactions/${transfer.id}`)
        .then((view) => view.status)
        .catch((error: unknown) => `no answer (${(error as Error).message.slice(0, 80)})`)
      return `${transfer.id.slice(0, 12)} (${transfer.attempts} attempt${transfer.attempts === 1 ? '' : 's'}, ${transfer.accepted ? 'accepted' : 'not accepted'}, submitted to ${transfer.via} at ${transfer.submitMs} ms): ${transfer.via} says ${answer}`
    })
  )
  return `${pending.length} transfer${pending.length === 1 ? '' : 's'}; ${lines.join('; ')}${pending.length > shown.length ? '; ...' : ''}`
}

export async function runClusterScenario(path: string, options: ClusterRunOptions = {}): Promise<ClusterRunResult> {
  const speed = options.speed ?? 1
  if (!(speed > 0 && speed <= 100)) throw new RangeError(`speed must be above 0 and at most 100, got ${speed}`)
  const progress = options.progress ?? (() => undefined)
  const loaded = loadScenarioFile(path, options.seed === undefined ? {} : { seed: options.seed })
  const scenario = clusterScenario(loaded.scenario)
  const out = resolve(options.out ?? join('out', `${scenario.name}-cluster`))
  mkdirSync(out, { recursive: true })
  const clusterDir = join(out, 'cluster')
  if (existsSync(join(clusterDir, 'cluster.json'))) {
    // A previous run's network: its nodes stopped, its data gone, so every run starts from genesis.
    await LocalCluster.open(clusterDir).stopAll(2_000)
    rmSync(clusterDir, { recursive: true, force: true })
  } else if (existsSync(clusterDir)) rmSync(clusterDir, { recursive: true, force: true })
  const eventsPath = join(out, 'events.jsonl')
  const events = new EventLog(eventsPath)
  const notes: string[] = []
  const started = performance.now()

  progress(`cluster run: ${scenario.name}, ${scenario.banks.length} banks, ${(scenario.duration / 1000).toFixed(0)} s + ${(scenario.drain / 1000).toFixed(0)} s drain at speed ${speed} (${((scenario.duration + scenario.drain) / speed / 1000).toFixed(0)} s of wall time), in ${clusterDir}`)
  const network = await createScenarioNetwork(loaded, clusterDir, options.logLevel ?? 'warn')
  const { cluster, world, genesis } = network
  const banks = scenario.banks.map((bank) => bank.id)
  const faults = new FaultDriver(cluster, scenario, progress)
  const steps = faults.steps()
  try {
    cluster.startAll()
    await cluster.waitFinalizing(90_000)
    await faults.install()
    progress(`cluster run: ${banks.length} nodes finalizing after ${((performance.now() - started) / 1000).toFixed(1)} s; workload starts`)

    const enabled = new Set<InvariantName>(scenario.expect.invariants === 'all' ? invariantNames : scenario.expect.invariants)
    const invariants = new ApiInvariants(enabled)
    const policy = new PolicyChecker(loaded.policyDocuments)
    const clients = new Map(banks.map((bank) => [bank, cluster.client(bank, 5_000)]))
    const quick = new Map(banks.map((bank) => [bank, cluster.client(bank, 1_500)]))
    const t0 = performance.now()
    const now = (): number => (performance.now() - t0) * speed
    const endMs = scenario.duration + scenario.drain
    const up = (bank: string): boolean => !faults.isCrashed(bank) && !faults.isPaused(bank) && cluster.isRunning(bank)
    const event = (record: Record<string, unknown>): void => events.write(record)

    const driver = new WorkloadDriver(scenario, world, genesis.fx, { now, available: up, client: (bank) => clients.get(bank)!, event })
    // A restart ends its fault only once the new process answers, which on a loaded machine can
    // be seconds after the scenario's time: liveness is judged from then (the simulator's restart
    // is instantaneous), and the run goes on long enough after it to judge.
    let restartsPending = 0
    let restoredAtMs = 0
    let allStepsApplied = false
    let heightAtFaultsOver: number | undefined
    faults.onRestored = (bank) => {
      restartsPending = Math.max(0, restartsPending - 1)
      restoredAtMs = Math.max(restoredAtMs, now())
      if (allStepsApplied) heightAtFaultsOver = topHeight
      const count = driver.resubmitPending(bank)
      if (count > 0) progress(`  ${bank}: ${count} accepted transfer${count === 1 ? '' : 's'} not yet final submitted again (a killed node may not have gossiped them)`)
      const others = driver.rebroadcastTo(bank)
      if (others > 0) progress(`  ${bank}: sent the ${others} transfer${others === 1 ? '' : 's'} other nodes hold and have not finalized (gossip does not replay them to a restarted node)`)
      void syncOnceConnected(bank)
    }
    // What a restarted node accepted before its peers were connected was gossiped to nobody: once
    // it has its peers, its pending transfers go to the others, and theirs to it again (bounded).
    const syncOnceConnected = async (bank: string): Promise<void> => {
      const peersWanted = banks.filter(up).length - 1
      await waitFor(`${bank} to connect to ${peersWanted} peers after its restart`, async () => ((await quick.get(bank)!.health()).peers >= peersWanted ? true : undefined), 30_000, 200).catch(() => undefined)
      if (!up(bank)) return
      let sent = driver.rebroadcastTo(bank)
      for (const other of banks) if (other !== bank && up(other)) sent += driver.rebroadcastTo(other, bank)
      if (sent > 0) progress(`  ${bank}: connected; ${sent} pending transfers exchanged with the other nodes`)
    }

    // Heights: when each was first seen committed (finality times), per-node heights, state roots.
    const heightSeenAt = new Map<number, number>()
    let topHeight = 0
    const nodeHeight = new Map<string, number>()
    const heightSeries: Array<[number, number]> = []
    let polling = true
    const statusLoop = (async () => {
      while (polling) {
        await Promise.all(
          banks.filter(up).map(async (bank) => {
            const status = await quick.get(bank)!.status().catch(() => undefined)
            if (status === undefined) return
            const at = now()
            for (let h = topHeight + 1; h <= status.height; h++) heightSeenAt.set(h, at)
            if (status.height > topHeight) topHeight = status.height
            nodeHeight.set(bank, status.height)
            invariants.stateRoot(bank, status.height, status.stateRoot, at)
          })
        )
        await sleep(statusPollMs)
      }
    })()

    // Blocks of every node (agreement, receipts), ledger summaries (conservation), evidence.
    const scanned = new Map(banks.map((bank) => [bank, 0]))
    const evidence = new Map<string, { total: number; last: number }>()
    const scanBlocks = async (bank: string, pagesMax: number): Promise<void> => {
      const client = clients.get(bank)!
      for (let page = 0; page < pagesMax; page++) {
        const from = scanned.get(bank)! + 1
        const answer = await client.get<BlockPage>(`/v1/blocks?from=${from}&to=${from + blocksPageMax - 1}`)
        for (const block of answer.blocks) {
          const at = now()
          invariants.block(bank, block.height, block.hash, at)
          for (const receipt of block.receipts ?? []) {
            const finalAt = heightSeenAt.get(block.height) ?? at
            const transfer = driver.final(receipt.transactionId, finalAt, receipt.status, receipt.reason ?? '', receipt.received === null ? undefined : BigInt(receipt.received))
            if (transfer === undefined) continue
            event({ t: Math.round(finalAt), kind: 'final', id: transfer.id, status: receipt.status, reason: receipt.reason ?? undefined, height: block.height })
            if (receipt.status === 'settled' && transfer.info.kind === 'payment') {
              const info = transfer.info
              const problem = policy.check({ payer: info.payer, payee: info.payee, payerJurisdiction: info.payerJurisdiction, payeeJurisdiction: info.payeeJurisdiction, payerToken: `${info.payerBank}.${info.currency}`, payeeToken: `${info.payeeBank}.${info.receivedCurrency}`, payerBank: info.payerBank, payeeBank: info.payeeBank })
              if (problem !== undefined) invariants.report({ invariant: 'policy', atMs: finalAt, node: bank, height: block.height, message: `transfer ${transfer.id.slice(0, 12)} settled although ${problem}` })
            }
          }
          scanned.set(bank, block.height)
        }
        if (answer.blocks.length < blocksPageMax || scanned.get(bank)! >= answer.tip) return
      }
    }
    const checkNode = async (bank: string, pagesMax: number): Promise<void> => {
      try {
        await scanBlocks(bank, pagesMax)
        const summary = await clients.get(bank)!.get<LedgerSummaryView>('/v1/ledger/summary')
        invariants.ledger(bank, summary, now())
        const metrics = await fetch(`${cluster.node(bank).api}/metrics`, { signal: AbortSignal.timeout(2_000) }).then((response) => response.text())
        const match = /^corridor_evidence_total(?:\{[^}]*\})? ([0-9.e+]+)$/m.exec(metrics)
        if (match !== null) {
          const value = Number(match[1])
          const entry = evidence.get(bank) ?? { total: 0, last: 0 }
          // A restarted process counts from zero again.
          entry.total += value >= entry.last ? value - entry.last : value
          entry.last = value
          evidence.set(bank, entry)
        }
      } catch {
        // A node that stopped answering (crashed or paused just now) is checked at the next round.
      }
    }
    let checking = true
    const checkLoop = (async () => {
      while (checking) {
        const begun = performance.now()
        await Promise.all(banks.filter(up).map((bank) => checkNode(bank, 3)))
        const lowest = Math.min(...banks.map((bank) => scanned.get(bank)!))
        invariants.pruneBelow(lowest - 64)
        await sleep(Math.max(50, checkEveryMs - (performance.now() - begun)))
      }
    })()

    // The run.
    const faultMarks: Array<{ atMs: number; label: string }> = []
    let faultChain: Promise<void> = Promise.resolve()
    let stepIndex = 0
    let faultCount = 0
    const lastFaultEndMs = steps.reduce((last, step) => Math.max(last, step.atMs), 0)
    const unending = scenario.faults.find((fault) => ('partition' in fault || 'delay' in fault || 'drop' in fault || 'duplicate' in fault) && fault.until === undefined && !scenario.faults.some((other) => 'heal' in other && other.at >= fault.at))
    // A scenario without faults: "since the faults healed" means since the workload started (the
    // end-of-run fallback below would take the height at the end, which no later block can pass).
    if (steps.length === 0) heightAtFaultsOver = topHeight
    let lastProgress = performance.now()
    let lastSample = 0
    const runOn = (): boolean => {
      const t = now()
      if (t < endMs) return true
      if (restartsPending > 0) return t < endMs + restartWaitMs
      return restoredAtMs > 0 && t < restoredAtMs + livenessWindowMs
    }
    while (runOn()) {
      const t = now()
      while (stepIndex < steps.length && steps[stepIndex]!.atMs <= t) {
        const step = steps[stepIndex++]!
        if (step.label.startsWith('restart')) restartsPending++
        faultCount++
        faultMarks.push({ atMs: step.atMs, label: step.label })
        event({ t: Math.round(t), kind: 'fault', fault: step.label })
        progress(`  ${(t / 1000).toFixed(1)} s: ${step.label}`)
        faultChain = faultChain.then(step.apply).catch((error: unknown) => {
          faults.errors.push(`${step.label}: ${(error as Error).message}`)
        })
        if (stepIndex === steps.length) {
          faultChain = faultChain.then(() => {
            allStepsApplied = true
            heightAtFaultsOver = topHeight
          })
        }
      }
      driver.tick()
      if (t - lastSample >= 1_000) {
        heightSeries.push([Math.round(t), topHeight])
        lastSample = t
      }
      if (performance.now() - lastProgress >= progressEveryMs) {
        lastProgress = performance.now()
        progress(`  ${(t / 1000).toFixed(1)} s of ${(endMs / 1000).toFixed(0)} s: height ${topHeight} · ${driver.sent} sent, ${driver.finalCount} final, ${driver.pendingCount} pending · ${invariants.violations.length} violation(s)`)
      }
      await sleep(tickMs)
    }
    await faultChain
    await driver.settle()
    checking = false
    await checkLoop
    heightAtFaultsOver ??= topHeight

    // The end: every node that is up must catch up, hold the same state, and every receipt is read.
    const atEnd = Math.max(endMs, Math.round(now()))
    const healedAtMs = Math.max(lastFaultEndMs, Math.round(restoredAtMs))
    const live = banks.filter(up)
    const liveness = enabled.has('liveness') && unending === undefined && lastFaultEndMs < scenario.duration
    if (unending !== undefined) notes.push(`liveness not judged: a ${Object.keys(unending).find((key) => key !== 'at' && key !== 'until')} fault at ${'at' in unending ? unending.at : 0} ms never ends`)
    const heights = new Map<string, number>()
    await Promise.all(live.map(async (bank) => heights.set(bank, (await clients.get(bank)!.status().catch(() => undefined))?.height ?? 0)))
    const target = Math.max(0, ...heights.values())
    const behind: string[] = []
    await Promise.all(
      live.map(async (bank) => {
        try {
          await waitFor(`${bank} to reach height ${target}`, async () => ((await quick.get(bank)!.status()).height >= target ? true : undefined), 15_000, 100)
        } catch {
          behind.push(bank)
        }
      })
    )
    if (liveness) {
      for (const bank of behind) invariants.report({ invariant: 'liveness', atMs: atEnd, node: bank, height: heights.get(bank) ?? 0, message: `${bank} did not reach height ${target} within 15 s after the run, after faults healed` })
      if (target <= heightAtFaultsOver) invariants.report({ invariant: 'liveness', atMs: atEnd, message: `no block finalized since the faults healed at ${healedAtMs} ms (height ${target})` })
    }
    await Promise.all(live.map((bank) => checkNode(bank, 1_000)))
    // A loaded machine (two cores shared by every node, the driver and the tests) makes finality
    // slower than the simulator's: what the nodes still hold gets a bounded while to become final
    // before it is judged never final. The status poll keeps timing the heights meanwhile.
    // Submissions still waiting (a retry not yet due when the run ended) keep being sent meanwhile.
    const pendingAtLive = (): Transfer[] => [...driver.transfers.values()].filter((transfer) => transfer.status === 'pending' && live.includes(transfer.via))
    const drainStarted = performance.now()
    while (pendingAtLive().length > 0 && performance.now() - drainStarted < pendingWaitMs) {
      driver.tick()
      await sleep(500)
      await Promise.all(live.map((bank) => checkNode(bank, 1_000)))
    }
    await driver.settle()
    const stillPending = pendingAtLive()
    if (performance.now() - drainStarted >= 1_000) {
      notes.push(`after the run, waited ${((performance.now() - drainStarted) / 1000).toFixed(1)} s for accepted transfers to become final (${stillPending.length} still pending)`)
    }
    if (stillPending.length > 0) notes.push(`still pending: ${await describePending(stillPending, (bank) => quick.get(bank)!)}`)
    polling = false
    await statusLoop
    if (liveness) {
      let stuck = 0
      let first: { id: string; via: string; submitMs: number } | undefined
      for (const transfer of driver.transfers.values()) {
        if (transfer.status !== 'pending' || transfer.submitMs < healedAtMs || transfer.submitMs > atEnd - healedFinalityMs || !live.includes(transfer.via)) continue
        stuck++
        first ??= { id: transfer.id, via: transfer.via, submitMs: transfer.submitMs }
      }
      if (first !== undefined) {
        invariants.report({ invariant: 'liveness', atMs: atEnd, node: first.via, message: `${stuck} transfer${stuck === 1 ? '' : 's'} submitted after the faults healed at ${healedAtMs} ms never became final (the first, ${first.id.slice(0, 12)}, submitted to ${first.via} at ${Math.round(first.submitMs)} ms)` })
      }
    }
    // Convergence: read every node's summary together until they land on one height.
    let converged = false
    for (let attempt = 0; attempt < 40 && live.length > 0; attempt++) {
      const summaries = await Promise.all(live.map(async (bank) => ({ node: bank, summary: await clients.get(bank)!.get<LedgerSummaryView>('/v1/ledger/summary').catch(() => undefined) })))
      const read = summaries.filter((entry): entry is { node: string; summary: LedgerSummaryView } => entry.summary !== undefined)
      invariants.convergence(read, atEnd)
      for (const entry of read) invariants.ledger(entry.node, entry.summary, atEnd)
      if (read.length === live.length && new Set(read.map((entry) => entry.summary.height)).size === 1) {
        converged = true
        event({ t: atEnd, kind: 'note', note: `${live.join(', ')} hold one ledger state at height ${read[0]!.summary.height} (digest ${read[0]!.summary.stateDigest.slice(0, 16)})` })
        break
      }
      await sleep(20)
    }
    if (!converged && live.length > 0) notes.push('the final full-state comparison never caught every node at one height; the digests were compared between the nodes that shared a height')
    if (driver.rebroadcast > 0) notes.push(`${driver.rebroadcast} pending transfers of other banks sent to nodes that restarted (the node does not yet send its mempool to a peer that connects; without this, a signer's later transaction committed first makes an earlier accepted one stale)`)
    if (driver.resubmitted > 0) notes.push(`${driver.resubmitted} accepted transfers submitted again to nodes that restarted (the client's part: a killed node loses what it had not gossiped)`)
    for (const error of faults.errors) notes.push(`fault injection: ${error}`)
    for (const violation of invariants.violations) event({ t: violation.atMs, kind: 'violation', ...violation })
    for (const note of notes) event({ t: atEnd, kind: 'note', note })

    // The final chain: block hashes 1..H, H the lowest height among the nodes that are up.
    const chainHeight = Math.min(...live.map((bank) => scanned.get(bank)!))
    const chain = createHash('sha256')
    for (let h = 1; h <= chainHeight; h++) chain.update(`${h}|${invariants.blockHash(h) ?? ''}\n`)
    const traceHash = chain.digest('hex')

    const offeredTps = Math.round((driver.generated / Math.max(0.001, scenario.duration / speed / 1000)) * 100) / 100
    const accepted = [...driver.transfers.values()].filter((transfer) => transfer.accepted).length
    const sendSpanS = driver.firstSentWallMs === undefined || driver.lastSentWallMs === undefined ? 0 : (driver.lastSentWallMs - driver.firstSentWallMs) / 1000
    const achievedTps = Math.round((driver.sent / Math.max(sendSpanS, scenario.duration / speed / 1000, 0.001)) * 100) / 100
    const lagList = driver.lags
    const lag = percentiles(lagList)

    const products = summarize({
      scenario,
      backend: 'cluster',
      traceHash,
      simulatedMs: endMs,
      wallMs: performance.now() - started,
      startMs: world.startMs,
      tracked: driver.tracked(),
      fx: genesis.fx,
      spreadBasisPoints: world.document.fxProviders[0]?.spreadBasisPoints ?? 0,
      blocks: chainHeight,
      height: Math.max(0, ...[...scanned.values()]),
      heightSeries,
      faultMarks,
      faults: faultCount,
      evidence: [...evidence.values()].reduce((sum, entry) => sum + entry.total, 0),
      violations: invariants.violations,
      invariantsChecked: invariants.checked,
      offeredTps,
      achievedSubmitTps: achievedTps
    })
    const summary: ClusterSummary = {
      ...products.report.summary,
      speed,
      traceHashOf: `SHA-256 over the final chain's block hashes, heights 1 to ${chainHeight} (not a trace of events: real runs do not repeat bit for bit)`,
      submission: { offeredTps, achievedTps, sent: driver.sent, accepted, lagMs: { p50: Math.round(lag.p50), p99: Math.round(lag.p99), max: Math.round(lag.max) } },
      notes
    }
    const report: RunReport = { ...products.report, summary }
    await events.close()
    const outputs = { ...writeRunOutputs(out, report, products.transfers), events: eventsPath }
    return { summary, outputs, clusterDir }
  } finally {
    if (options.keep !== true) await cluster.stopAll(5_000).catch(() => undefined)
    await events.close().catch(() => undefined)
  }
}

export { NodeClient }
