/**
 * The policy engine: evaluates one transfer against the rules in force, deterministically, inside
 * the ledger, so every validator reaches the same verdict. Pure: no I/O, no clock (the time is the
 * block time in the transfer), no randomness, and it never mutates state; what must be remembered
 * (quota usage, structuring windows) comes back as `writes` the ledger applies if and only if the
 * whole transaction succeeds.
 *
 * Which rules apply. A transfer is cross-border when the payer's and payee's jurisdictions differ.
 * Sanctions, per-bank limits and holding limits apply to every transfer kind. Flow rules (corridors,
 * purposes, documents, quotas, structuring, large-value reports) apply to payments and transfers
 * only, not to issue and redeem (a deposit or withdrawal at the customer's own bank): for a
 * cross-border one, the `outbound` rules of the payer's jurisdiction (subject: the payer, amount:
 * what is sent) and the `inbound` rules of the payee's (subject: the payee, amount: what is
 * received); for a domestic one, the `domestic` rules (subject: the payer, amount: what is sent).
 *
 * The order of checks is fixed, so the reason code is deterministic when several rules fail. Each
 * step runs for the payer's jurisdiction, then the payee's, and within a list in the order written:
 *   1. sanctions                 AML_SANCTIONED
 *   2. corridors                 CC_CORRIDOR_BLOCKED          (cross-border)
 *   3. cross-border-only tokens  CC_DOMESTIC_USE_PROHIBITED   (domestic)
 *   4. purposes                  CC_PURPOSE_REQUIRED, CC_PURPOSE_NOT_ALLOWED
 *   5. documents                 CC_DOCUMENT_REQUIRED
 *   6. per-bank limits           CC_BANK_LIMIT_EXCEEDED       (transaction, then supply)
 *   7. holding limits            CC_HOLDING_LIMIT_EXCEEDED
 *   8. quotas                    CC_QUOTA_EXCEEDED            (per transaction, day, year)
 *   9. structuring               AML_STRUCTURING              (action: refuse)
 * then, for a transfer that passes, the reports: LARGE_VALUE, then STRUCTURING_SUSPECTED.
 *
 * Amounts are compared in the jurisdiction's reference currency, converted with the FX table in
 * force and rounded down. A rule that needs a conversion the table cannot make refuses (fails
 * closed) with its own reason code and says which rate is missing.
 *
 * Cost: no zod, no parsing and no string building unless refusing or reporting; a typical payment
 * does a few Set and Map lookups, two conversions, and allocates only its writes and the verdict.
 */
import type { Encodable } from '../../protocol/encoding.ts'
import { assert } from '../../protocol/assert.ts'
import { convert, type FxTable } from '../fx.ts'
import { formatMoney } from '../currency.ts'
import type { EvaluateTransfer, PolicyParty, PolicyReasonCode, PolicyReport, PolicyStateReader, PolicyTransfer, PolicyVerdict } from './types.ts'
import { kindBit, selects, type CompiledBankLimit, type CompiledFlow, type CompiledPolicy, type CompiledStructuringRule } from './compile.ts'
import { policyLimits } from './limits.ts'
import { localDayNumber, yearOfDayNumber } from './periods.ts'
import { tokenSetHas } from './tokens.ts'

type Refusal = Extract<PolicyVerdict, { ok: false }>
type Write = readonly [key: string, value: Encodable]
type Thresholds = ReadonlyArray<bigint | undefined>

const noWrites: readonly Write[] = Object.freeze([])
const noReports: readonly PolicyReport[] = Object.freeze([])
const allowedWithoutEffects: PolicyVerdict = Object.freeze({ ok: true, writes: noWrites, reports: noReports })

function refuse(reason: PolicyReasonCode, rule: string, message: string): Refusal {
  return { ok: false, reason, rule, message }
}

function refuseForMissingRate(reason: PolicyReasonCode, rule: string, from: string, to: string): Refusal {
  return refuse(reason, rule, `${rule} cannot be evaluated: the FX table has no rate to convert ${from} into ${to}`)
}

function isRefusal(result: Refusal | Write): result is Refusal {
  return !Array.isArray(result)
}

