/**
 * Committed ledger content shared by the replicas of one process, for simulations at scale.
 *
 * Every replica of a simulation holds the same ledger: the same genesis, then the same writes of
 * the same blocks. Kept apart, each of n replicas writes every block's writes into its own Map, so
 * a block costs n commits. Here the replicas that joined at genesis share one copy: a base Map at
 * the lowest height any of them is at, and the writes of each later block once (the writes object
 * the block's execution produced, not a copy). A replica reads at its own height: the writes of
 * its height and the heights below, newest first, then the base. The first replica to commit a
 * height records its writes; the others only move their view up, after checking that their
 * execution reached the same state root (which chains every block's writes from genesis, so equal
 * roots mean equal content). When every member has passed a height, its writes are folded into
 * the base, once.
 *
 * What makes a replica leave, with a copy of the content at its height (materialized once, then
 * its own Map as without sharing):
 * - its root differs from the one recorded for the height it commits (it executed something
 *   else: the state-root and agreement checkers see its own root, as they would without sharing);
 * - it falls more than `lagBlocksMax` blocks behind the highest member (a paused or partitioned
 *   node; every member's reads walk the heights above the base, so a laggard would slow them all);
 * - its driver detaches it (a crash: what survives is the store, a copy).
 * A replica that restarts from its store has a Map of its own and never joins.
 *
 * Reads return exactly what a Map of the member's own would hold, so traces do not change. A real
 * node runs one replica and never uses this.
 */
import { assert } from '../protocol/assert.ts'
import { equalBytes } from '../protocol/bytes.ts'
import type { Encodable } from '../protocol/encoding.ts'
import { LedgerState, type SharedStateReader, type StateStore } from './state.ts'
import { statePrefixes } from './stateKeys.ts'

interface BlockWrites {
  readonly writes: ReadonlyMap<string, Encodable>
  readonly stateRoot: Uint8Array
  /** Whether the block rewrote any account record (freezes): members drop their parsed records. */
  readonly accountsWritten: boolean
}

/** Default for `lagBlocksMax`: a few blocks of slack (nodes commit a height within a round trip of each other). */
export const sharedStateLagBlocksMax = 16

export class SharedLedgerStore {
  readonly #template: LedgerState
  /** Content at `#baseHeight`, written in place as heights fold into it. */
  readonly #base: Map<string, Encodable>
  #baseHeight: number
  /** Writes of heights `#baseHeight + 1` up to the head, in order. */
  readonly #blocks: BlockWrites[] = []
  /** Where the first of `#blocks` is: they are dropped from the front as they fold. */
  #first = 0
  /** The height each member is at. */
  readonly #members = new Map<string, SharedStateView>()
  readonly #lagBlocksMax: number
  /** Heights folded into the base, and members that left with a copy (for tests and reports). */
  folds = 0
  departures = 0

  /**
   * Shares the content of `template` (which it takes over: the template's Map becomes the base,
   * so the caller must not use the template afterwards).
   */
  constructor(template: LedgerState, lagBlocksMax = sharedStateLagBlocksMax) {
    const store = template.mutableStore()
    assert(store instanceof Map, 'shared content starts from a state with a Map of its own')
    assert(Number.isSafeInteger(lagBlocksMax) && lagBlocksMax >= 1, 'lagBlocksMax is a positive integer')
    this.#template = template
    this.#base = store
    this.#baseHeight = template.height
    this.#lagBlocksMax = lagBlocksMax
  }

  get baseHeight(): number {
    return this.#baseHeight
  }

  /** Highest height recorded. */
  get headHeight(): number {
    return this.#baseHeight + this.#blocks.length - this.#first
  }

  get memberCount(): number {
    return this.#members.size
  }

