/**
 * The checkers that watch a whole simulated (or real) cluster, as TigerBeetle's VOPR does:
 * agreement and state roots per height as blocks commit, ledger conservation during and after the
 * run, an independent check that no settled transfer broke the policy in force, and liveness once
 * faults heal. A violation records the invariant, the time, the node, the height and what broke.
 */
import { bytesToHex } from '../protocol/bytes.ts'
import { checkConservation } from '../ledger/invariants.ts'
import type { LedgerState } from '../ledger/state.ts'
import type { InvariantViolation } from './report/types.ts'
import type { InvariantName } from './scenario/schema.ts'

interface HeightRecord {
  readonly node: string
  readonly blockHash: string
  readonly stateRoot: string
  readonly results: string | undefined
}

/** Violations kept at most; a run that breaks an invariant usually breaks it many times. */
const violationsMax = 200

export class ClusterCheckers {
  readonly violations: InvariantViolation[] = []
  private readonly heights = new Map<number, HeightRecord>()
  private readonly enabled: ReadonlySet<InvariantName>
  private heightsPruneBelow = 0

  constructor(enabled: ReadonlySet<InvariantName>) {
    this.enabled = enabled
  }

  report(violation: InvariantViolation): void {
    if (!this.enabled.has(violation.invariant as InvariantName)) return
    if (this.violations.length < violationsMax) this.violations.push(violation)
  }

  /** Agreement and state root: every node commits the same block and reaches the same root at each height. */
  onCommit(node: string, height: number, blockHash: Uint8Array, stateRoot: Uint8Array, atMs: number, results?: string): void {
    const hash = bytesToHex(blockHash)
    const root = bytesToHex(stateRoot)
    const first = this.heights.get(height)
    if (first === undefined) {
      if (height >= this.heightsPruneBelow) this.heights.set(height, { node, blockHash: hash, stateRoot: root, results })
      return
    }
    if (first.blockHash === hash && first.stateRoot === root && results !== undefined && first.results !== undefined && results !== first.results) {
      this.report({ invariant: 'state-root', atMs, node, height, message: `${node} and ${first.node} executed block ${hash.slice(0, 12)} at height ${height} to the same root but different receipts` })
      return
    }
    if (first.blockHash !== hash) {
      this.report({ invariant: 'agreement', atMs, node, height, message: `${node} committed block ${hash.slice(0, 12)} at height ${height}, ${first.node} committed ${first.blockHash.slice(0, 12)}` })
    } else if (first.stateRoot !== root) {
      this.report({ invariant: 'state-root', atMs, node, height, message: `${node} reached state root ${root.slice(0, 12)} at height ${height}, ${first.node} reached ${first.stateRoot.slice(0, 12)}` })
    }
  }

  /** Forget heights every node has passed, so memory stays bounded on long runs. */
  pruneBelow(height: number): void {
    for (const key of this.heights.keys()) if (key < height) this.heights.delete(key)
    this.heightsPruneBelow = height
  }

  /** Conservation and non-negative balances on one node's ledger. */
  checkLedger(node: string, ledger: LedgerState, atMs: number): void {
    for (const violation of checkConservation(ledger)) {
      const invariant = violation.invariant === 'non-negative-balance' ? 'non-negative' : 'conservation'
      this.report({ invariant, atMs, node, height: ledger.height, message: violation.detail })
    }
  }

  get ok(): boolean {
    return this.violations.length === 0
  }
}

/** The parts of a policy document the independent policy check reads. */
interface PolicyView {
  readonly sanctionedEntities: ReadonlySet<string>
  readonly sanctionedJurisdictions: ReadonlySet<string>
  readonly outboundDeny: ReadonlySet<string>
  readonly inboundDeny: ReadonlySet<string>
  /** Undefined when the policy has no allow list (every corridor not denied is open). */
  readonly outboundAllow: ReadonlySet<string> | undefined
  readonly inboundAllow: ReadonlySet<string> | undefined
  readonly crossBorderOnly: readonly RegExp[]
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []
}

