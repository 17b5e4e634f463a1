/**
 * The decoder of the canonical encoding (see encoding.ts), in one pass over the bytes. It builds
 * the values msgpackr's `unpack` builds with the encoder's configuration and accepts an input if
 * and only if it is exactly what `encode` writes for that value, so nothing is encoded again to
 * compare. What msgpackr's writer (pack.js) picks, and so the only form accepted for each value:
 *  - a number that is a 32-bit unsigned integer: positive fixint below 128 (records are off),
 *    uint 8 below 2^8, uint 16 below 2^16, uint 32 beyond;
 *  - a negative 32-bit integer: negative fixint from -32, int 8 from -128, int 16 from -2^15,
 *    int 32 beyond;
 *  - any other number as float 64: accepted only for a safe integer outside the 32-bit ranges
 *    (NaN, fractions, -0 and unsafe integers are refused, as the old shape check did);
 *  - a bigint always in 64 bits: int 64 when it fits, uint 64 only from 2^63 (so a number and a
 *    bigint of the same value never share bytes);
 *  - string, byte string, array and map headers by the byte or element count: fix form, then 8
 *    (strings and byte strings only), 16 and 32 bits, the shortest that fits (msgpackr estimates
 *    a string's header from its UTF-16 length and moves the bytes when the UTF-8 length needs a
 *    longer one, so the header written is always the shortest for the bytes);
 *  - strings in well-formed UTF-8 (msgpackr decodes anything else to U+FFFD, which encodes back
 *    to other bytes); maps with string keys in strictly ascending order (JavaScript string order)
 *    that `Object.keys` gives back in that order, which refuses integer-like keys out of numeric
 *    order; never the key `__proto__` (msgpackr renames it, so its input never re-encoded equal);
 *  - nil, false, true. Never float 32, extension types or the reserved byte 0xc1.
 * Byte strings come back as views into the input (`subarray`), as msgpackr returns them: a caller
 * that keeps one beyond the input's lifetime copies it (the envelope decoder does).
 *
 * Errors are ProtocolErrors with the codes the re-encoding decoder gave: a structural problem
 * (truncation, an unknown or extension type, a key that is a container, excess nesting) is
 * DECODE_MALFORMED at once; a value in a non-canonical form is remembered and the parse goes on,
 * so that truncation later still reads DECODE_MALFORMED and bytes after the value still read
 * DECODE_TRAILING_BYTES, and only then is it DECODE_NON_CANONICAL. Work is linear in the input:
 * each byte is read once or twice, arrays are pre-allocated only within a budget of the input's
 * length (every element takes a byte) and maps are checked to need two bytes an entry.
 */
import type { Encodable } from './encoding.ts'
import { ProtocolError } from './errors.ts'

const emptyBytes = new Uint8Array(0)

// The state of the one decode in progress (decoding calls no outside code, so it never nests).
let source: Uint8Array = emptyBytes
let view: DataView | undefined
let position = 0
let end = 0
let depthMax = 0
/** Array elements still allowed to be pre-allocated: the input's length, spent as arrays open. */
let arrayBudget = 0
/** Where the first non-canonical form was seen, -1 while none was. */
let nonCanonicalAt = -1
let nonCanonicalReason = ''

const twoTo63 = 2n ** 63n
const fatalUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const fromCharCode = String.fromCharCode

/**
 * Decodes `bytes` (already checked to be a non-empty Uint8Array within its size bound), refusing
 * values nested deeper than `depthLimit` (the top value is at depth 0).
 */
export function decodeCanonical(bytes: Uint8Array, depthLimit: number): Encodable {
  source = bytes
  view = undefined
  position = 0
  end = bytes.length
  depthMax = depthLimit
  arrayBudget = bytes.length
  nonCanonicalAt = -1
  nonCanonicalReason = ''
  windowStart = 0
  windowEnd = 0
  try {
    const value = readValue(0)
    if (position < end) throw new ProtocolError('DECODE_TRAILING_BYTES', 'input has bytes after the end of the encoded value')
    if (nonCanonicalAt >= 0) {
      throw new ProtocolError('DECODE_NON_CANONICAL', `input is not in canonical form: ${nonCanonicalReason} (at byte ${nonCanonicalAt})`)
    }
    return value
  } finally {
    source = emptyBytes
    view = undefined
    stringWindow = ''
  }
}

function nonCanonical(at: number, reason: string): void {
  if (nonCanonicalAt < 0) {
    nonCanonicalAt = at
    nonCanonicalReason = reason
  }
}

