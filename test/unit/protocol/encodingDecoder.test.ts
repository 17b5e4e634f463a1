/**
 * The one-pass canonical decoder against the decoder it replaced, kept here as the oracle:
 * msgpackr's unpack, the shape check, then encoding the value again and comparing the bytes. Both
 * must accept exactly the same inputs, give the same values, and refuse with the same codes
 * (except where the oracle's answer depended on the order of its three phases; see
 * `knownCodeDifference`).
 */
import t from 'tap'
import fc from 'fast-check'
import { Packr } from 'msgpackr'
import { decode, encode, sortKeys, type Encodable } from '../../../src/protocol/encoding.ts'
import { ProtocolError } from '../../../src/protocol/errors.ts'
import { protocolLimits } from '../../../src/protocol/limits.ts'
import { bytesToHex, concatBytes, equalBytes, hexToBytes } from '../../../src/protocol/bytes.ts'

// ---- the oracle: the decoder as it was before the one-pass decoder ----

const oraclePackr = new Packr({
  useRecords: false,
  moreTypes: false,
  int64AsType: 'bigint',
  mapsAsObjects: true,
  variableMapSize: true,
  bundleStrings: false,
  structuredClone: false
})
const bigintMin = -(2n ** 63n)
const bigintMax = 2n ** 64n - 1n

function oracleDecode(bytes: Uint8Array, options: { bytesMax?: number } = {}): Encodable {
  const bytesMax = options.bytesMax ?? protocolLimits.messageBytesMax
  if (!(bytes instanceof Uint8Array)) throw new ProtocolError('DECODE_MALFORMED', 'expected bytes to decode')
  if (bytes.length > bytesMax) throw new ProtocolError('DECODE_OVERSIZED', `input is ${bytes.length} bytes, more than the limit of ${bytesMax}`)
  if (bytes.length === 0) throw new ProtocolError('DECODE_MALFORMED', 'input is empty')
  let value: unknown
  try {
    value = oraclePackr.unpack(bytes)
  } catch (error) {
    const message = (error as Error).message
    if (message.includes('end of buffer not reached')) {
      throw new ProtocolError('DECODE_TRAILING_BYTES', 'input has bytes after the end of the encoded value')
    }
    throw new ProtocolError('DECODE_MALFORMED', `input is not valid MessagePack: ${message.slice(0, 120)}`)
  }
  oracleCheckShape(value, 0)
  let reencoded: Uint8Array
  try {
    reencoded = oraclePackr.pack(value)
  } catch {
    throw new ProtocolError('DECODE_NON_CANONICAL', 'input decodes to a value outside the canonical format')
  }
  if (!equalBytes(reencoded, bytes)) {
    throw new ProtocolError('DECODE_NON_CANONICAL', 'input is not in canonical form (a value has a shorter or different encoding)')
  }
  return value as Encodable
}

function oracleCheckShape(value: unknown, depth: number): void {
  if (depth > protocolLimits.decodeDepthMax) {
    throw new ProtocolError('DECODE_MALFORMED', `input nests deeper than ${protocolLimits.decodeDepthMax} levels`)
  }
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return
    case 'number':
      if (!Number.isSafeInteger(value)) throw new ProtocolError('DECODE_NON_CANONICAL', `numbers must be safe integers, got ${value}`)
      return
    case 'bigint':
      if (value < bigintMin || value > bigintMax) throw new ProtocolError('DECODE_NON_CANONICAL', 'integer out of range')
      return
    case 'object': {
      if (value === null || value instanceof Uint8Array) return
      if (Array.isArray(value)) {
        for (const item of value) oracleCheckShape(item, depth + 1)
        return
      }
      if (Object.getPrototypeOf(value) !== Object.prototype) {
        throw new ProtocolError('DECODE_MALFORMED', 'only arrays, maps, byte strings, strings, integers, booleans and nil are part of the format')
      }
      let previous: string | undefined
      for (const key of Object.keys(value)) {
        if (previous !== undefined && !(previous < key)) throw new ProtocolError('DECODE_NON_CANONICAL', 'map keys must be unique and in ascending order')
        previous = key
        oracleCheckShape((value as Record<string, unknown>)[key], depth + 1)
      }
      return
    }
    default:
      throw new ProtocolError('DECODE_MALFORMED', `values of type ${typeof value} are not part of the format`)
  }
}

// ---- comparing outcomes ----

type Outcome = { ok: true; value: Encodable } | { ok: false; code: string; message: string }

