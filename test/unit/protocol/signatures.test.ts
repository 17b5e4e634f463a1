import t from 'tap'
import { randomBytes } from 'node:crypto'
import { hexToBytes, bytesToHex } from '../../../src/protocol/bytes.ts'
import { keyPairFromSecret, portableVerifier, createPortableSigner } from '../../../src/protocol/keys.ts'
import { createNativeSigner, createNativeVerifier } from '../../../src/platform/ed25519Native.ts'

// RFC 8032 section 7.1, tests 1-3.
const vectors = [
  {
    secret: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b'
  },
  {
    secret: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00'
  },
  {
    secret: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    publicKey: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    message: 'af82',
    signature:
      '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a'
  }
]

const nativeVerifier = createNativeVerifier()

t.test('RFC 8032 vectors: noble and node:crypto derive, sign and verify identically', async (t) => {
  for (const [i, v] of vectors.entries()) {
    const secret = hexToBytes(v.secret)
    const message = hexToBytes(v.message)
    t.equal(bytesToHex(keyPairFromSecret(secret).publicKey), v.publicKey, `vector ${i + 1}: public key`)
    t.equal(bytesToHex(createPortableSigner(secret).sign(message)), v.signature, `vector ${i + 1}: noble signature`)
    t.equal(bytesToHex(createNativeSigner(secret).sign(message)), v.signature, `vector ${i + 1}: native signature`)
    const publicKey = hexToBytes(v.publicKey)
    const signature = hexToBytes(v.signature)
    t.ok(portableVerifier.verify(publicKey, message, signature), `vector ${i + 1}: noble verifies`)
    t.ok(nativeVerifier.verify(publicKey, message, signature), `vector ${i + 1}: native verifies`)
  }
})

t.test('random keys: both verifiers agree on valid, altered and foreign signatures', async (t) => {
  for (let i = 0; i < 50; i++) {
    const signer = createNativeSigner(new Uint8Array(randomBytes(32)))
    const other = createPortableSigner(new Uint8Array(randomBytes(32)))
    const message = new Uint8Array(randomBytes(1 + (i % 40)))
    const signature = signer.sign(message)
    const altered = new Uint8Array(signature)
    altered[i % 64]! ^= 1 << (i % 8)
    const alteredMessage = new Uint8Array(message)
    alteredMessage[0]! ^= 1
    const cases: Array<[Uint8Array, Uint8Array, Uint8Array, boolean]> = [
      [signer.publicKey, message, signature, true],
      [signer.publicKey, message, altered, false],
      [signer.publicKey, alteredMessage, signature, false],
      [other.publicKey, message, signature, false]
    ]
    for (const [publicKey, m, s, expected] of cases) {
      t.equal(portableVerifier.verify(publicKey, m, s), expected)
      t.equal(nativeVerifier.verify(publicKey, m, s), expected)
    }
  }
})

t.test('malformed keys and signatures are refused, never thrown', async (t) => {
  const signer = createNativeSigner(new Uint8Array(32).fill(7))
  const message = new Uint8Array([1, 2, 3])
  const signature = signer.sign(message)
  for (const verifier of [portableVerifier, nativeVerifier]) {
    t.equal(verifier.verify(signer.publicKey.subarray(0, 31), message, signature), false, 'short key')
    t.equal(verifier.verify(signer.publicKey, message, signature.subarray(0, 63)), false, 'short signature')
    t.equal(verifier.verify(new Uint8Array(32).fill(0xff), message, signature), false, 'key off the curve')
  }
})
