/**
 * Modeled signatures, for simulations at a scale where real Ed25519 would dominate the run. A
 * modeled signature is a keyed hash: signature = SHA-256(secret || 0 || message) || SHA-256(secret
 * || 1 || message), and the public key is SHA-256("corridor.modeled-key" || secret). Only the
 * simulator, which derived every key, can verify: it looks the secret up by public key. So a
 * forged signature (made without the secret), an altered message and a transaction replayed on
 * another chain all fail, as with Ed25519, at a fraction of the cost. What a signature costs in
 * time is modeled separately (network.verifyCost).
 */
import { createHash } from 'node:crypto'
import { bytesToHex } from '../protocol/bytes.ts'
import type { SignatureVerifier, Signer } from '../protocol/keys.ts'

const registry = new Map<string, Uint8Array>()

function digest(parts: readonly Uint8Array[]): Uint8Array {
  const hash = createHash('sha256')
  for (const part of parts) hash.update(part)
  return new Uint8Array(hash.digest())
}

const keyTag = new TextEncoder().encode('corridor.modeled-key')

export function createModeledSigner(secretKey: Uint8Array): Signer {
  const publicKey = digest([keyTag, secretKey])
  registry.set(bytesToHex(publicKey), secretKey)
  return {
    publicKey,
    sign(message) {
      const signature = new Uint8Array(64)
      signature.set(digest([secretKey, new Uint8Array([0]), message]), 0)
      signature.set(digest([secretKey, new Uint8Array([1]), message]), 32)
      return signature
    }
  }
}

/** Verifies modeled signatures of keys made by `createModeledSigner` in this process. */
export const modeledVerifier: SignatureVerifier = {
  verify(publicKey, message, signature) {
    if (signature.length !== 64) return false
    const secret = registry.get(bytesToHex(publicKey))
    if (secret === undefined) return false
    const first = digest([secret, new Uint8Array([0]), message])
    for (let i = 0; i < 32; i++) if (first[i] !== signature[i]) return false
    const second = digest([secret, new Uint8Array([1]), message])
    for (let i = 0; i < 32; i++) if (second[i] !== signature[32 + i]) return false
    return true
  }
}
