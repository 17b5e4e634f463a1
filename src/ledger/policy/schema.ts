/**
 * The policy document: capital-control and compliance rules of one jurisdiction, as written in a
 * YAML or JSON file under configs/policies/ or carried by a policy-update transaction. Validated
 * with zod (strict objects, so a misspelt field is refused rather than ignored), then compiled by
 * compile.ts into the form the engine evaluates without zod, string parsing or allocation.
 * docs/policies.md describes every field.
 */
import { z } from 'zod'
import { validateDocument } from '../../config/validate.ts'
import { AmountError, isKnownCurrency, parseMoney, type Money } from '../currency.ts'
import { isValidId } from '../../protocol/ids.ts'
import { policyLimits } from './limits.ts'
import { isJurisdiction } from './jurisdictions.ts'
import { parseUtcOffset } from './periods.ts'
import { tokenPatternProblem } from './tokens.ts'
import { compilePolicy, type JurisdictionPolicy } from './compile.ts'

export type { JurisdictionPolicy } from './compile.ts'

/** Words for a value of the wrong type in an error message. */
function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'string') return `the text ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`
  if (typeof value === 'object') return 'an object'
  return `${typeof value === 'number' || typeof value === 'bigint' ? 'the number' : typeof value} ${String(value)}`
}

/** A strict object: an unknown field is refused with the list of fields expected. */
function strict<Shape extends z.ZodRawShape>(shape: Shape) {
  const names = Object.keys(shape).join(', ')
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') {
        return `unknown field ${issue.keys.map((key) => JSON.stringify(key)).join(', ')}: expected only ${names}`
      }
      if (issue.code === 'invalid_type') return `expected an object with ${names}, got ${describeValue(issue.input)}`
      return undefined
    }
  })
}

function text(what: string) {
  return z.string({ error: (issue) => `expected ${what}, got ${describeValue(issue.input)}` })
}

/** A list with a bound and no duplicates (a duplicate is almost always a copy-and-paste slip). */
function list<Item extends z.ZodType>(item: Item, itemsMax: number, itemsMin = 1) {
  return z
    .array(item, { error: (issue) => `expected a list, got ${describeValue(issue.input)}` })
    .min(itemsMin, { error: itemsMin === 1 ? 'expected at least one entry (omit the field instead of leaving it empty)' : `expected at least ${itemsMin} entries` })
    .max(itemsMax, { error: `expected at most ${itemsMax} entries` })
    .superRefine((values, context) => {
      const seen = new Set<unknown>()
      values.forEach((value, index) => {
        if (seen.has(value)) context.addIssue({ code: 'custom', path: [index], message: `expected no duplicates, ${JSON.stringify(value)} appears twice`, input: value })
        seen.add(value)
      })
    })
}

/** "50000 USD": a non-negative decimal in major units and a currency Corridor knows. */
const money = text('an amount with its currency, like "50000 USD"').transform((value, context): Money => {
  try {
    return parseMoney(value)
  } catch (error) {
    let message = error instanceof Error ? error.message : String(error)
    if (error instanceof AmountError && error.code === 'UNKNOWN_CURRENCY') {
      message = `expected an amount in a currency Corridor knows (ISO 4217), got ${JSON.stringify(value)}`
    } else if (value.trim().startsWith('-')) {
      message = `expected an amount of zero or more, got ${JSON.stringify(value)}`
    }
    context.addIssue({ code: 'custom', message, input: value })
    return z.NEVER
  }
})

const jurisdiction = text('a jurisdiction code').refine(isJurisdiction, {
  error: (issue) => `expected an ISO 3166-1 alpha-2 jurisdiction code such as CN, HK, AE, SG, got ${describeValue(issue.input)}`
})

const currency = text('a currency code').refine(isKnownCurrency, {
  error: (issue) => `expected an ISO 4217 currency code Corridor knows, such as CNY or USD, got ${describeValue(issue.input)}`
})

const entityId = text('an entity id').refine(isValidId, {
  error: (issue) => `expected an entity id of 1-64 characters a-z, 0-9, '-', '_', ':', got ${describeValue(issue.input)}`
})

const purposeCode = text('a purpose code').regex(new RegExp(`^[A-Z0-9]{1,${policyLimits.purposeCodeLengthMax}}$`), {
  error: (issue) => `expected a purpose code of 1-${policyLimits.purposeCodeLengthMax} upper-case letters and digits, such as GDDS or 121010, got ${describeValue(issue.input)}`
})

const tokenPattern = text('a token pattern such as "*.CNH"').superRefine((value, context) => {
  const problem = tokenPatternProblem(value)
  if (problem !== undefined) context.addIssue({ code: 'custom', message: problem, input: value })
})

