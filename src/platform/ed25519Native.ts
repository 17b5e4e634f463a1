/**
 * Native Ed25519 on node:crypto (OpenSSL): about ten times faster than @noble/curves here, and
 * it takes the same raw 32-byte keys and 64-byte signatures. Used on hot paths by the node and
 * the simulator; injected into the core through `SignatureVerifier` and `Signer`.
 */
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto'
import type { SignatureVerifier, Signer } from '../protocol/keys.ts'
import { keyPairFromSecret, publicKeyBytesLength, signatureBytesLength } from '../protocol/keys.ts'
import { bytesToHex } from '../protocol/bytes.ts'

// DER prefixes that wrap a raw Ed25519 key as SPKI (public) and PKCS#8 (private).
const spkiPrefix = Buffer.from('302a300506032b6570032100', 'hex')
const pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex')

export interface NativeVerifier extends SignatureVerifier {
  /**
   * Parses keys ahead of their first signature (the accounts of a genesis at start): a parse costs
   * about as much as a verification, and a node meeting thousands of customers for the first time
   * under load would pay both at once. Fills at most half the cache.
   */
  preload(publicKeys: Iterable<Uint8Array>): number
}

/** Bounded cache of parsed public keys: parsing costs about as much as a verification. */
export function createNativeVerifier(cacheEntriesMax = 100_000): NativeVerifier {
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

export function createNativeSigner(secretKey: Uint8Array): Signer {
  const { publicKey } = keyPairFromSecret(secretKey)
  const key = createPrivateKey({ key: Buffer.concat([pkcs8Prefix, secretKey]), format: 'der', type: 'pkcs8' })
  return {
    publicKey,
    sign: (message) => new Uint8Array(nodeSign(null, message, key))
  }
}
