/**
 * `corridor sim ...`: run scenarios in virtual time.
 */
import { parseArgs } from 'node:util'
import { resolve } from 'node:path'
import type { CommandGroup } from './main.ts'
import { commandGroup } from './commandGroup.ts'
import { createProgress } from './progress.ts'
import { runScenarioFile } from '../sim/run.ts'
import { formatMs } from '../sim/report/svg.ts'
import type { RunSummary } from '../sim/report/types.ts'

export const defaultScenario = 'configs/scenarios/calm-cn-ae.yaml'

const usage = `usage: corridor sim <command> [options]

commands:
  run [scenario] [--seed N] [--out DIR]   run a scenario (default ${defaultScenario})
                                          and write summary.json, transfers.csv, events.jsonl
                                          and report.html to DIR (default out/<name>-<seed>)
  sweep <scenario> --set key=v1,v2 ...    run a grid of parameter values x seeds on worker
        [--seeds N] [--workers K]         threads; one CSV row per run in DIR/sweep.csv
        [--out DIR]
  fuzz [--seeds N] [--seed-start S]       draw faults per seed, check safety under faults and
       [--scenario FILE] [--workers K]    liveness after they heal; failing seeds are written
       [--out DIR]                        as scenario files that replay them

Run 'corridor sim <command> --help' for a command's options.
`

export function printSummary(summary: RunSummary, write: (line: string) => void): void {
  const t = summary.transfers
  const rejected = Object.entries(t.rejected).sort((a, b) => b[1] - a[1])
  write(`${summary.scenario} (seed ${summary.seed}): ${summary.ok ? 'PASS' : 'FAIL'}`)
  write(`  simulated ${formatMs(summary.simulatedMs)} in ${formatMs(summary.wallMs)} wall · ${summary.blocks} blocks · trace ${summary.traceHash.slice(0, 16)}`)
  write(`  transfers: ${t.submitted} submitted, ${t.settled} settled, ${t.submitted - t.settled - t.pending} rejected, ${t.pending} pending (${(summary.finalized * 100).toFixed(2)}% final)`)
  if (rejected.length > 0) write(`  rejected by reason: ${rejected.map(([reason, count]) => `${reason} ${count}`).join(', ')}`)
  write(`  finality: p50 ${formatMs(summary.latencyMs.p50)}, p90 ${formatMs(summary.latencyMs.p90)}, p99 ${formatMs(summary.latencyMs.p99)}, max ${formatMs(summary.latencyMs.max)} · ${summary.throughputTps} tps`)
  write(`  correspondent banking for the same payments: p50 ${formatMs(summary.baseline.settlementMs.p50)}, cost USD ${summary.baseline.correspondentCostUsd.toFixed(0)} vs USD ${summary.baseline.corridorCostUsd.toFixed(0)} on Corridor`)
  write(`  faults injected: ${summary.faults} · evidence recorded: ${summary.evidence}`)
  write(`  invariants: ${summary.invariants.ok ? `all hold (${summary.invariants.checked.join(', ')})` : `${summary.invariants.violations.length} violated`}`)
  for (const violation of summary.invariants.violations.slice(0, 10)) {
    write(`    ${violation.invariant} at ${formatMs(violation.atMs)}${violation.node ? ` on ${violation.node}` : ''}${violation.height !== undefined ? ` height ${violation.height}` : ''}: ${violation.message}`)
  }
  write(`  expectations: ${summary.expectations.ok ? 'met' : 'not met'}`)
  for (const failure of summary.expectations.failed) write(`    ${failure.metric}: expected ${failure.expected}, got ${failure.actual ?? 'nothing'}`)
}

export const simCommands: CommandGroup = commandGroup('sim', 'the simulator: run scenarios in virtual time', usage, {
  run: runCommand,
  sweep: async (args) => (await import('./simCampaignCommands.ts')).sweepCommand(args),
  fuzz: async (args) => (await import('./simCampaignCommands.ts')).fuzzCommand(args)
})

async function runCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { seed: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } }
  })
  if (values.help) {
    process.stdout.write(usage)
    return 0
  }
  if (positionals.length > 1) {
    process.stderr.write(`corridor sim run: one scenario at a time, got ${positionals.length}\n${usage}`)
    return 2
  }
  const path = positionals[0] ?? defaultScenario
  let seed: number | undefined
  if (values.seed !== undefined) {
    seed = Number(values.seed)
    if (!Number.isSafeInteger(seed) || seed < 0 || seed > 2 ** 32 - 1) {
      process.stderr.write(`corridor sim run: --seed must be an integer from 0 to 4294967295, got ${values.seed}\n`)
      return 2
    }
  }
  let progress: ReturnType<typeof createProgress> | undefined
  const loadedName = path.replace(/^.*\//, '').replace(/\.(ya?ml|json)$/, '')
  const out = values.out ?? `out/${loadedName}-${seed ?? 'default'}`
  const result = await runScenarioFile(path, {
    ...(seed === undefined ? {} : { seed }),
    out,
    onProgress: (simulatedMs, totalMs, status) => {
      progress ??= createProgress({ label: 'simulating', total: Math.round(totalMs / 1000), unit: 'simulated s' })
      progress.update(Math.round(simulatedMs / 1000), status)
    }
  })
  progress?.finish()
  const summary = result.report.summary
  printSummary(summary, (line) => process.stdout.write(line + '\n'))
  if (result.outputs !== undefined) {
    process.stdout.write(`  report: ${resolve(result.outputs.report)}\n`)
    process.stdout.write(`  data:   ${resolve(result.outputs.summary)}, transfers.csv, events.jsonl\n`)
  }
  if (!summary.ok) {
    process.stdout.write(`  replay: corridor sim run ${path} --seed ${summary.seed}\n`)
    return 1
  }
  return 0
}