export const partyKinds = ['individual', 'corporate', 'bank', 'central-bank', 'fx-provider'] as const
const partyKind = z.enum(partyKinds, { error: (issue) => `expected one of ${partyKinds.join(', ')}, got ${describeValue(issue.input)}` })

function wholeNumber(what: string, min: number, max: number) {
  return z
    .number({ error: (issue) => `expected ${what} (a whole number from ${min} to ${max}), got ${describeValue(issue.input)}` })
    .int({ error: `expected ${what} as a whole number` })
    .min(min, { error: `expected ${what} of at least ${min}` })
    .max(max, { error: `expected ${what} of at most ${max}` })
}

const kycTier = wholeNumber('a KYC tier', 1, policyLimits.kycTierMax)

const note = z
  .union([z.string().max(policyLimits.noteLengthMax), z.number().int()], {
    error: `expected a short note (text of at most ${policyLimits.noteLengthMax} characters)`
  })
  .transform((value) => String(value))

/** Which subject parties a rule applies to: every kind and tier when omitted. */
const selectorShape = {
  parties: list(partyKind, partyKinds.length).optional(),
  kycTiers: list(kycTier, policyLimits.kycTierMax).optional()
}

function rules<Item extends z.ZodType>(item: Item) {
  return z
    .array(item, { error: (issue) => `expected a list of rules, got ${describeValue(issue.input)}` })
    .max(policyLimits.rulesPerListMax, { error: `expected at most ${policyLimits.rulesPerListMax} rules` })
}

const quotaRule = strict({
  parties: list(partyKind, partyKinds.length),
  kycTiers: selectorShape.kycTiers,
  perTransaction: money.optional(),
  perDay: money.optional(),
  perYear: money.optional()
}).superRefine((rule, context) => {
  const { perTransaction, perDay, perYear } = rule
  if (perTransaction === undefined && perDay === undefined && perYear === undefined) {
    context.addIssue({ code: 'custom', message: 'expected at least one of perTransaction, perDay, perYear', input: rule })
    return
  }
  // Limits in one rule share a currency, so they can be compared here, without an FX table.
  const limits: Array<[string, Money | undefined]> = [['perTransaction', perTransaction], ['perDay', perDay], ['perYear', perYear]]
  const present = limits.filter((entry): entry is [string, Money] => entry[1] !== undefined)
  const first = present[0]!
  for (const [name, limit] of present) {
    if (limit.currency !== first[1].currency) {
      context.addIssue({ code: 'custom', path: [name], message: `expected the same currency as ${first[0]} (${first[1].currency}), got ${limit.currency}`, input: limit })
      return
    }
  }
  if (perDay !== undefined && perYear !== undefined && perDay.amount > perYear.amount) {
    context.addIssue({ code: 'custom', path: ['perDay'], message: 'expected perDay to be at most perYear', input: perDay })
  }
  if (perTransaction !== undefined && perDay !== undefined && perTransaction.amount > perDay.amount) {
    context.addIssue({ code: 'custom', path: ['perTransaction'], message: 'expected perTransaction to be at most perDay', input: perTransaction })
  } else if (perTransaction !== undefined && perYear !== undefined && perTransaction.amount > perYear.amount) {
    context.addIssue({ code: 'custom', path: ['perTransaction'], message: 'expected perTransaction to be at most perYear', input: perTransaction })
  }
})

const purposeRule = strict({
  ...selectorShape,
  required: z.boolean({ error: (issue) => `expected true or false, got ${describeValue(issue.input)}` }).optional(),
  allowed: list(purposeCode, policyLimits.listEntriesMax).optional()
}).superRefine((rule, context) => {
  if (rule.required !== true && rule.allowed === undefined) {
    context.addIssue({ code: 'custom', message: 'expected required: true, an allowed list, or both', input: rule })
  }
})

const documentRule = strict({
  ...selectorShape,
  purposes: list(purposeCode, policyLimits.listEntriesMax).optional(),
  atLeast: money
})

const largeValueRule = strict({ ...selectorShape, atLeast: money })

const structuringRule = strict({
  senders: list(partyKind, partyKinds.length),
  distinctSendersMin: wholeNumber('a number of distinct senders', 2, policyLimits.structuringSendersMax),
  windowDays: wholeNumber('a window in days', 1, policyLimits.structuringWindowDaysMax),
  action: z.enum(['report', 'refuse'], { error: (issue) => `expected report or refuse, got ${describeValue(issue.input)}` })
})

const corridorRule = strict({
  allow: list(jurisdiction, policyLimits.listEntriesMax).optional(),
  deny: list(jurisdiction, policyLimits.listEntriesMax, 0).optional()
}).superRefine((rule, context) => {
  if (rule.allow === undefined && rule.deny === undefined) {
    context.addIssue({ code: 'custom', message: 'expected allow, deny, or both', input: rule })
    return
  }
  const allowed = new Set(rule.allow ?? [])
  rule.deny?.forEach((code, index) => {
    if (allowed.has(code)) context.addIssue({ code: 'custom', path: ['deny', index], message: `expected allow and deny not both to name ${code}`, input: code })
  })
})

