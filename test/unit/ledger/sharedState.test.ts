/**
 * Shared committed content (ledger/sharedState.ts): members read exactly what a Map of their own
 * would hold at their height, whatever order they commit in; a member whose root differs, that
 * lags far behind or that is detached goes on with a copy; heights every member passed fold into
 * the base once.
 */
import t, { type Test } from 'tap'
import { bytesToHex } from '../../../src/protocol/bytes.ts'
import { commitBlock, executeBlock, type ExecutedBlock } from '../../../src/ledger/execute.ts'
import { SharedLedgerStore } from '../../../src/ledger/sharedState.ts'
import { cloneLedgerState, fullStateDigest, type LedgerState } from '../../../src/ledger/state.ts'
import { createTestNetwork, generatePayments, type TestNetwork } from '../../../src/ledger/testing/index.ts'
import { admitTransaction, type AdmittedTransaction } from '../../../src/ledger/transactions.ts'

const hex = bytesToHex

/** Blocks executed on a private ledger, with the private states after each. */
function chain(net: TestNetwork, count: number): { executions: ExecutedBlock[]; states: LedgerState[]; blockTransactions: AdmittedTransaction[][] } {
  const blockTransactions = Array.from({ length: count }, (_, i) => generatePayments(net, { count: 15, seed: 10 + i }).map(admitTransaction))
  const executions: ExecutedBlock[] = []
  const states: LedgerState[] = [cloneLedgerState(net.state)]
  let state = cloneLedgerState(net.state)
  for (let i = 0; i < count; i++) {
    const block = { height: state.height + 1, timeMs: state.timeMs + 1000, transactions: blockTransactions[i]! }
    const executed = executeBlock(state, block, net.signatureCheck)
    executions.push(executed)
    state = commitBlock(state, executed.pending)
    states.push(cloneLedgerState(state))
  }
  return { executions, states, blockTransactions }
}

function sameContent(t: Test, state: LedgerState, expected: LedgerState, label: string): void {
  t.equal(hex(fullStateDigest(state)), hex(fullStateDigest(expected)), `${label}: whole content`)
  let mismatches = 0
  for (const [key, value] of expected.entries) if (state.get(key) !== value) mismatches++
  t.equal(mismatches, 0, `${label}: every key reads the same`)
  // forEachEntry visits exactly those entries, each once, without a copy of the base.
  const visited = new Map<string, unknown>()
  let repeated = 0
  state.forEachEntry((value, key) => {
    if (visited.has(key)) repeated++
    visited.set(key, value)
  })
  let differing = 0
  for (const [key, value] of expected.entries) if (visited.get(key) !== value || !visited.has(key)) differing++
  t.same([visited.size, repeated, differing], [expected.entries.size, 0, 0], `${label}: forEachEntry visits every entry once`)
}

t.test('members read their own height, in any commit order, and heights fold once all passed', async (t) => {
  const net = createTestNetwork()
  const { states, executions, blockTransactions } = chain(net, 4)
  const store = new SharedLedgerStore(cloneLedgerState(net.state))
  let a = store.join('a')
  let b = store.join('b')
  let c = store.join('c')
  // Each member executes every block on its own state (as replicas do without an execution cache).
  const step = (state: LedgerState, height: number): LedgerState => {
    const executed = executeBlock(state, { height, timeMs: executions[height - 1]!.pending.timeMs, transactions: blockTransactions[height - 1]! }, net.signatureCheck)
    t.equal(hex(executed.stateRoot), hex(executions[height - 1]!.stateRoot), `height ${height} executes to the same root`)
    return commitBlock(state, executed.pending)
  }
  a = step(a, 1)
  a = step(a, 2)
  sameContent(t, a, states[2]!, 'a at 2')
  sameContent(t, b, states[0]!, 'b still at genesis')
  t.equal(store.baseHeight, 0)
  b = step(b, 1)
  c = step(c, 1)
  t.equal(store.baseHeight, 1, 'height 1 folded once every member passed it')
  sameContent(t, b, states[1]!, 'b at 1')
  b = step(b, 2)
  c = step(c, 2)
  c = step(c, 3)
  sameContent(t, c, states[3]!, 'c at 3')
  sameContent(t, a, states[2]!, 'a at 2')
  t.equal(store.baseHeight, 2)
  t.equal(store.headHeight, 3)
  t.equal(store.departures, 0)
})