export const evaluateTransfer: EvaluateTransfer = (policies, fx, transfer, state) => {
  const payer = transfer.payer
  const payee = transfer.payee
  const crossBorder = payer.jurisdiction !== payee.jurisdiction
  const payerPolicy = policies.get(payer.jurisdiction)?.compiled
  const payeePolicy = crossBorder ? policies.get(payee.jurisdiction)?.compiled : payerPolicy
  if (payerPolicy === undefined && payeePolicy === undefined) return allowedWithoutEffects
  let refusal: Refusal | undefined

  // 1. Sanctions, on both parties and their banks, for every kind of transfer.
  if (payerPolicy !== undefined && (refusal = checkSanctions(payerPolicy, payer, payee)) !== undefined) return refusal
  if (crossBorder && payeePolicy !== undefined && (refusal = checkSanctions(payeePolicy, payer, payee)) !== undefined) return refusal

  const moving = transfer.kind === 'payment' || transfer.kind === 'transfer'
  // Side A: the payer's jurisdiction (outbound, or domestic). Side B: the payee's (inbound).
  const flowA = moving && payerPolicy !== undefined ? (crossBorder ? payerPolicy.outbound : payerPolicy.domestic) : undefined
  const flowB = moving && crossBorder && payeePolicy !== undefined ? payeePolicy.inbound : undefined

  // 2. Corridors.
  if (flowA !== undefined && (refusal = checkCorridor(flowA, payee.jurisdiction)) !== undefined) return refusal
  if (flowB !== undefined && (refusal = checkCorridor(flowB, payer.jurisdiction)) !== undefined) return refusal

  // 3. Tokens that may only be used cross-border.
  if (moving && !crossBorder && payerPolicy !== undefined && payerPolicy.crossBorderOnlyTokens !== undefined) {
    if ((refusal = checkDomesticUse(payerPolicy, transfer)) !== undefined) return refusal
  }

  // 4. Purposes.
  const purpose = transfer.purpose === '' ? undefined : transfer.purpose
  if (flowA !== undefined && flowA.purposes.length > 0 && (refusal = checkPurposes(flowA, payer, purpose)) !== undefined) return refusal
  if (flowB !== undefined && flowB.purposes.length > 0 && (refusal = checkPurposes(flowB, payee, purpose)) !== undefined) return refusal

  // Amounts in reference currencies, converted once. Undefined where not needed or not convertible;
  // a rule that needs one it cannot have refuses.
  const limitsA = payerPolicy === undefined ? undefined : payerPolicy.thresholdCache.inReference(fx)
  const limitsB = payeePolicy === undefined ? undefined : payeePolicy.thresholdCache.inReference(fx)
  const amountA =
    payerPolicy !== undefined && (payerPolicy.hasBankLimits || (flowA !== undefined && flowA.needsAmount))
      ? convert(fx, transfer.sent.amount, transfer.sent.currency, payerPolicy.referenceCurrency)
      : undefined
  const amountB =
    payeePolicy !== undefined && (payeePolicy.hasBankLimits || (flowB !== undefined && flowB.needsAmount))
      ? convert(fx, transfer.received.amount, transfer.received.currency, payeePolicy.referenceCurrency)
      : undefined

  // 5. Trade documents.
  if (flowA !== undefined && flowA.documents.length > 0) {
    if ((refusal = checkDocuments(flowA, payerPolicy!, limitsA!, payer, amountA, transfer.sent.currency, purpose, transfer.documentRef)) !== undefined) return refusal
  }
  if (flowB !== undefined && flowB.documents.length > 0) {
    if ((refusal = checkDocuments(flowB, payeePolicy!, limitsB!, payee, amountB, transfer.received.currency, purpose, transfer.documentRef)) !== undefined) return refusal
  }

  // 6. Per-bank limits: the payer's bank under the payer's jurisdiction, the payee's under the payee's.
  if (payerPolicy !== undefined && payerPolicy.hasBankLimits) {
    const limit = bankLimitOf(payerPolicy, payer.bank)
    if (limit !== undefined && (refusal = checkBankTransaction(payerPolicy, limit, limitsA!, payer.bank!, amountA, transfer.sent.currency)) !== undefined) return refusal
  }
  if (payeePolicy !== undefined && payeePolicy.hasBankLimits) {
    const limit = bankLimitOf(payeePolicy, payee.bank)
    if (limit !== undefined) {
      if ((refusal = checkBankTransaction(payeePolicy, limit, limitsB!, payee.bank!, amountB, transfer.received.currency)) !== undefined) return refusal
      if ((refusal = checkBankSupply(payeePolicy, limit, limitsB!, fx, transfer)) !== undefined) return refusal
    }
  }

  // 7. Holding limits of the payee's jurisdiction, on the payee's balance after the credit.
  if (payeePolicy !== undefined && payeePolicy.holdingLimits.length > 0) {
    if ((refusal = checkHoldingLimits(payeePolicy, limitsB!, fx, transfer)) !== undefined) return refusal
  }

  // 8. Quotas, and 9. structuring: the stateful checks, each producing the write that records it.
  let writes: Write[] | undefined
  let result: Refusal | Write | undefined
  if (flowA !== undefined && flowA.quotas.length > 0) {
    if ((result = evaluateQuotas(flowA, payerPolicy!, limitsA!, payer, amountA, transfer.sent.currency, transfer.timeMs, state)) !== undefined) {
      if (isRefusal(result)) return result
      ;(writes ??= []).push(result)
    }
  }
  if (flowB !== undefined && flowB.quotas.length > 0) {
    if ((result = evaluateQuotas(flowB, payeePolicy!, limitsB!, payee, amountB, transfer.received.currency, transfer.timeMs, state)) !== undefined) {
      if (isRefusal(result)) return result
      ;(writes ??= []).push(result)
    }
  }
  let windowA: Write | undefined
  let windowB: Write | undefined
  if (flowA !== undefined && flowA.structuring !== undefined) {
    if ((result = evaluateStructuring(flowA.structuring, payerPolicy!, payer, payee, transfer.timeMs, state)) !== undefined) {
      if (isRefusal(result)) return result
      ;(writes ??= []).push((windowA = result))
    }
  }
  if (flowB !== undefined && flowB.structuring !== undefined) {
    if ((result = evaluateStructuring(flowB.structuring, payeePolicy!, payer, payee, transfer.timeMs, state)) !== undefined) {
      if (isRefusal(result)) return result
      ;(writes ??= []).push((windowB = result))
    }
  }

  // The transfer settles. Reports for the regulators concerned.
  let reports: PolicyReport[] | undefined
  let report: PolicyReport | undefined
  if (flowA !== undefined && flowA.largeValueReports.length > 0) {
    if ((report = largeValueReport(flowA, payerPolicy!, limitsA!, payer, amountA, transfer)) !== undefined) (reports ??= []).push(report)
  }
  if (flowB !== undefined && flowB.largeValueReports.length > 0) {
    if ((report = largeValueReport(flowB, payeePolicy!, limitsB!, payee, amountB, transfer)) !== undefined) (reports ??= []).push(report)
  }
  if (windowA !== undefined && (report = structuringReport(flowA!.structuring!, payerPolicy!, windowA, amountA, transfer)) !== undefined) {
    ;(reports ??= []).push(report)
  }
  if (windowB !== undefined && (report = structuringReport(flowB!.structuring!, payeePolicy!, windowB, amountB, transfer)) !== undefined) {
    ;(reports ??= []).push(report)
  }

  if (writes === undefined && reports === undefined) return allowedWithoutEffects
  return { ok: true, writes: writes ?? noWrites, reports: reports ?? noReports }
}

