import t from 'tap'
import { randomBytes } from 'node:crypto'
import { hexToBytes, bytesToHex } from '../../../src/protocol/bytes.ts'
import { keyPairFromSecret, portableVerifier, createPortableSigner } from '../../../src/protocol/keys.ts'
import { createPublicKey, verify as opensslVerify } from 'node:crypto'
import { createNativeSigner, createNativeVerifier, defaultEd25519Backend, strictEncodingProblem, type Ed25519Backend } from '../../../src/platform/ed25519Native.ts'

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

const backends: Ed25519Backend[] = ['libsodium', 'openssl']
const nativeVerifiers = backends.map((backend) => createNativeVerifier({ backend }))
const nativeVerifier = nativeVerifiers[0]!

const prebuilt = ['linux', 'darwin', 'win32'].includes(process.platform) && ['x64', 'arm64'].includes(process.arch)
t.test('libsodium loads from its prebuilt binary on the platforms it ships for', { skip: prebuilt ? false : `no sodium-native prebuilt binary for ${process.platform}-${process.arch}` }, async (t) => {
  t.equal(defaultEd25519Backend, process.env.CORRIDOR_ED25519 === 'openssl' ? 'openssl' : 'libsodium')
  t.equal(createNativeVerifier().backend, defaultEd25519Backend)
})

t.test('RFC 8032 vectors: noble and node:crypto derive, sign and verify identically', async (t) => {
  for (const [i, v] of vectors.entries()) {
    const secret = hexToBytes(v.secret)
    const message = hexToBytes(v.message)
    t.equal(bytesToHex(keyPairFromSecret(secret).publicKey), v.publicKey, `vector ${i + 1}: public key`)
    t.equal(bytesToHex(createPortableSigner(secret).sign(message)), v.signature, `vector ${i + 1}: noble signature`)
    for (const backend of backends) t.equal(bytesToHex(createNativeSigner(secret, backend).sign(message)), v.signature, `vector ${i + 1}: ${backend} signature`)
    const publicKey = hexToBytes(v.publicKey)
    const signature = hexToBytes(v.signature)
    t.ok(portableVerifier.verify(publicKey, message, signature), `vector ${i + 1}: noble verifies`)
    for (const verifier of nativeVerifiers) t.ok(verifier.verify(publicKey, message, signature), `vector ${i + 1}: ${verifier.backend} verifies`)
  }
})

t.test('random keys: both verifiers agree on valid, altered and foreign signatures', async (t) => {
  for (let i = 0; i < 50; i++) {
    const signer = createNativeSigner(new Uint8Array(randomBytes(32)), backends[i % 2])
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
      for (const verifier of nativeVerifiers) t.equal(verifier.verify(publicKey, m, s), expected, verifier.backend)
    }
  }
})

t.test('malformed keys and signatures are refused, never thrown', async (t) => {
  const signer = createNativeSigner(new Uint8Array(32).fill(7))
  const message = new Uint8Array([1, 2, 3])
  const signature = signer.sign(message)
  for (const verifier of [portableVerifier, ...nativeVerifiers]) {
    t.equal(verifier.verify(signer.publicKey.subarray(0, 31), message, signature), false, 'short key')
    t.equal(verifier.verify(signer.publicKey, message, signature.subarray(0, 63)), false, 'short signature')
    t.equal(verifier.verify(new Uint8Array(32).fill(0xff), message, signature), false, 'key off the curve')
  }
})

const hex = (h: string): Uint8Array => hexToBytes(h)
const identity = hex('0100000000000000000000000000000000000000000000000000000000000000')
const smallOrder = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'
]

t.test('crafted signatures: the OpenSSL path refuses what libsodium refuses', async (t) => {
  const message = new Uint8Array([9, 9, 9])
  // The identity as public key and R with S = 0 satisfies [S]B = R + [k]A for any message:
  // plain OpenSSL accepts it, libsodium refuses a small-order key and R.
  const forged = new Uint8Array(64)
  forged.set(identity, 0)
  const plainOpenSsl = opensslVerify(null, message, createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), identity]), format: 'der', type: 'spki' }), forged)
  t.equal(plainOpenSsl, true, 'plain OpenSSL accepts the forgery (what the strict checks are for)')
  for (const verifier of nativeVerifiers) t.equal(verifier.verify(identity, message, forged), false, `${verifier.backend} refuses it`)
  t.equal(strictEncodingProblem(identity, forged), 'R has small order')

  const signer = createNativeSigner(new Uint8Array(32).fill(3))
  const signature = signer.sign(message)
  for (const [i, encoding] of smallOrder.entries()) {
    for (const signBit of [0, 0x80]) {
      const point = hex(encoding)
      point[31]! |= signBit
      const withR = new Uint8Array(signature)
      withR.set(point, 0)
      const results = nativeVerifiers.map((verifier) => verifier.verify(signer.publicKey, message, withR))
      t.same(results, [false, false], `small-order R ${i} (sign bit ${signBit}) refused by both`)
      const keyResults = nativeVerifiers.map((verifier) => verifier.verify(point, message, signature))
      t.same(keyResults, [false, false], `small-order key ${i} (sign bit ${signBit}) refused by both`)
      t.ok(strictEncodingProblem(point, signature), 'the strict check names it')
    }
  }
  // S + L: the same point arithmetic, a non-canonical scalar.
  const order = 2n ** 252n + 27742317777372353535851937790883648493n
  let s = 0n
  for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(signature[32 + i]!)
  let bumped = s + order
  const malleable = new Uint8Array(signature)
  for (let i = 0; i < 32; i++) {
    malleable[32 + i] = Number(bumped & 0xffn)
    bumped >>= 8n
  }
  t.same(nativeVerifiers.map((verifier) => verifier.verify(signer.publicKey, message, malleable)), [false, false], 'S + L refused by both')
  t.equal(strictEncodingProblem(signer.publicKey, malleable), 'S is not below the group order')
  t.equal(strictEncodingProblem(signer.publicKey, signature), undefined, 'an honest signature passes the strict checks')
})
