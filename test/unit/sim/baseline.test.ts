import t from 'tap'
import { correspondentOutcome, correspondentRoute, nextProcessingInstant, defaultBaselineOptions } from '../../../src/sim/baseline.ts'
import { Random } from '../../../src/sim/random.ts'

const cn = defaultBaselineOptions.calendars['CN']!
// Monday 2026-01-05 in UTC.
const monday = Date.UTC(2026, 0, 5)

t.test('business hours: before opening waits for opening, after cut-off rolls to the next business day', async (t) => {
  // 08:00 Beijing = 00:00 UTC Monday -> opens 09:00 Beijing = 01:00 UTC.
  t.equal(nextProcessingInstant(monday, cn), monday + 1 * 3_600_000)
  // 10:00 Beijing is inside hours: unchanged.
  t.equal(nextProcessingInstant(monday + 2 * 3_600_000, cn), monday + 2 * 3_600_000)
  // 17:00 Beijing Monday (after 16:00 cut-off) -> Tuesday 09:00 Beijing.
  t.equal(nextProcessingInstant(monday + 9 * 3_600_000, cn), monday + 86_400_000 + 3_600_000)
  // Friday 17:00 Beijing -> Monday 09:00 Beijing.
  const friday = monday + 4 * 86_400_000
  t.equal(nextProcessingInstant(friday + 9 * 3_600_000, cn), monday + 7 * 86_400_000 + 3_600_000)
})

t.test('routes: domestic 2 banks, cross-border 3, cross-currency through USD clearing 5', async (t) => {
  const base = { submitMs: monday, payerKind: 'corporate' as const, amountUsdCents: 2_000_000 }
  t.equal(correspondentRoute({ ...base, fromJurisdiction: 'CN', toJurisdiction: 'CN', crossCurrency: false }).length, 2)
  t.equal(correspondentRoute({ ...base, fromJurisdiction: 'CN', toJurisdiction: 'HK', crossCurrency: false }).length, 3)
  t.same(correspondentRoute({ ...base, fromJurisdiction: 'CN', toJurisdiction: 'AE', crossCurrency: true }), ['CN', 'CN', 'US', 'AE', 'AE'])
})

t.test('outcomes: hours to days, fees plus FX margin, reproducible by seed', async (t) => {
  const payment = { submitMs: monday + 2 * 3_600_000, fromJurisdiction: 'CN', toJurisdiction: 'AE', crossCurrency: true, payerKind: 'individual' as const, amountUsdCents: 100_000 }
  const a = Array.from({ length: 500 }, (_, i) => correspondentOutcome(payment, new Random(i)))
  const b = Array.from({ length: 500 }, (_, i) => correspondentOutcome(payment, new Random(i)))
  t.same(a, b, 'same seeds, same outcomes')
  const times = a.map((o) => o.settlementMs).sort((x, y) => x - y)
  const median = times[250]!
  t.ok(median > 3_600_000 && median < 4 * 86_400_000, `median settlement ${median / 3_600_000} h is hours to days`)
  const costs = a.map((o) => o.costUsdCents).sort((x, y) => x - y)
  // USD 1,000 retail: 2.5% margin (USD 25) plus four fees of about USD 20.
  t.ok(costs[250]! > 7_000 && costs[250]! < 15_000, `median cost ${costs[250]! / 100} USD`)
})
