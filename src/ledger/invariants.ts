/**
 * Whole-state invariant checks, for tests and the simulator's checkers. They scan the state, so
 * they are for after blocks, not inside them (the cheap ones are asserted inline: a debit never
 * makes a balance negative).
 */
import type { Encodable } from '../protocol/encoding.ts'
import type { LedgerState } from './state.ts'
import { statePrefixes } from './stateKeys.ts'

export interface InvariantViolation {
  readonly invariant: 'conservation' | 'non-negative-balance' | 'orphan-balance' | 'value-type'
  readonly detail: string
}

function amountOrZero(value: Encodable | undefined): bigint | undefined {
  if (value === undefined) return 0n
  return typeof value === 'bigint' ? value : undefined
}

/**
 * Conservation: for every token, supply = issued - redeemed = the sum of all balances of it; no
 * balance is negative; no balance exists of a token that does not. Returns the violations found,
 * an empty list when the state is sound.
 */
export function checkConservation(state: LedgerState): InvariantViolation[] {
  const violations: InvariantViolation[] = []
  const sums = new Map<string, bigint>()
  const tokens: string[] = []
  // One pass, without a copy of a shared state's entries (forEachEntry); the tokens are checked after.
  state.forEachEntry((value, key) => {
    if (key.startsWith(statePrefixes.token)) tokens.push(key.slice(statePrefixes.token.length))
    if (!key.startsWith(statePrefixes.balance)) return
    if (typeof value !== 'bigint') {
      violations.push({ invariant: 'value-type', detail: `${key} holds a ${typeof value}, not an amount` })
      return
    }
    if (value < 0n) violations.push({ invariant: 'non-negative-balance', detail: `${key} is ${value}` })
    const token = key.slice(key.lastIndexOf('/') + 1)
    sums.set(token, (sums.get(token) ?? 0n) + value)
  })
  for (const token of tokens) {
    const supply = amountOrZero(state.get(statePrefixes.supply + token))
    const issued = amountOrZero(state.get(statePrefixes.issued + token))
    const redeemed = amountOrZero(state.get(statePrefixes.redeemed + token))
    if (supply === undefined || issued === undefined || redeemed === undefined) {
      violations.push({ invariant: 'value-type', detail: `the supply, issued or redeemed total of ${token} is not an amount` })
      continue
    }
    const held = sums.get(token) ?? 0n
    sums.delete(token)
    if (supply !== issued - redeemed) {
      violations.push({ invariant: 'conservation', detail: `${token}: supply ${supply} != issued ${issued} - redeemed ${redeemed}` })
    }
    if (supply !== held) violations.push({ invariant: 'conservation', detail: `${token}: supply ${supply} != sum of balances ${held}` })
    if (supply < 0n) violations.push({ invariant: 'non-negative-balance', detail: `${token}: supply ${supply} is negative` })
  }
  for (const [token, held] of sums) {
    violations.push({ invariant: 'orphan-balance', detail: `balances of ${token} sum to ${held}, but no such token exists` })
  }
  return violations
}

/** The sum of all balances of each token, for checks such as "payments conserve settlement assets". */
export function balanceTotals(state: LedgerState): Map<string, bigint> {
  const sums = new Map<string, bigint>()
  for (const [key, value] of state.entries) {
    if (!key.startsWith(statePrefixes.balance) || typeof value !== 'bigint') continue
    const token = key.slice(key.lastIndexOf('/') + 1)
    sums.set(token, (sums.get(token) ?? 0n) + value)
  }
  return sums
}