function checkSanctions(policy: CompiledPolicy, payer: PolicyParty, payee: PolicyParty): Refusal | undefined {
  const entities = policy.sanctionedEntities
  if (entities.size > 0) {
    let listed: string | undefined
    if (entities.has(payer.id)) listed = `the payer ${payer.id}`
    else if (entities.has(payee.id)) listed = `the payee ${payee.id}`
    else if (payer.bank !== undefined && entities.has(payer.bank)) listed = `the payer's bank ${payer.bank}`
    else if (payee.bank !== undefined && entities.has(payee.bank)) listed = `the payee's bank ${payee.bank}`
    if (listed !== undefined) {
      return refuse('AML_SANCTIONED', `${policy.jurisdiction}.sanctions.entities`, `${listed} is on ${policy.jurisdiction}'s sanctions list`)
    }
  }
  const jurisdictions = policy.sanctionedJurisdictions
  if (jurisdictions.size > 0) {
    let listed: string | undefined
    if (jurisdictions.has(payer.jurisdiction)) listed = `the payer's jurisdiction ${payer.jurisdiction}`
    else if (jurisdictions.has(payee.jurisdiction)) listed = `the payee's jurisdiction ${payee.jurisdiction}`
    if (listed !== undefined) {
      return refuse('AML_SANCTIONED', `${policy.jurisdiction}.sanctions.jurisdictions`, `${listed} is sanctioned by ${policy.jurisdiction}`)
    }
  }
  return undefined
}