function field(value: unknown, ...path: string[]): unknown {
  let current = value
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined
    current = (current as Record<string, unknown>)[key]
  }
  return current
}

function tokenPattern(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`)
}

/**
 * An independent reading of the rules that must never be broken by a settled transfer: sanctions,
 * denied corridors and cross-border-only tokens. It reads the policy documents directly rather
 * than through the engine, so a bug in the engine cannot hide itself.
 */
export class PolicyChecker {
  private readonly views = new Map<string, PolicyView>()

  constructor(documents: Readonly<Record<string, unknown>>) {
    for (const [jurisdiction, document] of Object.entries(documents)) {
      this.views.set(jurisdiction, {
        sanctionedEntities: new Set(stringList(field(document, 'sanctions', 'entities'))),
        sanctionedJurisdictions: new Set(stringList(field(document, 'sanctions', 'jurisdictions'))),
        outboundDeny: new Set(stringList(field(document, 'outbound', 'corridors', 'deny'))),
        inboundDeny: new Set(stringList(field(document, 'inbound', 'corridors', 'deny'))),
        outboundAllow: Array.isArray(field(document, 'outbound', 'corridors', 'allow')) ? new Set(stringList(field(document, 'outbound', 'corridors', 'allow'))) : undefined,
        inboundAllow: Array.isArray(field(document, 'inbound', 'corridors', 'allow')) ? new Set(stringList(field(document, 'inbound', 'corridors', 'allow'))) : undefined,
        crossBorderOnly: stringList(field(document, 'crossBorderOnlyTokens')).map(tokenPattern)
      })
    }
  }

  /** Why a settled payment breaks a rule, or undefined when it does not. */
  check(payment: { payer: string; payee: string; payerJurisdiction: string; payeeJurisdiction: string; payerToken: string; payeeToken: string; payerBank?: string; payeeBank?: string }): string | undefined {
    const crossBorder = payment.payerJurisdiction !== payment.payeeJurisdiction
    for (const jurisdiction of [payment.payerJurisdiction, payment.payeeJurisdiction]) {
      const view = this.views.get(jurisdiction)
      if (view === undefined) continue
      for (const party of [payment.payer, payment.payee, payment.payerBank, payment.payeeBank]) {
        if (party !== undefined && view.sanctionedEntities.has(party)) return `${party} is sanctioned in ${jurisdiction}`
      }
      const counterparty = jurisdiction === payment.payerJurisdiction ? payment.payeeJurisdiction : payment.payerJurisdiction
      if (crossBorder && view.sanctionedJurisdictions.has(counterparty)) return `${counterparty} is sanctioned in ${jurisdiction}`
      if (!crossBorder) {
        for (const token of [payment.payerToken, payment.payeeToken]) {
          if (view.crossBorderOnly.some((pattern) => pattern.test(token))) return `${token} may only be used cross-border in ${jurisdiction}`
        }
      }
    }
    if (crossBorder) {
      if (this.views.get(payment.payerJurisdiction)?.outboundDeny.has(payment.payeeJurisdiction)) {
        return `${payment.payerJurisdiction} denies outbound payments to ${payment.payeeJurisdiction}`
      }
      if (this.views.get(payment.payeeJurisdiction)?.inboundDeny.has(payment.payerJurisdiction)) {
        return `${payment.payeeJurisdiction} denies inbound payments from ${payment.payerJurisdiction}`
      }
      const outboundAllow = this.views.get(payment.payerJurisdiction)?.outboundAllow
      if (outboundAllow !== undefined && !outboundAllow.has(payment.payeeJurisdiction)) {
        return `${payment.payerJurisdiction} allows outbound payments only to ${[...outboundAllow].join(', ')}`
      }
      const inboundAllow = this.views.get(payment.payeeJurisdiction)?.inboundAllow
      if (inboundAllow !== undefined && !inboundAllow.has(payment.payerJurisdiction)) {
        return `${payment.payeeJurisdiction} allows inbound payments only from ${[...inboundAllow].join(', ')}`
      }
    }
    return undefined
  }
}
