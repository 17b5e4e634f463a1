// The shared mempool (simulations at scale): one pool, one view per validator. A view holds only
// what reached its validator, proposes it in nonce order with the gap grace counted from its own
// arrival, and lets go of a committed transaction at its own validator's height.
import t from 'tap'
import { ReplicaCluster } from './cluster.ts'
import { SharedMempool, type SharedMempoolView } from '../../../../src/node/replica/sharedMempool.ts'

function fixture() {
  const cluster = new ReplicaCluster(2)
  const customers = cluster.network.document.customers
  const signer = customers[0]!.id
  const payee = customers.find((c) => c.bank !== customers[0]!.bank)!.id
  const body = { kind: 'transfer' as const, recipient: payee, token: 'icbc.CNY', amount: 1n }
  const tx = (nonce: bigint, from = signer) => cluster.network.admit(from, body, { nonce })
  const pool = new SharedMempool(['a', 'b', 'c'], { transactionsMax: 10, transactionsPerSignerMax: 4 })
  return { cluster, signer, tx, pool, customers }
}

const reapOf = (view: SharedMempoolView, nowMs: number, last = 0n) =>
  view.reap({ transactionsMax: 10, bytesMax: 10_000, lastNonceOf: () => last, nowMs, gapGraceMs: 3000 }).map((tx) => tx.envelope.nonce)

t.test('a view holds what reached its validator: a submission, or a gossip batch once it arrives', async (t) => {
  const { tx, pool } = fixture()
  const a = pool.attach('a', 0)
  const b = pool.attach('b', 0)
  const first = tx(1n)
  const second = tx(2n)
  t.equal(a.add(first, 100, 0n, 1000), undefined)
  t.equal(a.add(second, 100, 0n, 1000), undefined)
  t.ok(a.has(first.id) && !b.has(first.id), 'only the validator it was submitted to holds it')
  t.same(reapOf(b, 1000), [], 'b proposes nothing it has not received')
  const batch = a.batchOf([first, second])
  batch.dispatched(2)
  b.arrive(batch, 1050)
  t.ok(b.has(first.id) && b.has(second.id))
  t.equal(b.size, 2)
  t.same(reapOf(b, 1050), [1n, 2n], 'in nonce order')
  t.equal(b.add(first, 100, 0n, 1100), 'DUPLICATE')
  t.equal(a.add(tx(2n), 100, 0n, 1100), 'DUPLICATE', 'the same transaction again')
})

t.test('nonce order and the gap grace count from the arrival at each validator', async (t) => {
  const { tx, pool } = fixture()
  const a = pool.attach('a', 0)
  const b = pool.attach('b', 0)
  const third = tx(3n)
  const second = tx(2n)
  a.add(third, 100, 0n, 1000)
  a.add(second, 100, 0n, 1000)
  const batch = a.batchOf([third, second])
  batch.dispatched(1)
  b.arrive(batch, 2500)
  t.same(reapOf(a, 2000), [], 'nonce 1 is missing: 2 and 3 wait at a')
  t.same(reapOf(a, 2000, 1n), [2n, 3n], 'once 1 is committed both go, in nonce order')
  t.same(reapOf(a, 4000), [2n, 3n], 'after the grace at a (since 1000 ms)')
  t.same(reapOf(b, 4000), [], 'b received them at 2500 ms: still in its grace')
  t.same(reapOf(b, 5600), [2n, 3n])
})

t.test('a committed transaction leaves each view at its own validator’s height; stale ones go with it', async (t) => {
  const { tx, pool, customers } = fixture()
  const a = pool.attach('a', 0)
  const b = pool.attach('b', 0)
  const c = pool.attach('c', 0)
  const first = tx(1n)
  const second = tx(2n)
  a.add(first, 100, 0n, 1000)
  a.add(second, 100, 0n, 1000)
  const batch = a.batchOf([first, second])
  batch.dispatched(2)
  b.arrive(batch, 1010)
  c.arrive(batch, 1020)
  const block = [first]
  a.removeCommitted(block, () => 1n, 1)
  t.notOk(a.has(first.id), 'gone at a, which committed height 1')
  t.ok(b.has(first.id), 'still waiting at b, which has not')
  t.same(reapOf(a, 1100, 1n), [2n])
  b.removeCommitted(block, () => 1n, 1)
  c.removeCommitted(block, () => 1n, 1)
  t.equal(pool.size, 1, 'pruned once every validator is past its height')
  // A nonce committed by another transaction makes a waiting one stale.
  a.removeCommitted([tx(2n, customers[1]!.id)], (signer) => (signer === customers[1]!.id ? 2n : 1n), 2)
  t.ok(a.has(second.id), 'another signer’s commit changes nothing for this one')
})

t.test('process-wide bounds: one waiting transaction per signer and nonce, queue and pool limits', async (t) => {
  const { cluster, tx, pool, signer } = fixture()
  const a = pool.attach('a', 0)
  const b = pool.attach('b', 0)
  t.equal(a.add(tx(1n), 100, 0n, 1000), undefined)
  const twin = cluster.network.admit(signer, { kind: 'transfer', recipient: cluster.network.document.customers[5]!.id, token: 'icbc.CNY', amount: 2n }, { nonce: 1n })
  t.equal(b.add(twin, 100, 0n, 1000), 'DUPLICATE_NONCE', 'another transaction of the signer with a waiting nonce, at another validator')
  for (const nonce of [2n, 3n, 4n]) t.equal(a.add(tx(nonce), 100, 0n, 1000), undefined)
  t.equal(a.add(tx(5n), 100, 0n, 1000), 'SIGNER_QUEUE_FULL')
  t.equal(a.add(tx(0n), 100, 0n, 1000), 'STALE_NONCE')
})

t.test('a restarted validator starts empty; deliveries to a crashed one are cancelled and lost transactions pruned', async (t) => {
  const { tx, pool } = fixture()
  const a = pool.attach('a', 0)
  pool.attach('b', 0)
  pool.attach('c', 0)
  const first = tx(1n)
  a.add(first, 100, 0n, 1000)
  const batch = a.batchOf([first])
  batch.dispatched(1)
  pool.detach('a')
  t.notOk(a.has(first.id), 'the crashed validator’s mempool is gone')
  const again = pool.attach('a', 0)
  t.notOk(again.has(first.id), 'and stays empty after the restart')
  batch.cancelled()
  // Nobody holds it and nothing is on its way: the next prune drops it.
  again.removeCommitted([], () => 0n, 1)
  pool.attach('b', 1)
  pool.attach('c', 1)
  again.removeCommitted([], () => 0n, 2)
  t.equal(pool.size, 0)
})

t.test('admission: the encoded size derived from the signing bytes is the encoding’s', async (t) => {
  const { encodedTransactionBytes } = await import('../../../../src/node/replica/admission.ts')
  const { encodeTransaction } = await import('../../../../src/protocol/envelope.ts')
  const { cluster, customers } = fixture()
  for (let i = 0; i < 20; i++) {
    const payer = customers[i % customers.length]!
    const payee = customers[(i + 1) % customers.length]!
    const amount = 10n ** BigInt(i % 15)
    const tx = cluster.network.admit(payer.id, { kind: 'transfer', recipient: payee.id, token: 'icbc.CNY', amount }, { nonce: BigInt(1 + i * 1000) })
    t.equal(encodedTransactionBytes(tx.envelope), encodeTransaction(tx.envelope).length)
  }
})
