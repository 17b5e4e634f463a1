/**
 * Token patterns in policies: an exact token id (`icbc.CNH`), any issuer's token in a currency
 * (`*.CNH`), or any token of one issuer (`icbc.*`). Compiled into sets so matching a token costs
 * one or two set lookups and no string work, except for issuer patterns.
 */
import { isKnownCurrency } from '../currency.ts'
import { isValidId } from '../../protocol/ids.ts'

export interface TokenSet {
  readonly exact: ReadonlySet<string>
  readonly currencies: ReadonlySet<string>
  readonly issuers: ReadonlySet<string>
}

const tokenPatternShape = /^([^.]+)\.([^.]+)$/

/** Checks one pattern; returns what is wrong with it, or undefined when it is valid. */
export function tokenPatternProblem(pattern: string): string | undefined {
  const match = tokenPatternShape.exec(pattern)
  if (!match) return `expected a token pattern "<issuer>.<CUR>", "*.<CUR>" or "<issuer>.*", got ${JSON.stringify(pattern)}`
  const [, issuer, currency] = match as unknown as [string, string, string]
  if (issuer === '*' && currency === '*') return 'expected a token pattern narrower than "*.*" (omit the list to mean every token)'
  if (issuer !== '*' && !isValidId(issuer)) return `expected an issuer id of a-z, 0-9, '-', '_', ':' before the dot, got ${JSON.stringify(issuer)}`
  if (currency !== '*' && !isKnownCurrency(currency)) return `expected a known ISO 4217 currency after the dot, got ${JSON.stringify(currency)}`
  return undefined
}

/** Compiles validated patterns (see tokenPatternProblem). */
export function compileTokenSet(patterns: readonly string[]): TokenSet {
  const exact = new Set<string>()
  const currencies = new Set<string>()
  const issuers = new Set<string>()
  for (const pattern of patterns) {
    const dot = pattern.indexOf('.')
    const issuer = pattern.slice(0, dot)
    const currency = pattern.slice(dot + 1)
    if (issuer === '*') currencies.add(currency)
    else if (currency === '*') issuers.add(issuer)
    else exact.add(pattern)
  }
  return { exact, currencies, issuers }
}

/** Whether `token`, whose currency the caller already knows, matches the set. */
export function tokenSetHas(set: TokenSet, token: string, currency: string): boolean {
  if (set.currencies.size > 0 && set.currencies.has(currency)) return true
  if (set.exact.size > 0 && set.exact.has(token)) return true
  if (set.issuers.size > 0) {
    const dot = token.lastIndexOf('.')
    return dot > 0 && set.issuers.has(token.slice(0, dot))
  }
  return false
}