t.test('a member whose root differs goes on with its own copy', async (t) => {
  const net = createTestNetwork()
  const store = new SharedLedgerStore(cloneLedgerState(net.state))
  const a = store.join('a')
  const b = store.join('b')
  const txsA = generatePayments(net, { count: 10, seed: 1 }).map(admitTransaction)
  const txsB = generatePayments(net, { count: 10, seed: 2 }).map(admitTransaction)
  const onA = executeBlock(a, { height: 1, timeMs: a.timeMs + 1000, transactions: txsA }, net.signatureCheck)
  const onB = executeBlock(b, { height: 1, timeMs: b.timeMs + 1000, transactions: txsB }, net.signatureCheck)
  const a1 = commitBlock(a, onA.pending)
  const b1 = commitBlock(b, onB.pending)
  t.equal(store.departures, 1)
  t.equal(store.memberCount, 1)
  const expectedB = cloneLedgerState(net.state)
  const expectedB1 = commitBlock(expectedB, executeBlock(expectedB, { height: 1, timeMs: b.timeMs + 1000, transactions: txsB }, net.signatureCheck).pending)
  const expectedA = cloneLedgerState(net.state)
  const expectedA1 = commitBlock(expectedA, executeBlock(expectedA, { height: 1, timeMs: a.timeMs + 1000, transactions: txsA }, net.signatureCheck).pending)
  sameContent(t, b1, expectedB1, 'the diverging member')
  sameContent(t, a1, expectedA1, 'the member that stayed')
  t.not(hex(fullStateDigest(a1)), hex(fullStateDigest(b1)))
})

t.test('a member far behind leaves with a copy; a detached one too', async (t) => {
  const net = createTestNetwork()
  const { states, blockTransactions } = chain(net, 6)
  const store = new SharedLedgerStore(cloneLedgerState(net.state), 3)
  let a = store.join('a')
  const b = store.join('b')
  let c = store.join('c')
  for (let height = 1; height <= 5; height++) {
    const executed = executeBlock(a, { height, timeMs: states[height]!.timeMs, transactions: blockTransactions[height - 1]! }, net.signatureCheck)
    a = commitBlock(a, executed.pending)
    c = commitBlock(c, executed.pending.base === c ? executed.pending : executeBlock(c, { height, timeMs: states[height]!.timeMs, transactions: blockTransactions[height - 1]! }, net.signatureCheck).pending)
  }
  t.equal(store.departures, 1, 'b, 4 blocks behind with a limit of 3, left')
  t.equal(store.baseHeight, 5, 'the base follows the members still there')
  sameContent(t, b, states[0]!, 'b reads its copy at genesis')
  const b1 = commitBlock(b, executeBlock(b, { height: 1, timeMs: states[1]!.timeMs, transactions: blockTransactions[0]! }, net.signatureCheck).pending)
  sameContent(t, b1, states[1]!, 'b commits on its own copy')
  store.detach('c')
  t.equal(store.memberCount, 1)
  sameContent(t, c, states[5]!, 'c reads its copy after detaching')
  sameContent(t, a, states[5]!, 'a')
})

t.test('a state with shared content has no Map to give: entries is a copy (one per height, handed out again)', async (t) => {
  const net = createTestNetwork()
  const store = new SharedLedgerStore(cloneLedgerState(net.state))
  const a = store.join('a')
  const b = store.join('b')
  t.equal(a.entries, b.entries, 'one copy for the members at one height')
  t.equal(a.entries.size, net.state.entries.size)
  t.throws(() => store.join('a'))
})
