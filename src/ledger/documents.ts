/**
 * Documents the ledger stores and signs (policy documents) must have one encoding: maps with
 * string keys in ascending order, safe integers or bigints, strings, booleans, nil and arrays.
 * Config files are parsed from YAML or JSON, whose maps keep the author's order and whose
 * numbers may be fractions; `canonicalDocument` turns such a value into the canonical form, or
 * says at which path it cannot.
 */
import type { Encodable } from '../protocol/encoding.ts'

export interface DocumentProblem {
  /** Dotted path with [index] for arrays. */
  readonly path: string
  readonly message: string
}

export type CanonicalDocumentResult = { readonly ok: true; readonly value: Encodable } | { readonly ok: false; readonly problem: DocumentProblem }

/** Nesting the ledger accepts in a stored document; below the decoder's limit so it always decodes. */
export const documentDepthMax = 24

class ProblemSignal {
  constructor(readonly problem: DocumentProblem) {}
}

function join(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`
}

function canonical(value: unknown, path: string, depth: number): Encodable {
  if (depth > documentDepthMax) throw new ProblemSignal({ path, message: `nests deeper than ${documentDepthMax} levels` })
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'bigint':
      return value
    case 'number':
      if (!Number.isSafeInteger(value)) {
        throw new ProblemSignal({ path, message: `${value} is not a safe integer; write fractions and large numbers as strings ("0.5", "50000 USD")` })
      }
      return value
    case 'object': {
      if (value === null) return null
      if (value instanceof Uint8Array) return value
      if (Array.isArray(value)) return value.map((item, index) => canonical(item, join(path, index), depth + 1))
      const prototype = Object.getPrototypeOf(value)
      if (prototype !== Object.prototype && prototype !== null) {
        throw new ProblemSignal({ path, message: 'expected a map, list, string, integer, boolean or null' })
      }
      const out: Record<string, Encodable> = {}
      for (const key of Object.keys(value).sort()) {
        const item = (value as Record<string, unknown>)[key]
        if (item === undefined) continue
        out[key] = canonical(item, join(path, key), depth + 1)
      }
      return out
    }
    default:
      throw new ProblemSignal({ path, message: `values of type ${typeof value} cannot be stored on the ledger` })
  }
}

/** Converts a parsed config value into its canonical form (a copy), or names the first problem. */
export function canonicalDocument(value: unknown): CanonicalDocumentResult {
  try {
    return { ok: true, value: canonical(value, '', 0) }
  } catch (error) {
    if (error instanceof ProblemSignal) return { ok: false, problem: error.problem }
    throw error
  }
}
