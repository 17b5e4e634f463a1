/**
 * Micro-benchmark (not a test): decoding one signed payment, a gossip batch of 200 and a block
 * payload of 2,000, with the one-pass decoder and with the decoder it replaced (unpack, shape check,
 * encode again, compare). Run: node bin/run-ts.js bench/micro/canonicalDecoder.ts
 * Old and new alternate in rounds so that load on the machine falls on both; the time is the
 * process's CPU time (steadier than the wall clock on a loaded machine); medians are printed.
 */
import { Packr } from 'msgpackr'
import { decode, encode, type Encodable } from '../../src/protocol/encoding.ts'
import { transactionToTuple } from '../../src/protocol/envelope.ts'
import { equalBytes } from '../../src/protocol/bytes.ts'
import { createTestNetwork } from '../../src/ledger/testing/network.ts'
import { generatePayments } from '../../src/ledger/testing/workload.ts'
import { encodePayloadOf } from '../../src/node/replica/replica.ts'

const packr = new Packr({ useRecords: false, moreTypes: false, int64AsType: 'bigint', mapsAsObjects: true, variableMapSize: true, bundleStrings: false, structuredClone: false })

/** The old decoder's work on an input it accepts: unpack, the shape walk, encode again, compare. */
function oldDecode(bytes: Uint8Array): Encodable {
  const value = packr.unpack(bytes) as Encodable
  shape(value, 0)
  if (!equalBytes(packr.pack(value), bytes)) throw new Error('not canonical')
  return value
}
function shape(value: unknown, depth: number): void {
  if (depth > 32) throw new Error('deep')
  if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new Error('unsafe')
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return
  if (Array.isArray(value)) {
    for (const item of value) shape(item, depth + 1)
    return
  }
  let previous: string | undefined
  for (const key of Object.keys(value)) {
    if (previous !== undefined && !(previous < key)) throw new Error('order')
    previous = key
    shape((value as Record<string, unknown>)[key], depth + 1)
  }
}

const network = createTestNetwork()
const payments = generatePayments(network, { count: 2000, seed: 1 })
const batch = encode(payments.slice(0, 200).map(transactionToTuple))
const payload = encodePayloadOf(payments)
const single = encode(transactionToTuple(payments[0]!))
const cases: [string, Uint8Array][] = [
  [`one payment, ${single.length} bytes`, Buffer.from(single)],
  [`gossip batch, 200 payments, ${batch.length} bytes`, Buffer.from(batch)],
  [`block payload, 2000 payments, ${payload.length} bytes`, Buffer.from(payload)]
]

function microsPerCall(fn: (bytes: Uint8Array) => unknown, bytes: Uint8Array, calls: number): number {
  const started = process.cpuUsage()
  for (let i = 0; i < calls; i++) fn(bytes)
  const spent = process.cpuUsage(started)
  return (spent.user + spent.system) / calls
}
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

for (const [name, bytes] of cases) {
  const calls = Math.max(5, Math.round(2_000_000 / bytes.length))
  for (let i = 0; i < 3; i++) {
    microsPerCall(oldDecode, bytes, calls)
    microsPerCall(decode, bytes, calls)
  }
  const old: number[] = []
  const now: number[] = []
  for (let round = 0; round < 15; round++) {
    old.push(microsPerCall(oldDecode, bytes, calls))
    now.push(microsPerCall(decode, bytes, calls))
  }
  const unpackOnly: number[] = []
  for (let round = 0; round < 7; round++) unpackOnly.push(microsPerCall((b) => packr.unpack(b), bytes, calls))
  console.log(`${name}: old ${median(old).toFixed(1)} µs, new ${median(now).toFixed(1)} µs per decode (${(median(old) / median(now)).toFixed(1)}x); msgpackr unpack alone ${median(unpackOnly).toFixed(1)} µs; fastest old ${Math.min(...old).toFixed(1)}, new ${Math.min(...now).toFixed(1)}`)
}