function truncated(at: number): ProtocolError {
  return new ProtocolError('DECODE_MALFORMED', `input is not valid MessagePack: it ends inside the value that starts at byte ${at}`)
}

function tooDeep(): ProtocolError {
  return new ProtocolError('DECODE_MALFORMED', `input nests deeper than ${depthMax} levels`)
}

function malformed(reason: string): ProtocolError {
  return new ProtocolError('DECODE_MALFORMED', reason)
}

function dataView(): DataView {
  return (view ??= new DataView(source.buffer, source.byteOffset, source.byteLength))
}

/** Moves past a header's `size` bytes after the type byte at `at`, or throws if the input ends first. */
function need(size: number, at: number): number {
  const start = position
  if (size > end - start) throw truncated(at)
  position = start + size
  return start
}

function readUint16(at: number): number {
  const p = need(2, at)
  return (source[p]! << 8) | source[p + 1]!
}

function readUint32(at: number): number {
  const p = need(4, at)
  return source[p]! * 0x1000000 + ((source[p + 1]! << 16) | (source[p + 2]! << 8) | source[p + 3]!)
}

/** Reads the value at `position`, at nesting `depth` (checked by the container that holds it). */
function readValue(depth: number): Encodable {
  const at = position
  if (at >= end) throw truncated(at)
  const token = source[at]!
  position = at + 1
  if (token < 0x80) return token
  if (token >= 0xe0) return token - 0x100
  if (token < 0xc0) {
    if (token >= 0xa0) return readString(token - 0xa0, at)
    if (token >= 0x90) return readArray(token - 0x90, depth, at)
    return readMap(token - 0x80, depth, at)
  }
  switch (token) {
    case 0xc0:
      return null
    case 0xc2:
      return false
    case 0xc3:
      return true
    case 0xc4: {
      if (at + 1 >= end) throw truncated(at)
      position = at + 2
      return readBytes(source[at + 1]!, at)
    }
    case 0xc5: {
      const length = readUint16(at)
      if (length < 0x100) nonCanonical(at, `a byte string of ${length} bytes has a bin 16 header`)
      return readBytes(length, at)
    }
    case 0xc6: {
      const length = readUint32(at)
      if (length < 0x10000) nonCanonical(at, `a byte string of ${length} bytes has a bin 32 header`)
      return readBytes(length, at)
    }
    case 0xca: {
      const value = dataView().getFloat32(need(4, at))
      nonCanonical(at, `numbers are never written as float 32, got ${value}`)
      return value
    }
    case 0xcb: {
      const value = dataView().getFloat64(need(8, at))
      if (!Number.isSafeInteger(value)) nonCanonical(at, `numbers must be safe integers, got ${value}`)
      else if (value >>> 0 === value || value >> 0 === value) nonCanonical(at, `${value} is written as float 64, which msgpackr uses only beyond 32 bits`)
      return value
    }
    case 0xcc: {
      const value = source[need(1, at)]!
      if (value < 0x80) nonCanonical(at, `${value} is written as uint 8 where a fixint is shorter`)
      return value
    }
    case 0xcd: {
      const value = readUint16(at)
      if (value < 0x100) nonCanonical(at, `${value} is written as uint 16 where a shorter form fits`)
      return value
    }
    case 0xce: {
      const value = readUint32(at)
      if (value < 0x10000) nonCanonical(at, `${value} is written as uint 32 where a shorter form fits`)
      return value
    }
    case 0xcf: {
      const value = dataView().getBigUint64(need(8, at))
      if (value < twoTo63) nonCanonical(at, `the bigint ${value} is written as uint 64, which msgpackr uses only from 2^63`)
      return value
    }
    case 0xd0: {
      const byte = source[need(1, at)]!
      const value = byte < 0x80 ? byte : byte - 0x100
      if (value >= -0x20) nonCanonical(at, `${value} is written as int 8 where a fixint is shorter`)
      return value
    }
    case 0xd1: {
      const value = (readUint16(at) << 16) >> 16
      if (value >= -0x80) nonCanonical(at, `${value} is written as int 16 where a shorter form fits`)
      return value
    }
    case 0xd2: {
      const value = readUint32(at) | 0
      if (value >= -0x8000) nonCanonical(at, `${value} is written as int 32 where a shorter form fits`)
      return value
    }
    case 0xd3: {
      const p = at + 1
      if (end - p < 8) throw truncated(at)
      position = p + 8
      return (view ?? dataView()).getBigInt64(p)
    }
    case 0xd9: {
      const length = source[need(1, at)]!
      if (length < 0x20) nonCanonical(at, `a string of ${length} bytes has a str 8 header`)
      return readString(length, at)
    }
    case 0xda: {
      const length = readUint16(at)
      if (length < 0x100) nonCanonical(at, `a string of ${length} bytes has a str 16 header`)
      return readString(length, at)
    }
    case 0xdb: {
      const length = readUint32(at)
      if (length < 0x10000) nonCanonical(at, `a string of ${length} bytes has a str 32 header`)
      return readString(length, at)
    }
    case 0xdc: {
      const count = readUint16(at)
      if (count < 0x10) nonCanonical(at, `an array of ${count} elements has an array 16 header`)
      return readArray(count, depth, at)
    }
    case 0xdd: {
      const count = readUint32(at)
      if (count < 0x10000) nonCanonical(at, `an array of ${count} elements has an array 32 header`)
      return readArray(count, depth, at)
    }
    case 0xde: {
      const count = readUint16(at)
      if (count < 0x10) nonCanonical(at, `a map of ${count} entries has a map 16 header`)
      return readMap(count, depth, at)
    }
    case 0xdf: {
      const count = readUint32(at)
      if (count < 0x10000) nonCanonical(at, `a map of ${count} entries has a map 32 header`)
      return readMap(count, depth, at)
    }
    case 0xc1:
      throw malformed(`input is not valid MessagePack: the reserved byte 0xc1 at byte ${at}`)
    default:
      // 0xc7-0xc9 and 0xd4-0xd8: extension types (timestamps, undefined, msgpackr's own).
      throw malformed(`input holds a MessagePack extension (type byte 0x${token.toString(16)}) at byte ${at}; extensions are not part of the format`)
  }
}

