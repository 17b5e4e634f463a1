/**
 * Canonical encoding on msgpackr. One value has exactly one encoding, so hashes and signatures
 * over encoded bytes are well defined:
 *  - structures that are signed or hashed are encoded as tuples (arrays) in a fixed field order;
 *  - integers are safe JavaScript numbers (small counters, enums) or bigint (amounts, nonces),
 *    and msgpackr always writes a bigint as a 64-bit integer, so the two never alias;
 *  - floats, undefined, dates, maps with non-string or unsorted keys are refused;
 *  - decoding checks the size bound first, then refuses truncated input, trailing bytes, excess
 *    nesting and any input that is not exactly the encoding of the value it decodes to, in one
 *    pass over the bytes without encoding the value again (canonicalDecoder.ts).
 */
import { Packr } from 'msgpackr'
import { ProtocolError } from './errors.ts'
import { protocolLimits } from './limits.ts'
import { decodeCanonical } from './canonicalDecoder.ts'

export type Encodable =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | readonly Encodable[]
  | { readonly [key: string]: Encodable }

const packr = new Packr({
  useRecords: false,
  moreTypes: false,
  int64AsType: 'bigint',
  mapsAsObjects: true,
  variableMapSize: true,
  bundleStrings: false,
  structuredClone: false
})

/** Encodes a value built by our own code. Throws ENCODE_UNSUPPORTED for values outside the format. */
export function encode(value: Encodable): Uint8Array {
  try {
    return packr.pack(value)
  } catch (error) {
    throw new ProtocolError('ENCODE_UNSUPPORTED', `value cannot be encoded: ${(error as Error).message}`)
  }
}

/** Bytes that are already the canonical encoding of a value, for `encodeTuple` to splice in. */
export class Preencoded {
  readonly bytes: Uint8Array
  constructor(bytes: Uint8Array) {
    this.bytes = bytes
  }
}

/**
 * Encodes a tuple some of whose elements come already encoded: exactly the bytes `encode` gives
 * for the tuple of the values. MessagePack writes an array as a header holding its length (fixarray
 * below 16 elements, array 16 below 65,536, array 32 beyond, as msgpackr does) followed by each
 * element's encoding, which does not depend on its neighbours. So a large element carried in many
 * messages and records (a block payload) is encoded once and its bytes reused; a test checks the
 * two ways agree byte for byte.
 */
export function encodeTuple(items: readonly (Encodable | Preencoded)[]): Uint8Array {
  const count = items.length
  const header = count < 16 ? [0x90 | count] : count < 0x10000 ? [0xdc, count >> 8, count & 0xff] : [0xdd, count >>> 24, (count >> 16) & 0xff, (count >> 8) & 0xff, count & 0xff]
  const parts: Uint8Array[] = new Array(count)
  let length = header.length
  for (let i = 0; i < count; i++) {
    const item = items[i]!
    const bytes = item instanceof Preencoded ? item.bytes : encode(item)
    parts[i] = bytes
    length += bytes.length
  }
  const out = new Uint8Array(length)
  out.set(header, 0)
  let offset = header.length
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

export interface DecodeOptions {
  /** Refuse inputs longer than this many bytes before parsing them. */
  bytesMax?: number
}

/**
 * Decodes canonical bytes received from outside, in one pass (canonicalDecoder.ts): the input is
 * accepted only if it is exactly what `encode` writes for the value it decodes to. Every failure
 * is a ProtocolError with a DECODE_* code.
 */
export function decode(bytes: Uint8Array, options: DecodeOptions = {}): Encodable {
  const bytesMax = options.bytesMax ?? protocolLimits.messageBytesMax
  if (!(bytes instanceof Uint8Array)) {
    throw new ProtocolError('DECODE_MALFORMED', 'expected bytes to decode')
  }
  if (bytes.length > bytesMax) {
    throw new ProtocolError('DECODE_OVERSIZED', `input is ${bytes.length} bytes, more than the limit of ${bytesMax}`)
  }
  if (bytes.length === 0) throw new ProtocolError('DECODE_MALFORMED', 'input is empty')
  return decodeCanonical(bytes, protocolLimits.decodeDepthMax)
}

/** Returns a copy of a plain object with its keys sorted, for the rare map that is hashed. */
export function sortKeys<T extends Record<string, Encodable>>(object: T): T {
  const out: Record<string, Encodable> = {}
  for (const key of Object.keys(object).sort()) out[key] = object[key]!
  return out as T
}
