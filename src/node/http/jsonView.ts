/**
 * Canonical values as JSON: bigint as a decimal string (never through a JSON number, which would
 * lose precision above 2^53), bytes as hex, maps as objects, undefined left out. Used for decoded
 * transaction bodies and other ledger values the API shows as they are.
 */
import { bytesToHex } from '../../protocol/bytes.ts'

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/** Nesting followed at most; canonical values are bounded far below (protocolLimits.decodeDepthMax). */
const depthMax = 64

export function toJsonValue(value: unknown, depth = 0): JsonValue {
  if (depth > depthMax) return null
  if (value === null || value === undefined) return null
  switch (typeof value) {
    case 'bigint':
      return value.toString()
    case 'string':
    case 'boolean':
      return value
    case 'number':
      return Number.isFinite(value) ? value : null
    case 'object': {
      if (value instanceof Uint8Array) return bytesToHex(value)
      if (Array.isArray(value)) return value.map((item) => toJsonValue(item, depth + 1))
      const out: Record<string, JsonValue> = {}
      const entries = value instanceof Map ? [...value.entries()] : Object.entries(value)
      for (const [key, item] of entries) if (item !== undefined) out[String(key)] = toJsonValue(item, depth + 1)
      return out
    }
    default:
      return null
  }
}