function readBytes(length: number, at: number): Uint8Array {
  const start = position
  if (length > end - start) throw truncated(at)
  position = start + length
  return source.subarray(start, start + length)
}

function readArray(count: number, depth: number, at: number): Encodable[] {
  if (count > end - position || (arrayBudget -= count) < 0) throw truncated(at)
  if (count > 0 && depth >= depthMax) throw tooDeep()
  const array: Encodable[] = new Array(count)
  for (let i = 0; i < count; i++) array[i] = readValue(depth + 1)
  return array
}

function readMap(count: number, depth: number, at: number): Record<string, Encodable> {
  // Every entry takes at least two bytes, so a larger count cannot be satisfied.
  if (count > (end - position) / 2) throw truncated(at)
  if (count > 0 && depth >= depthMax) throw tooDeep()
  const object: Record<string, Encodable> = {}
  let previous = ''
  let integerLike = false
  for (let i = 0; i < count; i++) {
    const keyAt = position
    const key = readKey()
    if (i > 0 && !(previous < key)) nonCanonical(keyAt, 'map keys must be unique and in ascending order')
    previous = key
    const first = key.charCodeAt(0)
    if (first >= 0x30 && first <= 0x39) integerLike = true
    const value = readValue(depth + 1)
    if (key === '__proto__') nonCanonical(keyAt, 'the map key __proto__ is not accepted')
    else object[key] = value
  }
  // JavaScript lists integer-like keys ("7", "10") first and in numeric order, so msgpackr
  // writes such a map back in another order unless `Object.keys` gives the same ascending order.
  if (integerLike && nonCanonicalAt < 0) {
    const keys = Object.keys(object)
    for (let i = 1; i < keys.length; i++) {
      if (!(keys[i - 1]! < keys[i]!)) {
        nonCanonical(at, 'map keys must be unique and in ascending order (integer-like keys are listed in numeric order)')
        break
      }
    }
  }
  // msgpackr writes an object as a map only while `value.constructor === Object`; with an own
  // `constructor` key it tries the value's `toJSON` instead, and a truthy one that is not a
  // function makes it throw: such a map has no encoding to match.
  if (Object.hasOwn(object, 'constructor') && Boolean(object.toJSON) && nonCanonicalAt < 0) {
    nonCanonical(at, 'a map with the key constructor and a truthy toJSON cannot be encoded again')
  }
  return object
}

/** A map key: a string; a scalar is remembered as non-canonical (msgpackr made it a string), anything else is malformed. */
function readKey(): string {
  const at = position
  if (at >= end) throw truncated(at)
  const token = source[at]!
  if (token >= 0xa0 && token < 0xc0) {
    position = at + 1
    return readString(token - 0xa0, at)
  }
  if (token === 0xd9 || token === 0xda || token === 0xdb) return readValue(0) as string
  const scalar = token < 0x80 || token >= 0xe0 || token === 0xc0 || token === 0xc2 || token === 0xc3 || (token >= 0xca && token <= 0xd3)
  if (!scalar) throw malformed(`input has a map key at byte ${at} that is not a string`)
  const value = readValue(0)
  nonCanonical(at, 'map keys must be strings')
  return String(value)
}