function checkCorridor(flow: CompiledFlow, counterparty: string): Refusal | undefined {
  const direction = flow.name === 'inbound' ? 'from' : 'to'
  if (flow.corridorDeny !== undefined && flow.corridorDeny.has(counterparty)) {
    return refuse('CC_CORRIDOR_BLOCKED', `${flow.path}.corridors.deny`, `${flow.path} denies payments ${direction} ${counterparty}`)
  }
  if (flow.corridorAllow !== undefined && !flow.corridorAllow.has(counterparty)) {
    return refuse('CC_CORRIDOR_BLOCKED', `${flow.path}.corridors.allow`, `${flow.path} allows payments ${direction} listed jurisdictions only, not ${counterparty}`)
  }
  return undefined
}

function checkDomesticUse(policy: CompiledPolicy, transfer: PolicyTransfer): Refusal | undefined {
  const tokens = policy.crossBorderOnlyTokens!
  let token: string | undefined
  if (tokenSetHas(tokens, transfer.payerToken, transfer.sent.currency)) token = transfer.payerToken
  else if (transfer.payeeToken !== transfer.payerToken && tokenSetHas(tokens, transfer.payeeToken, transfer.received.currency)) token = transfer.payeeToken
  if (token === undefined) return undefined
  return refuse(
    'CC_DOMESTIC_USE_PROHIBITED',
    `${policy.jurisdiction}.crossBorderOnlyTokens`,
    `${token} may be used only cross-border, not between two parties in ${policy.jurisdiction}`
  )
}

function checkPurposes(flow: CompiledFlow, subject: PolicyParty, purpose: string | undefined): Refusal | undefined {
  const rules = flow.purposes
  for (let index = 0; index < rules.length; index++) {
    const rule = rules[index]!
    if (!selects(rule.selector, subject)) continue
    if (purpose === undefined) {
      if (rule.required) return refuse('CC_PURPOSE_REQUIRED', `${rule.path}.required`, `${flow.path} requires a purpose code for ${subject.kind} ${subject.id}`)
    } else if (rule.allowed !== undefined && !rule.allowed.has(purpose)) {
      return refuse('CC_PURPOSE_NOT_ALLOWED', `${rule.path}.allowed`, `purpose ${purpose} is not among those ${rule.path} allows`)
    }
  }
  return undefined
}

function checkDocuments(
  flow: CompiledFlow,
  policy: CompiledPolicy,
  limits: Thresholds,
  subject: PolicyParty,
  amount: bigint | undefined,
  currency: string,
  purpose: string | undefined,
  documentRef: string | undefined
): Refusal | undefined {
  if (documentRef !== undefined && documentRef !== '') return undefined
  const rules = flow.documents
  for (let index = 0; index < rules.length; index++) {
    const rule = rules[index]!
    if (!selects(rule.selector, subject)) continue
    if (rule.purposes !== undefined && (purpose === undefined || !rule.purposes.has(purpose))) continue
    const limit = limits[rule.atLeast]
    if (limit === undefined) return refuseForMissingRate('CC_DOCUMENT_REQUIRED', rule.path, policy.thresholds[rule.atLeast]!.currency, policy.referenceCurrency)
    if (amount === undefined) return refuseForMissingRate('CC_DOCUMENT_REQUIRED', rule.path, currency, policy.referenceCurrency)
    if (amount >= limit) {
      return refuse(
        'CC_DOCUMENT_REQUIRED',
        rule.path,
        `${rule.path} requires a trade document reference from ${formatMoney(limit, policy.referenceCurrency)}; this transfer is ${formatMoney(amount, policy.referenceCurrency)}`
      )
    }
  }
  return undefined
}

