/**
 * Admission of transactions: decode the envelope, check the body once, check the signature once.
 * One `AdmissionCache` serves a whole process — in a simulation, every simulated validator — so a
 * transaction's signature is verified once per process, however many replicas see it, and a batch
 * or block delivered as the same bytes object to many replicas is decoded once.
 */
import { BoundedCache } from '../../protocol/boundedCache.ts'
import { bytesToHex } from '../../protocol/bytes.ts'
import { decode, encode, type Encodable } from '../../protocol/encoding.ts'
import { CorridorError } from '../../protocol/errors.ts'
import { protocolLimits } from '../../protocol/limits.ts'
import { transactionDomainTag, transactionFromTuple, verifyTransactionSignature, type TransactionEnvelope } from '../../protocol/envelope.ts'
import type { SignatureVerifier } from '../../protocol/keys.ts'
import { admitTransaction, type AdmittedTransaction } from '../../ledger/transactions.ts'

export type AdmissionErrorCode = 'MALFORMED' | 'BAD_SIGNATURE' | 'WRONG_CHAIN' | 'INVALID_BODY'

export type Admission =
  | { readonly ok: true; readonly tx: AdmittedTransaction; readonly encodedBytes: number }
  | { readonly ok: false; readonly code: AdmissionErrorCode; readonly message: string; readonly id: string | undefined }

export interface AdmissionCacheOptions {
  readonly chainId: string
  readonly verifier: SignatureVerifier
  /** Admitted transactions remembered (the older half forgotten in bulk; see BoundedCache). */
  readonly entriesMax?: number
}

export class AdmissionCache {
  readonly chainId: string
  private readonly verifier: SignatureVerifier
  private readonly byId: BoundedCache<string, Admission>
  private readonly byTuple = new WeakMap<object, Admission>()
  /** Admitted transactions by 31 bits of their signature (signatureKey), to recognize a known transaction in a new tuple. */
  private readonly bySignature: BoundedCache<number, Admission & { ok: true }>
  private readonly batches = new WeakMap<Uint8Array, readonly Admission[] | AdmissionError>()
  /** Admitted block payloads by payload object; null for a payload that does not admit. */
  private readonly payloads = new WeakMap<readonly Encodable[], readonly AdmittedTransaction[] | null>()
  /** Signature verifications actually performed (the rest were cache hits). */
  verifications = 0
  hits = 0

  constructor(options: AdmissionCacheOptions) {
    this.chainId = options.chainId
    this.verifier = options.verifier
    const entriesMax = options.entriesMax ?? 1_000_000
    this.byId = new BoundedCache(entriesMax)
    this.bySignature = new BoundedCache(entriesMax)
  }

  /** Admits an envelope that was built or decoded already (a client submission). */
  admitEnvelope(envelope: TransactionEnvelope): Admission {
    const cached = this.byId.get(envelope.id)
    if (cached !== undefined && cached.ok && cached.tx.envelope.signature.length === envelope.signature.length && sameBytes(cached.tx.envelope.signature, envelope.signature)) {
      this.hits++
      return cached
    }
    return this.remember(envelope.id, this.check(envelope))
  }

  /** Admits a transaction tuple from a block payload or a gossip batch. */
  admitTuple(tuple: Encodable): Admission {
    if (typeof tuple === 'object' && tuple !== null) {
      const cached = this.byTuple.get(tuple)
      if (cached !== undefined) {
        this.hits++
        return cached
      }
    }
    // A tuple carrying the signature of a transaction admitted before, and the same fields, is
    // that transaction: its id (a hash of the same signing bytes) and every check would come out
    // the same. Blocks and gossip batches decoded afresh carry new tuples of known transactions;
    // recognizing them skips hashing the signing bytes again.
    const known = this.knownTuple(tuple)
    if (known !== undefined) {
      this.hits++
      this.byTuple.set(tuple as object, known)
      return known
    }
    let envelope: TransactionEnvelope
    try {
      envelope = transactionFromTuple(tuple)
    } catch (error) {
      return { ok: false, code: 'MALFORMED', message: error instanceof CorridorError ? error.message : String(error), id: undefined }
    }
    const admission = this.admitEnvelope(envelope)
    if (typeof tuple === 'object' && tuple !== null) this.byTuple.set(tuple, admission)
    return admission
  }

  /**
   * Admits a block payload (a list of transaction tuples): its transactions, or undefined when one
   * is malformed, forged or appears twice. Memoized per payload object: every replica of a process
   * processes the same decoded payload (the result is shared, so callers must not modify it).
   */
  admitPayload(payload: readonly Encodable[]): readonly AdmittedTransaction[] | undefined {
    const cached = this.payloads.get(payload)
    if (cached !== undefined) return cached ?? undefined
    const txs: AdmittedTransaction[] = []
    const seen = new Set<string>()
    let result: readonly AdmittedTransaction[] | null = txs
    for (const tuple of payload) {
      const admission = this.admitTuple(tuple)
      if (!admission.ok || seen.has(admission.tx.id)) {
        result = null
        break
      }
      seen.add(admission.tx.id)
      txs.push(admission.tx)
    }
    this.payloads.set(payload, result)
    return result ?? undefined
  }

  /**
   * Decodes and admits a gossip batch (an array of transaction tuples). Throws AdmissionError when
   * the batch itself is malformed; individual bad transactions come back as failed admissions.
   */
  admitBatch(bytes: Uint8Array, transactionsMax: number, bytesMax: number): readonly Admission[] {
    const cached = this.batches.get(bytes)
    if (cached instanceof AdmissionError) throw cached
    if (cached !== undefined) return cached
    let result: readonly Admission[] | AdmissionError
    try {
      const value = decode(bytes, { bytesMax })
      if (!Array.isArray(value)) throw new AdmissionError('MALFORMED', 'a transaction batch is an array of transactions')
      if (value.length > transactionsMax) throw new AdmissionError('MALFORMED', `a transaction batch holds at most ${transactionsMax} transactions, got ${value.length}`)
      result = value.map((tuple) => this.admitTuple(tuple))
    } catch (error) {
      result = error instanceof AdmissionError ? error : new AdmissionError('MALFORMED', error instanceof CorridorError ? error.message : String(error))
    }
    this.batches.set(bytes, result)
    if (result instanceof AdmissionError) throw result
    return result
  }

