// The simulator's fast paths compute the same bytes as the core's portable ones.
import t from 'tap'
import { hashTagged } from '../../../src/protocol/hash.ts'
import { signTransaction } from '../../../src/protocol/envelope.ts'
import { createModeledSigner, modeledVerifier, nativeHashTagged } from '../../../src/sim/modeledCrypto.ts'
import { Signing } from '../../../src/sim/workload.ts'
import { encodeTransactionBody } from '../../../src/ledger/transactions.ts'

t.test('nativeHashTagged is hashTagged', async (t) => {
  for (const [tag, length] of [['corridor.txid', 0], ['corridor.txid', 1], ['corridor.consensus.payload', 100_000], ['x', 55]] as const) {
    const bytes = new Uint8Array(length).map((_, i) => (i * 31 + 7) & 0xff)
    t.same(nativeHashTagged(tag, bytes), hashTagged(tag, bytes), `${tag}, ${length} bytes`)
  }
})

t.test('workload signing gives the envelope signTransaction gives', async (t) => {
  const signer = createModeledSigner(new Uint8Array(32).fill(7))
  const signing = new Signing('corridor-test', new Map([['alice', signer]]))
  const body = { kind: 'transfer' as const, recipient: 'bob', token: 'bank.USD', amount: 5n }
  const envelope = signing.sign('alice', body)
  const reference = signTransaction({ chainId: 'corridor-test', signer: 'alice', publicKey: signer.publicKey, nonce: 1n, body: encodeTransactionBody(body) }, signer)
  t.same(envelope, reference)
  t.ok(modeledVerifier.verify(signer.publicKey, envelope.signingBytes, envelope.signature), 'verifies')
  const forged = envelope.signature.map((b) => b ^ 1)
  t.notOk(modeledVerifier.verify(signer.publicKey, envelope.signingBytes, forged), 'an altered signature does not')
  const altered = envelope.signingBytes.slice()
  altered[altered.length - 1]! ^= 1
  t.notOk(modeledVerifier.verify(signer.publicKey, altered, envelope.signature), 'nor altered signing bytes')
})
