import t from 'tap'
import fc from 'fast-check'
import { dayMs, localDayNumber, parseUtcOffset, yearOfDayNumber } from '../../../../src/ledger/policy/periods.ts'
import { compileTokenSet, tokenSetHas, tokenPatternProblem } from '../../../../src/ledger/policy/tokens.ts'
import { isJurisdiction } from '../../../../src/ledger/policy/jurisdictions.ts'

t.test('the year of a day number agrees with the calendar, far into the past and future', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: -1_000_000, max: 1_000_000 }), (day) => yearOfDayNumber(day) === new Date(day * dayMs).getUTCFullYear()),
    { numRuns: 5000 }
  )
  for (const year of [1900, 1969, 1970, 2000, 2024, 2025, 2100, 2400]) {
    const firstDay = Date.UTC(year, 0, 1) / dayMs
    t.equal(yearOfDayNumber(firstDay), year)
    t.equal(yearOfDayNumber(firstDay - 1), year - 1)
  }
})

t.test('local days start at the jurisdiction\'s midnight', async (t) => {
  const cn = 8 * 60 * 60_000
  const beforeMidnight = Date.UTC(2025, 0, 1, 15, 59, 59, 999)
  t.equal(localDayNumber(beforeMidnight, cn), Date.UTC(2025, 0, 1) / dayMs)
  t.equal(localDayNumber(beforeMidnight + 1, cn), Date.UTC(2025, 0, 2) / dayMs)
  t.equal(yearOfDayNumber(localDayNumber(Date.UTC(2024, 11, 31, 16), cn)), 2025, 'new year in China while it is still 2024 in UTC')
  const newYork = -5 * 60 * 60_000
  t.equal(yearOfDayNumber(localDayNumber(Date.UTC(2025, 0, 1, 4, 59), newYork)), 2024)
  t.equal(localDayNumber(-1, 0), -1, 'before the epoch')
})

t.test('UTC offsets', async (t) => {
  t.equal(parseUtcOffset('+08:00'), 480)
  t.equal(parseUtcOffset('+04:00'), 240)
  t.equal(parseUtcOffset('-03:30'), -210)
  t.equal(parseUtcOffset('+05:45'), 345)
  t.equal(parseUtcOffset('Z'), 0)
  t.equal(parseUtcOffset('+14:00'), 840)
  for (const bad of ['+8', '08:00', '+08:10', '+15:00', '-13:00', '+08:60', 'UTC']) t.equal(parseUtcOffset(bad), undefined, bad)
})

t.test('token patterns', async (t) => {
  const set = compileTokenSet(['*.CNH', 'icbc.USD', 'shady.*'])
  t.ok(tokenSetHas(set, 'bochk.CNH', 'CNH'))
  t.ok(tokenSetHas(set, 'icbc.USD', 'USD'))
  t.notOk(tokenSetHas(set, 'boc.USD', 'USD'))
  t.ok(tokenSetHas(set, 'shady.EUR', 'EUR'))
  t.notOk(tokenSetHas(set, 'shadyx.EUR', 'EUR'))
  t.notOk(tokenSetHas(set, 'icbc.CNY', 'CNY'))
  t.equal(tokenPatternProblem('icbc.CNH'), undefined)
  t.equal(tokenPatternProblem('*.CNH'), undefined)
  t.equal(tokenPatternProblem('icbc.*'), undefined)
  for (const bad of ['CNH', '*.*', 'ICBC.CNH', 'icbc.cnh', 'icbc.XYZ', 'a.b.CNH', '.CNH']) t.type(tokenPatternProblem(bad), 'string', bad)
})

t.test('jurisdictions are ISO 3166-1 alpha-2 codes, with EU and XK', async (t) => {
  for (const code of ['CN', 'HK', 'AE', 'SG', 'US', 'GB', 'KP', 'EU', 'XK']) t.ok(isJurisdiction(code), code)
  for (const code of ['UK', 'XX', 'cn', 'CHN', '', 5]) t.notOk(isJurisdiction(code), String(code))
})
