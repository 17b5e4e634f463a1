/**
 * Simulated events per second at 4, 16, 64 and 128 banks: how fast the simulator gets through its
 * event queue as the network grows. Consensus traffic grows with the square of the banks (every
 * validator's votes reach every other), so the event count per block does too.
 */
import type { Benchmark } from './index.ts'
import { describeMachine } from './machine.ts'
import { describeOptions, runSimulationBenchmark, youngGenerationMiB } from './simRun.ts'
import type { ScaleScenarioOptions } from './simScenario.ts'

const sizes = [4, 16, 64, 128] as const
/** Offered load per bank, so the load grows with the network. */
const ratePerBank = 25
/**
 * Simulated seconds of workload per size: longer for the small networks, whose runs would
 * otherwise be over before the JIT compiler has warmed up, shorter for the large ones.
 */
const durationSeconds = (banks: number, quick: boolean): number => (quick ? { 4: 10, 16: 5, 64: 5, 128: 3 } : { 4: 60, 16: 30, 64: 15, 128: 10 })[banks]!
/** Corporates per bank: fewer for the large networks, whose n full ledgers would fill memory. */
const corporatesPerBank = (banks: number): number => (banks <= 16 ? 200 : 50)

const count = (value: number): string => Math.round(value).toLocaleString('en-US')

export const simEventsBenchmark: Benchmark = {
  name: 'sim-events',
  summary: 'simulated events per second at 4, 16, 64 and 128 banks',
  async run(context) {
    const drainSeconds = 5
    const rows: string[] = []
    for (const banks of sizes) {
      const options: ScaleScenarioOptions = {
        banks,
        ratePerSecond: ratePerBank * banks,
        durationSeconds: durationSeconds(banks, context.quick),
        drainSeconds,
        crypto: 'modeled',
        execution: 'shared',
        mempool: 'shared',
        corporatesPerBank: corporatesPerBank(banks)
      }
      context.progress(`${describeOptions(options)}: starting`)
      let lastShown = 0
      const result = await runSimulationBenchmark(options, (fraction, status) => {
        const now = performance.now()
        if (now - lastShown < 10_000) return
        lastShown = now
        context.progress(`${banks} banks: ${(fraction * 100).toFixed(0)}% · ${status}`)
      })
      if (result.violations > 0) throw new Error(`the benchmark run at ${banks} banks broke ${result.violations} invariants`)
      const wallSeconds = result.wallMs / 1000
      context.progress(`${banks} banks: ${count(result.events)} events in ${wallSeconds.toFixed(1)} s: ${count(result.events / wallSeconds)} events/s`)
      rows.push(
        `| ${banks} | ${count(options.ratePerSecond)} | ${options.durationSeconds} + ${drainSeconds} | ${count(result.events)} | ${wallSeconds.toFixed(1)} | **${count(result.events / wallSeconds)}** | ${((result.simulatedMs / 1000) / wallSeconds).toFixed(2)} | ${count(result.blocks)} | ${count(result.events / Math.max(1, result.blocks))} | ${count(result.submitted)} | ${((result.final / Math.max(1, result.submitted)) * 100).toFixed(1)}% | ${result.latencyP50Ms.toFixed(0)} | ${result.peakHeapMiB} |`
      )
    }
    return [
      '## Simulator: events per second by network size',
      '',
      `Machine: ${describeMachine(context.machine)}.${context.quick ? ' Quick run (`--quick`): shorter runs.' : ''}`,
      '',
      `What is measured: the benchmark scenario of bench/simScenario.ts (banks in 8 jurisdictions with cross-border latencies, trade on every corridor, the example policies) with n banks, ${ratePerBank} transfers/s offered per bank for the simulated seconds shown, then ${drainSeconds} s of drain, modeled crypto and shared execution (the modes for scale; see the section above). An event is one item taken off the simulator's queue: a message delivered to a node (a vote, a proposal, a gossip batch of transactions, a catch-up response), a timeout firing, a workload arrival, a client retry, a fault or a once-a-second sample. With \`mempool: shared\` (used here), a gossip batch reaching a node is not an event: it is marked in the node\'s view when the node next takes an input (see the section above). Wall time covers \`Simulation.run()\` in a fresh worker thread (${youngGenerationMiB} MiB young generation). Corporates per bank: 200 up to 16 banks, 50 beyond, since every node holds the whole ledger.`,
      '',
      '| banks | transfers/s offered | simulated s | events | wall s | events/s | simulated s per wall s | blocks | events per block | transfers | final | finality p50 ms | peak heap MiB |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows,
      '',
      'Reading the figures: events per block grow with the square of the network (each of n validators sends its proposal and votes to the n - 1 others), so simulated time per wall second falls roughly with the square. Events themselves get cheaper as the network grows: at 4 and 16 banks many carry transactions (a gossip batch entering a mempool, a block of payments admitted, executed and committed), while at 64 and 128 banks nearly all are votes, each decoded once per process and checked against a signature already verified, which cost a few microseconds.'
    ].join('\n')
  }
}
