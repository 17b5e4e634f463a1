/**
 * A signature verifier that verifies each (public key, message, signature) once per process. One
 * instance is shared by everything in a process that checks consensus signatures (in a simulation:
 * every simulated validator), so a vote relayed ten times, or checked again in a certificate, costs
 * one verification. Only successes are cached, so a forged signature can never be remembered as
 * valid; the cache is bounded and forgets its older entries first.
 */
import { BoundedCache } from '../protocol/boundedCache.ts'
import { bytesToHex } from '../protocol/bytes.ts'
import type { SignatureVerifier } from '../protocol/keys.ts'

export interface CachingVerifier extends SignatureVerifier {
  /** Verifications that reached the inner verifier. */
  readonly misses: number
  readonly hits: number
}

export function createCachingVerifier(inner: SignatureVerifier, entriesMax = 200_000): CachingVerifier {
  // Bounded with the older half forgotten in bulk: a Set used as a FIFO degrades in V8 (see BoundedCache).
  const verified = new BoundedCache<string, true>(entriesMax)
  let misses = 0
  let hits = 0
  return {
    verify(publicKey, message, signature) {
      const key = bytesToHex(signature) + bytesToHex(publicKey) + bytesToHex(message)
      if (verified.has(key)) {
        hits++
        return true
      }
      misses++
      const ok = inner.verify(publicKey, message, signature)
      if (ok) verified.set(key, true)
      return ok
    },
    get misses() {
      return misses
    },
    get hits() {
      return hits
    }
  }
}
