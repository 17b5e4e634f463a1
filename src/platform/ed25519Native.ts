/**
 * Native Ed25519 for hot paths, injected into the core through `SignatureVerifier` and `Signer`.
 * Two backends, the same raw 32-byte keys and 64-byte signatures as the portable @noble/curves code:
 *
 * - libsodium (sodium-native, prebuilt, loaded without install scripts): verification about 58 µs
 *   here, signing 20 µs. The default wherever its prebuilt binary loads.
 * - OpenSSL (node:crypto): verification about 113 µs, signing 38 µs. The fallback.
 *
 * Validators must agree on which signatures are valid, whatever their backend. Both check
 * cofactorless and compare R's bytes; libsodium also refuses a non-canonical S, a public key that
 * is not canonically encoded or of small order, and an R of small order. The OpenSSL path applies
 * those same refusals first (`strictEncodingProblem`), so the two accept exactly the same
 * signatures (tested against each other on crafted inputs).
 */
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto'
import { createRequire } from 'node:module'
import type { SignatureVerifier, Signer } from '../protocol/keys.ts'
import { checkSecretKey, keyPairFromSecret, publicKeyBytesLength, signatureBytesLength } from '../protocol/keys.ts'
import { bytesToHex } from '../protocol/bytes.ts'

export type Ed25519Backend = 'libsodium' | 'openssl'

/** The part of sodium-native used here. */
interface Sodium {
  crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean
  crypto_sign_detached(signature: Uint8Array, message: Uint8Array, secretKey: Uint8Array): void
  crypto_sign_seed_keypair(publicKey: Uint8Array, secretKey: Uint8Array, seed: Uint8Array): void
}

function loadSodium(): Sodium | undefined {
  if (process.env.CORRIDOR_ED25519 === 'openssl') return undefined
  try {
    return createRequire(import.meta.url)('sodium-native') as Sodium
  } catch {
    // No prebuilt binary for this platform: OpenSSL, with the same acceptance rule.
    return undefined
  }
}

const sodium = loadSodium()

/** The backend `createNativeVerifier` and `createNativeSigner` use by default. */
export const defaultEd25519Backend: Ed25519Backend = sodium === undefined ? 'openssl' : 'libsodium'

function sodiumOrThrow(): Sodium {
  if (sodium === undefined) throw new Error('libsodium (sodium-native) is not available on this platform; use the openssl backend')
  return sodium
}

// The group order L, little-endian: S must be below it.
const groupOrder = Uint8Array.from(Buffer.from('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010', 'hex'))

/**
 * Encodings of the points of small order, as y-coordinates with the sign bit ignored (libsodium's
 * list): 0 (order 4), 1 (the identity), the two y of order 8, p - 1 (order 2), and p and p + 1
 * (0 and 1 written non-canonically).
 */
const smallOrderEncodings = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'
].map((hex) => Uint8Array.from(Buffer.from(hex, 'hex')))

function hasSmallOrder(encoded: Uint8Array, offset: number): boolean {
  for (const candidate of smallOrderEncodings) {
    let same = (encoded[offset + 31]! & 0x7f) === candidate[31]
    for (let i = 0; same && i < 31; i++) same = encoded[offset + i] === candidate[i]
    if (same) return true
  }
  return false
}

/** y < p = 2^255 - 19, the sign bit ignored. */
function isCanonicalPoint(encoded: Uint8Array): boolean {
  if ((encoded[31]! & 0x7f) !== 0x7f) return true
  for (let i = 30; i >= 1; i--) if (encoded[i] !== 0xff) return true
  return encoded[0]! < 0xed
}

/** S < L, compared from the most significant byte. */
function isCanonicalScalar(signature: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    const s = signature[32 + i]!
    const l = groupOrder[i]!
    if (s !== l) return s < l
  }
  return false
}

/**
 * Why libsodium would refuse this key and signature before any arithmetic, or undefined. The
 * OpenSSL path applies it so both backends accept the same signatures.
 */
export function strictEncodingProblem(publicKey: Uint8Array, signature: Uint8Array): string | undefined {
  if (!isCanonicalScalar(signature)) return 'S is not below the group order'
  if (hasSmallOrder(signature, 0)) return 'R has small order'
  if (!isCanonicalPoint(publicKey)) return 'the public key is not canonically encoded'
  if (hasSmallOrder(publicKey, 0)) return 'the public key has small order'
  return undefined
}

