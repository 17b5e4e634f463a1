/**
 * Signed transaction envelopes. The signed bytes are the canonical encoding of
 *   ['corridor.tx.v1', chainId, signer, publicKey, nonce, body]
 * so a transaction signed for one network never verifies on another. The envelope carries the
 * signer's public key, which makes signature checking stateless: it runs once per process at
 * admission (cached by transaction id), and the ledger only checks that the key is the one
 * registered for the signer.
 */
import { decode, encode, type Encodable } from './encoding.ts'
import { ProtocolError } from './errors.ts'
import { hashTagged } from './hash.ts'
import { bytesToHex } from './bytes.ts'
import { isValidChainId, isValidId } from './ids.ts'
import { protocolLimits } from './limits.ts'
import { publicKeyBytesLength, signatureBytesLength, type SignatureVerifier, type Signer } from './keys.ts'

export const transactionDomainTag = 'corridor.tx.v1'

export interface UnsignedTransaction {
  readonly chainId: string
  readonly signer: string
  readonly publicKey: Uint8Array
  /** Strictly increasing per signer; a nonce at or below the last one used is a replay. */
  readonly nonce: bigint
  /** The ledger's transaction body as a canonical tuple; protocol/ does not interpret it. */
  readonly body: Encodable
}

export interface SignedTransaction extends UnsignedTransaction {
  readonly signature: Uint8Array
}

/** A transaction with its derived id and signing bytes, computed once. */
export interface TransactionEnvelope extends SignedTransaction {
  /** Hex SHA-256 of the signing bytes; independent of the signature. */
  readonly id: string
  readonly signingBytes: Uint8Array
}

export const nonceMax = 2n ** 63n - 1n

export function transactionSigningBytes(tx: UnsignedTransaction): Uint8Array {
  return encode([transactionDomainTag, tx.chainId, tx.signer, tx.publicKey, tx.nonce, tx.body])
}

type TaggedHash = (tag: string, bytes: Uint8Array) => Uint8Array
let idHash: TaggedHash = hashTagged

/**
 * Lets a driver hash transaction ids with a faster implementation of the same function,
 * `hashTagged` (SHA-256 over the tag, a zero byte and the bytes): the node passes node:crypto's
 * (platform/nativeHash.ts), which the core may not import. The ids are the same bytes either way
 * (checked in the tests); every transaction decoded by a node is hashed once for its id.
 */
export function useTransactionIdHasher(hasher: TaggedHash): void {
  idHash = hasher
}

function withId(tx: SignedTransaction, signingBytes: Uint8Array): TransactionEnvelope {
  return { ...tx, signingBytes, id: bytesToHex(idHash('corridor.txid', signingBytes)) }
}

export function signTransaction(tx: UnsignedTransaction, signer: Signer): TransactionEnvelope {
  const signingBytes = transactionSigningBytes(tx)
  return withId({ ...tx, signature: signer.sign(signingBytes) }, signingBytes)
}

export function verifyTransactionSignature(tx: TransactionEnvelope, verifier: SignatureVerifier): boolean {
  return verifier.verify(tx.publicKey, tx.signingBytes, tx.signature)
}

export function transactionToTuple(tx: SignedTransaction): Encodable {
  return [tx.chainId, tx.signer, tx.publicKey, tx.nonce, tx.body, tx.signature]
}

export function encodeTransaction(tx: SignedTransaction): Uint8Array {
  return encode(transactionToTuple(tx))
}

/** Checks the shape of a decoded envelope tuple (for envelopes nested in larger messages). */
export function transactionFromTuple(value: Encodable): TransactionEnvelope {
  if (!Array.isArray(value) || value.length !== 6) {
    throw new ProtocolError('DECODE_SHAPE', 'a transaction is a 6-element array [chainId, signer, publicKey, nonce, body, signature]')
  }
  const [chainId, signer, publicKey, nonce, body, signature] = value as Encodable[]
  if (!isValidChainId(chainId)) throw new ProtocolError('DECODE_SHAPE', `transaction chain id is not valid: ${JSON.stringify(chainId)}`)
  if (!isValidId(signer)) throw new ProtocolError('DECODE_SHAPE', `transaction signer is not a valid id: ${JSON.stringify(signer)}`)
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== publicKeyBytesLength) {
    throw new ProtocolError('DECODE_SHAPE', `transaction public key must be ${publicKeyBytesLength} bytes`)
  }
  if (typeof nonce !== 'bigint' || nonce < 1n || nonce > nonceMax) {
    throw new ProtocolError('DECODE_SHAPE', 'transaction nonce must be a 64-bit integer from 1 to 2^63-1')
  }
  if (!(signature instanceof Uint8Array) || signature.length !== signatureBytesLength) {
    throw new ProtocolError('DECODE_SHAPE', `transaction signature must be ${signatureBytesLength} bytes`)
  }
  const tx: SignedTransaction = {
    chainId: chainId as string,
    signer: signer as string,
    publicKey: new Uint8Array(publicKey),
    nonce,
    body: body as Encodable,
    signature: new Uint8Array(signature)
  }
  return withId(tx, transactionSigningBytes(tx))
}

export function decodeTransaction(bytes: Uint8Array): TransactionEnvelope {
  return transactionFromTuple(decode(bytes, { bytesMax: protocolLimits.transactionBytesMax }))
}
