/**
 * The `corridor` command line. Each group of subcommands lives in its own module, loaded only when
 * used, so `corridor ledger demo` does not load libp2p.
 */
import { CorridorError } from '../protocol/errors.ts'

export interface CommandGroup {
  readonly summary: string
  run(args: string[]): Promise<number>
}

const groups: Record<string, { summary: string; load: () => Promise<CommandGroup> }> = {
  ledger: { summary: 'the deposit-token ledger: demo', load: async () => (await import('./ledgerCommands.ts')).ledgerCommands },
  sim: { summary: 'the simulator: scenarios in virtual time', load: async () => (await import('./simCommands.ts')).simCommands },
  consensus: { summary: 'the BFT engine: fuzz', load: async () => (await import('./consensusCommands.ts')).consensusCommands },
  node: { summary: 'a bank validator node: keygen, start', load: async () => (await import('./nodeCommands.ts')).nodeCommands },
  network: { summary: 'network set-up: init (keys, genesis, node configs)', load: async () => (await import('./networkCommands.ts')).networkCommands },
  cluster: { summary: 'a local network of node processes: up, down, status, run', load: async () => (await import('./clusterCommands.ts')).clusterCommands }
}

export function usage(): string {
  const lines = ['usage: corridor <group> <command> [options]', '', 'groups:']
  for (const [name, group] of Object.entries(groups)) lines.push(`  ${name.padEnd(12)} ${group.summary}`)
  lines.push('', "Run 'corridor <group> --help' for a group's commands.")
  return lines.join('\n')
}

export async function main(argv: string[]): Promise<number> {
  const [groupName, ...rest] = argv
  if (groupName === undefined || groupName === '--help' || groupName === '-h' || groupName === 'help') {
    process.stdout.write(usage() + '\n')
    return groupName === undefined ? 2 : 0
  }
  const entry = groups[groupName]
  if (entry === undefined) {
    process.stderr.write(`corridor: unknown group '${groupName}'\n\n${usage()}\n`)
    return 2
  }
  try {
    const group = await entry.load()
    return await group.run(rest)
  } catch (error) {
    if (error instanceof CorridorError) {
      process.stderr.write(`corridor ${groupName}: ${error.code}: ${error.message}\n`)
      return 1
    }
    // node:util parseArgs: an unknown option or a missing value is a usage error, not a crash.
    const code = (error as { code?: unknown }).code
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`corridor ${groupName}: ${(error as Error).message.split('\n')[0]}\nRun 'corridor ${groupName} --help' for usage.\n`)
      return 2
    }
    throw error
  }
}
