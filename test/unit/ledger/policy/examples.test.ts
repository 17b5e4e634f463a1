/** The example policies in configs/policies/ behave as their comments say. */
import t from 'tap'
import { join } from 'node:path'
import { loadPolicyDirectory } from '../../../../src/config/policies.ts'
import { evaluateTransfer } from '../../../../src/ledger/policy/engine.ts'
import { MemoryState, fx, noonCnMs, party, refusalOf, transfer } from './helpers.ts'

const policies = loadPolicyDirectory(join(import.meta.dirname, '../../../../configs/policies'))
const alice = party('cn-alice', 'CN')
const bob = party('hk-bob', 'HK')

t.test('CN: SAFE\'s USD 50,000 yearly quota for individuals, calendar year in Beijing time', async (t) => {
  const state = new MemoryState()
  // USD 50,000 = CNY 355,000 at 7.10, in two payments; purpose required and from the allowed list.
  for (const amount of ['300000 CNY', '55000 CNY']) {
    const verdict = evaluateTransfer(policies, fx, transfer(alice, bob, { sent: amount, purpose: 'STDY' }), state)
    t.ok(verdict.ok, amount)
    state.apply(verdict)
  }
  const over = evaluateTransfer(policies, fx, transfer(alice, bob, { sent: '0.01 CNY', purpose: 'STDY' }), state)
  t.equal(refusalOf(over), 'CC_QUOTA_EXCEEDED')
  t.equal(over.ok ? '' : over.rule, 'CN.outbound.quotas[0].perYear')
  t.ok(evaluateTransfer(policies, fx, transfer(alice, bob, { sent: '0.01 CNY', purpose: 'STDY', timeMs: Date.UTC(2025, 11, 31, 16) }), state).ok, 'a new year in China')
  t.equal(refusalOf(evaluateTransfer(policies, fx, transfer(alice, bob, { sent: '100 CNY' }), state)), 'CC_PURPOSE_REQUIRED')
  t.equal(refusalOf(evaluateTransfer(policies, fx, transfer(alice, bob, { sent: '100 CNY', purpose: 'INVS' }), state)), 'CC_PURPOSE_NOT_ALLOWED')
})

t.test('CN: CNH may not circulate onshore; KP is blocked; PBoC large-value reports', async (t) => {
  const carol = party('cn-carol', 'CN')
  t.equal(refusalOf(evaluateTransfer(policies, fx, transfer(alice, carol, { sent: '100 CNH', received: '100 CNH' }), new MemoryState())), 'CC_DOMESTIC_USE_PROHIBITED')
  t.ok(evaluateTransfer(policies, fx, transfer(alice, bob, { sent: '100 CNH', received: '100 CNH', purpose: 'GIFT' }), new MemoryState()).ok)
  t.equal(refusalOf(evaluateTransfer(policies, fx, transfer(alice, party('kp-x', 'KP'), { purpose: 'GIFT' }), new MemoryState())), 'CC_CORRIDOR_BLOCKED')
  const large = evaluateTransfer(policies, fx, transfer(alice, bob, { sent: '71000 CNY', received: '78000 HKD', purpose: 'EDUC' }), new MemoryState())
  t.same(large.ok ? large.reports.map((report) => [report.kind, report.jurisdiction]) : [], [['LARGE_VALUE', 'CN']])
  const domestic = evaluateTransfer(policies, fx, transfer(alice, carol, { sent: '500000 CNY' }), new MemoryState())
  t.same(domestic.ok ? domestic.reports.map((report) => report.kind) : [], ['LARGE_VALUE'])
})

t.test('CN: five individuals paying one overseas party on consecutive days are reported', async (t) => {
  const state = new MemoryState()
  const shop = party('hk-shop', 'HK', 'corporate')
  const reports: string[] = []
  for (let index = 0; index < 5; index++) {
    const verdict = evaluateTransfer(policies, fx, transfer(party(`cn-p${index}`, 'CN'), shop, { purpose: 'GDDS', timeMs: noonCnMs + (index < 3 ? 0 : 86_400_000) }), state)
    if (!verdict.ok) throw new Error(verdict.message)
    state.apply(verdict)
    reports.push(...verdict.reports.map((report) => `${report.kind}:${report.jurisdiction}`))
  }
  t.same(reports, ['STRUCTURING_SUSPECTED:CN'])
})

t.test('CN: e-CNY style tiers limit holdings and domestic payments of the weakest wallets', async (t) => {
  const tier1 = party('cn-t1', 'CN', 'individual', { kycTier: 1 })
  t.equal(refusalOf(evaluateTransfer(policies, fx, transfer(alice, tier1, { payeeBalanceAfter: 10_000_01n }), new MemoryState())), 'CC_HOLDING_LIMIT_EXCEEDED')
  t.equal(refusalOf(evaluateTransfer(policies, fx, transfer(tier1, alice, { sent: '2000.01 CNY' }), new MemoryState())), 'CC_QUOTA_EXCEEDED')
})

t.test('HK, AE, SG: no quotas; purpose codes in AE; refusing structuring in SG; interbank transfers untouched', async (t) => {
  const hkAnn = party('hk-ann', 'HK')
  t.ok(evaluateTransfer(policies, fx, transfer(bob, hkAnn, { sent: '5000000 HKD' }), new MemoryState()).ok)
  const aeFatima = party('ae-fatima', 'AE')
  t.equal(refusalOf(evaluateTransfer(policies, fx, transfer(aeFatima, bob, { sent: '1000 AED' }), new MemoryState())), 'CC_PURPOSE_REQUIRED')
  t.ok(evaluateTransfer(policies, fx, transfer(aeFatima, bob, { sent: '1000 AED', purpose: 'GIFT' }), new MemoryState()).ok)
  const state = new MemoryState()
  const payee = party('hk-target', 'HK')
  for (let index = 0; index < 4; index++) state.apply(evaluateTransfer(policies, fx, transfer(party(`sg-p${index}`, 'SG'), payee, { sent: '100 SGD' }), state))
  t.equal(refusalOf(evaluateTransfer(policies, fx, transfer(party('sg-p4', 'SG'), payee, { sent: '100 SGD' }), state)), 'AML_STRUCTURING')
  // Banks moving settlement assets between themselves need no purpose code.
  t.ok(evaluateTransfer(policies, fx, transfer(party('enbd', 'AE', 'bank'), party('bochk', 'HK', 'bank'), { kind: 'transfer', sent: '1000000 AED', received: '1000000 AED' }), new MemoryState()).ok)
})
