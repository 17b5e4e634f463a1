/**
 * A quick look at one benchmark simulation in this process, for profiling (`node --cpu-prof`):
 * `node --max-semi-space-size=64 bin/run-ts.js bench/simProfile.ts [transfers] [banks] [crypto] [execution] [mempool] [rate per second] [workload thread: auto|inline|worker]`.
 * Prints wall and CPU time (of the process and of the simulation thread alone), events and the
 * trace hash. Not part of `npm run bench`.
 */
import { readFileSync } from 'node:fs'
import { Simulation } from '../src/sim/simulation.ts'
import { scaleScenario } from './simScenario.ts'

const [transfersArg, banksArg, cryptoArg, executionArg, mempoolArg, rateArg, workloadThreadArg] = process.argv.slice(2)
const transfers = Number(transfersArg ?? 40_000)
const banks = Number(banksArg ?? 16)
const ratePerSecond = Number(rateArg ?? 2_000)
const loaded = scaleScenario({
  banks,
  ratePerSecond,
  durationSeconds: transfers / ratePerSecond,
  crypto: cryptoArg === 'real' ? 'real' : 'modeled',
  execution: executionArg === 'per-node' ? 'per-node' : 'shared',
  mempool: mempoolArg === 'shared' ? 'shared' : 'per-node'
})
/** CPU seconds of this (the main) thread alone, from /proc (Linux): process.cpuUsage counts every thread, the workload worker's and the garbage collector's helpers included. */
function mainThreadCpuS(): number | undefined {
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command name, in clock ticks of 1/100 s.
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return undefined
  }
}

const workloadThread = workloadThreadArg === 'inline' || workloadThreadArg === 'worker' ? workloadThreadArg : 'auto'
const simulation = new Simulation({ scenario: loaded.scenario, policies: loaded.policies, policyDocuments: loaded.policyDocuments, workloadThread })
const started = performance.now()
const cpuStarted = process.cpuUsage()
const mainCpuStarted = mainThreadCpuS()
const result = simulation.run()
const cpu = process.cpuUsage(cpuStarted)
const mainCpuEnded = mainThreadCpuS()
const wallMs = performance.now() - started
let final = 0
for (const transfer of result.tracked.values()) if (transfer.finalMs !== undefined) final++
const line = {
  transfers: result.submitted,
  workloadThread,
  final,
  wallS: +(wallMs / 1000).toFixed(2),
  cpuS: +((cpu.user + cpu.system) / 1e6).toFixed(2),
  mainCpuS: mainCpuStarted === undefined || mainCpuEnded === undefined ? undefined : +(mainCpuEnded - mainCpuStarted).toFixed(2),
  usPerTransfer: +((wallMs * 1000) / result.submitted).toFixed(1),
  events: result.eventsProcessed,
  eventsPerTransfer: +(result.eventsProcessed / result.submitted).toFixed(2),
  blocks: result.blocks,
  violations: result.violations.length,
  traceHash: result.traceHash.slice(0, 16),
  heapMiB: Math.round(process.memoryUsage().heapUsed / 2 ** 20)
}
process.stdout.write(`${JSON.stringify(line)}\n`)
