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

t.test('a modeled signature fails for every single-bit change of the message or the signature, and for another key', async (t) => {
  const signer = createModeledSigner(new Uint8Array(32).fill(9))
  const other = createModeledSigner(new Uint8Array(32).fill(10))
  const message = new Uint8Array(203).map((_, i) => (i * 131 + 17) & 0xff)
  const signature = signer.sign(message)
  t.equal(signature.length, 64)
  t.ok(modeledVerifier.verify(signer.publicKey, message.slice(), signature.slice()), 'a copy of the message and signature verifies (full check)')
  let accepted = 0
  for (let bit = 0; bit < message.length * 8; bit++) {
    const altered = message.slice()
    altered[bit >> 3]! ^= 1 << (bit & 7)
    if (modeledVerifier.verify(signer.publicKey, altered, signature)) accepted++
  }
  for (let bit = 0; bit < 64 * 8; bit++) {
    const forged = signature.slice()
    forged[bit >> 3]! ^= 1 << (bit & 7)
    if (modeledVerifier.verify(signer.publicKey, message, forged)) accepted++
  }
  t.equal(accepted, 0, 'no altered message or signature verifies')
  t.notOk(modeledVerifier.verify(other.publicKey, message, signature), 'nor the signature under another key')
  t.notSame(other.sign(message), signature)
})
