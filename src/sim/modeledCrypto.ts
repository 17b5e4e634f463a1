/**
 * Modeled signatures, for simulations at a scale where real Ed25519 would dominate the run. A
 * modeled signature is a 64-byte hash of the message keyed by a 32-byte secret (keyedHash below),
 * as long as an Ed25519 signature, and the public key is SHA-256("corridor.modeled-key" ||
 * secret). Only the
 * simulator, which derived every key, can verify: it looks the secret up by public key. So a
 * forged signature (made without the secret), an altered message and a transaction replayed on
 * another chain all fail, as with Ed25519, at a fraction of the cost. What a signature costs in
 * time is modeled separately (network.verifyCost).
 *
 * A signature made in this process is remembered with the message object it signed (transaction
 * envelopes keep their signing bytes), so checking it against that same message, unaltered, skips
 * the hash: a forged signature is a new object, and an altered or replayed transaction brings other
 * signing bytes, so both still take the full check and fail. Signatures the workload worker made
 * (workloadFeed.ts) are remembered the same way, a chunk at a time, when the simulation thread
 * unpacks them (`recordIssuedChunk`): the worker derives the same secrets from the scenario and
 * signs with keyedHash, like any signer here, and the simulation thread checks one signature of
 * every chunk in full before it records the chunk's.
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

const seedTag = new TextEncoder().encode('corridor.modeled-seed')

/** Secret -> its four 32-bit chain seeds. */
const seeds = new WeakMap<Uint8Array, Uint32Array>()

function seedsOf(secret: Uint8Array): Uint32Array {
  let seed = seeds.get(secret)
  if (seed === undefined) {
    // Another tag than the public key's, which is SHA-256(keyTag || secret) and public.
    const digest = createHash('sha256').update(seedTag).update(secret).digest()
    seed = new Uint32Array([digest.readUInt32LE(0), digest.readUInt32LE(4), digest.readUInt32LE(8), digest.readUInt32LE(12)])
    seeds.set(secret, seed)
  }
  return seed
}

function finalMix(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/**
 * The modeled signature: a keyed 64-byte hash of the message in plain JavaScript (a native hash
 * object and its buffers per signature cost more than the hashing). Four 32-bit chains seeded
 * from the secret each take every 32-bit word of the message and its length; each step is a
 * bijection of the chain, so any change to the message changes every chain, and a signature made
 * for one message (or made up) matches another with a chance of about 2^-128. It is not meant to
 * resist someone computing forgeries, which no simulated behaviour does: Byzantine nodes flip
 * signature bits or replay transactions, and both fail the check.
 */
function keyedHash(secret: Uint8Array, message: Uint8Array): Uint8Array {
  const seed = seedsOf(secret)
  let a = seed[0]!
  let b = seed[1]!
  let c = seed[2]!
  let d = seed[3]!
  const length = message.length
  for (let i = 0; i < length; i += 4) {
    const w = (message[i]! | ((message[i + 1] ?? 0) << 8) | ((message[i + 2] ?? 0) << 16) | ((message[i + 3] ?? 0) << 24)) >>> 0
    a = (Math.imul(((a ^ w) << 13) | ((a ^ w) >>> 19), 5) + 0xe6546b64) | 0
    b = (Math.imul(((b ^ w) << 17) | ((b ^ w) >>> 15), 9) + 0x7f4a7c15) | 0
    c = (Math.imul(((c + w) << 11) | ((c + w) >>> 21), 0x27d4eb2d | 1) ^ 0x165667b1) | 0
    d = (Math.imul(((d ^ w) << 7) | ((d ^ w) >>> 25), 0x9e3779b1) + 0x61c88647) | 0
  }
  a ^= length
  b ^= length
  c ^= length
  d ^= length
  const out = takeSignatureBytes()
  for (let i = 0; i < 16; i++) {
    const word = finalMix((a + Math.imul(i + 1, 0x9e3779b9)) ^ finalMix(b + i) ^ Math.imul(finalMix(c ^ Math.imul(i, 0x85ebca6b)), 3) ^ finalMix(d + Math.imul(i, 0xc2b2ae35)))
    out[4 * i] = word & 0xff
    out[4 * i + 1] = (word >>> 8) & 0xff
    out[4 * i + 2] = (word >>> 16) & 0xff
    out[4 * i + 3] = word >>> 24
  }
  return out
}

/**
 * Signatures (and the copies `issued` keeps) are carved out of shared blocks instead of each
 * getting an ArrayBuffer of its own: the garbage collector tracks every ArrayBuffer one by one,
 * and a simulation makes two per transfer. A block lives while any signature in it does.
 */
const signatureBlockBytes = 64 * 1024
let signatureBlock = new Uint8Array(signatureBlockBytes)
let signatureBlockUsed = 0

function takeSignatureBytes(): Uint8Array {
  if (signatureBlockUsed + 64 > signatureBlockBytes) {
    signatureBlock = new Uint8Array(signatureBlockBytes)
    signatureBlockUsed = 0
  }
  const out = signatureBlock.subarray(signatureBlockUsed, signatureBlockUsed + 64)
  signatureBlockUsed += 64
  return out
}

const tagBytes = new Map<string, Uint8Array>()

/**
 * `hashTagged` of protocol/hash.ts (SHA-256 of the tag, a zero byte and the bytes) on node:crypto:
 * the same bytes, several times faster than the portable implementation the core uses. The
 * simulator hashes its transaction ids and block payloads with it.
 */
function tagPrefix(tag: string): Uint8Array {
  let prefix = tagBytes.get(tag)
  if (prefix === undefined) {
    prefix = new Uint8Array([...new TextEncoder().encode(tag), 0])
    tagBytes.set(tag, prefix)
  }
  return prefix
}

export function nativeHashTagged(tag: string, bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(tagPrefix(tag)).update(bytes).digest())
}