function bankLimitOf(policy: CompiledPolicy, bank: string | undefined): CompiledBankLimit | undefined {
  if (bank === undefined) return undefined
  return policy.bankLimits.get(bank) ?? policy.bankLimitDefault
}

function checkBankTransaction(
  policy: CompiledPolicy,
  limit: CompiledBankLimit,
  limits: Thresholds,
  bank: string,
  amount: bigint | undefined,
  currency: string
): Refusal | undefined {
  if (limit.transactionMax < 0) return undefined
  const max = limits[limit.transactionMax]
  if (max === undefined) return refuseForMissingRate('CC_BANK_LIMIT_EXCEEDED', `${limit.path}.transactionMax`, policy.thresholds[limit.transactionMax]!.currency, policy.referenceCurrency)
  if (amount === undefined) return refuseForMissingRate('CC_BANK_LIMIT_EXCEEDED', `${limit.path}.transactionMax`, currency, policy.referenceCurrency)
  if (amount <= max) return undefined
  return refuse(
    'CC_BANK_LIMIT_EXCEEDED',
    `${limit.path}.transactionMax`,
    `${formatMoney(amount, policy.referenceCurrency)} is above the ${formatMoney(max, policy.referenceCurrency)} that ${policy.jurisdiction} allows in one transaction through ${bank}`
  )
}

function checkBankSupply(policy: CompiledPolicy, limit: CompiledBankLimit, limits: Thresholds, fx: FxTable, transfer: PolicyTransfer): Refusal | undefined {
  const supplyAfter = transfer.mintedSupplyAfter
  if (limit.supplyMax < 0 || supplyAfter === undefined) return undefined
  const max = limits[limit.supplyMax]
  if (max === undefined) return refuseForMissingRate('CC_BANK_LIMIT_EXCEEDED', `${limit.path}.supplyMax`, policy.thresholds[limit.supplyMax]!.currency, policy.referenceCurrency)
  const supply = convert(fx, supplyAfter, transfer.received.currency, policy.referenceCurrency)
  if (supply === undefined) return refuseForMissingRate('CC_BANK_LIMIT_EXCEEDED', `${limit.path}.supplyMax`, transfer.received.currency, policy.referenceCurrency)
  if (supply <= max) return undefined
  return refuse(
    'CC_BANK_LIMIT_EXCEEDED',
    `${limit.path}.supplyMax`,
    `minting would bring ${transfer.payeeToken} to ${formatMoney(supply, policy.referenceCurrency)} outstanding, above the ${formatMoney(max, policy.referenceCurrency)} ${policy.jurisdiction} allows`
  )
}

function checkHoldingLimits(policy: CompiledPolicy, limits: Thresholds, fx: FxTable, transfer: PolicyTransfer): Refusal | undefined {
  const payee = transfer.payee
  const rules = policy.holdingLimits
  let balance: bigint | undefined | null = null
  for (let index = 0; index < rules.length; index++) {
    const rule = rules[index]!
    if (!selects(rule.selector, payee)) continue
    if (rule.tokens !== undefined && !tokenSetHas(rule.tokens, transfer.payeeToken, transfer.received.currency)) continue
    const max = limits[rule.max]
    if (max === undefined) return refuseForMissingRate('CC_HOLDING_LIMIT_EXCEEDED', `${rule.path}.max`, policy.thresholds[rule.max]!.currency, policy.referenceCurrency)
    if (balance === null) balance = convert(fx, transfer.payeeBalanceAfter, transfer.received.currency, policy.referenceCurrency)
    if (balance === undefined) return refuseForMissingRate('CC_HOLDING_LIMIT_EXCEEDED', `${rule.path}.max`, transfer.received.currency, policy.referenceCurrency)
    if (balance > max) {
      return refuse(
        'CC_HOLDING_LIMIT_EXCEEDED',
        `${rule.path}.max`,
        `${payee.id} (KYC tier ${String(payee.kycTier)}) would hold ${formatMoney(balance, policy.referenceCurrency)} of ${transfer.payeeToken}, above the ${formatMoney(max, policy.referenceCurrency)} limit`
      )
    }
  }
  return undefined
}

