/**
 * Token ids. A deposit token is a bank's liability, `<bank>.<CUR>` (icbc.CNH); a settlement asset
 * is a central bank's, `cb.<CUR>` (cb.CNH), one per currency whichever central bank issues it.
 * Parsed token references are interned with their state keys precomputed, so block execution
 * never builds a token key.
 */
import { isValidId } from '../protocol/ids.ts'
import { isKnownCurrency } from './currency.ts'
import { TransactionError } from './errors.ts'
import { stateKeys } from './stateKeys.ts'

/** The issuer part of every settlement asset id; reserved, so no account may be called `cb`. */
export const settlementIssuer = 'cb'

export interface TokenRef {
  readonly id: string
  /** The issuing bank's id, or `cb` for a settlement asset (whose issuer account is in `t/cb.<CUR>`). */
  readonly issuer: string
  readonly currency: string
  readonly isSettlement: boolean
  /** The settlement asset of the token's currency (the token itself for a settlement asset). */
  readonly settlement: TokenRef
  readonly recordKey: string
  readonly supplyKey: string
  readonly issuedKey: string
  readonly redeemedKey: string
}

export function depositTokenId(bank: string, currency: string): string {
  return `${bank}.${currency}`
}

export function settlementTokenId(currency: string): string {
  return `${settlementIssuer}.${currency}`
}

// Bounded: token ids arrive in untrusted transactions. Dropping the cache loses nothing but time.
const tokenCacheEntriesMax = 65_536
const tokenCache = new Map<string, TokenRef>()

function makeTokenRef(id: string, issuer: string, currency: string, settlement: TokenRef | undefined): TokenRef {
  const ref = {
    id,
    issuer,
    currency,
    isSettlement: settlement === undefined,
    settlement: settlement as TokenRef,
    recordKey: stateKeys.token(id),
    supplyKey: stateKeys.supply(id),
    issuedKey: stateKeys.issued(id),
    redeemedKey: stateKeys.redeemed(id)
  }
  if (settlement === undefined) ref.settlement = ref
  return ref
}

/** Parses and interns a token id. Throws TransactionError BAD_ID or UNKNOWN_CURRENCY. */
export function tokenRef(id: unknown): TokenRef {
  if (typeof id === 'string') {
    const cached = tokenCache.get(id)
    if (cached !== undefined) return cached
  }
  if (typeof id !== 'string' || id.length > 80) {
    throw new TransactionError('BAD_ID', `a token id is "<bank>.<CUR>" or "cb.<CUR>", got ${JSON.stringify(id)?.slice(0, 90)}`)
  }
  const dot = id.indexOf('.')
  const issuer = id.slice(0, dot)
  const currency = id.slice(dot + 1)
  if (dot < 1 || !isValidId(issuer)) {
    throw new TransactionError('BAD_ID', `a token id is "<bank>.<CUR>" or "cb.<CUR>", got ${JSON.stringify(id)}`)
  }
  if (!isKnownCurrency(currency)) {
    throw new TransactionError('UNKNOWN_CURRENCY', `token ${JSON.stringify(id)} names ${JSON.stringify(currency)}, not an ISO 4217 currency the ledger knows`)
  }
  let ref: TokenRef
  if (issuer === settlementIssuer) {
    ref = makeTokenRef(id, issuer, currency, undefined)
  } else {
    ref = makeTokenRef(id, issuer, currency, tokenRef(settlementTokenId(currency)))
  }
  if (tokenCache.size >= tokenCacheEntriesMax) tokenCache.clear()
  tokenCache.set(id, ref)
  return ref
}

/** True when `id` is a well-formed token id; never throws. */
export function isTokenId(id: unknown): id is string {
  try {
    tokenRef(id)
    return true
  } catch {
    return false
  }
}
