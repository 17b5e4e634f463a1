/**
 * Properties over random sequences of transfers (fast-check): evaluation is deterministic, and the
 * quota usage the engine writes never exceeds the quota in force when it is written, whatever the
 * order, timing, amounts and FX rates.
 */
import t from 'tap'
import fc from 'fast-check'
import { evaluateTransfer } from '../../../../src/ledger/policy/engine.ts'
import { convert, createFxTable, type FxTable } from '../../../../src/ledger/fx.ts'
import { parseMoney } from '../../../../src/ledger/currency.ts'
import type { PolicyParty, PolicyVerdict } from '../../../../src/ledger/policy/types.ts'
import type { Encodable } from '../../../../src/protocol/encoding.ts'
import { MemoryState, party, policy, policySet, transfer } from './helpers.ts'

const quotas = {
  'CN/outbound': { perDay: '100000 CNY', perYear: '50000 USD' },
  'CN/domestic': { perDay: '5000 CNY', perYear: '20000 CNY' },
  'HK/inbound': { perDay: '200000 HKD', perYear: '1000000 HKD' }
} as const

const policies = policySet(
  policy('CN', {
    outbound: {
      // Limits in two currencies: two rules over the same usage.
      quotas: [
        { parties: ['individual'], perDay: quotas['CN/outbound'].perDay },
        { parties: ['individual'], perYear: quotas['CN/outbound'].perYear }
      ],
      structuring: { senders: ['individual'], distinctSendersMin: 3, windowDays: 2, action: 'report' },
      largeValueReports: [{ atLeast: '10000 USD' }]
    },
    domestic: { quotas: [{ parties: ['individual'], kycTiers: [1], ...quotas['CN/domestic'] }] }
  }),
  policy('HK', {
    inbound: {
      quotas: [{ parties: ['individual'], ...quotas['HK/inbound'] }],
      structuring: { senders: ['individual', 'corporate'], distinctSendersMin: 4, windowDays: 3, action: 'refuse' }
    }
  })
)

const tables: FxTable[] = [
  createFxTable('USD', { CNY: '7.10', HKD: '7.80' }),
  createFxTable('USD', { CNY: '6.5', HKD: '7.75' }),
  createFxTable('USD', { CNY: '7.3', HKD: '7.85' })
]

const payers: PolicyParty[] = [
  party('cn-a', 'CN', 'individual', { kycTier: 1 }),
  party('cn-b', 'CN', 'individual', { kycTier: 2 }),
  party('cn-c', 'CN', 'individual', { kycTier: 3 }),
  party('cn-d', 'CN', 'individual', { kycTier: 1 }),
  party('cn-co', 'CN', 'corporate')
]
const payees: PolicyParty[] = [party('hk-x', 'HK'), party('hk-y', 'HK', 'corporate'), party('cn-a', 'CN', 'individual', { kycTier: 1 }), party('cn-c', 'CN', 'individual', { kycTier: 3 })]

const step = fc.record({
  payer: fc.nat({ max: payers.length - 1 }),
  payee: fc.nat({ max: payees.length - 1 }),
  amount: fc.oneof(fc.bigInt({ min: 1n, max: 10_000_00n }), fc.bigInt({ min: 1n, max: 400_000_00n })),
  advanceMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3 * 3_600_000 }), fc.integer({ min: 0, max: 40 * 86_400_000 })),
  table: fc.nat({ max: tables.length - 1 })
})

interface Step {
  payer: number
  payee: number
  amount: bigint
  advanceMs: number
  table: number
}