// DER prefixes that wrap a raw Ed25519 key as SPKI (public) and PKCS#8 (private).
const spkiPrefix = Buffer.from('302a300506032b6570032100', 'hex')
const pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex')

export interface NativeVerifier extends SignatureVerifier {
  readonly backend: Ed25519Backend
  /**
   * Parses keys ahead of their first signature (the accounts of a genesis at start): on OpenSSL a
   * parse costs about as much as a verification, and a node meeting thousands of customers for
   * the first time under load would pay both at once. Fills at most half the cache. libsodium
   * parses nothing ahead (returns 0).
   */
  preload(publicKeys: Iterable<Uint8Array>): number
}

export interface NativeOptions {
  readonly backend?: Ed25519Backend
  /** Parsed public keys kept by the OpenSSL backend. */
  readonly cacheEntriesMax?: number
}

export function createNativeVerifier(options: NativeOptions = {}): NativeVerifier {
  const backend = options.backend ?? defaultEd25519Backend
  if (backend === 'libsodium') {
    const lib = sodiumOrThrow()
    return {
      backend,
      preload: () => 0,
      verify(publicKey, message, signature) {
        if (publicKey.length !== publicKeyBytesLength || signature.length !== signatureBytesLength) return false
        try {
          return lib.crypto_sign_verify_detached(signature, message, publicKey)
        } catch {
          return false
        }
      }
    }
  }
  return createOpenSslVerifier(options.cacheEntriesMax ?? 100_000)
}

/** Bounded cache of parsed public keys: parsing costs about as much as a verification. */
function createOpenSslVerifier(cacheEntriesMax: number): NativeVerifier {
  const cache = new Map<string, KeyObject | null>()
  function keyObject(publicKey: Uint8Array): KeyObject | null {
    const cacheKey = bytesToHex(publicKey)
    let key = cache.get(cacheKey)
    if (key === undefined) {
      try {
        key = createPublicKey({ key: Buffer.concat([spkiPrefix, publicKey]), format: 'der', type: 'spki' })
      } catch {
        key = null
      }
      if (cache.size >= cacheEntriesMax) cache.delete(cache.keys().next().value as string)
      cache.set(cacheKey, key)
    }
    return key
  }
  return {
    backend: 'openssl',
    preload(publicKeys) {
      let loaded = 0
      for (const publicKey of publicKeys) {
        if (cache.size * 2 >= cacheEntriesMax) break
        if (publicKey.length !== publicKeyBytesLength) continue
        keyObject(publicKey)
        loaded++
      }
      return loaded
    },
    verify(publicKey, message, signature) {
      if (publicKey.length !== publicKeyBytesLength || signature.length !== signatureBytesLength) return false
      if (strictEncodingProblem(publicKey, signature) !== undefined) return false
      const key = keyObject(publicKey)
      if (key === null) return false
      try {
        return nodeVerify(null, message, key, signature)
      } catch {
        return false
      }
    }
  }
}

export function createNativeSigner(secretKey: Uint8Array, backend: Ed25519Backend = defaultEd25519Backend): Signer {
  if (backend === 'libsodium') {
    checkSecretKey(secretKey)
    const lib = sodiumOrThrow()
    // The key pair from libsodium: deriving it on @noble/curves took about 1 ms a key, which a
    // node holding its customers' keys paid for each of them at start.
    const expanded = new Uint8Array(64)
    const publicKey = new Uint8Array(publicKeyBytesLength)
    lib.crypto_sign_seed_keypair(publicKey, expanded, secretKey)
    return {
      publicKey,
      sign(message) {
        const signature = new Uint8Array(signatureBytesLength)
        lib.crypto_sign_detached(signature, message, expanded)
        return signature
      }
    }
  }
  const { publicKey } = keyPairFromSecret(secretKey)
  const key = createPrivateKey({ key: Buffer.concat([pkcs8Prefix, secretKey]), format: 'der', type: 'pkcs8' })
  return {
    publicKey,
    sign: (message) => new Uint8Array(nodeSign(null, message, key))
  }
}
