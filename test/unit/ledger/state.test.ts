/**
 * The state, its overlays and its root: executing a block leaves the state untouched until
 * commit; the same block on the same state gives the same root; commit consumes the old handle.
 */
import t from 'tap'
import { createHash } from 'node:crypto'
import { encode, type Encodable } from '../../../src/protocol/encoding.ts'
import { bytesToHex } from '../../../src/protocol/bytes.ts'
import { AssertionError } from '../../../src/protocol/assert.ts'
import { apply, checkBlockHeader, commitBlock, executeBlock } from '../../../src/ledger/execute.ts'
import { buildGenesis } from '../../../src/ledger/genesis.ts'
import {
  cloneLedgerState,
  encodeSortedEntries,
  entriesDigest,
  fullStateDigest,
  nextStateRoot,
  restoreLedgerState,
  zeroRoot
} from '../../../src/ledger/state.ts'
import { createTestNetwork, generatePayments, standardGenesisDocument } from '../../../src/ledger/testing/index.ts'
import { admitTransaction } from '../../../src/ledger/transactions.ts'

const nativeSha256 = (bytes: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(bytes).digest())

const hex = bytesToHex

t.test('executing a block and dropping it leaves the state untouched', async (t) => {
  const net = createTestNetwork()
  const digest = hex(fullStateDigest(net.state))
  const size = net.state.entries.size
  const executed = net.execute(generatePayments(net, { count: 20, seed: 3 }).map(admitTransaction))
  t.ok(executed.pending.writes.size > 0)
  t.equal(hex(fullStateDigest(net.state)), digest)
  t.equal(net.state.entries.size, size)
  t.equal(net.state.height, 0)
})

t.test('the same block on the same state gives the same root and receipts', async (t) => {
  const net = createTestNetwork()
  const block = net.block(generatePayments(net, { count: 30, seed: 4 }).map(admitTransaction))
  const first = executeBlock(net.state, block, net.signatureCheck)
  const second = executeBlock(net.state, block, net.signatureCheck)
  const onClone = executeBlock(cloneLedgerState(net.state), block, net.signatureCheck)
  const rebuilt = executeBlock(buildGenesis(net.document), block, net.signatureCheck)
  const withNativeHash = executeBlock(buildGenesis(net.document, { sha256: nativeSha256 }), block, net.signatureCheck)
  for (const other of [second, onClone, rebuilt, withNativeHash]) {
    t.equal(hex(other.stateRoot), hex(first.stateRoot))
    t.same(other.receipts, first.receipts)
  }
})

t.test('commit applies the writes, moves the root and retires the old handle', async (t) => {
  const net = createTestNetwork()
  const genesis = net.state
  const genesisRoot = hex(genesis.stateRoot)
  const block = net.block(generatePayments(net, { count: 5, seed: 5 }).map(admitTransaction))
  const executed = executeBlock(genesis, block, net.signatureCheck)
  const committed = commitBlock(genesis, executed.pending)
  t.equal(committed.height, 1)
  t.equal(committed.timeMs, block.timeMs)
  t.equal(hex(committed.stateRoot), hex(executed.stateRoot))
  t.not(hex(committed.stateRoot), genesisRoot)
  for (const [key, value] of executed.pending.writes) t.same(committed.get(key), value)
  t.ok(genesis.retired)
  t.throws(() => genesis.get('g/chainId'), AssertionError, 'a retired state cannot be read')
  t.throws(() => executeBlock(genesis, { ...block, height: 1 }, net.signatureCheck), AssertionError, 'nor executed on')
  t.throws(() => commitBlock(committed, executed.pending), AssertionError, 'a pending block commits only onto its base')
})

t.test('block headers: height follows, time never goes back', async (t) => {
  const net = createTestNetwork()
  t.equal(checkBlockHeader(net.state, { height: 1, timeMs: net.state.timeMs }), undefined)
  t.match(checkBlockHeader(net.state, { height: 2, timeMs: net.state.timeMs }), /does not follow/)
  t.match(checkBlockHeader(net.state, { height: 1, timeMs: net.state.timeMs - 1 }), /before the previous block/)
  t.throws(() => executeBlock(net.state, { height: 3, timeMs: net.state.timeMs, transactions: [] }, net.signatureCheck), AssertionError)
})

t.test('the root is a hash chain over each block writes', async (t) => {
  const net = createTestNetwork()
  const previous = net.state.stateRoot
  const block = net.block([])
  const empty = executeBlock(net.state, block, net.signatureCheck)
  t.equal(empty.pending.writes.size, 0)
  t.equal(hex(empty.stateRoot), hex(nextStateRoot(net.state.sha256, previous, 1, block.timeMs, entriesDigest(new Map()))))
  t.not(hex(empty.stateRoot), hex(previous), 'even an empty block moves the root')
  const genesisEntries = new Map(net.state.entries)
  t.equal(hex(net.state.stateRoot), hex(nextStateRoot(net.state.sha256, zeroRoot, 0, net.state.timeMs, entriesDigest(genesisEntries))), 'genesis is block 0 writing everything')
})

