/**
 * The ledger's state is one flat key-value space (`Map<string, Encodable>`): it maps directly
 * onto one LevelDB batch per block and onto the state root. Every key the ledger writes is built
 * here, so the layout is documented in one place:
 *
 *   g/chainId            the network's chain id (string)
 *   g/fxBase             the FX table's base currency (string)
 *   a/<account>          account record (tuple, see accounts.ts)
 *   t/<token>            token record: the issuer's account id (string)
 *   b/<account>/<token>  balance in minor units (bigint); absent means zero
 *   n/<signer>           last nonce used (bigint); absent means none yet
 *   s/<token>            outstanding supply (bigint) = issued - redeemed
 *   i/<token>            issued in total since genesis (bigint)
 *   r/<token>            redeemed in total since genesis (bigint)
 *   fx/<CUR>             units of CUR per unit of the base, scaled by 10^9 (bigint)
 *   policy/<J>           jurisdiction J's policy document (canonical map)
 *   p/...                usage state owned by the policy engine (quota counters, windows)
 *
 * Account ids cannot contain '/' or '.', so no two kinds of key collide and `b/` keys split
 * unambiguously at their last '/'.
 */
export const stateKeys = {
  chainId: 'g/chainId',
  fxBase: 'g/fxBase',
  account: (account: string): string => internKey(`a/${account}`),
  token: (token: string): string => internKey(`t/${token}`),
  balance: (account: string, token: string): string => internKey(`b/${account}/${token}`),
  nonce: (signer: string): string => internKey(`n/${signer}`),
  supply: (token: string): string => internKey(`s/${token}`),
  issued: (token: string): string => internKey(`i/${token}`),
  redeemed: (token: string): string => internKey(`r/${token}`),
  fxRate: (currency: string): string => internKey(`fx/${currency}`),
  policy: (jurisdiction: string): string => internKey(`policy/${jurisdiction}`)
} as const

/**
 * The engine's canonical copy of a key string. V8 keeps one internalized copy of every string
 * used as a property name, with its hash computed; a Map lookup with an internalized key finds an
 * internalized stored key by pointer, without hashing or comparing characters. Execution is
 * bound by memory latency (a payment reads some twenty entries of a state far larger than the
 * CPU's caches), so keys are interned where they are made (admission, genesis, restore), never
 * on the hot path. Keys never look like array indices (they all contain '/'), which V8 would
 * store as numbers instead.
 */
export function internKey(key: string): string {
  const holder: Record<string, true> = { [key]: true }
  for (const interned in holder) return interned
  return key
}

export const statePrefixes = {
  account: 'a/',
  token: 't/',
  balance: 'b/',
  nonce: 'n/',
  supply: 's/',
  issued: 'i/',
  redeemed: 'r/',
  fxRate: 'fx/',
  policy: 'policy/',
  policyUsage: 'p/'
} as const

/** How many accounts' keys `accountKeys` remembers before it starts over. */
export const accountKeysCachedMax = 100_000

/** The state keys of one account, interned once and shared by every transaction that names it. */
export interface AccountKeys {
  readonly account: string
  readonly nonce: string
  balance(token: string): string
}

class AccountKeySet implements AccountKeys {
  readonly account: string
  readonly nonce: string
  readonly #balances = new Map<string, string>()

  constructor(readonly id: string) {
    this.account = stateKeys.account(id)
    this.nonce = stateKeys.nonce(id)
  }

  balance(token: string): string {
    let key = this.#balances.get(token)
    if (key === undefined) {
      key = stateKeys.balance(this.id, token)
      // Tokens per account are few; the bound only stops a crafted stream of token ids.
      if (this.#balances.size >= 64) this.#balances.clear()
      this.#balances.set(token, key)
    }
    return key
  }
}

const accountKeyCache = new Map<string, AccountKeySet>()

/**
 * The keys of an account, memoised: interning a key costs about a microsecond, so admission
 * interns each account's keys once rather than once per transaction. Bounded, and dropping the
 * memo changes the cost, never the keys.
 */
export function accountKeys(id: string): AccountKeys {
  let keys = accountKeyCache.get(id)
  if (keys === undefined) {
    if (accountKeyCache.size >= accountKeysCachedMax) accountKeyCache.clear()
    keys = new AccountKeySet(id)
    accountKeyCache.set(id, keys)
  }
  return keys
}

/** Splits a `b/<account>/<token>` key. */
export function parseBalanceKey(key: string): { account: string; token: string } {
  const slash = key.indexOf('/', 2)
  return { account: key.slice(2, slash), token: key.slice(slash + 1) }
}
