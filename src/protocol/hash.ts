import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, concatBytes, utf8 } from './bytes.ts'
import { encode, type Encodable } from './encoding.ts'

export const hashBytesLength = 32

export function sha256(bytes: Uint8Array): Uint8Array {
  return nobleSha256(bytes)
}

/**
 * Domain-separated hash: the tag keeps a hash of one kind of structure from ever equalling a hash
 * of another kind over the same bytes.
 */
export function hashTagged(tag: string, bytes: Uint8Array): Uint8Array {
  return nobleSha256(concatBytes(utf8(tag), new Uint8Array([0]), bytes))
}

/** Hash of the canonical encoding of a value, domain-separated by tag. */
export function hashValue(tag: string, value: Encodable): Uint8Array {
  return hashTagged(tag, encode(value))
}

export function hashHex(bytes: Uint8Array): string {
  return bytesToHex(bytes)
}

/** An incremental SHA-256 for hashing many small pieces without building one buffer. */
export function createSha256(): { update(bytes: Uint8Array): void; digest(): Uint8Array } {
  const hasher = nobleSha256.create()
  return {
    update(bytes) {
      hasher.update(bytes)
    },
    digest() {
      return hasher.digest()
    }
  }
}
