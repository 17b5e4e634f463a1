/**
 * The compiled form of a policy: what the engine evaluates. Everything that can be decided once is
 * decided here: amounts parsed to bigint, lists turned into Sets, party kinds and KYC tiers into
 * bit masks, the path of every rule (for refusal messages) and the state-key prefixes built. The
 * only thing left for evaluation time is converting thresholds into the reference currency, which
 * depends on the FX table in force; that is memoised per FX table (see referenceThresholds).
 */
import type { Encodable } from '../../protocol/encoding.ts'
import { convert, type FxTable } from '../fx.ts'
import type { Money } from '../currency.ts'
import type { PartyKind, PolicyParty } from './types.ts'
import type { CrossBorderFlowRules, DomesticFlowRules, PolicyDocument } from './schema.ts'
import { parseUtcOffset } from './periods.ts'
import { compileTokenSet, type TokenSet } from './tokens.ts'
import { assert } from '../../protocol/assert.ts'
import { policyLimits } from './limits.ts'

/** A policy in force for one jurisdiction: what parsePolicyDocument returns. */
export interface JurisdictionPolicy {
  readonly jurisdiction: string
  readonly referenceCurrency: string
  /** Minutes east of UTC; quota days and years start at this offset's midnight. */
  readonly utcOffsetMinutes: number
  readonly version: string | undefined
  readonly effective: string | undefined
  /** Where the document came from (a file path, a transaction), for messages. */
  readonly source: string
  /** The document exactly as given (amounts as text): plain data to carry in a transaction or hash. */
  readonly document: Encodable
  /** The rules as the engine evaluates them. Internal to ledger/policy. */
  readonly compiled: CompiledPolicy
}

/** Party kinds and KYC tiers a rule applies to, as bit masks. tierMask 0 means any tier. */
export interface PartySelector {
  readonly kindMask: number
  readonly tierMask: number
}

export function kindBit(kind: PartyKind): number {
  switch (kind) {
    case 'individual':
      return 1
    case 'corporate':
      return 2
    case 'bank':
      return 4
    case 'central-bank':
      return 8
    case 'fx-provider':
      return 16
  }
}
const everyKindMask = 31

export function selects(selector: PartySelector, party: PolicyParty): boolean {
  if ((selector.kindMask & kindBit(party.kind)) === 0) return false
  if (selector.tierMask === 0) return true
  const tier = party.kycTier
  return tier !== undefined && tier >= 0 && tier < 31 && (selector.tierMask & (1 << tier)) !== 0
}

function compileSelector(parties: readonly PartyKind[] | undefined, kycTiers: readonly number[] | undefined): PartySelector {
  let kindMask = parties === undefined ? everyKindMask : 0
  for (const kind of parties ?? []) kindMask |= kindBit(kind)
  let tierMask = 0
  for (const tier of kycTiers ?? []) tierMask |= 1 << tier
  return { kindMask, tierMask }
}

/** Index into CompiledPolicy.thresholds, or -1 when the rule has no such limit. */
export type ThresholdIndex = number

export interface CompiledPurposeRule {
  readonly selector: PartySelector
  readonly required: boolean
  readonly allowed: ReadonlySet<string> | undefined
  readonly path: string
}

export interface CompiledDocumentRule {
  readonly selector: PartySelector
  readonly purposes: ReadonlySet<string> | undefined
  readonly atLeast: ThresholdIndex
  readonly path: string
}

export interface CompiledQuotaRule {
  readonly selector: PartySelector
  readonly perTransaction: ThresholdIndex
  readonly perDay: ThresholdIndex
  readonly perYear: ThresholdIndex
  readonly path: string
}

export interface CompiledLargeValueRule {
  readonly selector: PartySelector
  readonly atLeast: ThresholdIndex
  readonly path: string
}

export interface CompiledStructuringRule {
  readonly senderKindMask: number
  readonly distinctSendersMin: number
  readonly windowDays: number
  readonly refuse: boolean
  /** State keys of payees' windows: `p/s/<jurisdiction>/<flow>/<payee>`. */
  readonly keys: StateKeys
  readonly path: string
}

export type FlowName = 'outbound' | 'inbound' | 'domestic'