/** `bytesToHex(nativeHashTagged(tag, bytes))`, without the bytes in between (transaction ids). */
export function nativeHashTaggedHex(tag: string, bytes: Uint8Array): string {
  return createHash('sha256').update(tagPrefix(tag)).update(bytes).digest('hex')
}

export function createModeledSigner(secretKey: Uint8Array): Signer {
  if (secretKey.length !== 32) throw new RangeError(`a modeled secret key is 32 bytes, got ${secretKey.length}`)
  const publicKey = digest([keyTag, secretKey])
  registry.set(bytesToHex(publicKey), secretKey)
  return {
    publicKey,
    sign(message) {
      const signature = keyedHash(secretKey, message)
      const copy = takeSignatureBytes()
      copy.set(signature)
      issued.set(signature, { message, publicKey, signature: copy })
      return signature
    }
  }
}

/**
 * Signatures made with modeled keys on another thread of this process (the workload worker) and
 * received in one buffer with the messages they sign, remembered as if signed here, so checking
 * one against that same message view takes the fast path. One record per buffer rather than a
 * WeakMap entry per signature: at a million transfers the entries cost more than the check they
 * save, in the setting and in every full garbage collection that walks them.
 */
class IssuedChunk {
  /** Byte offsets of the recorded signatures in the buffer, increasing, then their messages' offsets and lengths. */
  private readonly signatureOffsets: Int32Array
  private readonly messageOffsets: Int32Array
  private readonly messageLengths: Int32Array
  private readonly publicKeys: Uint8Array[] = []
  /** Copies of the signatures as issued, so one altered in place is not taken for them. */
  private readonly copies: Uint8Array
  private count = 0

  constructor(
    private readonly buffer: ArrayBufferLike,
    private readonly capacity: number
  ) {
    this.signatureOffsets = new Int32Array(capacity)
    this.messageOffsets = new Int32Array(capacity)
    this.messageLengths = new Int32Array(capacity)
    this.copies = new Uint8Array(capacity * 64)
  }

  add(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): void {
    if (signature.buffer !== this.buffer || message.buffer !== this.buffer || signature.length !== 64) throw new RangeError('a recorded signature and its message are views of the chunk, the signature 64 bytes long')
    const index = this.count
    if (index === this.capacity) throw new RangeError(`a chunk records ${this.capacity} signatures at most`)
    const offset = signature.byteOffset
    if (index > 0 && offset <= this.signatureOffsets[index - 1]!) throw new RangeError('the signatures of a chunk are recorded in the order they lie in it')
    this.signatureOffsets[index] = offset
    this.messageOffsets[index] = message.byteOffset
    this.messageLengths[index] = message.length
    this.publicKeys.push(publicKey)
    const copies = this.copies
    const base = 64 * index
    for (let i = 0; i < 64; i++) copies[base + i] = signature[i]!
    this.count = index + 1
  }

  /** Whether `signature` was recorded for exactly this message view and key, unaltered. */
  issued(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    if (message.buffer !== this.buffer) return false
    const offset = signature.byteOffset
    const offsets = this.signatureOffsets
    let low = 0
    let high = this.count - 1
    while (low <= high) {
      const middle = (low + high) >>> 1
      const at = offsets[middle]!
      if (at < offset) low = middle + 1
      else if (at > offset) high = middle - 1
      else {
        if (this.messageOffsets[middle] !== message.byteOffset || this.messageLengths[middle] !== message.length) return false
        const known = this.publicKeys[middle]!
        if (known !== publicKey && !sameBytes(known, publicKey)) return false
        const copies = this.copies
        const base = 64 * middle
        for (let i = 0; i < 64; i++) if (copies[base + i] !== signature[i]) return false
        return true
      }
    }
    return false
  }
}

const issuedChunks = new WeakMap<ArrayBufferLike, IssuedChunk>()

/** Where the signatures of one received buffer are recorded as issued, in the order they lie in it. */
export interface IssuedChunkRecorder {
  add(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): void
}

/**
 * Starts the record of a buffer of signatures made with modeled keys on another thread of this
 * process, and of the messages they sign (views of the same buffer). Only for signatures made by
 * keyedHash with the key's secret: the caller vouches for that (workloadFeed.ts checks a sample in
 * full). What the fast path refuses is unchanged: a forged signature is another object in another
 * buffer, an altered one no longer matches the copy kept here, and an altered or replayed
 * transaction brings other signing bytes, so each takes the full check and fails.
 */
export function recordIssuedChunk(buffer: ArrayBufferLike, signaturesMax: number): IssuedChunkRecorder {
  if (issuedChunks.has(buffer)) throw new RangeError('a buffer of signatures is recorded once')
  const chunk = new IssuedChunk(buffer, signaturesMax)
  issuedChunks.set(buffer, chunk)
  return chunk
}

/** Verifies modeled signatures of keys made by `createModeledSigner` in this process. */
export const modeledVerifier: SignatureVerifier = {
  verify(publicKey, message, signature) {
    if (signature.length !== 64) return false
    const known = issued.get(signature)
    if (known !== undefined) {
      if (known.message === message && (known.publicKey === publicKey || sameBytes(known.publicKey, publicKey)) && sameBytes(known.signature, signature)) return true
    } else if (issuedChunks.get(signature.buffer)?.issued(publicKey, message, signature) === true) return true
    const secret = registry.get(bytesToHex(publicKey))
    if (secret === undefined) return false
    const expected = keyedHash(secret, message)
    for (let i = 0; i < 64; i++) if (expected[i] !== signature[i]) return false
    return true
  }
}
