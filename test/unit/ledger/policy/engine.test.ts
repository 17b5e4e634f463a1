/**
 * The policy engine, rule by rule: every rule type and every reason code, passing and refusing,
 * at the edges (exactly at a threshold), across period boundaries at the jurisdiction's midnight,
 * and the fixed order of checks.
 */
import t from 'tap'
import { evaluateTransfer as evaluateTransferUnrecorded } from '../../../../src/ledger/policy/engine.ts'
import { createFxTable } from '../../../../src/ledger/fx.ts'
import { policyReasonCodes, type PolicyVerdict } from '../../../../src/ledger/policy/types.ts'
import { MemoryState, fx, noonCnMs, party, policy, policySet, refusalOf, transfer } from './helpers.ts'

const alice = party('cn-alice', 'CN')
const carol = party('cn-carol', 'CN')
const cnCorp = party('cn-corp', 'CN', 'corporate')
const bob = party('hk-bob', 'HK')
const hkShop = party('hk-shop', 'HK', 'corporate')
const aeTrader = party('ae-trader', 'AE', 'corporate')
const sgSam = party('sg-sam', 'SG')

/** Every reason code the tests below see, so the last test can check that none is left out. */
const reasonsSeen = new Set<string>()
const evaluateTransfer: typeof evaluateTransferUnrecorded = (policies, table, subject, state) => {
  const verdict = evaluateTransferUnrecorded(policies, table, subject, state)
  if (!verdict.ok) reasonsSeen.add(verdict.reason)
  return verdict
}

function refused(verdict: PolicyVerdict): Extract<PolicyVerdict, { ok: false }> {
  if (verdict.ok) throw new Error('expected a refusal, got ok')
  return verdict
}
function allowed(verdict: PolicyVerdict): Extract<PolicyVerdict, { ok: true }> {
  if (!verdict.ok) throw new Error(`expected ok, got ${verdict.reason} (${verdict.rule}): ${verdict.message}`)
  return verdict
}

const empty = new MemoryState()

t.test('without a policy for either jurisdiction a transfer is allowed and leaves no trace', async (t) => {
  const verdict = allowed(evaluateTransfer(new Map(), fx, transfer(alice, bob), empty))
  t.same(verdict.writes, [])
  t.same(verdict.reports, [])
  // A policy of an uninvolved jurisdiction changes nothing.
  const sg = policySet(policy('SG', { sanctions: { entities: ['cn-alice'] }, outbound: { corridors: { deny: ['HK'] } } }))
  allowed(evaluateTransfer(sg, fx, transfer(alice, bob), empty))
})