export interface CompiledFlow {
  readonly name: FlowName
  /** "CN.outbound": the start of every rule path in this flow. */
  readonly path: string
  readonly corridorAllow: ReadonlySet<string> | undefined
  readonly corridorDeny: ReadonlySet<string> | undefined
  readonly purposes: readonly CompiledPurposeRule[]
  readonly documents: readonly CompiledDocumentRule[]
  readonly quotas: readonly CompiledQuotaRule[]
  readonly largeValueReports: readonly CompiledLargeValueRule[]
  readonly structuring: CompiledStructuringRule | undefined
  /** State keys of quota usage: `p/q/<jurisdiction>/<flow>/<reference currency>/<subject>`. */
  readonly usageKeys: StateKeys
  /** Whether any rule of the flow needs the amount in the reference currency. */
  readonly needsAmount: boolean
}

export interface CompiledBankLimit {
  readonly transactionMax: ThresholdIndex
  readonly supplyMax: ThresholdIndex
  readonly path: string
}

export interface CompiledHoldingLimit {
  readonly selector: PartySelector
  readonly tokens: TokenSet | undefined
  readonly max: ThresholdIndex
  readonly path: string
}

export interface CompiledPolicy {
  readonly jurisdiction: string
  readonly referenceCurrency: string
  readonly utcOffsetMs: number
  /** Every amount the policy names, in its own currency; rules refer to them by index. */
  readonly thresholds: readonly Money[]
  readonly thresholdCache: ThresholdCache
  readonly sanctionedEntities: ReadonlySet<string>
  readonly sanctionedJurisdictions: ReadonlySet<string>
  readonly crossBorderOnlyTokens: TokenSet | undefined
  readonly bankLimits: ReadonlyMap<string, CompiledBankLimit>
  readonly bankLimitDefault: CompiledBankLimit | undefined
  readonly hasBankLimits: boolean
  readonly holdingLimits: readonly CompiledHoldingLimit[]
  readonly outbound: CompiledFlow | undefined
  readonly inbound: CompiledFlow | undefined
  readonly domestic: CompiledFlow | undefined
}

/**
 * Thresholds converted into the reference currency, per FX table. FX tables are immutable values
 * (a rate update makes a new table), so a table's identity stands for its content: the last table
 * is checked first (one comparison on the hot path), then a WeakMap of the tables seen, so several
 * simulated nodes with tables of their own do not thrash the cache.
 */
export class ThresholdCache {
  private lastTable: FxTable | undefined = undefined
  private lastValues: ReadonlyArray<bigint | undefined> = []
  private readonly byTable = new WeakMap<FxTable, ReadonlyArray<bigint | undefined>>()

  constructor(
    private readonly thresholds: readonly Money[],
    private readonly referenceCurrency: string
  ) {}

  /** Each threshold in the reference currency, rounded down; undefined where the table lacks a rate. */
  inReference(fx: FxTable): ReadonlyArray<bigint | undefined> {
    if (fx === this.lastTable) return this.lastValues
    let values = this.byTable.get(fx)
    if (values === undefined) {
      values = this.thresholds.map((money) => convert(fx, money.amount, money.currency, this.referenceCurrency))
      this.byTable.set(fx, values)
    }
    this.lastTable = fx
    this.lastValues = values
    return values
  }
}

/**
 * State keys by entity id, memoised. Building `prefix + id` afresh for every transfer makes the
 * state store flatten and hash a new string on each lookup (about 150 ns); handing it the same
 * string object every time lets the store use the hash cached in it (about 30 ns). The memo is
 * bounded and starts over when full: it changes the cost, never the result.
 */
export class StateKeys {
  private readonly byEntity = new Map<string, string>()

  constructor(readonly prefix: string) {}

  of(entity: string): string {
    let key = this.byEntity.get(entity)
    if (key === undefined) {
      if (this.byEntity.size >= policyLimits.stateKeysCachedMax) this.byEntity.clear()
      key = this.prefix + entity
      this.byEntity.set(entity, key)
    }
    return key
  }
}

