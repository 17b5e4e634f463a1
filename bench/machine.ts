/** The machine a benchmark ran on, so a figure can be read against its hardware. */
import { cpus, loadavg, platform, arch, totalmem } from 'node:os'

export interface MachineInfo {
  readonly cpuModel: string
  readonly cores: number
  readonly memoryGiB: number
  readonly node: string
  readonly platform: string
  /** One-minute load average when the run started: other work on the machine skews figures. */
  readonly loadAverage: number
  readonly date: string
}

export function machineInfo(): MachineInfo {
  const list = cpus()
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${platform()} ${arch()}`,
    loadAverage: Math.round(loadavg()[0]! * 100) / 100,
    date: new Date().toISOString().slice(0, 10)
  }
}

export function describeMachine(machine: MachineInfo): string {
  return `${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB; Node ${machine.node} on ${machine.platform}; ${machine.date}; load average ${machine.loadAverage} at the start`
}
