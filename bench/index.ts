/**
 * `npm run bench [-- name ...]`: runs the benchmarks (all, or those named) one after another and
 * writes each one's section of docs/BENCHMARKS.md. A benchmark is a module exporting a
 * `Benchmark`; add it to the list below.
 */
import { resolve } from 'node:path'
import { describeMachine, machineInfo, type MachineInfo } from './machine.ts'
import { writeSection } from './report.ts'
import { ledgerPaymentsBenchmark } from './ledgerPayments.ts'
import { simTransfersBenchmark } from './simTransfers.ts'
import { simEventsBenchmark } from './simEvents.ts'
import { clusterNodeBenchmark } from './clusterNode.ts'

export interface BenchmarkContext {
  readonly machine: MachineInfo
  /** Prints a progress line (the run takes a while). */
  progress(line: string): void
  /** Smaller workloads, for a quick look; the report says so. */
  readonly quick: boolean
}

export interface Benchmark {
  /** Section name and command-line name, e.g. "ledger-payments". */
  readonly name: string
  readonly summary: string
  /** Returns the Markdown of the benchmark's section. */
  run(context: BenchmarkContext): Promise<string>
}

const benchmarks: readonly Benchmark[] = [ledgerPaymentsBenchmark, simTransfersBenchmark, simEventsBenchmark, clusterNodeBenchmark]

const reportPath = resolve(import.meta.dirname, '..', 'docs', 'BENCHMARKS.md')

async function main(argv: string[]): Promise<number> {
  const quick = argv.includes('--quick')
  const names = argv.filter((arg) => !arg.startsWith('--'))
  if (argv.includes('--help')) {
    process.stdout.write(`usage: npm run bench [-- [--quick] [name ...]]\n\n${benchmarks.map((b) => `  ${b.name.padEnd(20)} ${b.summary}`).join('\n')}\n`)
    return 0
  }
  const unknown = names.filter((name) => !benchmarks.some((benchmark) => benchmark.name === name))
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown benchmark ${unknown.join(', ')}; known: ${benchmarks.map((b) => b.name).join(', ')}\n`)
    return 2
  }
  const selected = names.length === 0 ? benchmarks : benchmarks.filter((benchmark) => names.includes(benchmark.name))
  const machine = machineInfo()
  process.stdout.write(`bench: ${describeMachine(machine)}\n`)
  for (const benchmark of selected) {
    const started = performance.now()
    const progress = (line: string): void => {
      process.stdout.write(`[${benchmark.name} ${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s] ${line}\n`)
    }
    progress(benchmark.summary)
    const markdown = await benchmark.run({ machine, progress, quick })
    writeSection(reportPath, benchmark.name, markdown)
    progress(`wrote its section of ${reportPath}`)
  }
  return 0
}

process.exitCode = await main(process.argv.slice(2))
