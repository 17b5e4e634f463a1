/**
 * The FX table: for each currency, how many units of it buy one unit of the base currency, as a
 * fixed-point integer with `fxRateScale` (nine decimals). Conversion is integer arithmetic and
 * rounds down, so every validator computes the same figure and the payer is never credited a
 * fraction the FX provider did not pay.
 */
import { AmountError, currencyExponent } from './currency.ts'

export const fxRateDecimals = 9
export const fxRateScale = 10n ** BigInt(fxRateDecimals)

export interface FxTable {
  readonly base: string
  /** Units of the currency per one unit of base, scaled by fxRateScale. The base maps to fxRateScale. */
  readonly rates: ReadonlyMap<string, bigint>
}

/** Parses a decimal rate ("7.12", 3.6725) into its fixed-point form. */
export function parseFxRate(rate: string | number, currency: string): bigint {
  const text = typeof rate === 'number' ? String(rate) : rate.trim()
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text)
  if (!match) throw new AmountError('INVALID_AMOUNT', `FX rate for ${currency} must be a positive decimal, got ${JSON.stringify(rate)}`)
  const [, whole, fraction = ''] = match as unknown as [string, string, string | undefined]
  if (fraction.length > fxRateDecimals) {
    throw new AmountError('INVALID_AMOUNT', `FX rate for ${currency} has more than ${fxRateDecimals} decimals: ${text}`)
  }
  const scaled = BigInt(whole + fraction.padEnd(fxRateDecimals, '0'))
  if (scaled <= 0n) throw new AmountError('INVALID_AMOUNT', `FX rate for ${currency} must be above zero`)
  return scaled
}

export function createFxTable(base: string, rates: Record<string, string | number | bigint>): FxTable {
  currencyExponent(base)
  const map = new Map<string, bigint>()
  map.set(base, fxRateScale)
  for (const [currency, rate] of Object.entries(rates)) {
    currencyExponent(currency)
    map.set(currency, typeof rate === 'bigint' ? rate : parseFxRate(rate, currency))
  }
  if (map.get(base) !== fxRateScale) throw new AmountError('INVALID_AMOUNT', `the base currency ${base} must have rate 1`)
  return { base, rates: map }
}

/** Precomputed powers of ten, so conversion does no exponentiation on the hot path. */
const pow10: bigint[] = Array.from({ length: 8 }, (_, i) => 10n ** BigInt(i))

/**
 * Converts minor units of `from` into minor units of `to`, rounding down. Returns undefined when
 * either currency has no rate (the caller turns that into a reason code).
 */
export function convert(fx: FxTable, amount: bigint, from: string, to: string): bigint | undefined {
  if (from === to) return amount
  const rateFrom = fx.rates.get(from)
  const rateTo = fx.rates.get(to)
  if (rateFrom === undefined || rateTo === undefined) return undefined
  const exponentFrom = currencyExponent(from)
  const exponentTo = currencyExponent(to)
  // amount / 10^ef units of `from` = amount / 10^ef / rateFrom units of base
  //                                 = amount * rateTo * 10^et / (rateFrom * 10^ef) minor units of `to`
  return (amount * rateTo * pow10[exponentTo]!) / (rateFrom * pow10[exponentFrom]!)
}

/** One in basis points: spreads are quoted in hundredths of a percent. */
export const basisPointsPerUnit = 10_000n
const basisPointsPerUnitNumber = 10_000
/** 10,000 - spread as a bigint, by spread: converting a number to a bigint on every payment shows in profiles. */
const keptBySpread: Array<bigint | undefined> = []

/**
 * Converts like `convert`, then takes the FX provider's spread off what is delivered, in one
 * integer division so the result is rounded down once: what the payee receives is never more
 * than the rate minus the spread gives. Returns undefined when a currency has no rate.
 */
export function convertWithSpread(fx: FxTable, amount: bigint, from: string, to: string, spreadBasisPoints: number): bigint | undefined {
  if (!(Number.isInteger(spreadBasisPoints) && spreadBasisPoints >= 0 && spreadBasisPoints < basisPointsPerUnitNumber)) {
    throw new AmountError('INVALID_AMOUNT', `a spread is a whole number of basis points from 0 to 9999, got ${spreadBasisPoints}`)
  }
  const rateFrom = fx.rates.get(from)
  const rateTo = fx.rates.get(to)
  if (rateFrom === undefined || rateTo === undefined) return undefined
  const exponentFrom = currencyExponent(from)
  const exponentTo = currencyExponent(to)
  let kept = keptBySpread[spreadBasisPoints]
  if (kept === undefined) {
    kept = basisPointsPerUnit - BigInt(spreadBasisPoints)
    keptBySpread[spreadBasisPoints] = kept
  }
  return (amount * rateTo * pow10[exponentTo]! * kept) / (rateFrom * pow10[exponentFrom]! * basisPointsPerUnit)
}
