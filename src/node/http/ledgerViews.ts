/**
 * Whole-ledger views for an external checker (the cluster backend reads them from every node):
 * a summary with the conservation check and a digest of the whole state, and a paged dump of all
 * balances. Both read the committed ledger synchronously, so one answer is one height.
 *
 * They scan the state, so each is computed once per ledger height and kept (one summary; one sorted
 * list of balance keys) until the next block: a checker polling every node costs one scan per block.
 */
import { bytesToHex } from '../../protocol/bytes.ts'
import { checkConservation, type InvariantViolation } from '../../ledger/invariants.ts'
import { fullStateDigest, type LedgerState } from '../../ledger/state.ts'
import { statePrefixes, stateKeys } from '../../ledger/stateKeys.ts'
import { settlementIssuer } from '../../ledger/tokens.ts'

export interface TokenSummary {
  readonly token: string
  readonly issuer: string | null
  readonly currency: string
  /** A central bank's settlement asset (`cb.<CUR>`), not a bank's deposit token. */
  readonly settlement: boolean
  readonly supply: string
  readonly issued: string
  readonly redeemed: string
  /** Sum of all balances of the token: equals the supply when conservation holds. */
  readonly balancesTotal: string
}

export interface LedgerSummary {
  readonly height: number
  readonly timeMs: number
  readonly stateRoot: string
  /** SHA-256 over every state entry in key order (ledger fullStateDigest): equal on two nodes exactly when their states are. */
  readonly stateDigest: string
  readonly entries: number
  readonly accounts: number
  readonly balances: number
  readonly tokens: readonly TokenSummary[]
  /** Per currency, its settlement asset's totals. */
  readonly settlementAssets: Readonly<Record<string, { token: string; supply: string; issued: string; redeemed: string; balancesTotal: string }>>
  /** Balances below zero: must be 0. */
  readonly negativeBalances: number
  readonly conservation: { readonly ok: boolean; readonly violationsTotal: number; readonly violations: readonly InvariantViolation[] }
}

/** Violations listed in a summary at most (all are counted). */
export const summaryViolationsMax = 20

let summaryCache: { ledger: LedgerState; summary: LedgerSummary } | undefined

export function ledgerSummary(ledger: LedgerState): LedgerSummary {
  if (summaryCache?.ledger === ledger) return summaryCache.summary
  const totals = new Map<string, bigint>()
  let negativeBalances = 0
  let balances = 0
  let accounts = 0
  const tokens: string[] = []
  for (const [key, value] of ledger.entries) {
    if (key.startsWith(statePrefixes.balance)) {
      balances++
      if (typeof value !== 'bigint') continue
      if (value < 0n) negativeBalances++
      const token = key.slice(key.lastIndexOf('/') + 1)
      totals.set(token, (totals.get(token) ?? 0n) + value)
    } else if (key.startsWith(statePrefixes.account)) accounts++
    else if (key.startsWith(statePrefixes.token)) tokens.push(key.slice(statePrefixes.token.length))
  }
  tokens.sort()
  const amount = (key: string): bigint => {
    const value = ledger.get(key)
    return typeof value === 'bigint' ? value : 0n
  }
  const tokenSummaries: TokenSummary[] = tokens.map((token) => {
    const issuer = ledger.get(stateKeys.token(token))
    return {
      token,
      issuer: typeof issuer === 'string' ? issuer : null,
      currency: token.slice(token.lastIndexOf('.') + 1),
      settlement: token.startsWith(`${settlementIssuer}.`),
      supply: amount(stateKeys.supply(token)).toString(),
      issued: amount(stateKeys.issued(token)).toString(),
      redeemed: amount(stateKeys.redeemed(token)).toString(),
      balancesTotal: (totals.get(token) ?? 0n).toString()
    }
  })
  const settlementAssets: Record<string, { token: string; supply: string; issued: string; redeemed: string; balancesTotal: string }> = {}
  for (const entry of tokenSummaries) {
    if (entry.settlement) settlementAssets[entry.currency] = { token: entry.token, supply: entry.supply, issued: entry.issued, redeemed: entry.redeemed, balancesTotal: entry.balancesTotal }
  }
  const violations = checkConservation(ledger)
  const summary: LedgerSummary = {
    height: ledger.height,
    timeMs: ledger.timeMs,
    stateRoot: bytesToHex(ledger.stateRoot),
    stateDigest: bytesToHex(fullStateDigest(ledger)),
    entries: ledger.entries.size,
    accounts,
    balances,
    tokens: tokenSummaries,
    settlementAssets,
    negativeBalances,
    conservation: { ok: violations.length === 0, violationsTotal: violations.length, violations: violations.slice(0, summaryViolationsMax) }
  }
  summaryCache = { ledger, summary }
  return summary
}

export interface BalancePage {
  readonly height: number
  readonly stateRoot: string
  readonly balances: ReadonlyArray<{ readonly account: string; readonly token: string; readonly amount: string }>
  /** Pass as `cursor` for the next page; null after the last. Valid across heights (keys are ordered). */
  readonly nextCursor: string | null
}

let balanceKeysCache: { ledger: LedgerState; keys: string[] } | undefined

function sortedBalanceKeys(ledger: LedgerState): string[] {
  if (balanceKeysCache?.ledger === ledger) return balanceKeysCache.keys
  const keys: string[] = []
  for (const key of ledger.entries.keys()) if (key.startsWith(statePrefixes.balance)) keys.push(key)
  keys.sort()
  balanceKeysCache = { ledger, keys }
  return keys
}

/**
 * Balances in key order (account, then token) after `cursor` (the `account/token` of the last
 * one of the previous page), at most `limit`.
 */
export function balancePage(ledger: LedgerState, cursor: string | undefined, limit: number): BalancePage {
  const keys = sortedBalanceKeys(ledger)
  let start = 0
  if (cursor !== undefined) {
    // First key strictly after the cursor's.
    const after = statePrefixes.balance + cursor
    let low = 0
    let high = keys.length
    while (low < high) {
      const middle = (low + high) >>> 1
      if (keys[middle]! <= after) low = middle + 1
      else high = middle
    }
    start = low
  }
  const end = Math.min(keys.length, start + limit)
  const balances: Array<{ account: string; token: string; amount: string }> = []
  for (let i = start; i < end; i++) {
    const key = keys[i]!
    const slash = key.lastIndexOf('/')
    const value = ledger.get(key)
    balances.push({ account: key.slice(statePrefixes.balance.length, slash), token: key.slice(slash + 1), amount: typeof value === 'bigint' ? value.toString() : String(value) })
  }
  const last = balances[balances.length - 1]
  return {
    height: ledger.height,
    stateRoot: bytesToHex(ledger.stateRoot),
    balances,
    nextCursor: end < keys.length && last !== undefined ? `${last.account}/${last.token}` : null
  }
}
