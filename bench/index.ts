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

const defaultReportPath = resolve(import.meta.dirname, '..', 'docs', 'BENCHMARKS.md')

async function main(argv: string[]): Promise<number> {
  const quick = argv.includes('--quick')
  // --report FILE: write the sections to another Markdown file (a trial run that must not
  // replace the published figures); the file is created if missing.
  const reportIndex = argv.indexOf('--report')
  const reportPath = reportIndex >= 0 ? resolve(argv[reportIndex + 1] ?? '') : defaultReportPath
  if (reportIndex >= 0 && (argv[reportIndex + 1] === undefined || argv[reportIndex + 1]!.startsWith('--'))) {
    process.stderr.write('bench: --report needs a file path\n')
    return 2
  }
  const names = argv.filter((arg, index) => !arg.startsWith('--') && !(reportIndex >= 0 && index === reportIndex + 1))
  if (argv.includes('--help')) {
    process.stdout.write(`usage: npm run bench [-- [--quick] [--report FILE] [name ...]]\n\n${benchmarks.map((b) => `  ${b.name.padEnd(20)} ${b.summary}`).join('\n')}\n`)
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
