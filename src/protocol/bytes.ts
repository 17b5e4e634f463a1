import { ProtocolError } from './errors.ts'

const hexAlphabet = '0123456789abcdef'
const hexByteTable: string[] = Array.from({ length: 256 }, (_, i) => hexAlphabet[i >> 4]! + hexAlphabet[i & 15]!)

/** Lower-case hex of the bytes. */
export function bytesToHex(bytes: Uint8Array): string {
  let out = ''
  for (let i = 0; i < bytes.length; i++) out += hexByteTable[bytes[i]!]
  return out
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