function outcomeOf(fn: () => Encodable): Outcome {
  try {
    return { ok: true, value: fn() }
  } catch (error) {
    if (error instanceof ProtocolError) return { ok: false, code: error.code, message: error.message }
    return { ok: false, code: `not a ProtocolError: ${String(error)}`, message: String(error) }
  }
}

/**
 * Deep equality that tells a number from a bigint and 0 from -0, and checks key order and
 * prototypes; a byte string's class (Buffer or Uint8Array) too unless `anyBytesClass`.
 */
function sameValue(a: unknown, b: unknown, anyBytesClass = false): boolean {
  if (typeof a !== typeof b) return false
  if (typeof a !== 'object' || a === null || b === null) return Object.is(a, b)
  if (a instanceof Uint8Array && anyBytesClass) return b instanceof Uint8Array && equalBytes(a, b)
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false
  if (a instanceof Uint8Array) return equalBytes(a, b as Uint8Array)
  if (Array.isArray(a)) {
    const other = b as unknown[]
    return a.length === other.length && a.every((item, i) => sameValue(item, other[i], anyBytesClass))
  }
  const keysA = Object.keys(a)
  const keysB = Object.keys(b as object)
  return (
    keysA.length === keysB.length &&
    keysA.every((key, i) => key === keysB[i] && sameValue((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], anyBytesClass))
  )
}

/**
 * Where the two may refuse with different codes. The new decoder refuses an extension type, the
 * reserved byte 0xc1 and excess nesting as DECODE_MALFORMED where it meets them; the oracle
 * parsed on first, so bytes after the value made it DECODE_TRAILING_BYTES, and an extension that
 * msgpackr turns into an in-format value (a bigint, a Uint8Array) made it DECODE_NON_CANONICAL.
 */
function knownCodeDifference(mine: Outcome & { ok: false }): boolean {
  return mine.code === 'DECODE_MALFORMED' && /extension|0xc1|nests deeper/.test(mine.message)
}

interface Tally {
  compared: number
  accepted: number
  codeDifferences: number
}

function compare(bytes: Uint8Array, tally?: Tally): string | undefined {
  const mine = outcomeOf(() => decode(bytes))
  const theirs = outcomeOf(() => oracleDecode(bytes))
  if (tally !== undefined) tally.compared++
  const hex = bytesToHex(bytes.subarray(0, 200))
  if (mine.ok !== theirs.ok) return `${hex}: new ${mine.ok ? 'accepts' : `refuses (${(mine as { message: string }).message})`}, oracle ${theirs.ok ? 'accepts' : `refuses (${(theirs as { message: string }).message})`}`
  if (mine.ok && theirs.ok) {
    if (tally !== undefined) tally.accepted++
    if (!sameValue(mine.value, theirs.value)) return `${hex}: the values differ`
    return undefined
  }
  const m = mine as Outcome & { ok: false }
  const o = theirs as Outcome & { ok: false }
  if (m.code.startsWith('not a') || o.code.startsWith('not a')) return `${hex}: ${m.code} / ${o.code}`
  if (m.code !== o.code) {
    if (knownCodeDifference(m)) {
      if (tally !== undefined) tally.codeDifferences++
      return undefined
    }
    return `${hex}: new ${m.code} (${m.message}), oracle ${o.code} (${o.message})`
  }
  return undefined
}

// ---- generators ----

const boundaryNumbers = [
  0, 1, 31, 32, 127, 128, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 53 - 1,
  -1, -31, -32, -33, -127, -128, -129, -32767, -32768, -32769, -(2 ** 31) + 1, -(2 ** 31), -(2 ** 31) - 1, -(2 ** 32), -(2 ** 53) + 1
]
const boundaryBigints = [
  0n, 1n, -1n, 127n, 128n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 32n + 1n, -(2n ** 32n), 2n ** 63n - 1n, 2n ** 63n, 2n ** 63n + 1n,
  2n ** 64n - 1n, 2n ** 64n - 2n, -(2n ** 63n), -(2n ** 63n) + 1n, -(2n ** 31n) - 1n
]
const boundaryLengths = [0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 256, 257, 65535, 65536, 65537]

const integerNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(...boundaryNumbers),
  fc.tuple(fc.constantFrom(...boundaryNumbers), fc.integer({ min: -3, max: 3 })).map(([n, d]) => n + d).filter((n) => Number.isSafeInteger(n)),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.integer({ min: -128, max: 255 })
)
const integerBigint: fc.Arbitrary<bigint> = fc.oneof(
  fc.constantFrom(...boundaryBigints),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
  fc.bigInt({ min: -300n, max: 300n })
)