  /** A member's committed state at the template's height: only before anything was committed. */
  join(member: string): LedgerState {
    assert(this.headHeight === this.#template.height && this.#baseHeight === this.#template.height, `${member} joins shared ledger content before any block is committed`)
    assert(!this.#members.has(member), `${member} joins shared ledger content once`)
    const view = new SharedStateView(this, member, this.#baseHeight)
    this.#members.set(member, view)
    const template = this.#template
    return LedgerState.fromParts({
      store: view,
      caches: { accounts: new Map(), tokenIssuers: template.caches().tokenIssuers },
      height: template.height,
      timeMs: template.timeMs,
      stateRoot: template.stateRoot,
      chainId: template.chainId,
      fx: template.fx,
      policies: template.policies,
      sha256: template.sha256
    })
  }

  /** A member leaves (its node crashed): its state, if still read, reads a copy of its own. */
  detach(member: string): void {
    const view = this.#members.get(member)
    if (view === undefined) return
    this.#depart(view)
    this.#fold()
  }

  /** @internal the value of `key` at `height` (at least the base height, at most the head). */
  read(key: string, height: number): Encodable | undefined {
    const blocks = this.#blocks
    for (let index = this.#first + height - this.#baseHeight - 1; index >= this.#first; index--) {
      const value = blocks[index]!.writes.get(key)
      if (value !== undefined) return value
    }
    return this.#base.get(key)
  }

  /**
   * @internal a copy of the content at `height`. The last copy is handed out again for the same
   * height (content at a height never changes, and callers only read it): the nodes' states
   * compared at the end of a run, all at one height, take one copy.
   */
  materialize(height: number): Map<string, Encodable> {
    assert(height >= this.#baseHeight && height <= this.headHeight, `height ${height} is within the shared heights ${this.#baseHeight}..${this.headHeight}`)
    if (this.#lastCopy !== undefined && this.#lastCopy.height === height) return this.#lastCopy.entries
    const copy = this.#copyAt(height)
    this.#lastCopy = { height, entries: copy }
    return copy
  }

  /** A copy of the content at `height` of the caller's own, to write to. */
  #copyAt(height: number): Map<string, Encodable> {
    const copy = new Map(this.#base)
    const last = this.#first + height - this.#baseHeight
    for (let index = this.#first; index < last; index++) this.#blocks[index]!.writes.forEach((value, key) => copy.set(key, value))
    return copy
  }

  #lastCopy: { readonly height: number; readonly entries: Map<string, Encodable> } | undefined = undefined

  /** @internal visits the content at `height` as `materialize(height)` would hold it, without copying the base. */
  forEachAt(height: number, visit: (value: Encodable | undefined, key: string) => void): void {
    assert(height >= this.#baseHeight && height <= this.headHeight, `height ${height} is within the shared heights ${this.#baseHeight}..${this.headHeight}`)
    if (this.#lastCopy !== undefined && this.#lastCopy.height === height) {
      this.#lastCopy.entries.forEach(visit)
      return
    }
    // The writes above the base, latest last: small next to the base (members fold within a few blocks).
    const overlay = new Map<string, Encodable>()
    const last = this.#first + height - this.#baseHeight
    for (let index = this.#first; index < last; index++) this.#blocks[index]!.writes.forEach((value, key) => overlay.set(key, value))
    this.#base.forEach((value, key) => {
      if (!overlay.has(key)) visit(value, key)
    })
    overlay.forEach(visit)
  }

  /** @internal a member at `height - 1` commits `height`. */
  commit(view: SharedStateView, height: number, writes: ReadonlyMap<string, Encodable>, stateRoot: Uint8Array): { readonly store: StateStore; readonly accountsWritten: boolean } {
    if (this.#members.get(view.member) !== view || view.height !== height - 1) assert(false, `${view.member} commits height ${height} from the height before`)
    const index = this.#first + height - this.#baseHeight - 1
    let block = this.#blocks[index]
    if (block === undefined) {
      block = { writes, stateRoot, accountsWritten: writesAccounts(writes) }
      this.#blocks.push(block)
    } else if (!equalBytes(block.stateRoot, stateRoot)) {
      // This member executed something else: it goes on with a copy of its own.
      const own = this.#depart(view)
      writes.forEach((value, key) => own.set(key, value))
      this.#fold()
      return { store: own, accountsWritten: writesAccounts(writes) }
    }
    view.height = height
    this.#fold()
    return { store: view, accountsWritten: block.accountsWritten }
  }

  /** Takes a member out, with a copy of the content at its height; returns the copy. */
  #depart(view: SharedStateView): Map<string, Encodable> {
    const own = this.#copyAt(view.height)
    view.own = own
    this.#members.delete(view.member)
    this.departures++
    return own
  }

  /** Folds every height all members have passed into the base; members far behind leave first. */
  #fold(): void {
    const head = this.headHeight
    let lowest = head
    for (const view of this.#members.values()) {
      if (head - view.height > this.#lagBlocksMax) this.#depart(view)
      else if (view.height < lowest) lowest = view.height
    }
    while (this.#baseHeight < lowest) {
      this.#blocks[this.#first]!.writes.forEach((value, key) => this.#base.set(key, value))
      this.#blocks[this.#first] = undefined as unknown as BlockWrites
      this.#first++
      this.#baseHeight++
      this.folds++
    }
    // Drop the folded slots now and then, so the array does not grow for the whole run.
    if (this.#first > 1024) {
      this.#blocks.splice(0, this.#first)
      this.#first = 0
    }
  }
}

/** One member's view of shared content, at its height; or, once it left, its own copy. */
export class SharedStateView implements SharedStateReader {
  readonly store: SharedLedgerStore
  readonly member: string
  height: number
  /** Set when the member left: its own entries from then on. */
  own: Map<string, Encodable> | undefined = undefined

  constructor(store: SharedLedgerStore, member: string, height: number) {
    this.store = store
    this.member = member
    this.height = height
  }

  get(key: string): Encodable | undefined {
    const own = this.own
    return own !== undefined ? own.get(key) : this.store.read(key, this.height)
  }

  materialize(): Map<string, Encodable> {
    return this.own !== undefined ? new Map(this.own) : this.store.materialize(this.height)
  }

  forEachEntry(visit: (value: Encodable | undefined, key: string) => void): void {
    if (this.own !== undefined) this.own.forEach(visit)
    else this.store.forEachAt(this.height, visit)
  }

  /** @internal commitBlock's path for a state that reads through this view. */
  commit(height: number, writes: ReadonlyMap<string, Encodable>, stateRoot: Uint8Array): { readonly store: StateStore; readonly accountsWritten: boolean } {
    const own = this.own
    if (own === undefined) return this.store.commit(this, height, writes, stateRoot)
    if (this.height !== height - 1) assert(false, `${this.member} commits height ${height} from the height before`)
    writes.forEach((value, key) => own.set(key, value))
    return { store: own, accountsWritten: writesAccounts(writes) }
  }
}

function writesAccounts(writes: ReadonlyMap<string, Encodable>): boolean {
  for (const key of writes.keys()) if (key.startsWith(statePrefixes.account)) return true
  return false
}