t.test('the digest of entries does not depend on their order', async (t) => {
  const entries: Array<[string, Encodable]> = [['b/x/cb.CNY', 5n], ['a/x', ['bank']], ['n/x', 2n], ['p/q/CN', [1, 2n]]]
  t.equal(hex(entriesDigest(new Map(entries))), hex(entriesDigest(new Map([...entries].reverse()))))
  t.not(hex(entriesDigest(new Map(entries))), hex(entriesDigest(new Map([...entries.slice(1), ['b/x/cb.CNY', 6n]]))))
  t.equal(hex(entriesDigest(new Map(entries), nativeSha256)), hex(entriesDigest(new Map(entries))), 'injected SHA-256 gives the same bytes')
})

t.test('a state restored from its entries, height and root is the same state', async (t) => {
  const net = createTestNetwork()
  net.apply(generatePayments(net, { count: 10, seed: 6 }).map(admitTransaction))
  const saved = { entries: new Map(net.state.entries), height: net.state.height, timeMs: net.state.timeMs, stateRoot: net.state.stateRoot }
  const restored = restoreLedgerState(saved)
  t.equal(hex(fullStateDigest(restored)), hex(fullStateDigest(net.state)))
  t.same([...restored.fx.rates], [...net.state.fx.rates])
  const next = generatePayments(net, { count: 10, seed: 7 }).map(admitTransaction)
  const fromRestored = executeBlock(restored, net.block(next), net.signatureCheck)
  const fromLive = executeBlock(net.state, net.block(next), net.signatureCheck)
  t.equal(hex(fromRestored.stateRoot), hex(fromLive.stateRoot))
})

t.test('a clone is independent of its original', async (t) => {
  const net = createTestNetwork()
  const clone = cloneLedgerState(net.state)
  const digest = hex(fullStateDigest(clone))
  net.apply(generatePayments(net, { count: 10, seed: 8 }).map(admitTransaction))
  t.equal(hex(fullStateDigest(clone)), digest)
  t.not(hex(fullStateDigest(net.state)), digest)
})

t.test('apply without a signature check verifies every signature', async (t) => {
  const net = createTestNetwork()
  const good = net.admit('icbc-corporate-0', { kind: 'transfer', token: 'icbc.CNY', recipient: 'icbc-corporate-1', amount: 1n })
  const forged = { ...good, envelope: { ...good.envelope, signature: new Uint8Array(64).fill(1) } }
  const result = apply(net.state, net.block([forged, good]))
  t.same(result.receipts.map((receipt) => receipt.reason), ['BAD_SIGNATURE', undefined])
})

t.test('a network of many customers: same genesis document, same root', async (t) => {
  const document = standardGenesisDocument({ customersPerBank: 500 })
  t.equal(hex(buildGenesis(document).stateRoot), hex(buildGenesis(document, { sha256: nativeSha256 }).stateRoot))
})

t.test("the root's fast encoder writes exactly the canonical encoding", async (t) => {
  const entries = new Map<string, Encodable>([
    ['b/x/cb.CNY', 5n],
    ['n/x', 2n ** 63n - 1n],
    ['i/cb.CNY', 2n ** 63n],
    ['s/x', 2n ** 64n - 1n],
    ['neg', -(2n ** 63n)],
    ['small', 0n],
    ['numbers', [0, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -1, -32, -33, -200, true, false, null]],
    ['nested', [[1, [2n, ['x']]], [], new Uint8Array([1, 2]), { a: 1 }]],
    ['p/s/CN/outbound/receiver', ['sender-1', 20100, 'sender-2', 20101]],
    ['p/q/CN/outbound/CNY/李伟', [20100, 5000n, 2025, 70000n]],
    ['policy/CN', { jurisdiction: 'CN', referenceCurrency: 'CNY', utcOffset: '+08:00', nested: { list: [1, 2, 'three'] } }],
    ['a/x', ['bank', 'CN', null, ['CNY'], new Uint8Array(32), null, null, false]],
    ['g/chainId', 'corridor-test'],
    ['k'.repeat(31), 'v'.repeat(32)],
    ['k'.repeat(255), 'v'.repeat(256)],
    ['k'.repeat(70_000), 'é'.repeat(40_000)]
  ])
  const flat: Encodable[] = []
  for (const key of [...entries.keys()].sort()) flat.push(key, entries.get(key)!)
  t.equal(hex(encodeSortedEntries(entries)), hex(encode(flat)))
  const many = new Map<string, Encodable>()
  for (let i = 0; i < 70_000; i++) many.set(`b/customer-${i}/icbc.CNY`, BigInt(i) * 1_000_003n)
  const manyFlat: Encodable[] = []
  for (const key of [...many.keys()].sort()) manyFlat.push(key, many.get(key)!)
  t.equal(hex(encodeSortedEntries(many)), hex(encode(manyFlat)), 'with a 32-bit array header')
  t.equal(hex(encodeSortedEntries(new Map())), hex(encode([])))
})
