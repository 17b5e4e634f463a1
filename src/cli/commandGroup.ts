/**
 * A group of subcommands (`corridor <group> <command>`): dispatch by name, with the usual answers
 * to no command (usage, exit 2), --help (usage, exit 0) and an unknown command (named, exit 2).
 */
import type { CommandGroup } from './main.ts'

export type Command = (args: string[]) => Promise<number>

export function commandGroup(name: string, summary: string, usage: string, commands: Readonly<Record<string, Command>>): CommandGroup {
  return {
    summary,
    async run(args) {
      const [command, ...rest] = args
      if (command === undefined || command === '--help' || command === '-h') {
        process.stdout.write(usage)
        return command === undefined ? 2 : 0
      }
      const run = Object.prototype.hasOwnProperty.call(commands, command) ? commands[command] : undefined
      if (run === undefined) {
        process.stderr.write(`corridor ${name}: unknown command '${command}'\n${usage}`)
        return 2
      }
      return run(rest)
    }
  }
}
