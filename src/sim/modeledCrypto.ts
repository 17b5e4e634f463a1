/**
 * Modeled signatures, for simulations at a scale where real Ed25519 would dominate the run. A
 * modeled signature is a keyed hash: signature = SHA-512(secret || message), 64 bytes like an
 * Ed25519 signature from one hash, and the public key is SHA-256("corridor.modeled-key" ||
 * secret). The secret is a fixed 32 bytes, so secret and message cannot be split two ways. Only the
 * simulator, which derived every key, can verify: it looks the secret up by public key. So a
 * forged signature (made without the secret), an altered message and a transaction replayed on
 * another chain all fail, as with Ed25519, at a fraction of the cost. What a signature costs in
 * time is modeled separately (network.verifyCost).
 *
 * A signature made in this process is remembered with the message object it signed (transaction
 * envelopes keep their signing bytes), so checking it against that same message, unaltered, skips
 * the hash: a forged signature is a new object, and an altered or replayed transaction brings other
 * signing bytes, so both still take the full check and fail.
 */
import { createHash } from 'node:crypto'
import { bytesToHex } from '../protocol/bytes.ts'
import type { SignatureVerifier, Signer } from '../protocol/keys.ts'

const registry = new Map<string, Uint8Array>()

interface Issued {
  readonly message: Uint8Array
  readonly publicKey: Uint8Array
  /** A copy of the signature as issued, so one altered in place is not taken for it. */
  readonly signature: Uint8Array
}

const issued = new WeakMap<Uint8Array, Issued>()

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function digest(parts: readonly Uint8Array[]): Uint8Array {
  const hash = createHash('sha256')
  for (const part of parts) hash.update(part)
  return new Uint8Array(hash.digest())
}

const keyTag = new TextEncoder().encode('corridor.modeled-key')

function keyedHash(secret: Uint8Array, message: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha512').update(secret).update(message).digest())
}

const tagBytes = new Map<string, Uint8Array>()

/**
 * `hashTagged` of protocol/hash.ts (SHA-256 of the tag, a zero byte and the bytes) on node:crypto:
 * the same bytes, several times faster than the portable implementation the core uses. The
 * simulator hashes its transaction ids and block payloads with it.
 */
export function nativeHashTagged(tag: string, bytes: Uint8Array): Uint8Array {
  let prefix = tagBytes.get(tag)
  if (prefix === undefined) {
    prefix = new Uint8Array([...new TextEncoder().encode(tag), 0])
    tagBytes.set(tag, prefix)
  }
  return new Uint8Array(createHash('sha256').update(prefix).update(bytes).digest())
}

export function createModeledSigner(secretKey: Uint8Array): Signer {
  if (secretKey.length !== 32) throw new RangeError(`a modeled secret key is 32 bytes, got ${secretKey.length}`)
  const publicKey = digest([keyTag, secretKey])
  registry.set(bytesToHex(publicKey), secretKey)
  return {
    publicKey,
    sign(message) {
      const signature = keyedHash(secretKey, message)
      issued.set(signature, { message, publicKey, signature: signature.slice() })
      return signature
    }
  }
}

/** Verifies modeled signatures of keys made by `createModeledSigner` in this process. */
export const modeledVerifier: SignatureVerifier = {
  verify(publicKey, message, signature) {
    if (signature.length !== 64) return false
    const known = issued.get(signature)
    if (known !== undefined && known.message === message && (known.publicKey === publicKey || sameBytes(known.publicKey, publicKey)) && sameBytes(known.signature, signature)) return true
    const secret = registry.get(bytesToHex(publicKey))
    if (secret === undefined) return false
    const expected = keyedHash(secret, message)
    for (let i = 0; i < 64; i++) if (expected[i] !== signature[i]) return false
    return true
  }
}