function run(steps: readonly Step[], onVerdict?: (verdict: PolicyVerdict, fx: FxTable, state: MemoryState) => void): MemoryState {
  const state = new MemoryState()
  let timeMs = Date.UTC(2025, 11, 20)
  for (const entry of steps) {
    timeMs += entry.advanceMs
    const payer = payers[entry.payer]!
    const payee = payees[entry.payee]!
    if (payer.id === payee.id) continue
    const fx = tables[entry.table]!
    const sent = { amount: entry.amount, currency: 'CNY' }
    const receivedCurrency = payee.jurisdiction === 'HK' ? 'HKD' : 'CNY'
    const received = convert(fx, entry.amount, 'CNY', receivedCurrency)!
    const subject = transfer(payer, payee, { timeMs, sent: '1 CNY', received: `1 ${receivedCurrency}` })
    const verdict = evaluateTransfer(policies, fx, { ...subject, sent, received: { amount: received, currency: receivedCurrency }, payeeBalanceAfter: received }, state)
    onVerdict?.(verdict, fx, state)
    state.apply(verdict)
  }
  return state
}

function limitIn(fx: FxTable, text: string, currency: string): bigint {
  const money = parseMoney(text)
  return convert(fx, money.amount, money.currency, currency)!
}

t.test('quota usage written never exceeds the quota in force', async (t) => {
  let writesChecked = 0
  let quotaRefusals = 0
  fc.assert(
    fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), (steps) => {
      run(steps, (verdict, fx) => {
        if (!verdict.ok) {
          if (verdict.reason === 'CC_QUOTA_EXCEEDED') quotaRefusals++
          return
        }
        for (const [key, value] of verdict.writes) {
          if (!key.startsWith('p/q/')) continue
          const [, , jurisdiction, flow, currency] = key.split('/') as [string, string, string, string, string]
          const limits = quotas[`${jurisdiction}/${flow}` as keyof typeof quotas]
          const [, usedDay, , usedYear] = value as readonly [number, bigint, number, bigint]
          if (usedDay > limitIn(fx, limits.perDay, currency)) throw new Error(`${key}: ${usedDay} above the daily quota`)
          if (usedYear > limitIn(fx, limits.perYear, currency)) throw new Error(`${key}: ${usedYear} above the yearly quota`)
          if (usedDay > usedYear) throw new Error(`${key}: the day's usage exceeds the year's`)
          writesChecked++
        }
      })
    }),
    { numRuns: 300 }
  )
  t.ok(writesChecked > 300, `${writesChecked} quota writes checked`)
  t.ok(quotaRefusals > 300, `${quotaRefusals} transfers refused for quota: the limits were reached`)
})

t.test('structuring windows stay within their bound', async (t) => {
  // Two entries per sender: CN keeps at most 3 senders per payee, HK at most 4.
  fc.assert(
    fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), (steps) => {
      const state = run(steps)
      for (const [key, value] of state.values) {
        const length = (value as readonly Encodable[]).length
        if (key.startsWith('p/s/CN/') && length > 6) return false
        if (key.startsWith('p/s/HK/') && length > 8) return false
      }
      return true
    }),
    { numRuns: 200 }
  )
  t.pass('bounded')
})

t.test('evaluation is deterministic: same rules, table, transfer and state give the same verdict', async (t) => {
  fc.assert(
    fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), (steps) => {
      const verdicts: PolicyVerdict[] = []
      const first = run(steps, (verdict) => verdicts.push(verdict))
      const again: PolicyVerdict[] = []
      const second = run(steps, (verdict) => again.push(verdict))
      t.same(again, verdicts)
      t.same([...second.values], [...first.values])
      return true
    }),
    { numRuns: 100 }
  )
  // Re-evaluating one transfer on an unchanged state repeats the verdict exactly.
  const state = run([{ payer: 0, payee: 0, amount: 5_000_00n, advanceMs: 0, table: 0 }])
  const subject = transfer(payers[0]!, payees[0]!, { sent: '60000 CNY', received: '65915.49 HKD', timeMs: Date.UTC(2025, 11, 20) })
  t.same(evaluateTransfer(policies, tables[0]!, subject, state), evaluateTransfer(policies, tables[0]!, subject, state))
})