/** Above this many bytes, strings that are not ASCII are decoded by TextDecoder; below, in JavaScript. */
const jsDecodeBytesMax = 64
const units: number[] = []

// ASCII strings are cut from a window: one one-byte string made of the next `windowBytes` bytes
// of the input, as msgpackr's native string extractor cuts them from blocks of the input. Making
// a string costs about 100 ns; cutting one from a flat string, about 15. A cut of 13 characters
// or more refers to its window, so a string kept for long keeps up to `windowBytes` alive (less
// than the extractor's blocks of up to 6,000 bytes); a shorter one is a copy.
type Latin1Slice = (this: Uint8Array, start: number, end: number) => string
const latin1Slice: Latin1Slice | undefined = (globalThis as { Buffer?: { prototype: { latin1Slice?: Latin1Slice } } }).Buffer?.prototype.latin1Slice
const windowBytes = 1024
let stringWindow = ''
let windowStart = 0
let windowEnd = 0

function readString(length: number, at: number): string {
  const start = position
  if (length > end - start) throw truncated(at)
  const stop = start + length
  position = stop
  // Whether every byte is ASCII, four at a time.
  let bits = 0
  let i = start
  if (length >= 8) {
    const bytes = view ?? dataView()
    for (; i + 4 <= stop; i += 4) bits |= bytes.getUint32(i, true)
  }
  for (; i < stop; i++) bits |= source[i]!
  if ((bits & 0x80808080) === 0) {
    if (length === 0) return ''
    if (latin1Slice === undefined) return decodeShortUtf8(start, length)!
    if (start < windowStart || stop > windowEnd) {
      windowStart = start
      windowEnd = Math.min(end, start + Math.max(windowBytes, length))
      stringWindow = latin1Slice.call(source, windowStart, windowEnd)
    }
    return stringWindow.slice(start - windowStart, stop - windowStart)
  }
  if (length <= jsDecodeBytesMax) return decodeShortUtf8(start, length) ?? invalidUtf8(at)
  try {
    return fatalUtf8.decode(source.subarray(start, stop))
  } catch {
    return invalidUtf8(at)
  }
}

function invalidUtf8(at: number): string {
  nonCanonical(at, 'a string is not well-formed UTF-8')
  return ''
}

/**
 * Decodes well-formed UTF-8 (the shortest form of each scalar value, no surrogates, nothing above
 * U+10FFFF), or returns undefined.
 */
function decodeShortUtf8(start: number, length: number): string | undefined {
  const stop = start + length
  let count = 0
  let i = start
  while (i < stop) {
    const b1 = source[i++]!
    if (b1 < 0x80) {
      units[count++] = b1
    } else if (b1 < 0xe0) {
      if (b1 < 0xc2 || i >= stop) return undefined
      const b2 = source[i++]!
      if ((b2 & 0xc0) !== 0x80) return undefined
      units[count++] = ((b1 & 0x1f) << 6) | (b2 & 0x3f)
    } else if (b1 < 0xf0) {
      if (i + 1 >= stop) return undefined
      const b2 = source[i++]!
      const b3 = source[i++]!
      if ((b2 & 0xc0) !== 0x80 || (b3 & 0xc0) !== 0x80) return undefined
      if ((b1 === 0xe0 && b2 < 0xa0) || (b1 === 0xed && b2 >= 0xa0)) return undefined
      units[count++] = ((b1 & 0x0f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f)
    } else {
      if (b1 > 0xf4 || i + 2 >= stop) return undefined
      const b2 = source[i++]!
      const b3 = source[i++]!
      const b4 = source[i++]!
      if ((b2 & 0xc0) !== 0x80 || (b3 & 0xc0) !== 0x80 || (b4 & 0xc0) !== 0x80) return undefined
      if ((b1 === 0xf0 && b2 < 0x90) || (b1 === 0xf4 && b2 >= 0x90)) return undefined
      const codePoint = (((b1 & 0x07) << 18) | ((b2 & 0x3f) << 12) | ((b3 & 0x3f) << 6) | (b4 & 0x3f)) - 0x10000
      units[count++] = 0xd800 | (codePoint >> 10)
      units[count++] = 0xdc00 | (codePoint & 0x3ff)
    }
  }
  units.length = count
  return fromCharCode.apply(null, units)
}