export function compilePolicy(document: PolicyDocument, input: unknown, source: string): JurisdictionPolicy {
  const jurisdiction = document.jurisdiction
  const thresholds: Money[] = []
  const threshold = (money: Money | undefined): ThresholdIndex => {
    if (money === undefined) return -1
    thresholds.push(money)
    return thresholds.length - 1
  }

  const utcOffsetMinutes = parseUtcOffset(document.utcOffset)
  assert(utcOffsetMinutes !== undefined, 'the schema admits only valid UTC offsets')

  const compileFlow = (name: FlowName, rules: CrossBorderFlowRules | DomesticFlowRules | undefined): CompiledFlow | undefined => {
    if (rules === undefined) return undefined
    const path = `${jurisdiction}.${name}`
    const corridors = 'corridors' in rules ? rules.corridors : undefined
    const purposes = (rules.purposes ?? []).map((rule, index) => ({
      selector: compileSelector(rule.parties, rule.kycTiers),
      required: rule.required === true,
      allowed: rule.allowed === undefined ? undefined : new Set(rule.allowed),
      path: `${path}.purposes[${index}]`
    }))
    const documents = (rules.documents ?? []).map((rule, index) => ({
      selector: compileSelector(rule.parties, rule.kycTiers),
      purposes: rule.purposes === undefined ? undefined : new Set(rule.purposes),
      atLeast: threshold(rule.atLeast),
      path: `${path}.documents[${index}]`
    }))
    const quotas = (rules.quotas ?? []).map((rule, index) => ({
      selector: compileSelector(rule.parties, rule.kycTiers),
      perTransaction: threshold(rule.perTransaction),
      perDay: threshold(rule.perDay),
      perYear: threshold(rule.perYear),
      path: `${path}.quotas[${index}]`
    }))
    const largeValueReports = (rules.largeValueReports ?? []).map((rule, index) => ({
      selector: compileSelector(rule.parties, rule.kycTiers),
      atLeast: threshold(rule.atLeast),
      path: `${path}.largeValueReports[${index}]`
    }))
    const structuring = rules.structuring && {
      senderKindMask: compileSelector(rules.structuring.senders, undefined).kindMask,
      distinctSendersMin: rules.structuring.distinctSendersMin,
      windowDays: rules.structuring.windowDays,
      refuse: rules.structuring.action === 'refuse',
      keys: new StateKeys(`p/s/${jurisdiction}/${name}/`),
      path: `${path}.structuring`
    }
    return {
      name,
      path,
      corridorAllow: corridors?.allow === undefined ? undefined : new Set(corridors.allow),
      corridorDeny: corridors?.deny === undefined || corridors.deny.length === 0 ? undefined : new Set(corridors.deny),
      purposes,
      documents,
      quotas,
      largeValueReports,
      structuring,
      // The reference currency is part of the key: a policy update that changes it starts fresh
      // counters instead of reading amounts in another currency.
      usageKeys: new StateKeys(`p/q/${jurisdiction}/${name}/${document.referenceCurrency}/`),
      needsAmount: documents.length > 0 || quotas.length > 0 || largeValueReports.length > 0 || structuring !== undefined
    }
  }

  const bankLimits = new Map<string, CompiledBankLimit>()
  let bankLimitDefault: CompiledBankLimit | undefined
  ;(document.bankLimits ?? []).forEach((rule, index) => {
    const limit = { transactionMax: threshold(rule.transactionMax), supplyMax: threshold(rule.supplyMax), path: `${jurisdiction}.bankLimits[${index}]` }
    if (rule.bank === '*') bankLimitDefault = limit
    else bankLimits.set(rule.bank, limit)
  })

  const holdingLimits = (document.holdingLimits ?? []).map((rule, index) => ({
    selector: compileSelector(rule.parties, rule.kycTiers),
    tokens: rule.tokens === undefined ? undefined : compileTokenSet(rule.tokens),
    max: threshold(rule.max),
    path: `${jurisdiction}.holdingLimits[${index}]`
  }))

  const outbound = compileFlow('outbound', document.outbound)
  const inbound = compileFlow('inbound', document.inbound)
  const domestic = compileFlow('domestic', document.domestic)

  const compiled: CompiledPolicy = {
    jurisdiction,
    referenceCurrency: document.referenceCurrency,
    utcOffsetMs: utcOffsetMinutes * 60_000,
    thresholds,
    thresholdCache: new ThresholdCache(thresholds, document.referenceCurrency),
    sanctionedEntities: new Set(document.sanctions?.entities ?? []),
    sanctionedJurisdictions: new Set(document.sanctions?.jurisdictions ?? []),
    crossBorderOnlyTokens: document.crossBorderOnlyTokens === undefined ? undefined : compileTokenSet(document.crossBorderOnlyTokens),
    bankLimits,
    bankLimitDefault,
    hasBankLimits: bankLimits.size > 0 || bankLimitDefault !== undefined,
    holdingLimits,
    outbound,
    inbound,
    domestic
  }
  return {
    jurisdiction,
    referenceCurrency: document.referenceCurrency,
    utcOffsetMinutes,
    version: document.version,
    effective: document.effective,
    source,
    document: input as Encodable,
    compiled
  }
}

/** Currencies a policy needs FX rates for: its reference currency and every currency it names. */
export function policyCurrencies(policy: JurisdictionPolicy): string[] {
  const currencies = new Set<string>([policy.referenceCurrency])
  for (const money of policy.compiled.thresholds) currencies.add(money.currency)
  return [...currencies].sort()
}