const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/** Characters of 1, 2, 3 and 4 UTF-8 bytes, to land byte lengths on every side of a header threshold. */
const pieces = ['a', 'Z', '~', '\u00e9', '\u07ff', '\u0800', '\u20ac', '\ufeff', '\uffff', '\u{10000}', '\u{1f600}', '\u{10ffff}']
const text: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }).filter((s) => !loneSurrogate.test(s)),
  fc.array(fc.constantFrom(...pieces), { maxLength: 24 }).map((parts) => parts.join('')),
  // A run of ASCII around a threshold, then up to three multi-byte characters.
  fc
    .tuple(fc.constantFrom(...boundaryLengths.filter((n) => n <= 65537)), fc.integer({ min: -4, max: 1 }), fc.array(fc.constantFrom(...pieces), { maxLength: 3 }))
    .map(([n, d, tail]) => 'x'.repeat(Math.max(0, n + d)) + tail.join(''))
)
const bytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 70 }),
  fc.constantFrom(...boundaryLengths).map((n) => new Uint8Array(n).map((_, i) => i * 7))
)
/** Keys: mostly words, sometimes integer-like or unusual (a map's keys are written in Object.keys order). */
const key: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('a', 'b', 'amount', 'token', 'z', '', 'constructor', 'toString', '__proto_', 'é', '\u{1f600}'),
  fc.string({ maxLength: 6 }),
  fc.constantFrom('0', '1', '9', '10', '01', '-1', '1.5', '4294967294', '4294967295')
)

function encodableOf(keys: fc.Arbitrary<string>): fc.Arbitrary<Encodable> {
  return fc.letrec<{ value: Encodable }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constant(null),
      fc.boolean(),
      integerNumber,
      integerBigint,
      text,
      bytes,
      fc.array(tie('value'), { maxLength: 6 }),
      fc.array(tie('value'), { minLength: 15, maxLength: 17 }),
      fc.dictionary(keys, tie('value'), { maxKeys: 5 }).map((object) => sortKeys(object as Record<string, Encodable>)),
      fc.dictionary(keys, tie('value'), { minKeys: 15, maxKeys: 17 }).map((object) => sortKeys(object as Record<string, Encodable>))
    )
  })).value
}

/** Values whose maps come back in ascending key order (no integer-like keys), so they round-trip. */
const roundTripValue = encodableOf(key.filter((k) => !/^[0-9]/.test(k)))
/** Any value, including maps that `encode` writes in an order the decoders refuse. */
const anyValue = encodableOf(key)

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('xor' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() })
)

interface Mutation {
  readonly kind: 'flip' | 'xor' | 'insert' | 'delete' | 'truncate'
  readonly at: number
  readonly byte?: number
  readonly bit?: number
}

function mutate(input: Uint8Array, steps: readonly Mutation[]): Uint8Array {
  let out = input
  for (const step of steps) {
    if (out.length === 0) break
    const at = step.at % out.length
    switch (step.kind) {
      case 'flip':
        out = Uint8Array.from(out)
        out[at] = step.byte!
        break
      case 'xor':
        out = Uint8Array.from(out)
        out[at]! ^= 1 << step.bit!
        break
      case 'insert':
        out = concatBytes(out.subarray(0, at), new Uint8Array([step.byte!]), out.subarray(at))
        break
      case 'delete':
        out = concatBytes(out.subarray(0, at), out.subarray(at + 1))
        break
      case 'truncate':
        out = out.subarray(0, at)
        break
    }
  }
  return out
}

// ---- properties ----

t.test('the oracle encodes as encode does (same msgpackr configuration)', async (t) => {
  fc.assert(
    fc.property(anyValue, (value) => equalBytes(oraclePackr.pack(value), encode(value))),
    { numRuns: 300 }
  )
  t.pass()
})

t.test('round trip: decode(encode(v)) is v, and the oracle agrees', async (t) => {
  fc.assert(
    fc.property(roundTripValue, (value) => {
      const encoded = encode(value)
      const back = decode(encoded)
      if (!sameValue(back, value, true)) return false
      return compare(encoded) === undefined
    }),
    { numRuns: 1500 }
  )
  t.pass()
})

t.test('any encoded value, integer-like keys included: the two decoders agree', async (t) => {
  const tally: Tally = { compared: 0, accepted: 0, codeDifferences: 0 }
  fc.assert(
    fc.property(anyValue, (value) => {
      const problem = compare(encode(value), tally)
      if (problem !== undefined) throw new Error(problem)
    }),
    { numRuns: 1500 }
  )
  t.ok(tally.accepted > tally.compared / 2, `${tally.accepted} of ${tally.compared} accepted`)
})

