/**
 * The test-support module others reuse (simulator, demo, bench): deterministic keys, the PRNG and
 * generated workloads must be reproducible byte for byte.
 */
import t from 'tap'
import { createHash } from 'node:crypto'
import { bytesToHex } from '../../../src/protocol/bytes.ts'
import { createPortableSigner, portableVerifier } from '../../../src/protocol/keys.ts'
import { verifyTransactionSignature } from '../../../src/protocol/envelope.ts'
import { decodeTransactionBody, admitTransaction } from '../../../src/ledger/transactions.ts'
import { loadGenesisDocument } from '../../../src/config/genesis.ts'
import { createFastSigner, createTestNetwork, deriveSecretKey, deriveSigners, generatePayments, Prng } from '../../../src/ledger/testing/index.ts'

t.test('secret keys derive as documented in demo.yaml', async (t) => {
  const expected = createHash('sha256').update(Buffer.concat([Buffer.from('corridor.key'), Buffer.from([0]), Buffer.from('corridor-demo-v1/pboc')])).digest()
  t.equal(bytesToHex(deriveSecretKey('corridor-demo-v1', 'pboc')), expected.toString('hex'))
  const demo = loadGenesisDocument('configs/genesis/demo.yaml').document
  t.equal(demo.keySeed, 'corridor-demo-v1')
  t.equal(deriveSigners(demo).size, demo.centralBanks.length + demo.banks.length + demo.fxProviders.length + demo.regulators.length + demo.customers.length)
  t.throws(() => deriveSigners({ ...demo, keySeed: 'another-seed' }), /not the one derived/)
})

t.test('the fast signer makes the same keys and valid signatures', async (t) => {
  for (const id of ['a', 'icbc', 'customer-42']) {
    const secret = deriveSecretKey('seed', id)
    const fast = createFastSigner(secret)
    const portable = createPortableSigner(secret)
    t.equal(bytesToHex(fast.publicKey), bytesToHex(portable.publicKey))
    const message = new TextEncoder().encode(`message for ${id}`)
    t.equal(bytesToHex(fast.sign(message)), bytesToHex(portable.sign(message)), 'Ed25519 signatures are deterministic')
    t.ok(portableVerifier.verify(fast.publicKey, message, fast.sign(message)))
  }
})

t.test('the PRNG is reproducible and uniform enough', async (t) => {
  const a = new Prng('bench')
  const b = new Prng('bench')
  const first = Array.from({ length: 5 }, () => a.nextUint32())
  t.same(first, Array.from({ length: 5 }, () => b.nextUint32()))
  t.not(new Prng('other').nextUint32(), first[0])
  t.same(Array.from({ length: 3 }, () => new Prng(42).nextUint32()), Array.from({ length: 3 }, () => new Prng(42).nextUint32()))
  const counts = new Array(10).fill(0)
  const random = new Prng(1)
  for (let i = 0; i < 100_000; i++) counts[random.int(10)]++
  for (const count of counts) t.ok(count > 9_500 && count < 10_500, `bucket ${count} near 10,000`)
  for (let i = 0; i < 1000; i++) {
    const value = random.bigintBetween(5n, 10n ** 18n)
    if (value < 5n || value > 10n ** 18n) t.fail(`out of range: ${value}`)
  }
  t.throws(() => random.pick([]))
})

t.test('generated payments are reproducible, signed, and as asked', async (t) => {
  const one = createTestNetwork()
  const two = createTestNetwork()
  const batchOne = generatePayments(one, { count: 200, seed: 'workload' })
  const batchTwo = generatePayments(two, { count: 200, seed: 'workload' })
  t.same(batchOne.map((tx) => tx.id), batchTwo.map((tx) => tx.id), 'same network, options and seed: same transactions')
  const customers = new Map(one.document.customers.map((customer) => [customer.id, customer]))
  for (const tx of batchOne) {
    const body = decodeTransactionBody(tx.body)
    if (body.kind !== 'payment') {
      t.fail('not a payment')
      continue
    }
    const payer = customers.get(tx.signer)!
    const payee = customers.get(body.payee)!
    if (payer.jurisdiction === payee.jurisdiction) t.fail('not cross-border')
    if (body.payerToken.slice(-3) === body.payeeToken.slice(-3)) t.fail('not cross-currency')
    if (body.fxProvider !== 'fxhub') t.fail('no FX provider')
    if (body.amount < 10_000n || body.amount > 2_000_099n) t.fail(`amount ${body.amount} out of the default range`)
  }
  t.ok(batchOne.slice(0, 20).every((tx) => verifyTransactionSignature(tx, portableVerifier)), 'signatures verify')
  const { receipts } = one.apply(batchOne.map(admitTransaction))
  t.ok(receipts.filter((receipt) => receipt.status === 'settled').length > 190, 'almost all settle without policies')
  const domestic = generatePayments(createTestNetwork(), { count: 50, seed: 2, crossBorder: false, crossCurrency: false, withDocuments: false, payerKinds: ['individual'] })
  for (const tx of domestic) {
    const body = decodeTransactionBody(tx.body)
    if (body.kind === 'payment') {
      t.equal(body.documentRef, undefined)
      t.match(tx.signer, /individual/)
    }
  }
})
