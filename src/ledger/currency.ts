/**
 * Currencies and amounts. Amounts are integer minor units (bigint) end to end; a currency's
 * exponent comes from ISO 4217. CNH is not an ISO code but the market's name for offshore
 * renminbi, which circulates as a distinct currency in Hong Kong; it has CNY's exponent.
 */
import { CorridorError } from '../protocol/errors.ts'

/** ISO 4217 minor-unit exponents for the currencies Corridor knows. */
export const currencyExponents: Readonly<Record<string, number>> = Object.freeze({
  AED: 2, AUD: 2, BHD: 3, BRL: 2, CAD: 2, CHF: 2, CNH: 2, CNY: 2, EGP: 2, EUR: 2, GBP: 2,
  HKD: 2, IDR: 2, INR: 2, JPY: 0, KRW: 0, KWD: 3, KZT: 2, MYR: 2, NGN: 2, OMR: 3, PKR: 2,
  QAR: 2, RUB: 2, SAR: 2, SGD: 2, THB: 2, TRY: 2, USD: 2, VND: 0, ZAR: 2
})

/** Largest amount the ledger holds in any one balance or transfer: 2^62 - 1 minor units. */
export const amountMax = 2n ** 62n - 1n

export type AmountErrorCode = 'UNKNOWN_CURRENCY' | 'INVALID_AMOUNT'

export class AmountError extends CorridorError<AmountErrorCode> {
  constructor(code: AmountErrorCode, message: string) {
    super(code, message)
    this.name = 'AmountError'
  }
}

export function isKnownCurrency(code: unknown): code is string {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(currencyExponents, code)
}

export function currencyExponent(code: string): number {
  const exponent = currencyExponents[code]
  if (exponent === undefined) throw new AmountError('UNKNOWN_CURRENCY', `unknown currency ${JSON.stringify(code)}: not an ISO 4217 code Corridor knows`)
  return exponent
}

/** True for an amount a transaction may carry: positive and within `amountMax`. */
export function isValidAmount(amount: unknown): amount is bigint {
  return typeof amount === 'bigint' && amount > 0n && amount <= amountMax
}

export interface Money {
  readonly amount: bigint
  readonly currency: string
}

const moneyPattern = /^\s*(-?\d{1,19}(?:\.\d+)?)\s*([A-Z]{3})\s*$/

/**
 * Parses a decimal amount in major units with its currency, as written in config files:
 * "50000 USD", "1250.50 CNY". Refuses more decimals than the currency has, floats in disguise,
 * negative and out-of-range values.
 */
export function parseMoney(text: string): Money {
  const match = moneyPattern.exec(text)
  if (!match) throw new AmountError('INVALID_AMOUNT', `expected an amount like "50000 USD", got ${JSON.stringify(text)}`)
  const [, decimal, currency] = match as unknown as [string, string, string]
  return { amount: parseDecimalAmount(decimal, currency), currency }
}

/** Converts a decimal string in major units ("1250.5") to minor units of the currency. */
export function parseDecimalAmount(decimal: string, currency: string): bigint {
  const exponent = currencyExponent(currency)
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(decimal.trim())
  if (!match) throw new AmountError('INVALID_AMOUNT', `expected a decimal number, got ${JSON.stringify(decimal)}`)
  const [, sign, whole, fraction = ''] = match as unknown as [string, string, string, string | undefined]
  if (sign === '-') throw new AmountError('INVALID_AMOUNT', `amount must not be negative: ${decimal} ${currency}`)
  if (fraction.length > exponent) {
    throw new AmountError('INVALID_AMOUNT', `${currency} has ${exponent} decimal places, got ${decimal}`)
  }
  const minor = BigInt(whole + fraction.padEnd(exponent, '0'))
  if (minor > amountMax) throw new AmountError('INVALID_AMOUNT', `amount ${decimal} ${currency} exceeds the ledger's maximum`)
  return minor
}

/** Formats minor units as a decimal in major units: 125050n CNY -> "1250.50". */
export function formatAmount(amount: bigint, currency: string): string {
  const exponent = currencyExponent(currency)
  const negative = amount < 0n
  const digits = (negative ? -amount : amount).toString().padStart(exponent + 1, '0')
  const whole = digits.slice(0, digits.length - exponent)
  const fraction = exponent > 0 ? '.' + digits.slice(digits.length - exponent) : ''
  return `${negative ? '-' : ''}${whole}${fraction}`
}

export function formatMoney(amount: bigint, currency: string): string {
  return `${formatAmount(amount, currency)} ${currency}`
}