/** Quota usage in state: [day number, used that day, year, used that year], amounts in the reference currency. */
type QuotaUsage = readonly [day: number, usedDay: bigint, year: number, usedYear: bigint]

function readQuotaUsage(state: PolicyStateReader, key: string): QuotaUsage | undefined {
  const value = state.get(key)
  if (value === undefined) return undefined
  if (!(Array.isArray(value) && value.length === 4 && typeof value[0] === 'number' && typeof value[1] === 'bigint' && typeof value[2] === 'number' && typeof value[3] === 'bigint')) {
    assert(false, `policy state ${key} is not quota usage`)
  }
  return value as unknown as QuotaUsage
}

function evaluateQuotas(
  flow: CompiledFlow,
  policy: CompiledPolicy,
  limits: Thresholds,
  subject: PolicyParty,
  amount: bigint | undefined,
  currency: string,
  timeMs: number,
  state: PolicyStateReader
): Refusal | Write | undefined {
  const rules = flow.quotas
  let refusal: Refusal | undefined
  let matched = false
  let key = ''
  let day = 0
  let year = 0
  let usedDay = 0n
  let usedYear = 0n
  for (let index = 0; index < rules.length; index++) {
    const rule = rules[index]!
    if (!selects(rule.selector, subject)) continue
    if (!matched) {
      matched = true
      if (amount === undefined) return refuseForMissingRate('CC_QUOTA_EXCEEDED', rule.path, currency, policy.referenceCurrency)
      day = localDayNumber(timeMs, policy.utcOffsetMs)
      year = yearOfDayNumber(day)
      key = flow.usageKeys.of(subject.id)
      const usage = readQuotaUsage(state, key)
      if (usage !== undefined) {
        if (usage[0] === day) usedDay = usage[1]
        if (usage[2] === year) usedYear = usage[3]
      }
    }
    if (rule.perTransaction >= 0 && (refusal = checkQuota(policy, limits, rule.perTransaction, rule.path, 'perTransaction', subject, 0n, amount!)) !== undefined) return refusal
    if (rule.perDay >= 0 && (refusal = checkQuota(policy, limits, rule.perDay, rule.path, 'perDay', subject, usedDay, amount!)) !== undefined) return refusal
    if (rule.perYear >= 0 && (refusal = checkQuota(policy, limits, rule.perYear, rule.path, 'perYear', subject, usedYear, amount!)) !== undefined) return refusal
  }
  if (!matched) return undefined
  return [key, [day, usedDay + amount!, year, usedYear + amount!]]
}

const periodWords = { perTransaction: 'in one transaction', perDay: 'per day', perYear: 'per year' } as const

function checkQuota(
  policy: CompiledPolicy,
  limits: Thresholds,
  index: number,
  rulePath: string,
  period: keyof typeof periodWords,
  subject: PolicyParty,
  used: bigint,
  amount: bigint
): Refusal | undefined {
  const max = limits[index]
  if (max === undefined) return refuseForMissingRate('CC_QUOTA_EXCEEDED', `${rulePath}.${period}`, policy.thresholds[index]!.currency, policy.referenceCurrency)
  if (used + amount <= max) return undefined
  const currency = policy.referenceCurrency
  return refuse(
    'CC_QUOTA_EXCEEDED',
    `${rulePath}.${period}`,
    `${subject.id} may move ${formatMoney(max, currency)} ${periodWords[period]}; ${formatMoney(used, currency)} used, ${formatMoney(amount, currency)} more requested`
  )
}

/**
 * The structuring window of one payee: a flat list [sender, last day, sender, last day, ...],
 * oldest first, of the distinct senders seen within the window, at most `distinctSendersMin` of
 * them. Keeping the most recent ones is exact: if at least N distinct senders paid within the
 * window, the N most recent of them did.
 */