t.test('random bytes: the two decoders agree on accepting, the value and the code', async (t) => {
  const tally: Tally = { compared: 0, accepted: 0, codeDifferences: 0 }
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 48 }), (input) => {
      const problem = compare(input, tally)
      if (problem !== undefined) throw new Error(problem)
    }),
    { numRuns: 20_000 }
  )
  // Bytes built from headers and payloads the decoders care about, so more of them parse.
  const token = fc.oneof(
    fc.integer({ min: 0, max: 255 }).map((b) => [b]),
    fc.constantFrom([0xcc, 0x7f], [0xcc, 0x80], [0xcd, 0x00, 0xff], [0xcd, 0x01, 0x00], [0xd0, 0xdf], [0xd0, 0xe0], [0xd9, 0x1f], [0xd9, 0x20], [0xc4, 0x00], [0xc5, 0x00, 0x01]),
    fc.constantFrom([0xc2], [0xc3], [0xc0], [0x90], [0x91], [0x92], [0x80], [0x81], [0x82], [0xa1, 0x61], [0xa1, 0x62], [0xa1, 0x31], [0xa2, 0x31, 0x30], [0xa0]),
    fc.constantFrom([0xed, 0xa0, 0x80], [0xef, 0xbb, 0xbf], [0xc0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82, 0xac], [0xf0, 0x9f, 0x98, 0x80])
  )
  fc.assert(
    fc.property(fc.array(token, { minLength: 1, maxLength: 16 }), (tokens) => {
      const problem = compare(Uint8Array.from(tokens.flat()), tally)
      if (problem !== undefined) throw new Error(problem)
    }),
    { numRuns: 20_000 }
  )
  t.ok(tally.accepted > 1000, `${tally.accepted} of ${tally.compared} accepted by both; ${tally.codeDifferences} known code differences`)
})

t.test('mutated encodings (flip, insert, delete, truncate): the two decoders agree', async (t) => {
  const tally: Tally = { compared: 0, accepted: 0, codeDifferences: 0 }
  fc.assert(
    fc.property(anyValue, fc.array(mutation, { minLength: 1, maxLength: 3 }), (value, steps) => {
      const problem = compare(mutate(encode(value), steps), tally)
      if (problem !== undefined) throw new Error(problem)
    }),
    { numRuns: 3000 }
  )
  t.ok(tally.accepted > 50, `${tally.accepted} of ${tally.compared} mutants accepted by both; ${tally.codeDifferences} known code differences`)
})

t.test('inputs longer than the native string extractor threshold agree too', async (t) => {
  // msgpackr reads strings in JavaScript below 140 bytes and with its native extractor above.
  const padded = fc.tuple(anyValue, fc.array(mutation, { maxLength: 2 })).map(([value, steps]) => mutate(encode([value, 'p'.repeat(150), value]), steps))
  fc.assert(
    fc.property(padded, (input) => {
      const problem = compare(input)
      if (problem !== undefined) throw new Error(problem)
    }),
    { numRuns: 1000 }
  )
  t.pass()
})

// ---- targeted cases ----

function codeOf(input: Uint8Array | string): string | undefined {
  const bytes = typeof input === 'string' ? hexToBytes(input) : input
  const problem = compare(bytes)
  if (problem !== undefined) throw new Error(problem)
  const outcome = outcomeOf(() => decode(bytes))
  return outcome.ok ? undefined : outcome.code
}

const u16 = (n: number): string => n.toString(16).padStart(4, '0')
const u32 = (n: number): string => n.toString(16).padStart(8, '0')
const u64 = (n: bigint): string => BigInt.asUintN(64, n).toString(16).padStart(16, '0')
const f64 = (n: number): string => {
  const view = new DataView(new ArrayBuffer(8))
  view.setFloat64(0, n)
  return bytesToHex(new Uint8Array(view.buffer))
}

