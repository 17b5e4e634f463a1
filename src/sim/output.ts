/**
 * Writes a run's outputs into --out: summary.json, transfers.csv, events.jsonl and report.html.
 * bigint values are written as decimal strings in JSON, so pandas and jq read them exactly.
 */
import { mkdirSync, writeFileSync, createWriteStream, type WriteStream } from 'node:fs'
import { join } from 'node:path'
import { renderReport } from './report/html.ts'
import type { RunReport, TransferRecord } from './report/types.ts'

export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Map) return Object.fromEntries(value)
  if (value instanceof Set) return [...value]
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex')
  return value
}

export const transferColumns: ReadonlyArray<keyof TransferRecord> = [
  'id',
  'kind',
  'corridor',
  'payer',
  'payee',
  'payerBank',
  'payeeBank',
  'amount',
  'currency',
  'received',
  'receivedCurrency',
  'submitMs',
  'finalMs',
  'status',
  'reason',
  'amountUsd',
  'corridorCostUsd',
  'baselineMs',
  'baselineCostUsd'
]

export function csvField(value: unknown): string {
  if (value === null || value === undefined) return ''
  const text = String(value)
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

export function transfersCsv(records: Iterable<TransferRecord>): string {
  const lines = [transferColumns.join(',')]
  for (const record of records) lines.push(transferColumns.map((column) => csvField(record[column])).join(','))
  return lines.join('\n') + '\n'
}

/** An append-only JSON-lines event log. Writes are buffered by the stream; close() flushes. */
export class EventLog {
  private readonly stream: WriteStream | undefined
  private count = 0
  private readonly eventsMax: number

  constructor(path: string | undefined, eventsMax = 5_000_000) {
    this.stream = path === undefined ? undefined : createWriteStream(path)
    this.eventsMax = eventsMax
  }

  write(event: Record<string, unknown>): void {
    if (this.stream === undefined || this.count >= this.eventsMax) return
    this.count++
    this.stream.write(JSON.stringify(event, jsonReplacer) + '\n')
  }

  get written(): number {
    return this.count
  }

  async close(): Promise<void> {
    if (this.stream === undefined) return
    await new Promise<void>((resolve, reject) => this.stream!.end((error?: Error | null) => (error ? reject(error) : resolve())))
  }
}

export interface WrittenOutputs {
  readonly summary: string
  readonly transfers: string
  readonly report: string
}

export function writeRunOutputs(directory: string, report: RunReport, transfers: Iterable<TransferRecord>): WrittenOutputs {
  mkdirSync(directory, { recursive: true })
  const paths = {
    summary: join(directory, 'summary.json'),
    transfers: join(directory, 'transfers.csv'),
    report: join(directory, 'report.html')
  }
  writeFileSync(paths.summary, JSON.stringify(report.summary, jsonReplacer, 2) + '\n')
  writeFileSync(paths.transfers, transfersCsv(transfers))
  writeFileSync(paths.report, renderReport(report))
  return paths
}