function evaluateStructuring(
  rule: CompiledStructuringRule,
  policy: CompiledPolicy,
  payer: PolicyParty,
  payee: PolicyParty,
  timeMs: number,
  state: PolicyStateReader
): Refusal | Write | undefined {
  if ((rule.senderKindMask & kindBit(payer.kind)) === 0) return undefined
  const day = localDayNumber(timeMs, policy.utcOffsetMs)
  const oldestDay = day - rule.windowDays + 1
  const key = rule.keys.of(payee.id)
  const previous = state.get(key)
  let kept = 0
  if (previous !== undefined) {
    if (!(Array.isArray(previous) && previous.length % 2 === 0 && previous.length <= 2 * policyLimits.structuringSendersMax)) {
      assert(false, `policy state ${key} is not a structuring window`)
    }
    for (let index = 0; index < previous.length; index += 2) {
      const sender = previous[index]
      const lastDay = previous[index + 1]
      if (typeof sender !== 'string' || typeof lastDay !== 'number') assert(false, `policy state ${key} is not a structuring window`)
      if (lastDay >= oldestDay && sender !== payer.id) kept++
    }
  }
  const keptMax = rule.distinctSendersMin - 1
  let skip = kept > keptMax ? kept - keptMax : 0
  const senders = kept - skip + 1
  if (senders >= rule.distinctSendersMin && rule.refuse) {
    return refuse(
      'AML_STRUCTURING',
      rule.path,
      `${payer.id} would be distinct sender number ${senders} paying ${payee.id} within ${rule.windowDays} day(s); ${rule.path} refuses from ${rule.distinctSendersMin}`
    )
  }
  const next: Encodable[] = []
  if (previous !== undefined) {
    const entries = previous as readonly Encodable[]
    for (let index = 0; index < entries.length; index += 2) {
      if ((entries[index + 1] as number) < oldestDay || entries[index] === payer.id) continue
      if (skip > 0) {
        skip--
        continue
      }
      next.push(entries[index]!, entries[index + 1]!)
    }
  }
  next.push(payer.id, day)
  return [key, next]
}

function structuringReport(rule: CompiledStructuringRule, policy: CompiledPolicy, window: Write, amount: bigint | undefined, transfer: PolicyTransfer): PolicyReport | undefined {
  const senders = (window[1] as readonly Encodable[]).length / 2
  if (senders < rule.distinctSendersMin) return undefined
  return {
    kind: 'STRUCTURING_SUSPECTED',
    jurisdiction: policy.jurisdiction,
    reference: amount === undefined ? transfer.sent : { amount, currency: policy.referenceCurrency },
    detail: `at least ${senders} distinct senders paid ${transfer.payee.id} within ${rule.windowDays} day(s), the latest ${transfer.payer.id} (${rule.path})`
  }
}

function largeValueReport(
  flow: CompiledFlow,
  policy: CompiledPolicy,
  limits: Thresholds,
  subject: PolicyParty,
  amount: bigint | undefined,
  transfer: PolicyTransfer
): PolicyReport | undefined {
  const rules = flow.largeValueReports
  for (let index = 0; index < rules.length; index++) {
    const rule = rules[index]!
    if (!selects(rule.selector, subject)) continue
    const limit = limits[rule.atLeast]
    if (limit !== undefined && amount !== undefined && amount < limit) continue
    const route = `${transfer.kind} from ${transfer.payer.id} (${transfer.payer.jurisdiction}) to ${transfer.payee.id} (${transfer.payee.jurisdiction})`
    // Without a rate the value cannot be compared: report rather than stay silent.
    if (limit === undefined || amount === undefined) {
      const money = flow.name === 'inbound' ? transfer.received : transfer.sent
      return { kind: 'LARGE_VALUE', jurisdiction: policy.jurisdiction, reference: money, detail: `${route}: no FX rate into ${policy.referenceCurrency} to compare with ${rule.path}` }
    }
    return {
      kind: 'LARGE_VALUE',
      jurisdiction: policy.jurisdiction,
      reference: { amount, currency: policy.referenceCurrency },
      detail: `${route}: ${formatMoney(amount, policy.referenceCurrency)}, at or above ${formatMoney(limit, policy.referenceCurrency)} (${rule.path})`
    }
  }
  return undefined
}