t.test('sanctions: AML_SANCTIONED for listed parties, their banks and jurisdictions, in every flow', async (t) => {
  const set = policySet(policy('CN', { sanctions: { entities: ['bad-actor', 'bad-bank'], jurisdictions: ['KP'] } }), policy('HK'))
  const badActor = party('bad-actor', 'HK')
  const check = (verdict: PolicyVerdict, rule: string, message: RegExp) => {
    const refusal = refused(verdict)
    t.equal(refusal.reason, 'AML_SANCTIONED')
    t.equal(refusal.rule, rule)
    t.match(refusal.message, message)
  }
  check(evaluateTransfer(set, fx, transfer(alice, badActor), empty), 'CN.sanctions.entities', /the payee bad-actor is on CN's sanctions list/)
  check(evaluateTransfer(set, fx, transfer(badActor, alice), empty), 'CN.sanctions.entities', /the payer bad-actor/)
  check(evaluateTransfer(set, fx, transfer(alice, party('hk-x', 'HK', 'individual', { bank: 'bad-bank' })), empty), 'CN.sanctions.entities', /the payee's bank bad-bank/)
  check(evaluateTransfer(set, fx, transfer(party('cn-x', 'CN', 'individual', { bank: 'bad-bank' }), bob), empty), 'CN.sanctions.entities', /the payer's bank bad-bank/)
  check(evaluateTransfer(set, fx, transfer(alice, party('kp-x', 'KP')), empty), 'CN.sanctions.jurisdictions', /the payee's jurisdiction KP is sanctioned by CN/)
  check(evaluateTransfer(set, fx, transfer(party('kp-x', 'KP'), alice), empty), 'CN.sanctions.jurisdictions', /the payer's jurisdiction KP/)
  // Domestic flows and every transfer kind.
  const domesticBad = party('bad-actor', 'CN')
  check(evaluateTransfer(set, fx, transfer(alice, domesticBad), empty), 'CN.sanctions.entities', /payee bad-actor/)
  check(evaluateTransfer(set, fx, transfer(party('icbc', 'CN', 'bank'), domesticBad, { kind: 'issue' }), empty), 'CN.sanctions.entities', /payee bad-actor/)
  check(evaluateTransfer(set, fx, transfer(domesticBad, party('icbc', 'CN', 'bank'), { kind: 'redeem' }), empty), 'CN.sanctions.entities', /payer bad-actor/)
  // The payee's jurisdiction's list applies to the payer too.
  const hkList = policySet(policy('CN'), policy('HK', { sanctions: { entities: ['cn-alice'] } }))
  t.equal(refused(evaluateTransfer(hkList, fx, transfer(alice, bob), empty)).rule, 'HK.sanctions.entities')
  // Unlisted parties pass.
  allowed(evaluateTransfer(set, fx, transfer(alice, bob), empty))
  allowed(evaluateTransfer(set, fx, transfer(alice, carol), empty))
})

t.test('corridors: CC_CORRIDOR_BLOCKED by outbound and inbound allow and deny lists', async (t) => {
  const set = policySet(
    policy('CN', { outbound: { corridors: { deny: ['AE'] } } }),
    policy('HK', { outbound: { corridors: { allow: ['CN', 'SG'] } } }),
    policy('SG', { inbound: { corridors: { deny: ['HK'] } } }),
    policy('AE', { inbound: { corridors: { allow: ['HK'] } } })
  )
  const cnToAe = refused(evaluateTransfer(set, fx, transfer(cnCorp, aeTrader), empty))
  t.equal(cnToAe.reason, 'CC_CORRIDOR_BLOCKED')
  t.equal(cnToAe.rule, 'CN.outbound.corridors.deny')
  t.match(cnToAe.message, /CN\.outbound denies payments to AE/)
  allowed(evaluateTransfer(set, fx, transfer(alice, bob), empty))
  const hkToAe = refused(evaluateTransfer(set, fx, transfer(hkShop, aeTrader), empty))
  t.equal(hkToAe.rule, 'HK.outbound.corridors.allow')
  t.match(hkToAe.message, /allows payments to listed jurisdictions only, not AE/)
  const hkToSg = refused(evaluateTransfer(set, fx, transfer(bob, sgSam), empty))
  t.equal(hkToSg.rule, 'SG.inbound.corridors.deny')
  t.match(hkToSg.message, /SG\.inbound denies payments from HK/)
  const sgToAe = refused(evaluateTransfer(set, fx, transfer(sgSam, aeTrader), empty))
  t.equal(sgToAe.rule, 'AE.inbound.corridors.allow')
  // Domestic flows have no corridor.
  allowed(evaluateTransfer(set, fx, transfer(alice, carol), empty))
  // Issue and redeem are not flows.
  allowed(evaluateTransfer(set, fx, transfer(party('enbd', 'AE', 'bank'), party('cn-in-ae', 'CN'), { kind: 'issue', sent: '100 AED', received: '100 AED' }), empty))
})

t.test('cross-border-only tokens: CC_DOMESTIC_USE_PROHIBITED between two parties at home only', async (t) => {
  const set = policySet(policy('CN', { crossBorderOnlyTokens: ['*.CNH', 'boc.USD', 'shady.*'] }), policy('HK'))
  const domesticCnh = refused(evaluateTransfer(set, fx, transfer(alice, carol, { sent: '100 CNH', received: '100 CNH' }), empty))
  t.equal(domesticCnh.reason, 'CC_DOMESTIC_USE_PROHIBITED')
  t.equal(domesticCnh.rule, 'CN.crossBorderOnlyTokens')
  t.match(domesticCnh.message, /icbc\.CNH may be used only cross-border, not between two parties in CN/)
  // Paid in CNY, credited in CNH: the payee token counts too.
  t.equal(refusalOf(evaluateTransfer(set, fx, transfer(alice, carol, { sent: '100 CNY', received: '100 CNH' }), empty)), 'CC_DOMESTIC_USE_PROHIBITED')
  // Cross-border use is what the token is for.
  allowed(evaluateTransfer(set, fx, transfer(alice, bob, { sent: '100 CNH', received: '100 CNH' }), empty))
  allowed(evaluateTransfer(set, fx, transfer(bob, alice, { sent: '100 CNH', received: '100 CNH' }), empty))
  // Domestic use elsewhere is that jurisdiction's business.
  allowed(evaluateTransfer(set, fx, transfer(bob, party('hk-ann', 'HK'), { sent: '100 CNH', received: '100 CNH' }), empty))
  // Deposit and withdrawal at the customer's own bank are not circulation.
  allowed(evaluateTransfer(set, fx, transfer(party('icbc', 'CN', 'bank'), alice, { kind: 'issue', sent: '100 CNH', received: '100 CNH' }), empty))
  allowed(evaluateTransfer(set, fx, transfer(alice, party('icbc', 'CN', 'bank'), { kind: 'redeem', sent: '100 CNH', received: '100 CNH' }), empty))
  // Exact and issuer patterns.
  const bocUser = party('cn-boc', 'CN', 'individual', { bank: 'boc' })
  t.equal(refusalOf(evaluateTransfer(set, fx, transfer(bocUser, carol, { sent: '100 USD', received: '100 USD' }), empty)), 'CC_DOMESTIC_USE_PROHIBITED')
  allowed(evaluateTransfer(set, fx, transfer(alice, carol, { sent: '100 USD', received: '100 USD' }), empty))
  t.equal(refusalOf(evaluateTransfer(set, fx, transfer(party('cn-s', 'CN', 'individual', { bank: 'shady' }), carol), empty)), 'CC_DOMESTIC_USE_PROHIBITED')
  allowed(evaluateTransfer(set, fx, transfer(alice, carol), empty))
})

t.test('purposes: CC_PURPOSE_REQUIRED and CC_PURPOSE_NOT_ALLOWED, by party kind, outbound and inbound', async (t) => {
  const set = policySet(
    policy('CN', {
      outbound: { purposes: [{ required: true }, { parties: ['individual'], allowed: ['STDY', 'GIFT'] }] },
      inbound: { purposes: [{ required: true }] }
    }),
    policy('HK')
  )
  const missing = refused(evaluateTransfer(set, fx, transfer(alice, bob), empty))
  t.equal(missing.reason, 'CC_PURPOSE_REQUIRED')
  t.equal(missing.rule, 'CN.outbound.purposes[0].required')
  t.equal(refusalOf(evaluateTransfer(set, fx, transfer(alice, bob, { purpose: '' }), empty)), 'CC_PURPOSE_REQUIRED')
  const notAllowed = refused(evaluateTransfer(set, fx, transfer(alice, bob, { purpose: 'INVS' }), empty))
  t.equal(notAllowed.reason, 'CC_PURPOSE_NOT_ALLOWED')
  t.equal(notAllowed.rule, 'CN.outbound.purposes[1].allowed')
  t.match(notAllowed.message, /purpose INVS is not among those CN\.outbound\.purposes\[1\] allows/)
  allowed(evaluateTransfer(set, fx, transfer(alice, bob, { purpose: 'STDY' }), empty))
  // The allowed list is for individuals; a corporate may declare any code.
  allowed(evaluateTransfer(set, fx, transfer(cnCorp, hkShop, { purpose: 'INVS' }), empty))
  // Inbound: the payee's jurisdiction requires a purpose of the payment it receives.
  t.equal(refused(evaluateTransfer(set, fx, transfer(bob, alice), empty)).rule, 'CN.inbound.purposes[0].required')
  allowed(evaluateTransfer(set, fx, transfer(bob, alice, { purpose: 'INVS' }), empty))
  // Domestic flows have no purpose rules here.
  allowed(evaluateTransfer(set, fx, transfer(alice, carol), empty))
})

t.test('documents: CC_DOCUMENT_REQUIRED from the threshold, for the parties and purposes named', async (t) => {
  // USD 50,000 = CNY 355,000.00 at 7.10.
  const set = policySet(policy('CN', { outbound: { documents: [{ parties: ['corporate'], purposes: ['GDDS'], atLeast: '50000 USD' }] } }), policy('HK'))
  const atThreshold = refused(evaluateTransfer(set, fx, transfer(cnCorp, hkShop, { sent: '355000 CNY', purpose: 'GDDS' }), empty))
  t.equal(atThreshold.reason, 'CC_DOCUMENT_REQUIRED')
  t.equal(atThreshold.rule, 'CN.outbound.documents[0]')
  t.match(atThreshold.message, /requires a trade document reference from 355000\.00 CNY; this transfer is 355000\.00 CNY/)
  allowed(evaluateTransfer(set, fx, transfer(cnCorp, hkShop, { sent: '354999.99 CNY', purpose: 'GDDS' }), empty))
  allowed(evaluateTransfer(set, fx, transfer(cnCorp, hkShop, { sent: '355000 CNY', purpose: 'GDDS', documentRef: 'INV-2025-001' }), empty))
  t.equal(refusalOf(evaluateTransfer(set, fx, transfer(cnCorp, hkShop, { sent: '355000 CNY', purpose: 'GDDS', documentRef: '' }), empty)), 'CC_DOCUMENT_REQUIRED')
  allowed(evaluateTransfer(set, fx, transfer(cnCorp, hkShop, { sent: '900000 CNY', purpose: 'SCVE' }), empty))
  allowed(evaluateTransfer(set, fx, transfer(alice, bob, { sent: '900000 CNY', purpose: 'GDDS' }), empty))
  // Paid in USD: compared in CNY through the FX table.
  t.equal(refusalOf(evaluateTransfer(set, fx, transfer(cnCorp, hkShop, { sent: '50000 USD', received: '390000 HKD', purpose: 'GDDS' }), empty)), 'CC_DOCUMENT_REQUIRED')
  allowed(evaluateTransfer(set, fx, transfer(cnCorp, hkShop, { sent: '49999.99 USD', received: '389999 HKD', purpose: 'GDDS' }), empty))
  // Without a purpose filter the rule applies to every purpose, or none.
  const any = policySet(policy('CN'), policy('HK', { inbound: { documents: [{ atLeast: '1000 HKD' }] } }))
  t.equal(refused(evaluateTransfer(any, fx, transfer(alice, bob, { sent: '1000 CNY', received: '1000 HKD' }), empty)).rule, 'HK.inbound.documents[0]')
  allowed(evaluateTransfer(any, fx, transfer(alice, bob, { sent: '999 CNY', received: '999.99 HKD' }), empty))
})

t.test('per-bank limits: CC_BANK_LIMIT_EXCEEDED for one transaction through a bank and for outstanding supply', async (t) => {
  const set = policySet(
    policy('CN', {
      bankLimits: [
        { bank: '*', transactionMax: '1000 CNY' },
        { bank: 'icbc', transactionMax: '5000 CNY', supplyMax: '1000000 CNY' }
      ]
    }),
    policy('HK')
  )
  allowed(evaluateTransfer(set, fx, transfer(alice, bob, { sent: '5000 CNY' }), empty))
  const over = refused(evaluateTransfer(set, fx, transfer(alice, bob, { sent: '5000.01 CNY' }), empty))
  t.equal(over.reason, 'CC_BANK_LIMIT_EXCEEDED')
  t.equal(over.rule, 'CN.bankLimits[1].transactionMax')
  t.match(over.message, /5000\.01 CNY is above the 5000\.00 CNY that CN allows in one transaction through icbc/)
  // Other banks fall under the default entry.
  const bocUser = party('cn-boc', 'CN', 'individual', { bank: 'boc' })
  allowed(evaluateTransfer(set, fx, transfer(bocUser, bob, { sent: '1000 CNY' }), empty))
  t.equal(refused(evaluateTransfer(set, fx, transfer(bocUser, bob, { sent: '1000.01 CNY' }), empty)).rule, 'CN.bankLimits[0].transactionMax')
  // The payee's bank, on what it receives.
  t.equal(refused(evaluateTransfer(set, fx, transfer(bob, alice, { sent: '6000 HKD', received: '5000.01 CNY' }), empty)).rule, 'CN.bankLimits[1].transactionMax')
  allowed(evaluateTransfer(set, fx, transfer(bob, alice, { sent: '6000 HKD', received: '5000 CNY' }), empty))
  // Supply of the token minted to the payee.
  const icbc = party('icbc', 'CN', 'bank')
  allowed(evaluateTransfer(set, fx, transfer(icbc, alice, { kind: 'issue', sent: '100 CNY', received: '100 CNY', mintedSupplyAfter: 1_000_000_00n }), empty))
  const supply = refused(evaluateTransfer(set, fx, transfer(icbc, alice, { kind: 'issue', sent: '100 CNY', received: '100 CNY', mintedSupplyAfter: 1_000_000_01n }), empty))
  t.equal(supply.rule, 'CN.bankLimits[1].supplyMax')
  t.match(supply.message, /minting would bring icbc\.CNY to 1000000\.01 CNY outstanding, above the 1000000\.00 CNY CN allows/)
  // Supply in another currency is converted: 150,000 USD = 1,065,000 CNY.
  t.equal(refusalOf(evaluateTransfer(set, fx, transfer(bob, alice, { sent: '100 HKD', received: '10 USD', mintedSupplyAfter: 150_000_00n }), empty)), 'CC_BANK_LIMIT_EXCEEDED')
  allowed(evaluateTransfer(set, fx, transfer(bob, alice, { sent: '100 HKD', received: '10 USD', mintedSupplyAfter: 140_000_00n }), empty))
})

t.test('holding limits: CC_HOLDING_LIMIT_EXCEEDED on the balance after the credit, by KYC tier and token', async (t) => {
  const set = policySet(policy('CN', { holdingLimits: [{ kycTiers: [1], parties: ['individual'], tokens: ['*.CNY'], max: '10000 CNY' }] }), policy('HK'))
  const tier1 = party('cn-tier1', 'CN', 'individual', { kycTier: 1 })
  allowed(evaluateTransfer(set, fx, transfer(alice, tier1, { payeeBalanceAfter: 10_000_00n }), empty))
  const over = refused(evaluateTransfer(set, fx, transfer(alice, tier1, { payeeBalanceAfter: 10_000_01n }), empty))
  t.equal(over.reason, 'CC_HOLDING_LIMIT_EXCEEDED')
  t.equal(over.rule, 'CN.holdingLimits[0].max')
  t.match(over.message, /cn-tier1 \(KYC tier 1\) would hold 10000\.01 CNY of icbc\.CNY, above the 10000\.00 CNY limit/)
  // Issue counts too, and cross-border credits.
  t.equal(refusalOf(evaluateTransfer(set, fx, transfer(party('icbc', 'CN', 'bank'), tier1, { kind: 'issue', payeeBalanceAfter: 10_000_01n }), empty)), 'CC_HOLDING_LIMIT_EXCEEDED')
  t.equal(refusalOf(evaluateTransfer(set, fx, transfer(bob, tier1, { payeeBalanceAfter: 10_000_01n }), empty)), 'CC_HOLDING_LIMIT_EXCEEDED')
  // Other tiers, kinds, tokens.
  allowed(evaluateTransfer(set, fx, transfer(alice, party('cn-tier2', 'CN', 'individual', { kycTier: 2 }), { payeeBalanceAfter: 10_000_01n }), empty))
  allowed(evaluateTransfer(set, fx, transfer(alice, party('cn-co1', 'CN', 'corporate', { kycTier: 1 }), { payeeBalanceAfter: 10_000_01n }), empty))
  allowed(evaluateTransfer(set, fx, transfer(alice, tier1, { sent: '100 CNH', received: '100 CNH', payeeBalanceAfter: 10_000_01n }), empty))
  // The payer's jurisdiction's holding limits do not follow the money abroad.
  allowed(evaluateTransfer(set, fx, transfer(alice, party('hk-tier1', 'HK', 'individual', { kycTier: 1 }), { payeeBalanceAfter: 10_000_000_00n }), empty))
})

t.test('quotas: CC_QUOTA_EXCEEDED per transaction, day and year, with the writes that record usage', async (t) => {
  const set = policySet(policy('CN', { outbound: { quotas: [{ parties: ['individual'], perTransaction: '20000 CNY', perDay: '30000 CNY', perYear: '50000 CNY' }] } }), policy('HK'))
  const state = new MemoryState()
  const day0 = Date.UTC(2025, 5, 10, 4) // 2025-06-10 12:00 in China
  const send = (amount: string, timeMs: number) => evaluateTransfer(set, fx, transfer(alice, bob, { sent: amount, timeMs }), state)

  const single = refused(send('20000.01 CNY', day0))
  t.equal(single.reason, 'CC_QUOTA_EXCEEDED')
  t.equal(single.rule, 'CN.outbound.quotas[0].perTransaction')
  t.match(single.message, /cn-alice may move 20000\.00 CNY in one transaction; 0\.00 CNY used, 20000\.01 CNY more requested/)

  const first = allowed(send('20000 CNY', day0))
  const dayNumber = Math.floor((day0 + 8 * 3_600_000) / 86_400_000)
  t.same(first.writes, [['p/q/CN/outbound/CNY/cn-alice', [dayNumber, 20_000_00n, 2025, 20_000_00n]]])
  state.apply(first)
  state.apply(allowed(send('10000 CNY', day0))) // exactly the day's quota
  const daily = refused(send('0.01 CNY', day0))
  t.equal(daily.rule, 'CN.outbound.quotas[0].perDay')
  t.match(daily.message, /30000\.00 CNY per day; 30000\.00 CNY used, 0\.01 CNY more requested/)

  // The day rolls over at midnight in China, 16:00 UTC.
  const lastMsOfDay = Date.UTC(2025, 5, 10, 15, 59, 59, 999)
  const midnight = Date.UTC(2025, 5, 10, 16, 0, 0)
  t.equal(refusalOf(send('0.01 CNY', lastMsOfDay)), 'CC_QUOTA_EXCEEDED')
  const nextDay = allowed(send('20000 CNY', midnight))
  t.same(nextDay.writes[0]![1], [dayNumber + 1, 20_000_00n, 2025, 50_000_00n])
  state.apply(nextDay)
  // The year's quota is now used up exactly.
  const yearly = refused(send('0.01 CNY', midnight + 86_400_000))
  t.equal(yearly.rule, 'CN.outbound.quotas[0].perYear')

  // The year rolls over at midnight in China on 1 January: 2025-12-31T16:00Z.
  t.equal(refusalOf(send('0.01 CNY', Date.UTC(2025, 11, 31, 15, 59, 59, 999))), 'CC_QUOTA_EXCEEDED')
  const newYear = allowed(send('0.01 CNY', Date.UTC(2025, 11, 31, 16)))
  t.same(newYear.writes[0]![1], [Math.floor((Date.UTC(2026, 0, 1)) / 86_400_000), 1n, 2026, 1n])
  // Usage of one payer is not another's.
  allowed(evaluateTransfer(set, fx, transfer(carol, bob, { sent: '20000 CNY', timeMs: midnight }), state))
})

t.test('quotas: thresholds converted into the reference currency, parties and flows', async (t) => {
  // SAFE's USD 50,000 is CNY 355,000.00 at 7.10; payments in other currencies are converted (rounding down).
  const set = policySet(
    policy('CN', { outbound: { quotas: [{ parties: ['individual'], perYear: '50000 USD' }] }, inbound: { quotas: [{ parties: ['individual'], perYear: '50000 USD' }] } }),
    policy('HK')
  )
  const state = new MemoryState()
  state.apply(allowed(evaluateTransfer(set, fx, transfer(alice, bob, { sent: '355000 CNY' }), state)))
  t.equal(refused(evaluateTransfer(set, fx, transfer(alice, bob, { sent: '0.01 CNY' }), state)).rule, 'CN.outbound.quotas[0].perYear')
  // 0.001 USD would be 0.0071 CNY: it rounds down to nothing, which still fits. The smallest USD amount that counts does not.
  t.equal(refusalOf(evaluateTransfer(set, fx, transfer(alice, bob, { sent: '0.01 USD', received: '0.07 HKD' }), state)), 'CC_QUOTA_EXCEEDED')
  // Corporates are not subject to the individual quota and leave no usage behind.
  const corporate = allowed(evaluateTransfer(set, fx, transfer(cnCorp, hkShop, { sent: '9000000 CNY' }), state))
  t.same(corporate.writes, [])
  // Inbound: the payee is the subject, counted on what it receives.
  const inbound = allowed(evaluateTransfer(set, fx, transfer(bob, carol, { sent: '390000 HKD', received: '355000 CNY' }), state))
  t.same(inbound.writes.map(([key]) => key), ['p/q/CN/inbound/CNY/cn-carol'])
  state.apply(inbound)
  t.equal(refused(evaluateTransfer(set, fx, transfer(bob, carol, { sent: '1 HKD', received: '0.91 CNY' }), state)).rule, 'CN.inbound.quotas[0].perYear')
  // Domestic payments are not outbound.
  allowed(evaluateTransfer(set, fx, transfer(alice, carol, { sent: '1000000 CNY' }), state))
})

t.test('quotas: domestic limits by KYC tier', async (t) => {
  const set = policySet(policy('CN', { domestic: { quotas: [{ parties: ['individual'], kycTiers: [1], perTransaction: '2000 CNY', perDay: '5000 CNY' }] } }))
  const tier1 = party('cn-t1', 'CN', 'individual', { kycTier: 1 })
  const state = new MemoryState()
  t.equal(refused(evaluateTransfer(set, fx, transfer(tier1, alice, { sent: '2000.01 CNY' }), state)).rule, 'CN.domestic.quotas[0].perTransaction')
  state.apply(allowed(evaluateTransfer(set, fx, transfer(tier1, alice, { sent: '2000 CNY' }), state)))
  state.apply(allowed(evaluateTransfer(set, fx, transfer(tier1, alice, { sent: '2000 CNY' }), state)))
  state.apply(allowed(evaluateTransfer(set, fx, transfer(tier1, alice, { sent: '1000 CNY' }), state)))
  t.equal(refused(evaluateTransfer(set, fx, transfer(tier1, alice, { sent: '0.01 CNY' }), state)).rule, 'CN.domestic.quotas[0].perDay')
  // Tier 3 is not limited.
  t.same(allowed(evaluateTransfer(set, fx, transfer(alice, tier1, { sent: '9000 CNY' }), state)).writes, [])
})

t.test('structuring: five distinct individuals paying one foreign payee on the same or consecutive days', async (t) => {
  const rules = (action: 'report' | 'refuse') =>
    policySet(policy('CN', { outbound: { structuring: { senders: ['individual'], distinctSendersMin: 5, windowDays: 2, action } } }), policy('HK'))
  const report = rules('report')
  const senders = Array.from({ length: 8 }, (_, index) => party(`cn-s${index}`, 'CN'))
  const day = (offset: number) => noonCnMs + offset * 86_400_000
  const pay = (state: MemoryState, set = report, sender = senders[0]!, timeMs = day(0), payee = hkShop) => {
    const verdict = evaluateTransfer(set, fx, transfer(sender, payee, { timeMs }), state)
    state.apply(verdict)
    return verdict
  }

  t.test('the fifth sender on the same day is reported, and every payment after it', async (t) => {
    const state = new MemoryState()
    for (let index = 0; index < 4; index++) t.same(allowed(pay(state, report, senders[index]!)).reports, [], `sender ${index}`)
    const fifth = allowed(pay(state, report, senders[4]!))
    t.equal(fifth.reports.length, 1)
    t.same(fifth.reports[0]!.kind, 'STRUCTURING_SUSPECTED')
    t.equal(fifth.reports[0]!.jurisdiction, 'CN')
    t.same(fifth.reports[0]!.reference, { amount: 100_00n, currency: 'CNY' })
    t.match(fifth.reports[0]!.detail, /at least 5 distinct senders paid hk-shop within 2 day\(s\), the latest cn-s4 \(CN\.outbound\.structuring\)/)
    t.equal(allowed(pay(state, report, senders[0]!)).reports.length, 1, 'an earlier sender paying again while five are in the window')
  })

  t.test('consecutive days count; the day before yesterday does not', async (t) => {
    const state = new MemoryState()
    for (let index = 0; index < 3; index++) pay(state, report, senders[index]!, day(0))
    t.same(allowed(pay(state, report, senders[3]!, day(1))).reports, [])
    t.equal(allowed(pay(state, report, senders[4]!, day(1))).reports.length, 1)

    const later = new MemoryState()
    for (let index = 0; index < 4; index++) pay(later, report, senders[index]!, day(0))
    t.same(allowed(pay(later, report, senders[4]!, day(2))).reports, [], 'the first four fell out of the window')
  })

  t.test('days follow the jurisdiction\'s midnight', async (t) => {
    const state = new MemoryState()
    const lateEvening = Date.UTC(2025, 5, 10, 15, 59) // 23:59 in China, 10 June
    for (let index = 0; index < 4; index++) pay(state, report, senders[index]!, lateEvening)
    // 11 June 00:00 in China is the next day, still in the window; 12 June 00:00 is not.
    t.equal(allowed(pay(state, report, senders[4]!, Date.UTC(2025, 5, 10, 16))).reports.length, 1)
    const other = new MemoryState()
    for (let index = 0; index < 4; index++) pay(other, report, senders[index]!, lateEvening)
    t.same(allowed(pay(other, report, senders[4]!, Date.UTC(2025, 5, 11, 16))).reports, [])
  })

  t.test('one sender paying often is one sender; corporates and other payees do not count', async (t) => {
    const state = new MemoryState()
    for (let count = 0; count < 10; count++) t.same(allowed(pay(state, report, senders[0]!)).reports, [])
    for (let index = 0; index < 4; index++) t.same(allowed(pay(state, report, party(`cn-co${index}`, 'CN', 'corporate'))).reports, [])
    for (let index = 1; index < 4; index++) pay(state, report, senders[index]!, day(0), bob)
    t.same(allowed(pay(state, report, senders[4]!, day(0), bob)).reports, [], 'bob has four distinct senders')
  })

  t.test('the window kept per payee is bounded by the number of senders that triggers the rule', async (t) => {
    const state = new MemoryState()
    for (let count = 0; count < 40; count++) pay(state, report, party(`cn-many${count}`, 'CN'), day(Math.floor(count / 10)))
    const window = state.get('p/s/CN/outbound/hk-shop') as unknown[]
    t.equal(window.length, 10, 'five senders, each with the last day seen')
    t.same(window.slice(-2), ['cn-many39', Math.floor((day(3) + 8 * 3_600_000) / 86_400_000)])
  })

  t.test('action refuse: AML_STRUCTURING, and the refused payment leaves no trace', async (t) => {
    const refuse = rules('refuse')
    const state = new MemoryState()
    for (let index = 0; index < 4; index++) allowed(pay(state, refuse, senders[index]!))
    const before = structuredClone([...state.values])
    const fifth = refused(pay(state, refuse, senders[4]!))
    t.equal(fifth.reason, 'AML_STRUCTURING')
    t.equal(fifth.rule, 'CN.outbound.structuring')
    t.match(fifth.message, /cn-s4 would be distinct sender number 5 paying hk-shop within 2 day\(s\)/)
    t.same([...state.values], before)
    // The four may keep paying; a new sender may once the window has moved on.
    allowed(pay(state, refuse, senders[0]!))
    allowed(pay(state, refuse, senders[4]!, day(2)))
  })
})

t.test('large-value reports: LARGE_VALUE to each regulator concerned, from the threshold', async (t) => {
  const set = policySet(
    policy('CN', { outbound: { largeValueReports: [{ parties: ['individual'], atLeast: '10000 USD' }, { parties: ['corporate'], atLeast: '200000 USD' }] } }),
    policy('HK', { inbound: { largeValueReports: [{ atLeast: '120000 HKD' }] } })
  )
  // USD 10,000 = CNY 71,000.00.
  t.same(allowed(evaluateTransfer(set, fx, transfer(alice, bob, { sent: '70999.99 CNY', received: '1000 HKD' }), empty)).reports, [])
  const atThreshold = allowed(evaluateTransfer(set, fx, transfer(alice, bob, { sent: '71000 CNY', received: '1000 HKD' }), empty))
  t.equal(atThreshold.reports.length, 1)
  const report = atThreshold.reports[0]!
  t.equal(report.kind, 'LARGE_VALUE')
  t.equal(report.jurisdiction, 'CN')
  t.same(report.reference, { amount: 71_000_00n, currency: 'CNY' })
  t.match(report.detail, /payment from cn-alice \(CN\) to hk-bob \(HK\): 71000\.00 CNY, at or above 71000\.00 CNY \(CN\.outbound\.largeValueReports\[0\]\)/)
  t.same(atThreshold.writes, [])
  // A corporate's threshold is its own.
  t.same(allowed(evaluateTransfer(set, fx, transfer(cnCorp, hkShop, { sent: '71000 CNY', received: '1000 HKD' }), empty)).reports, [])
  // Both regulators: the payer's first, then the payee's.
  const both = allowed(evaluateTransfer(set, fx, transfer(alice, bob, { sent: '110000 CNY', received: '120000 HKD' }), empty))
  t.same(both.reports.map((entry) => [entry.jurisdiction, entry.reference.amount, entry.reference.currency]), [['CN', 110_000_00n, 'CNY'], ['HK', 120_000_00n, 'HKD']])
  t.same(allowed(evaluateTransfer(set, fx, transfer(alice, bob, { sent: '1000 CNY', received: '119999.99 HKD' }), empty)).reports, [])
})

t.test('the order of checks is fixed: each step payer side first, and the first failing step names the reason', async (t) => {
  const everything = {
    sanctions: { entities: ['cn-alice'] },
    outbound: {
      corridors: { deny: ['HK'] },
      purposes: [{ required: true }],
      documents: [{ atLeast: '1 CNY' }],
      quotas: [{ parties: ['individual'], perTransaction: '1 CNY' }],
      structuring: { senders: ['individual'], distinctSendersMin: 2, windowDays: 1, action: 'refuse' }
    },
    bankLimits: [{ bank: '*', transactionMax: '1 CNY' }]
  }
  const hkEverything = {
    sanctions: { entities: ['cn-alice'] },
    inbound: { corridors: { deny: ['CN'] }, purposes: [{ required: true }], documents: [{ atLeast: '1 HKD' }], quotas: [{ parties: ['individual'], perTransaction: '1 HKD' }] },
    holdingLimits: [{ kycTiers: [3], max: '1 HKD' }]
  }
  const state = new MemoryState()
  state.values.set('p/s/CN/outbound/hk-bob', ['cn-other', Math.floor((noonCnMs + 8 * 3_600_000) / 86_400_000)])
  const expected: Array<[string, string]> = [
    ['AML_SANCTIONED', 'CN.sanctions.entities'],
    ['AML_SANCTIONED', 'HK.sanctions.entities'],
    ['CC_CORRIDOR_BLOCKED', 'CN.outbound.corridors.deny'],
    ['CC_CORRIDOR_BLOCKED', 'HK.inbound.corridors.deny'],
    ['CC_PURPOSE_REQUIRED', 'CN.outbound.purposes[0].required'],
    ['CC_PURPOSE_REQUIRED', 'HK.inbound.purposes[0].required'],
    ['CC_DOCUMENT_REQUIRED', 'CN.outbound.documents[0]'],
    ['CC_DOCUMENT_REQUIRED', 'HK.inbound.documents[0]'],
    ['CC_BANK_LIMIT_EXCEEDED', 'CN.bankLimits[0].transactionMax'],
    ['CC_HOLDING_LIMIT_EXCEEDED', 'HK.holdingLimits[0].max'],
    ['CC_QUOTA_EXCEEDED', 'CN.outbound.quotas[0].perTransaction'],
    ['CC_QUOTA_EXCEEDED', 'HK.inbound.quotas[0].perTransaction'],
    ['AML_STRUCTURING', 'CN.outbound.structuring']
  ]
  // Peel the rules off one at a time, in the documented order; each time the next one refuses.
  const cn = structuredClone(everything) as Record<string, any>
  const hk = structuredClone(hkEverything) as Record<string, any>
  const removals: Array<() => void> = [
    () => delete cn.sanctions,
    () => delete hk.sanctions,
    () => delete cn.outbound.corridors,
    () => delete hk.inbound.corridors,
    () => delete cn.outbound.purposes,
    () => delete hk.inbound.purposes,
    () => delete cn.outbound.documents,
    () => delete hk.inbound.documents,
    () => delete cn.bankLimits,
    () => delete hk.holdingLimits,
    () => delete cn.outbound.quotas,
    () => delete hk.inbound.quotas,
    () => delete cn.outbound.structuring
  ]
  for (const [index, [reason, rule]] of expected.entries()) {
    const set = policySet(policy('CN', cn), policy('HK', hk))
    const verdict = refused(evaluateTransfer(set, fx, transfer(alice, bob, { sent: '100 CNY', received: '100 HKD', payeeBalanceAfter: 100_00n }), state))
    t.same([verdict.reason, verdict.rule], [reason, rule], `step ${index + 1}`)
    removals[index]!()
  }
  allowed(evaluateTransfer(policySet(policy('CN', cn), policy('HK', hk)), fx, transfer(alice, bob), state))
})

t.test('a rule the FX table cannot evaluate fails closed with its own reason; a report is made anyway', async (t) => {
  const noEuro = createFxTable('USD', { CNY: '7.10', HKD: '7.80' })
  const set = policySet(policy('CN', { outbound: { quotas: [{ parties: ['individual'], perYear: '1000 EUR' }], largeValueReports: [{ atLeast: '1 EUR' }] } }), policy('HK'))
  const refusal = refused(evaluateTransfer(set, noEuro, transfer(alice, bob), empty))
  t.equal(refusal.reason, 'CC_QUOTA_EXCEEDED')
  t.match(refusal.message, /the FX table has no rate to convert EUR into CNY/)
  const reportOnly = policySet(policy('CN', { outbound: { largeValueReports: [{ atLeast: '1 EUR' }] } }), policy('HK'))
  const verdict = allowed(evaluateTransfer(reportOnly, noEuro, transfer(alice, bob), empty))
  t.equal(verdict.reports[0]!.kind, 'LARGE_VALUE')
  t.same(verdict.reports[0]!.reference, { amount: 100_00n, currency: 'CNY' })
  t.match(verdict.reports[0]!.detail, /no FX rate into CNY/)
  // A payment in a currency the table lacks.
  const sgdLess = createFxTable('USD', { CNY: '7.10', HKD: '7.80' })
  const quota = policySet(policy('CN', { outbound: { quotas: [{ parties: ['individual'], perYear: '50000 USD' }] } }), policy('HK'))
  t.match(refused(evaluateTransfer(quota, sgdLess, transfer(alice, bob, { sent: '100 SGD', received: '100 HKD' }), empty)).message, /no rate to convert SGD into CNY/)
})

t.test('the engine does not mutate its inputs, and its writes are exactly what applying needs', async (t) => {
  const set = policySet(
    policy('CN', { outbound: { quotas: [{ parties: ['individual'], perDay: '1000 CNY' }], structuring: { senders: ['individual'], distinctSendersMin: 3, windowDays: 2, action: 'report' } } }),
    policy('HK')
  )
  const deepFreeze = <T>(value: T): T => {
    if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
      Object.freeze(value)
      for (const inner of Object.values(value as object)) deepFreeze(inner)
    }
    return value
  }
  const state = new MemoryState()
  const readOnly = { get: (key: string) => deepFreeze(state.get(key)) }
  const first = deepFreeze(transfer(alice, hkShop, { sent: '400 CNY' }))
  const verdict = allowed(evaluateTransfer(set, fx, first, readOnly))
  t.equal(state.values.size, 0, 'nothing written by evaluating')
  t.ok(verdict.writes.every(([key]) => key.startsWith('p/')))
  t.same(verdict.writes.map(([key]) => key), ['p/q/CN/outbound/CNY/cn-alice', 'p/s/CN/outbound/hk-shop'])
  // Evaluating again on the same state gives the same verdict: nothing was remembered.
  t.same(evaluateTransfer(set, fx, first, readOnly), verdict)
  state.apply(verdict)
  const second = deepFreeze(transfer(carol, hkShop, { sent: '600 CNY' }))
  state.apply(allowed(evaluateTransfer(set, fx, second, readOnly)))
  // After applying the writes, the state holds what the rules need: alice has 600 left today.
  t.equal(refusalOf(evaluateTransfer(set, fx, transfer(alice, hkShop, { sent: '600.01 CNY' }), readOnly)), 'CC_QUOTA_EXCEEDED')
  const third = allowed(evaluateTransfer(set, fx, transfer(party('cn-dan', 'CN'), hkShop), readOnly))
  t.equal(third.reports[0]?.kind, 'STRUCTURING_SUSPECTED')
  // A refusal carries no writes.
  t.notOk('writes' in refused(evaluateTransfer(set, fx, transfer(alice, hkShop, { sent: '600.01 CNY' }), readOnly)))
})

t.test('every policy reason code was produced by some test above', async (t) => {
  for (const code of policyReasonCodes) t.ok(reasonsSeen.has(code), code)
})