  private check(envelope: TransactionEnvelope): Admission {
    if (envelope.chainId !== this.chainId) {
      return { ok: false, code: 'WRONG_CHAIN', message: `transaction is for chain ${envelope.chainId}, this network is ${this.chainId}`, id: envelope.id }
    }
    this.verifications++
    if (!verifyTransactionSignature(envelope, this.verifier)) {
      return { ok: false, code: 'BAD_SIGNATURE', message: `signature of ${envelope.id.slice(0, 16)} by ${envelope.signer} does not verify`, id: envelope.id }
    }
    let tx: AdmittedTransaction
    try {
      tx = admitTransaction(envelope)
    } catch (error) {
      return { ok: false, code: 'INVALID_BODY', message: error instanceof CorridorError ? `${error.code}: ${error.message}` : String(error), id: envelope.id }
    }
    const encodedBytes = encodedTransactionBytes(envelope)
    if (encodedBytes > protocolLimits.transactionBytesMax) {
      return { ok: false, code: 'MALFORMED', message: `transaction is ${encodedBytes} bytes, more than ${protocolLimits.transactionBytesMax}`, id: envelope.id }
    }
    return { ok: true, tx, encodedBytes }
  }

  private remember(id: string, admission: Admission): Admission {
    // Only successes are remembered by id: a forged copy of a valid id must never hit the cache
    // (the signature is compared on every hit above).
    if (admission.ok) {
      this.byId.set(id, admission)
      this.bySignature.set(signatureKey(admission.tx.envelope.signature), admission)
    }
    return admission
  }

  /** The admitted transaction a tuple is a copy of, field for field, if any. */
  private knownTuple(tuple: Encodable): (Admission & { ok: true }) | undefined {
    if (!Array.isArray(tuple) || tuple.length !== 6) return undefined
    const signature = tuple[5]
    if (!(signature instanceof Uint8Array) || signature.length < 16) return undefined
    const known = this.bySignature.get(signatureKey(signature))
    if (known === undefined) return undefined
    const envelope = known.tx.envelope
    const [chainId, signer, publicKey, nonce, body] = tuple as readonly Encodable[]
    if (chainId !== envelope.chainId || signer !== envelope.signer || nonce !== envelope.nonce) return undefined
    if (!(publicKey instanceof Uint8Array) || !sameBytes(publicKey, envelope.publicKey) || !sameBytes(signature, envelope.signature)) return undefined
    return sameValue(body!, envelope.body) ? known : undefined
  }

  /** True when the transaction's signature was verified valid in this process. */
  signatureVerified(envelope: TransactionEnvelope): boolean {
    const cached = this.byId.get(envelope.id)
    if (cached !== undefined && cached.ok && sameBytes(cached.tx.envelope.signature, envelope.signature)) return true
    return this.admitEnvelope(envelope).ok
  }
}

export class AdmissionError extends CorridorError<AdmissionErrorCode> {
  constructor(code: AdmissionErrorCode, message: string) {
    super(code, message)
    this.name = 'AdmissionError'
  }
}

/**
 * The length of `encodeTransaction(envelope)` without encoding it again: the transaction tuple
 * `[chainId, signer, publicKey, nonce, body, signature]` and the signing tuple `[tag, chainId,
 * signer, publicKey, nonce, body]` are both six-element arrays sharing five encoded fields, so they
 * differ by the tag's encoding and the signature's (checked against encodeTransaction in the tests).
 */
export function encodedTransactionBytes(envelope: TransactionEnvelope): number {
  let signatureBytes = signatureFieldBytes.get(envelope.signature.length)
  if (signatureBytes === undefined) {
    signatureBytes = encode(new Uint8Array(envelope.signature.length)).length
    signatureFieldBytes.set(envelope.signature.length, signatureBytes)
  }
  return envelope.signingBytes.length - tagFieldBytes + signatureBytes
}

const tagFieldBytes = encode(transactionDomainTag).length
const signatureFieldBytes = new Map<number, number>()

/**
 * 31 bits of a signature, as a small integer: a Map finds a small-integer key far faster than a
 * hex string, which also had to be built for every lookup. Two signatures sharing the bits only
 * make the later one replace the earlier one in the cache (a lookup compares the whole signature
 * and every field, and a miss takes the full path), never a false match.
 */
function signatureKey(signature: Uint8Array): number {
  return signature[0]! | (signature[1]! << 8) | (signature[2]! << 16) | ((signature[3]! & 0x7f) << 24)
}

/** Deep equality of canonical values (what encode would make equal bytes of). */
function sameValue(a: Encodable, b: Encodable): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (a instanceof Uint8Array) return b instanceof Uint8Array && sameBytes(a, b)
  if (b instanceof Uint8Array) return false
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i]!, b[i]!)) return false
    return true
  }
  if (Array.isArray(b)) return false
  const keysA = Object.keys(a)
  const keysB = Object.keys(b)
  if (keysA.length !== keysB.length) return false
  for (let i = 0; i < keysA.length; i++) {
    const key = keysA[i]!
    if (key !== keysB[i] || !sameValue((a as Record<string, Encodable>)[key]!, (b as Record<string, Encodable>)[key]!)) return false
  }
  return true
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