t.test('each integer form is accepted only where msgpackr writes it', async (t) => {
  const cases: [string, string, string | undefined][] = [
    ['7f', '127 fixint', undefined],
    ['cc7f', '127 as uint 8', 'DECODE_NON_CANONICAL'],
    ['cc80', '128 as uint 8', undefined],
    ['cd00ff', '255 as uint 16', 'DECODE_NON_CANONICAL'],
    ['cd0100', '256 as uint 16', undefined],
    ['ce0000ffff', '65535 as uint 32', 'DECODE_NON_CANONICAL'],
    ['ce00010000', '65536 as uint 32', undefined],
    ['ceffffffff', '2^32-1 as uint 32', undefined],
    ['e0', '-32 fixint', undefined],
    ['d0e0', '-32 as int 8', 'DECODE_NON_CANONICAL'],
    ['d0df', '-33 as int 8', undefined],
    ['d0 01'.replace(' ', ''), '1 as int 8', 'DECODE_NON_CANONICAL'],
    ['d1ff80', '-128 as int 16', 'DECODE_NON_CANONICAL'],
    ['d1ff7f', '-129 as int 16', undefined],
    ['d17fff', '32767 as int 16', 'DECODE_NON_CANONICAL'],
    ['d2ffff8000', '-32768 as int 32', 'DECODE_NON_CANONICAL'],
    ['d2ffff7fff', '-32769 as int 32', undefined],
    ['d27fffffff', '2^31-1 as int 32', 'DECODE_NON_CANONICAL'],
    ['cb' + f64(2 ** 32), '2^32 as float 64', undefined],
    ['cb' + f64(-(2 ** 31) - 1), '-2^31-1 as float 64', undefined],
    ['cb' + f64(2 ** 53 - 1), '2^53-1 as float 64', undefined],
    ['cb' + f64(2 ** 32 - 1), '2^32-1 as float 64', 'DECODE_NON_CANONICAL'],
    ['cb' + f64(-(2 ** 31)), '-2^31 as float 64', 'DECODE_NON_CANONICAL'],
    ['cb' + f64(5), '5 as float 64', 'DECODE_NON_CANONICAL'],
    ['cb' + f64(-0), '-0', 'DECODE_NON_CANONICAL'],
    ['cb' + f64(2 ** 53), '2^53 (unsafe)', 'DECODE_NON_CANONICAL'],
    ['cb' + f64(Number.NaN), 'NaN', 'DECODE_NON_CANONICAL'],
    ['cb' + f64(Number.POSITIVE_INFINITY), 'infinity', 'DECODE_NON_CANONICAL'],
    ['cb' + f64(1.5), '1.5', 'DECODE_NON_CANONICAL'],
    ['ca3f800000', '1 as float 32', 'DECODE_NON_CANONICAL'],
    ['ca3fc00000', '1.5 as float 32', 'DECODE_NON_CANONICAL'],
    ['d3' + u64(5n), '5n as int 64', undefined],
    ['d3' + u64(-(2n ** 63n)), '-2^63 as int 64', undefined],
    ['d3' + u64(2n ** 63n - 1n), '2^63-1 as int 64', undefined],
    ['cf' + u64(5n), '5n as uint 64', 'DECODE_NON_CANONICAL'],
    ['cf' + u64(2n ** 63n - 1n), '2^63-1 as uint 64', 'DECODE_NON_CANONICAL'],
    ['cf' + u64(2n ** 63n), '2^63 as uint 64', undefined],
    ['cf' + u64(2n ** 64n - 1n), '2^64-1 as uint 64', undefined]
  ]
  for (const [hex, name, expected] of cases) t.equal(codeOf(hex), expected, name)
  t.equal(typeof decode(hexToBytes('cb' + f64(2 ** 32))), 'number')
  t.equal(decode(hexToBytes('cf' + u64(2n ** 64n - 1n))), 2n ** 64n - 1n)
})

