/**
 * The correspondent-banking baseline: what the same payment would cost and how long it would take
 * through today's chain of correspondent banks, so a report can set Corridor beside it.
 *
 * The model is deliberately simple and its parameters are illustrative, calibrated to orders of
 * magnitude reported publicly (SWIFT gpi: most payments credited within a day, a tail of several
 * days; World Bank Remittance Prices Worldwide: total cost of a few percent for retail transfers;
 * CPMI reports on cut-off times and compliance holds). It is a comparison line, not a forecast.
 *
 * A payment passes through `hops` banks. At each hop it waits for the bank's business hours in
 * its own time zone (cut-off time and weekends roll it to the next business morning), then is
 * processed (log-normal time), and sometimes held for compliance checks. Each intermediary
 * charges a fee; a cross-currency payment also pays an FX margin.
 */
import type { Random } from './random.ts'

export interface BankingCalendar {
  /** Minutes east of UTC. */
  readonly utcOffsetMinutes: number
  /** Local opening and cut-off hours; payments arriving after cut-off wait for the next business day. */
  readonly openHour: number
  readonly cutoffHour: number
  /** Days of the week without processing, 0 = Sunday. */
  readonly weekend: readonly number[]
}

export interface BaselineOptions {
  readonly calendars: Readonly<Record<string, BankingCalendar>>
  /** Jurisdiction of the USD clearing intermediary every cross-currency payment passes through. */
  readonly clearingJurisdiction: string
  readonly hopProcessingMedianMs: number
  readonly hopProcessingSigma: number
  readonly complianceHoldProbability: number
  readonly complianceHoldMedianMs: number
  /** Fee per intermediary bank, in USD cents (median, log-normal with sigma 0.4). */
  readonly intermediaryFeeUsdCents: number
  /** FX margin in basis points: retail payments pay more than corporate ones. */
  readonly fxMarginBpsIndividual: number
  readonly fxMarginBpsCorporate: number
}

export const defaultBaselineOptions: BaselineOptions = {
  calendars: {
    CN: { utcOffsetMinutes: 480, openHour: 9, cutoffHour: 16, weekend: [0, 6] },
    HK: { utcOffsetMinutes: 480, openHour: 9, cutoffHour: 17, weekend: [0, 6] },
    SG: { utcOffsetMinutes: 480, openHour: 9, cutoffHour: 17, weekend: [0, 6] },
    AE: { utcOffsetMinutes: 240, openHour: 8, cutoffHour: 14, weekend: [0, 6] },
    SA: { utcOffsetMinutes: 180, openHour: 8, cutoffHour: 14, weekend: [5, 6] },
    TH: { utcOffsetMinutes: 420, openHour: 9, cutoffHour: 16, weekend: [0, 6] },
    US: { utcOffsetMinutes: -300, openHour: 9, cutoffHour: 17, weekend: [0, 6] },
    GB: { utcOffsetMinutes: 0, openHour: 8, cutoffHour: 16, weekend: [0, 6] },
    DE: { utcOffsetMinutes: 60, openHour: 8, cutoffHour: 16, weekend: [0, 6] }
  },
  clearingJurisdiction: 'US',
  hopProcessingMedianMs: 25 * 60_000,
  hopProcessingSigma: 1.0,
  complianceHoldProbability: 0.04,
  complianceHoldMedianMs: 20 * 3_600_000,
  intermediaryFeeUsdCents: 2_000,
  fxMarginBpsIndividual: 250,
  fxMarginBpsCorporate: 60
}

const fallbackCalendar: BankingCalendar = { utcOffsetMinutes: 0, openHour: 9, cutoffHour: 16, weekend: [0, 6] }
const dayMs = 86_400_000
const hourMs = 3_600_000

export interface BaselinePayment {
  /** Epoch ms at which the payer instructs the payment. */
  readonly submitMs: number
  readonly fromJurisdiction: string
  readonly toJurisdiction: string
  readonly crossCurrency: boolean
  readonly payerKind: 'individual' | 'corporate'
  /** The amount in USD cents, for fees and margins. */
  readonly amountUsdCents: number
}

export interface BaselineOutcome {
  readonly hops: number
  readonly settlementMs: number
  readonly costUsdCents: number
}

/** The banks a payment passes through, by jurisdiction. */
export function correspondentRoute(payment: BaselinePayment, options: BaselineOptions = defaultBaselineOptions): string[] {
  if (payment.fromJurisdiction === payment.toJurisdiction && !payment.crossCurrency) return [payment.fromJurisdiction, payment.toJurisdiction]
  // Cross-border: the payer's bank, its correspondent, the receiving bank. Cross-currency adds the
  // USD clearing bank between two correspondents (the usual USD-vehicle route for exotic pairs).
  if (!payment.crossCurrency) return [payment.fromJurisdiction, payment.fromJurisdiction, payment.toJurisdiction]
  return [payment.fromJurisdiction, payment.fromJurisdiction, options.clearingJurisdiction, payment.toJurisdiction, payment.toJurisdiction]
}

/** The first instant at or after `timeMs` when a bank on this calendar accepts a payment for same-day processing. */
export function nextProcessingInstant(timeMs: number, calendar: BankingCalendar): number {
  const offsetMs = calendar.utcOffsetMinutes * 60_000
  let local = timeMs + offsetMs
  for (let guard = 0; guard < 14; guard++) {
    const dayStart = Math.floor(local / dayMs) * dayMs
    const weekday = (new Date(dayStart).getUTCDay() + 7) % 7
    const open = dayStart + calendar.openHour * hourMs
    const cutoff = dayStart + calendar.cutoffHour * hourMs
    if (!calendar.weekend.includes(weekday)) {
      if (local < open) return open - offsetMs
      if (local < cutoff) return local - offsetMs
    }
    local = dayStart + dayMs
  }
  return local - offsetMs
}

/** Settlement time and cost of one payment through correspondent banks. */
export function correspondentOutcome(payment: BaselinePayment, random: Random, options: BaselineOptions = defaultBaselineOptions): BaselineOutcome {
  const route = correspondentRoute(payment, options)
  let time = payment.submitMs
  for (const jurisdiction of route) {
    const calendar = options.calendars[jurisdiction] ?? fallbackCalendar
    time = nextProcessingInstant(time, calendar)
    time += random.logNormal(options.hopProcessingMedianMs, options.hopProcessingSigma)
    if (random.chance(options.complianceHoldProbability)) {
      time = nextProcessingInstant(time + random.logNormal(options.complianceHoldMedianMs, 0.8), calendar)
    }
  }
  const intermediaries = Math.max(0, route.length - 2)
  let cost = 0
  // The sending bank charges too (an outgoing wire fee), then each intermediary deducts its fee.
  for (let i = 0; i < intermediaries + 1; i++) cost += random.logNormal(options.intermediaryFeeUsdCents, 0.4)
  if (payment.crossCurrency) {
    const margin = payment.payerKind === 'individual' ? options.fxMarginBpsIndividual : options.fxMarginBpsCorporate
    cost += (payment.amountUsdCents * margin) / 10_000
  }
  return { hops: route.length, settlementMs: time - payment.submitMs, costUsdCents: Math.round(cost) }
}
