import t from 'tap'
import {
  decodeTransaction,
  encodeTransaction,
  signTransaction,
  transactionSigningBytes,
  verifyTransactionSignature,
  type UnsignedTransaction
} from '../../../src/protocol/envelope.ts'
import { createPortableSigner, portableVerifier } from '../../../src/protocol/keys.ts'
import { createNativeVerifier } from '../../../src/platform/ed25519Native.ts'
import { ProtocolError } from '../../../src/protocol/errors.ts'
import { encode } from '../../../src/protocol/encoding.ts'
import { protocolLimits } from '../../../src/protocol/limits.ts'

const signer = createPortableSigner(new Uint8Array(32).fill(1))
const native = createNativeVerifier()
const unsigned: UnsignedTransaction = {
  chainId: 'corridor-test',
  signer: 'alice',
  publicKey: signer.publicKey,
  nonce: 1n,
  body: ['transfer', 'bob', 'icbc.CNY', 100n]
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    return error instanceof ProtocolError ? error.code : String(error)
  }
  return undefined
}

t.test('a signed transaction round-trips and verifies on both verifiers', async (t) => {
  const tx = signTransaction(unsigned, signer)
  const back = decodeTransaction(encodeTransaction(tx))
  t.equal(back.id, tx.id, 'same id after the wire')
  t.same(back.body, tx.body)
  t.ok(verifyTransactionSignature(back, portableVerifier))
  t.ok(verifyTransactionSignature(back, native))
})

t.test('the chain id is part of the signed bytes: a transaction does not verify on another network', async (t) => {
  const tx = signTransaction(unsigned, signer)
  const replayed = decodeTransaction(encodeTransaction({ ...tx, chainId: 'corridor-other' }))
  t.not(replayed.id, tx.id)
  t.notOk(verifyTransactionSignature(replayed, native))
  t.notOk(verifyTransactionSignature(replayed, portableVerifier))
})

t.test('any altered field breaks the signature', async (t) => {
  const tx = signTransaction(unsigned, signer)
  const variants = [
    { ...tx, signer: 'mallory' },
    { ...tx, nonce: 2n },
    { ...tx, body: ['transfer', 'bob', 'icbc.CNY', 101n] },
    { ...tx, publicKey: createPortableSigner(new Uint8Array(32).fill(2)).publicKey }
  ]
  for (const variant of variants) {
    t.notOk(verifyTransactionSignature(decodeTransaction(encodeTransaction(variant)), native))
  }
})

t.test('the id does not depend on the signature', async (t) => {
  const tx = signTransaction(unsigned, signer)
  const forged = decodeTransaction(encodeTransaction({ ...tx, signature: new Uint8Array(64) }))
  t.equal(forged.id, tx.id)
  t.notOk(verifyTransactionSignature(forged, native))
})

t.test('malformed envelopes are refused with a typed error', async (t) => {
  const tx = signTransaction(unsigned, signer)
  const good = [tx.chainId, tx.signer, tx.publicKey, tx.nonce, tx.body, tx.signature] as const
  const cases: Array<[string, unknown[]]> = [
    ['too few fields', good.slice(0, 5)],
    ['bad chain id', ['Bad Chain!', ...good.slice(1)]],
    ['bad signer id', [good[0], 'Not An Id', ...good.slice(2)]],
    ['short key', [good[0], good[1], new Uint8Array(31), ...good.slice(3)]],
    ['nonce zero', [...good.slice(0, 3), 0n, ...good.slice(4)]],
    ['nonce as number', [...good.slice(0, 3), 1, ...good.slice(4)]],
    ['short signature', [...good.slice(0, 5), new Uint8Array(10)]]
  ]
  for (const [name, tuple] of cases) {
    t.equal(codeOf(() => decodeTransaction(encode(tuple as never))), 'DECODE_SHAPE', name)
  }
  t.equal(codeOf(() => decodeTransaction(new Uint8Array(protocolLimits.transactionBytesMax + 1))), 'DECODE_OVERSIZED')
  t.equal(codeOf(() => decodeTransaction(new Uint8Array([0x93, 1]))), 'DECODE_MALFORMED')
})

t.test('signing bytes are stable (a change to the format shows up here)', async (t) => {
  const bytes = transactionSigningBytes(unsigned)
  t.equal(Buffer.from(bytes.subarray(0, 16)).toString('hex'), '96ae636f727269646f722e74782e7631')
})
