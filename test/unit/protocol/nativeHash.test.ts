import t from 'tap'
import { randomBytes } from 'node:crypto'
import { hashTagged } from '../../../src/protocol/hash.ts'
import { nativeHashTagged } from '../../../src/platform/nativeHash.ts'
import { createNativeVerifier } from '../../../src/platform/ed25519Native.ts'
import { keyPairFromSecret, createPortableSigner as createSigner } from '../../../src/protocol/keys.ts'
import { decodeTransaction, encodeTransaction, signTransaction, useTransactionIdHasher } from '../../../src/protocol/envelope.ts'

t.test('nativeHashTagged is hashTagged', async (t) => {
  // Around 16 KiB the one-shot path over a scratch buffer gives way to the streaming one.
  for (const length of [0, 1, 31, 32, 63, 64, 65, 300, 5000, 16_368, 16_369, 16_370, 16_371, 16_384, 20_000]) {
    for (const tag of ['corridor.txid', 'corridor.payload', 'x']) {
      const bytes = new Uint8Array(randomBytes(length))
      t.same(nativeHashTagged(tag, bytes), hashTagged(tag, bytes), `${tag}, ${length} bytes`)
    }
  }
  // A digest is its own: the next hash (over the same scratch space) does not change it.
  const first = nativeHashTagged('x', new Uint8Array([1]))
  const copy = Uint8Array.from(first)
  nativeHashTagged('x', new Uint8Array([2]))
  t.same(first, copy)
})

t.test('transaction ids are the same with the native id hasher', async (t) => {
  const secret = new Uint8Array(randomBytes(32))
  const signer = createSigner(secret)
  const tx = signTransaction({ chainId: 'corridor-test', signer: 'alice', publicKey: signer.publicKey, nonce: 7n, body: ['payment', 'bob', 5n] }, signer)
  const wire = encodeTransaction(tx)
  const portable = decodeTransaction(wire).id
  useTransactionIdHasher(nativeHashTagged)
  try {
    t.equal(decodeTransaction(wire).id, portable)
    t.equal(decodeTransaction(wire).id, tx.id)
  } finally {
    useTransactionIdHasher(hashTagged)
  }
})

t.test('the OpenSSL verifier with preloaded keys verifies as before', async (t) => {
  const pairs = Array.from({ length: 8 }, () => keyPairFromSecret(new Uint8Array(randomBytes(32))))
  const verifier = createNativeVerifier({ backend: 'openssl', cacheEntriesMax: 8 })
  t.equal(verifier.preload(pairs.map((pair) => pair.publicKey)), 4, 'fills at most half the cache')
  const message = new Uint8Array([1, 2, 3])
  for (const pair of pairs) {
    const signature = createSigner(pair.secretKey).sign(message)
    t.ok(verifier.verify(pair.publicKey, message, signature))
    t.notOk(verifier.verify(pair.publicKey, new Uint8Array([1, 2, 4]), signature))
  }
  t.equal(verifier.preload([new Uint8Array(5)]), 0, 'a key of the wrong length is skipped')
})
