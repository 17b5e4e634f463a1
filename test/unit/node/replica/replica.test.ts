import t from 'tap'

import { ReplicaCluster } from './cluster.ts'
import { generatePayments } from '../../../../src/ledger/testing/index.ts'
import { checkConservation } from '../../../../src/ledger/invariants.ts'
import { bytesToHex } from '../../../../src/protocol/bytes.ts'
import { fullStateDigest } from '../../../../src/ledger/state.ts'

function agreeOnEveryHeight(t: { pass(message: string): void; fail(message: string): void }, cluster: ReplicaCluster): void {
  const ids = cluster.ids
  const reference = cluster.stores.get(ids[0]!)!.blocks
  for (const id of ids.slice(1)) {
    const blocks = cluster.stores.get(id)!.blocks
    const common = Math.min(reference.length, blocks.length)
    for (let i = 0; i < common; i++) {
      if (bytesToHex(blocks[i]!.blockHash) !== bytesToHex(reference[i]!.blockHash) || bytesToHex(blocks[i]!.stateRoot) !== bytesToHex(reference[i]!.stateRoot)) {
        t.fail(`${id} and ${ids[0]} differ at height ${i + 1}`)
        return
      }
    }
  }
  t.pass('every replica has the same block and state root at every height')
}

t.test('four replicas finalize submitted payments; every replica ends with the same state', async (t) => {
  const cluster = new ReplicaCluster()
  const payments = generatePayments(cluster.network, { count: 300, seed: 1 })
  cluster.ids.forEach((id, index) => {
    const results = cluster.submit(id, payments.filter((_, i) => i % 4 === index))
    t.ok(results.every((r) => r.ok), `${id} admitted its share`)
  })
  const ids = new Set(payments.map((p) => p.id))
  const finalized = (): number => {
    const seen = new Set<string>()
    for (const block of cluster.stores.get('icbc')!.blocks) for (const tx of block.transactions) if (ids.has(tx.id)) seen.add(tx.id)
    return seen.size
  }
  t.ok(cluster.run(() => finalized() === payments.length && new Set(cluster.heights()).size === 1), 'all payments final and heights equal')
  agreeOnEveryHeight(t, cluster)
  const digests = cluster.ids.map((id) => bytesToHex(fullStateDigest(cluster.replicas.get(id)!.ledgerState)))
  t.equal(new Set(digests).size, 1, 'identical full state on every replica')
  t.same(checkConservation(cluster.replicas.get('dbs')!.ledgerState), [], 'conservation holds')
  for (const id of cluster.ids) t.equal(cluster.replicas.get(id)!.mempoolSize, 0, `${id} mempool drained`)
  const receipts = cluster.stores.get('enbd')!.blocks.flatMap((b) => b.receipts)
  t.ok(receipts.filter((r) => r.status === 'settled').length > 250, 'most payments settle (the rest are refused with reasons)')
  t.ok(cluster.admission.verifications <= payments.length + 10, `each signature verified once per process (${cluster.admission.verifications} verifications)`)
})

t.test('a replayed submission is refused at admission; a forged one never enters the mempool', async (t) => {
  const cluster = new ReplicaCluster()
  const [payment] = generatePayments(cluster.network, { count: 1, seed: 2 })
  t.ok(cluster.submit('icbc', [payment!])[0]!.ok)
  t.same(cluster.submit('icbc', [payment!])[0], { ok: false, id: payment!.id, code: 'DUPLICATE', message: 'transaction is already waiting' })
  const forged = { ...payment!, signature: new Uint8Array(64) }
  const result = cluster.submit('bochk', [forged])[0]!
  t.equal(result.ok, false)
  t.equal(!result.ok && result.code, 'BAD_SIGNATURE')
  cluster.run(() => cluster.heights().every((h) => h >= 2))
  t.equal(cluster.submit('dbs', [payment!])[0]!.ok, false, 'after commit, the same transaction is stale')
})

t.test('a crashed replica restarts from its WAL and store and catches up; the others keep finalizing', async (t) => {
  const cluster = new ReplicaCluster()
  const payments = generatePayments(cluster.network, { count: 120, seed: 3 })
  cluster.submit('icbc', payments.slice(0, 60))
  cluster.run(() => cluster.heights().every((h) => h >= 2))
  cluster.crash('enbd')
  cluster.submit('icbc', payments.slice(60))
  const before = cluster.replicas.get('icbc')!.height
  t.ok(cluster.run(() => cluster.replicas.get('icbc')!.height >= before + 3), 'three replicas keep finalizing without the fourth')
  cluster.boot('enbd')
  const target = cluster.replicas.get('icbc')!.height
  t.ok(cluster.run(() => cluster.replicas.get('enbd')!.height >= target), 'the restarted replica catches up')
  agreeOnEveryHeight(t, cluster)
  t.same(checkConservation(cluster.replicas.get('enbd')!.ledgerState), [])
})

