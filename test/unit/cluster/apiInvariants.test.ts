/**
 * The invariants the cluster backend reads through the nodes' APIs: one breach is reported once,
 * with the invariant, node, height and what differed; disabled invariants report nothing.
 */
import t from 'tap'
import { ApiInvariants, type LedgerSummaryView } from '../../../src/cluster/apiInvariants.ts'
import { invariantNames } from '../../../src/sim/scenario/schema.ts'

const summary = (height: number, digest: string, extra: Partial<LedgerSummaryView> = {}): LedgerSummaryView => ({
  height,
  stateDigest: digest,
  negativeBalances: 0,
  conservation: { ok: true, violationsTotal: 0, violations: [] },
  ...extra
})

t.test('agreement and state roots per height', async (t) => {
  const invariants = new ApiInvariants(new Set(invariantNames))
  invariants.block('icbc', 1, 'aaaa', 10)
  invariants.block('bochk', 1, 'aaaa', 11)
  invariants.stateRoot('icbc', 1, 'r1', 10)
  invariants.stateRoot('bochk', 1, 'r1', 11)
  t.same(invariants.violations, [], 'the same block and root: nothing')
  invariants.block('enbd', 1, 'bbbb', 12)
  invariants.block('enbd', 1, 'bbbb', 13)
  invariants.stateRoot('dbs', 1, 'r2', 14)
  t.equal(invariants.violations.length, 2, 'one violation per breach, however often it is seen')
  t.match(invariants.violations[0], { invariant: 'agreement', node: 'enbd', height: 1, message: /enbd committed block bbbb at height 1, icbc committed aaaa/ })
  t.match(invariants.violations[1], { invariant: 'state-root', node: 'dbs', height: 1 })
  t.equal(invariants.blockHash(1), 'aaaa', 'the first hash seen is the chain')
  invariants.pruneBelow(2)
  invariants.stateRoot('dbs', 1, 'r3', 15)
  t.equal(invariants.violations.length, 2, 'pruned heights are no longer compared')
})

t.test('conservation, negative balances and convergence from ledger summaries', async (t) => {
  const invariants = new ApiInvariants(new Set(invariantNames))
  invariants.ledger('icbc', summary(5, 'd'), 1)
  t.same(invariants.violations, [])
  invariants.ledger('icbc', summary(6, 'd', { negativeBalances: 2, conservation: { ok: false, violationsTotal: 1, violations: [{ detail: 'icbc.CNH supply 10 != issued 11 - redeemed 0' }] } }), 2)
  t.same(invariants.violations.map((v) => v.invariant), ['conservation', 'non-negative'])
  t.match(invariants.violations[0]!.message, /icbc\.CNH supply 10/)
  invariants.convergence([{ node: 'icbc', summary: summary(7, 'x') }, { node: 'bochk', summary: summary(7, 'y') }, { node: 'enbd', summary: summary(8, 'z') }], 3)
  t.match(invariants.violations.at(-1), { invariant: 'state-root', node: 'bochk', height: 7, message: /different ledger states at height 7/ })
  t.equal(invariants.violations.length, 3, 'nodes at different heights are not compared')
})

t.test('only the scenario\'s invariants are checked', async (t) => {
  const invariants = new ApiInvariants(new Set(['agreement'] as const))
  invariants.ledger('icbc', summary(1, 'd', { negativeBalances: 1 }), 1)
  invariants.stateRoot('a', 1, 'x', 1)
  invariants.stateRoot('b', 1, 'y', 1)
  t.same(invariants.violations, [])
  t.same(invariants.checked, ['agreement'])
})