t.test('each string, byte string, array and map header is accepted only where msgpackr writes it', async (t) => {
  const ascii = (n: number): string => '61'.repeat(n)
  const cases: [string, string, string | undefined][] = [
    ['bf' + ascii(31), '31-byte fixstr', undefined],
    ['d91f' + ascii(31), '31 bytes as str 8', 'DECODE_NON_CANONICAL'],
    ['d920' + ascii(32), '32 bytes as str 8', undefined],
    ['da00ff' + ascii(255), '255 bytes as str 16', 'DECODE_NON_CANONICAL'],
    ['da0100' + ascii(256), '256 bytes as str 16', undefined],
    ['db0000ffff' + ascii(65535), '65535 bytes as str 32', 'DECODE_NON_CANONICAL'],
    ['db00010000' + ascii(65536), '65536 bytes as str 32', undefined],
    ['c400', 'empty bin 8', undefined],
    ['c4ff' + ascii(255), '255 bytes as bin 8', undefined],
    ['c500ff' + ascii(255), '255 bytes as bin 16', 'DECODE_NON_CANONICAL'],
    ['c50100' + ascii(256), '256 bytes as bin 16', undefined],
    ['c60000ffff' + ascii(65535), '65535 bytes as bin 32', 'DECODE_NON_CANONICAL'],
    ['c600010000' + ascii(65536), '65536 bytes as bin 32', undefined],
    ['9f' + '00'.repeat(15), '15 elements fixarray', undefined],
    ['dc000f' + '00'.repeat(15), '15 elements as array 16', 'DECODE_NON_CANONICAL'],
    ['dc0010' + '00'.repeat(16), '16 elements as array 16', undefined],
    ['dd0000ffff' + '00'.repeat(65535), '65535 elements as array 32', 'DECODE_NON_CANONICAL'],
    ['dd00010000' + '00'.repeat(65536), '65536 elements as array 32', undefined],
    ['de0001a16100', 'one entry as map 16', 'DECODE_NON_CANONICAL'],
    ['df00000001a16100', 'one entry as map 32', 'DECODE_NON_CANONICAL'],
    ['80', 'empty fixmap', undefined],
    ['c0', 'nil', undefined],
    ['c2', 'false', undefined],
    ['c3', 'true', undefined]
  ]
  for (const [hex, name, expected] of cases) t.equal(codeOf(hex), expected, name)
  // A string whose UTF-16 length is under a threshold and whose UTF-8 length is over it.
  const euros = '\u20ac'.repeat(11) // 11 UTF-16 units, 33 bytes
  t.equal(bytesToHex(encode(euros)).slice(0, 4), 'd921', 'msgpackr writes str 8 for 33 bytes of 11 characters')
  t.equal(decode(encode(euros)), euros)
  const thirtyOne = '\u20ac'.repeat(10) + 'a'
  t.equal(bytesToHex(encode(thirtyOne)).slice(0, 2), 'bf', 'and a fixstr for 31 bytes of 11 characters')
  t.equal(codeOf(encode(thirtyOne)), undefined)
  t.equal(codeOf(concatBytes(hexToBytes('d91f'), encode(thirtyOne).subarray(1))), 'DECODE_NON_CANONICAL', 'not str 8')
  // Map 16 with 16 entries is the shortest form.
  const sixteen = sortKeys(Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${String.fromCharCode(97 + i)}`, i])))
  t.equal(bytesToHex(encode(sixteen)).slice(0, 6), 'de0010')
  t.equal(codeOf(encode(sixteen)), undefined, 'map 16 of 16 entries')
})

t.test('strings must be well-formed UTF-8 (short strings, long ones, and keys)', async (t) => {
  const invalid: [string, string][] = [
    ['c0 80'.replace(' ', ''), 'overlong NUL'],
    ['c1bf', 'overlong 2-byte'],
    ['e08080', 'overlong 3-byte'],
    ['f0808080', 'overlong 4-byte'],
    ['eda080', 'high surrogate'],
    ['edbfbf', 'low surrogate'],
    ['eda0bdedb880', 'surrogate pair in CESU-8'],
    ['f4908080', 'above U+10FFFF'],
    ['f8888080', '5-byte form'],
    ['80', 'lone continuation byte'],
    ['e282', 'truncated 3-byte sequence'],
    ['ff', 'byte 0xff']
  ]
  for (const [sequence, name] of invalid) {
    const inner = hexToBytes(sequence)
    for (const pad of [0, 70, 300]) {
      const body = concatBytes(new Uint8Array(pad).fill(0x61), inner)
      t.equal(codeOf(encodeRawString(body)), 'DECODE_NON_CANONICAL', `${name}, ${body.length} bytes`)
      t.equal(codeOf(concatBytes(new Uint8Array([0x81]), encodeRawString(body), new Uint8Array([0x01]))), 'DECODE_NON_CANONICAL', `${name} as a key, ${body.length} bytes`)
    }
  }
  for (const value of ['\ufeff' + 'x'.repeat(80), '\ufeffshort', '\u{10ffff}', '\ud7ff\ue000', 'a\u0000b']) {
    t.equal(decode(encode(value)), value, `round trip of ${JSON.stringify(value.slice(0, 12))}`)
  }
})

function encodeRawString(body: Uint8Array): Uint8Array {
  const n = body.length
  const header = n < 32 ? [0xa0 | n] : n < 256 ? [0xd9, n] : [0xda, n >> 8, n & 0xff]
  return concatBytes(Uint8Array.from(header), body)
}

t.test('maps: string keys, strictly ascending as JavaScript orders them, never __proto__', async (t) => {
  t.equal(codeOf('82a16101a16202'), undefined, '{a, b}')
  t.equal(codeOf('82a16201a16102'), 'DECODE_NON_CANONICAL', '{b, a}')
  t.equal(codeOf('82a16101a16102'), 'DECODE_NON_CANONICAL', 'duplicate key')
  t.equal(codeOf('810101'), 'DECODE_NON_CANONICAL', 'integer key 1')
  t.equal(codeOf('81c001'), 'DECODE_NON_CANONICAL', 'nil key')
  t.equal(codeOf('81c301'), 'DECODE_NON_CANONICAL', 'true key')
  t.equal(codeOf('81d3000000000000000101'), 'DECODE_NON_CANONICAL', 'bigint key')
  t.equal(codeOf('819001'), 'DECODE_MALFORMED', 'array key')
  t.equal(codeOf('818001'), 'DECODE_MALFORMED', 'map key')
  t.equal(codeOf('81c4016101'), 'DECODE_MALFORMED', 'byte string key')
  t.equal(codeOf('82a13101a16102'), undefined, '{"1", "a"}: an integer-like key first')
  t.equal(codeOf('82a13901a2313002'), 'DECODE_NON_CANONICAL', '{"9", "10"}: not ascending')
  t.equal(codeOf('82a2313001a13902'), 'DECODE_NON_CANONICAL', '{"10", "9"}: ascending, but Object.keys lists 9 first')
  t.equal(codeOf('82a22d3101a13002'), 'DECODE_NON_CANONICAL', '{"-1", "0"}: Object.keys lists 0 first')
  // JavaScript compares UTF-16 units: U+FFFF sorts after U+10000 (a surrogate pair), unlike their UTF-8 bytes.
  t.equal(codeOf(encode(sortKeys({ '\u{10000}': 1, '\uffff': 2 }))), undefined, 'keys in UTF-16 order')
  t.equal(codeOf(concatBytes(hexToBytes('82'), encode('\uffff'), hexToBytes('01'), encode('\u{10000}'), hexToBytes('02'))), 'DECODE_NON_CANONICAL', 'keys in UTF-8 byte order')

  // __proto__: refused, and nothing is polluted.
  const proto = concatBytes(hexToBytes('81'), encode('__proto__'), hexToBytes('81a8706f6c6c75746564c3'))
  t.equal(codeOf(proto), 'DECODE_NON_CANONICAL', '{__proto__: {polluted: true}}')
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched')
  const decoded = decode(encode(sortKeys({ constructor: 1, toString: 'x', __proto_: 2, hasOwnProperty: null })))
  t.equal(Object.getPrototypeOf(decoded), Object.prototype, 'a decoded map is a plain object')
  t.same(Object.keys(decoded as object), ['__proto_', 'constructor', 'hasOwnProperty', 'toString'])
})

t.test('extensions, the reserved byte, truncation, trailing bytes and nesting', async (t) => {
  t.equal(codeOf('c1'), 'DECODE_MALFORMED', 'reserved byte 0xc1')
  t.equal(codeOf('d6ff00000001'), 'DECODE_MALFORMED', 'timestamp')
  t.equal(codeOf('d40000'), 'DECODE_MALFORMED', 'undefined')
  t.equal(codeOf('c7010001'), 'DECODE_MALFORMED', 'ext 8')
  t.equal(outcomeOf(() => decode(hexToBytes('d5420005'))).ok, false, 'msgpackr bigint extension')
  t.equal(outcomeOf(() => decode(hexToBytes('c70274' + '0105'))).ok, false, 'msgpackr typed-array extension')
  t.equal(codeOf('92'), 'DECODE_MALFORMED', 'array without its elements')
  t.equal(codeOf('dd7fffffff00'), 'DECODE_MALFORMED', 'array 32 claiming 2^31 elements')
  t.equal(codeOf('df7fffffff00'), 'DECODE_MALFORMED', 'map 32 claiming 2^31 entries')
  t.equal(codeOf('db7fffffff61'), 'DECODE_MALFORMED', 'str 32 claiming 2 GiB')
  t.equal(codeOf('c67fffffff61'), 'DECODE_MALFORMED', 'bin 32 claiming 2 GiB')
  t.equal(codeOf('cd01'), 'DECODE_MALFORMED', 'uint 16 cut short')
  t.equal(codeOf('d300000000'), 'DECODE_MALFORMED', 'int 64 cut short')
  t.equal(codeOf('0000'), 'DECODE_TRAILING_BYTES', 'two values')
  t.equal(codeOf('cc0500'), 'DECODE_TRAILING_BYTES', 'non-canonical then trailing: trailing wins, as before')
  t.equal(codeOf('92cc05'), 'DECODE_MALFORMED', 'non-canonical then truncated: malformed wins, as before')
  const limit = protocolLimits.decodeDepthMax
  const nested = (levels: number, inner: string): string => '91'.repeat(levels) + inner
  t.equal(codeOf(nested(limit, '00')), undefined, `a scalar at depth ${limit}`)
  t.equal(codeOf(nested(limit, '90')), undefined, `an empty array at depth ${limit}`)
  t.equal(codeOf(nested(limit + 1, '90')), 'DECODE_MALFORMED', `an empty array at depth ${limit + 1}`)
  t.equal(codeOf(nested(limit + 1, '00')), 'DECODE_MALFORMED', `a scalar at depth ${limit + 1}`)
  t.equal(codeOf(nested(limit, '81a16100')), 'DECODE_MALFORMED', `a map at depth ${limit} with an entry`)
  t.equal(outcomeOf(() => decode(new Uint8Array(1 << 20).fill(0x91))).ok, false, 'a megabyte of nesting is refused without exhausting the stack')
})

t.test('byte strings come back as msgpackr returned them: views of the input, of its class', async (t) => {
  const value = ['x', new Uint8Array([1, 2, 3]), [new Uint8Array(300).fill(9)]]
  for (const input of [encode(value), Uint8Array.from(encode(value)), Buffer.from(encode(value))]) {
    const mine = decode(input) as [string, Uint8Array, [Uint8Array]]
    const theirs = oracleDecode(input) as [string, Uint8Array, [Uint8Array]]
    t.ok(mine[1] instanceof Uint8Array)
    t.equal(mine[1].constructor, theirs[1].constructor, `class ${mine[1].constructor.name} for a ${input.constructor.name} input`)
    t.equal(mine[1].buffer, input.buffer, 'a view of the input, not a copy')
    t.ok(sameValue(mine, theirs))
  }
})

t.test('decoding is bounded by the input: large crafted inputs are refused quickly', async (t) => {
  const started = performance.now()
  // Nested arrays each claiming as many elements as bytes remain.
  const claims = concatBytes(...Array.from({ length: 30 }, () => hexToBytes('dd000fffff')), new Uint8Array(1 << 20))
  t.equal(outcomeOf(() => decode(claims)).ok, false)
  // A million one-entry maps, accepted in linear time.
  const manyMaps = new Uint8Array(5 + 4 * 1_000_000)
  manyMaps.set(hexToBytes('dd000f4240'))
  for (let i = 0; i < 1_000_000; i++) manyMaps.set([0x81, 0xa1, 0x00, 0xc0], 5 + 4 * i)
  t.equal(outcomeOf(() => decode(manyMaps, { bytesMax: 8 << 20 })).ok, true)
  t.ok(performance.now() - started < 10_000, `took ${Math.round(performance.now() - started)} ms`)
})

t.test('strings cut from windows of the input: views at an offset, strings across windows, long strings', async (t) => {
  // Many strings, so that they straddle the decoder's 1 KiB windows, in a view at an odd offset
  // of a larger buffer whose other bytes must never show up in a string.
  const strings = fc.array(fc.oneof(fc.string({ maxLength: 40 }), text, fc.nat({ max: 3000 }).map((n) => 'w'.repeat(n))), { minLength: 50, maxLength: 200 })
  fc.assert(
    fc.property(strings, fc.nat({ max: 7 }), (values, offset) => {
      const encoded = encode(values)
      const backing = new Uint8Array(encoded.length + offset + 16).fill(0x5a)
      backing.set(encoded, offset)
      const view = backing.subarray(offset, offset + encoded.length)
      const back = decode(view)
      if (!sameValue(back, values)) return false
      backing.fill(0x41)
      return sameValue(back, values) && compare(Buffer.from(encoded)) === undefined
    }),
    { numRuns: 200 }
  )
  t.pass('strings are copies: overwriting the input afterwards leaves them as they were')
})

t.test('a map with the key constructor: accepted only where encode can write it back', async (t) => {
  const map = (entries: Array<[string, Uint8Array]>): Uint8Array =>
    concatBytes(Uint8Array.of(0x80 | entries.length), ...entries.flatMap(([key, value]) => [encode(key), value]))
  // msgpackr takes { constructor, toJSON: truthy } down its toJSON path and throws.
  for (const toJSON of [Uint8Array.of(0x01), Uint8Array.of(0xc3), Uint8Array.of(0x80)]) {
    const bytes = map([['constructor', Uint8Array.of(0x01)], ['toJSON', toJSON]])
    t.equal(compare(bytes), undefined, 'the oracle agrees')
    t.throws(() => decode(bytes), { code: 'DECODE_NON_CANONICAL' }, `constructor with toJSON ${bytesToHex(toJSON)} refused`)
  }
  for (const value of [{ constructor: 1, toJSON: 0 }, { constructor: 1 }, { constructor: 'x', toJSON: false }] as Encodable[]) {
    const bytes = encode(value)
    t.same(decode(bytes), value, `${JSON.stringify(value)} round-trips`)
    t.equal(compare(bytes), undefined, 'the oracle agrees')
  }
})