t.test('a censoring proposer leaves transactions out, yet they finalize through honest proposers', async (t) => {
  const cluster = new ReplicaCluster()
  cluster.replicas.get('dbs')!.setByzantine({ censorSigner: () => true })
  const payments = generatePayments(cluster.network, { count: 40, seed: 4 })
  cluster.submit('dbs', payments)
  const ids = new Set(payments.map((p) => p.id))
  const final = (): number => cluster.stores.get('icbc')!.blocks.flatMap((b) => b.transactions).filter((tx) => ids.has(tx.id)).length
  t.ok(cluster.run(() => final() === payments.length), 'all final')
  const byDbs = cluster.stores.get('icbc')!.blocks.filter((b) => b.block.header.proposer === 'dbs')
  t.ok(byDbs.every((b) => b.transactions.length === 0), 'blocks proposed by the censor are empty')
})

t.test('a proposer replaying committed transactions has its blocks refused; the others keep deciding and nothing moves twice', async (t) => {
  const cluster = new ReplicaCluster()
  cluster.replicas.get('bochk')!.setByzantine({ replayTransactions: true })
  const payments = generatePayments(cluster.network, { count: 40, seed: 5 })
  cluster.submit('icbc', payments)
  const start = cluster.replicas.get('icbc')!.height
  t.ok(cluster.run(() => cluster.replicas.get('icbc')!.height >= start + 12), 'the chain keeps growing')
  const blocks = cluster.stores.get('icbc')!.blocks
  const byReplayer = blocks.filter((b) => b.block.header.proposer === 'bochk')
  t.ok(byReplayer.every((b) => b.transactions.every((tx) => !b.receipts.some((r) => r.transactionId === tx.id && r.reason === 'REPLAY'))), 'no block with a replay was decided')
  t.equal(blocks.flatMap((b) => b.receipts).filter((r) => r.reason === 'REPLAY').length, 0, 'no REPLAY receipt anywhere: replays never reach a block')
  const ids = blocks.flatMap((b) => b.transactions.map((tx) => tx.id))
  t.equal(new Set(ids).size, ids.length, 'every transaction committed once')
  t.ok(cluster.replicas.get('icbc')!.consensus.metrics().missedProposals['bochk']! > 0 || byReplayer.every((b) => b.transactions.length === 0), "the replayer's proposals with replays went nowhere")
  t.same(checkConservation(cluster.replicas.get('icbc')!.ledgerState), [])
  agreeOnEveryHeight(t, cluster)
})

t.test('transactions the ledger would refuse without consuming a nonce never enter the mempool', async (t) => {
  const cluster = new ReplicaCluster()
  const { signTransaction } = await import('../../../../src/protocol/envelope.ts')
  const { createPortableSigner } = await import('../../../../src/protocol/keys.ts')
  const { encodeTransactionBody } = await import('../../../../src/ledger/transactions.ts')
  const stranger = createPortableSigner(new Uint8Array(32).fill(9))
  const body = encodeTransactionBody({ kind: 'transfer', recipient: 'icbc-corporate-0', token: 'icbc.CNY', amount: 1n })
  const ghost = signTransaction({ chainId: cluster.network.chainId, signer: 'nobody', publicKey: stranger.publicKey, nonce: 1n, body }, stranger)
  const result = cluster.submit('icbc', [ghost])[0]!
  t.equal(!result.ok && result.code, 'UNKNOWN_ACCOUNT')
  const impostor = signTransaction({ chainId: cluster.network.chainId, signer: 'icbc-corporate-1', publicKey: stranger.publicKey, nonce: 1n, body }, stranger)
  const second = cluster.submit('icbc', [impostor])[0]!
  t.equal(!second.ok && second.code, 'BAD_SIGNATURE', "a valid signature by a key that is not the signer's")
  t.equal(cluster.replicas.get('icbc')!.mempoolSize, 0)
})

t.test('mempool: a transaction behind a nonce gap waits for the grace period, then goes', async (t) => {
  const { Mempool } = await import('../../../../src/node/replica/mempool.ts')
  const cluster = new ReplicaCluster(2)
  const signer = cluster.network.document.customers[0]!.id
  const payee = cluster.network.document.customers.find((c) => c.bank !== cluster.network.document.customers[0]!.bank)!.id
  const body = { kind: 'transfer' as const, recipient: payee, token: 'icbc.CNY', amount: 1n }
  const second = cluster.network.admit(signer, body, { nonce: 2n })
  const third = cluster.network.admit(signer, body, { nonce: 3n })
  const mempool = new Mempool({ transactionsMax: 10, transactionsPerSignerMax: 10 })
  t.equal(mempool.add(third, 100, 0n, 1000), undefined)
  t.equal(mempool.add(second, 100, 0n, 1000), undefined)
  const reap = (nowMs: number, last = 0n) => mempool.reap({ transactionsMax: 10, bytesMax: 10_000, lastNonceOf: () => last, nowMs, gapGraceMs: 3000 }).map((tx) => tx.envelope.nonce)
  t.same(reap(2000), [], 'nonce 1 is missing: nonces 2 and 3 wait')
  t.same(reap(2000, 1n), [2n, 3n], 'once nonce 1 is committed, both go, in nonce order')
  t.same(reap(4000), [2n, 3n], 'after the grace period the gap is accepted')
  t.equal(mempool.add(second, 100, 0n, 4000), 'DUPLICATE')
  t.equal(mempool.add(cluster.network.admit(signer, body, { nonce: 1n }), 100, 1n, 4000), 'STALE_NONCE')
})
