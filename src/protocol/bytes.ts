import { ProtocolError } from './errors.ts'

const hexAlphabet = '0123456789abcdef'
/** The two ASCII character codes of each byte's hex, at 2 * byte. */
const hexByteCodes: Uint8Array = (() => {
  const codes = new Uint8Array(512)
  for (let i = 0; i < 256; i++) {
    codes[2 * i] = hexAlphabet.charCodeAt(i >> 4)
    codes[2 * i + 1] = hexAlphabet.charCodeAt(i & 15)
  }
  return codes
})()
const hexScratch = new Uint8Array(256)
const asciiDecoder = new TextDecoder()

/**
 * Lower-case hex of the bytes, as one flat string. Built with `+=`, a 32-byte id became a tree of
 * some 60 string pieces (about 2 KB) that V8 never flattens when the string is only a Map key:
 * every lookup walked the tree, and ids kept in maps held the whole tree.
 */
export function bytesToHex(bytes: Uint8Array): string {
  const length = bytes.length
  const out = 2 * length <= hexScratch.length ? hexScratch : new Uint8Array(2 * length)
  const codes = hexByteCodes
  for (let i = 0; i < length; i++) {
    const at = 2 * bytes[i]!
    out[2 * i] = codes[at]!
    out[2 * i + 1] = codes[at + 1]!
  }
  return asciiDecoder.decode(out.subarray(0, 2 * length))
}

/** Value of each ASCII hex digit, -1 for any other character code below 128. */
const hexDigitValues: Int8Array = (() => {
  const values = new Int8Array(128).fill(-1)
  for (let i = 0; i < 10; i++) values[48 + i] = i
  for (let i = 0; i < 6; i++) values[65 + i] = values[97 + i] = 10 + i
  return values
})()

/**
 * Parses lower- or upper-case hex; throws BAD_HEX naming the problem. A table lookup per
 * character: the node parses every transaction submitted over HTTP from hex, and a `parseInt` of
 * a two-character slice per byte was a measurable share of its CPU.
 */
export function hexToBytes(hex: string, expectedLength?: number): Uint8Array {
  if (typeof hex !== 'string' || hex.length % 2 !== 0) throw badHex(hex)
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0, j = 0; i < out.length; i++, j += 2) {
    const high = hex.charCodeAt(j)
    const low = hex.charCodeAt(j + 1)
    const value = ((high < 128 ? hexDigitValues[high]! : -1) << 4) | (low < 128 ? hexDigitValues[low]! : -1)
    if (value < 0) throw badHex(hex)
    out[i] = value
  }
  if (expectedLength !== undefined && out.length !== expectedLength) {
    throw new ProtocolError('BAD_HEX', `expected ${expectedLength} bytes of hex, got ${out.length}`)
  }
  return out
}

function badHex(hex: unknown): ProtocolError {
  return new ProtocolError('BAD_HEX', `expected an even-length hex string, got ${JSON.stringify(String(hex).slice(0, 80))}`)
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0
  for (const part of parts) length += part.length
  const out = new Uint8Array(length)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}

const textEncoder = new TextEncoder()
export function utf8(text: string): Uint8Array {
  return textEncoder.encode(text)
}
