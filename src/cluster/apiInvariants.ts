/**
 * The simulator's invariants, checked over real nodes' HTTP APIs (docs/faults.md):
 *
 *   agreement     the same block hash at each height on every node that has it (GET /v1/blocks)
 *   state-root    the same state root at each height (GET /v1/status, polled) and, at the end,
 *                 the same full-state digest on every node at one height (GET /v1/ledger/summary)
 *   conservation, non-negative   the ledger summary of every running node
 *   policy        every settled payment checked against the policy documents independently
 *                 (the simulator's PolicyChecker)
 *   liveness      judged by the run at the end (heights advance once the faults are over)
 *
 * A violation names the invariant, the node, the height and the time (virtual ms since start).
 */
import type { InvariantViolation } from '../sim/report/types.ts'
import type { InvariantName } from '../sim/scenario/schema.ts'

/** Violations kept at most (a broken run breaks an invariant many times). */
const violationsMax = 200

export interface LedgerSummaryView {
  readonly height: number
  readonly stateDigest: string
  readonly negativeBalances: number
  readonly conservation: { readonly ok: boolean; readonly violationsTotal: number; readonly violations: ReadonlyArray<{ invariant?: string; detail?: string } & Record<string, unknown>> }
}

export class ApiInvariants {
  readonly violations: InvariantViolation[] = []
  readonly #enabled: ReadonlySet<InvariantName>
  readonly #blocks = new Map<number, { node: string; hash: string }>()
  readonly #roots = new Map<number, { node: string; root: string }>()
  readonly #seen = new Set<string>()

  constructor(enabled: ReadonlySet<InvariantName>) {
    this.#enabled = enabled
  }

  get checked(): InvariantName[] {
    return [...this.#enabled]
  }

  report(violation: InvariantViolation): void {
    if (!this.#enabled.has(violation.invariant as InvariantName)) return
    // The same breach seen again at the next poll is one violation.
    const key = `${violation.invariant}|${violation.node ?? ''}|${violation.height ?? ''}|${violation.message}`
    if (this.#seen.has(key)) return
    this.#seen.add(key)
    if (this.violations.length < violationsMax) this.violations.push(violation)
  }

  block(node: string, height: number, hash: string, atMs: number): void {
    const first = this.#blocks.get(height)
    if (first === undefined) {
      this.#blocks.set(height, { node, hash })
      return
    }
    if (first.hash !== hash) {
      this.report({ invariant: 'agreement', atMs, node, height, message: `${node} committed block ${hash.slice(0, 12)} at height ${height}, ${first.node} committed ${first.hash.slice(0, 12)}` })
    }
  }

  blockHash(height: number): string | undefined {
    return this.#blocks.get(height)?.hash
  }

  stateRoot(node: string, height: number, root: string, atMs: number): void {
    const first = this.#roots.get(height)
    if (first === undefined) {
      this.#roots.set(height, { node, root })
      return
    }
    if (first.root !== root) {
      this.report({ invariant: 'state-root', atMs, node, height, message: `${node} reached state root ${root.slice(0, 12)} at height ${height}, ${first.node} reached ${first.root.slice(0, 12)}` })
    }
  }

  ledger(node: string, summary: LedgerSummaryView, atMs: number): void {
    if (!summary.conservation.ok) {
      const detail = summary.conservation.violations
        .slice(0, 3)
        .map((v) => String(v.detail ?? JSON.stringify(v)))
        .join('; ')
      this.report({ invariant: 'conservation', atMs, node, height: summary.height, message: `${summary.conservation.violationsTotal} conservation violation(s): ${detail}` })
    }
    if (summary.negativeBalances > 0) {
      this.report({ invariant: 'non-negative', atMs, node, height: summary.height, message: `${summary.negativeBalances} negative balance(s) on ${node} at height ${summary.height}` })
    }
  }

  /** Every node at one height holds one full state. */
  convergence(summaries: ReadonlyArray<{ node: string; summary: LedgerSummaryView }>, atMs: number): void {
    const byHeight = new Map<number, { node: string; digest: string }>()
    for (const { node, summary } of summaries) {
      const first = byHeight.get(summary.height)
      if (first === undefined) byHeight.set(summary.height, { node, digest: summary.stateDigest })
      else if (first.digest !== summary.stateDigest) {
        this.report({ invariant: 'state-root', atMs, node, height: summary.height, message: `${node} and ${first.node} hold different ledger states at height ${summary.height} (full-state digests ${summary.stateDigest.slice(0, 12)} and ${first.digest.slice(0, 12)})` })
      }
    }
  }

  /** Forget heights below `height` (every node has passed them and been compared). */
  pruneBelow(height: number): void {
    for (const key of this.#roots.keys()) if (key < height) this.#roots.delete(key)
  }
}