const flowShape = {
  purposes: rules(purposeRule).optional(),
  documents: rules(documentRule).optional(),
  quotas: rules(quotaRule).optional(),
  largeValueReports: rules(largeValueRule).optional(),
  structuring: structuringRule.optional()
}
const crossBorderFlow = strict({ corridors: corridorRule.optional(), ...flowShape })
/** Domestic flows have no corridors: the counterparty is always at home. */
const domesticFlow = strict(flowShape)

const bankLimit = strict({
  bank: text('a bank id or "*"').refine((value) => value === '*' || isValidId(value), {
    error: (issue) => `expected a bank id (a-z, 0-9, '-', '_', ':') or "*" for every bank, got ${describeValue(issue.input)}`
  }),
  transactionMax: money.optional(),
  supplyMax: money.optional()
}).superRefine((rule, context) => {
  if (rule.transactionMax === undefined && rule.supplyMax === undefined) {
    context.addIssue({ code: 'custom', message: 'expected transactionMax, supplyMax, or both', input: rule })
  }
})

const holdingLimit = strict({
  kycTiers: list(kycTier, policyLimits.kycTierMax),
  parties: selectorShape.parties,
  tokens: list(tokenPattern, policyLimits.listEntriesMax).optional(),
  max: money
})

const sanctions = strict({
  entities: list(entityId, policyLimits.sanctionedEntitiesMax, 0).optional(),
  jurisdictions: list(jurisdiction, policyLimits.listEntriesMax, 0).optional()
})

export const policyDocumentSchema = strict({
  jurisdiction,
  referenceCurrency: currency,
  utcOffset: text('a UTC offset such as "+08:00"').refine((value) => parseUtcOffset(value) !== undefined, {
    error: (issue) => `expected a UTC offset from "-12:00" to "+14:00" in quarter hours, such as "+08:00" or "Z", got ${describeValue(issue.input)}`
  }),
  version: note.optional(),
  effective: note.optional(),
  sanctions: sanctions.optional(),
  crossBorderOnlyTokens: list(tokenPattern, policyLimits.listEntriesMax).optional(),
  bankLimits: z
    .array(bankLimit, { error: (issue) => `expected a list of bank limits, got ${describeValue(issue.input)}` })
    .max(policyLimits.bankLimitsMax, { error: `expected at most ${policyLimits.bankLimitsMax} bank limits` })
    .optional(),
  holdingLimits: z
    .array(holdingLimit, { error: (issue) => `expected a list of holding limits, got ${describeValue(issue.input)}` })
    .max(policyLimits.holdingLimitsMax, { error: `expected at most ${policyLimits.holdingLimitsMax} holding limits` })
    .optional(),
  outbound: crossBorderFlow.optional(),
  inbound: crossBorderFlow.optional(),
  domestic: domesticFlow.optional()
}).superRefine((document, context) => {
  const own = document.jurisdiction
  document.sanctions?.jurisdictions?.forEach((code, index) => {
    if (code === own) context.addIssue({ code: 'custom', path: ['sanctions', 'jurisdictions', index], message: `expected foreign jurisdictions only, not ${own} itself`, input: code })
  })
  for (const flow of ['outbound', 'inbound'] as const) {
    const corridors = document[flow]?.corridors
    for (const listName of ['allow', 'deny'] as const) {
      corridors?.[listName]?.forEach((code, index) => {
        if (code === own) {
          context.addIssue({ code: 'custom', path: [flow, 'corridors', listName, index], message: `expected counterparty jurisdictions only, not ${own} itself (corridor rules apply to cross-border flows)`, input: code })
        }
      })
    }
  }
  const banks = new Set<string>()
  document.bankLimits?.forEach((limit, index) => {
    if (banks.has(limit.bank)) context.addIssue({ code: 'custom', path: ['bankLimits', index, 'bank'], message: `expected one entry per bank, ${limit.bank} appears twice`, input: limit.bank })
    banks.add(limit.bank)
  })
})

/** A validated policy document; amounts are parsed into Money. */
export type PolicyDocument = z.output<typeof policyDocumentSchema>
export type QuotaRule = z.output<typeof quotaRule>
export type CrossBorderFlowRules = z.output<typeof crossBorderFlow>
export type DomesticFlowRules = z.output<typeof domesticFlow>

/**
 * Validates a policy document and compiles it for the engine. Throws ConfigError naming the source,
 * the path of each bad field (`outbound.quotas[0].perYear`) and what was expected.
 */
export function parsePolicyDocument(value: unknown, source: string): JurisdictionPolicy {
  const document = validateDocument(policyDocumentSchema, value, source)
  return compilePolicy(document, value, source)
}
