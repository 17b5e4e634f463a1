/**
 * Ed25519 keys, signing and portable verification (@noble/curves). The native node:crypto
 * verifier, about ten times faster, lives in platform/ and is injected where it is wanted; both
 * implement `SignatureVerifier` and are cross-checked against RFC 8032 in the tests.
 */
import { ed25519 } from '@noble/curves/ed25519.js'
import { ProtocolError } from './errors.ts'
import { bytesToHex, hexToBytes } from './bytes.ts'

export const publicKeyBytesLength = 32
export const secretKeyBytesLength = 32
export const signatureBytesLength = 64

export interface Signer {
  readonly publicKey: Uint8Array
  sign(message: Uint8Array): Uint8Array
}

export interface SignatureVerifier {
  /** True when signature is a valid Ed25519 signature of message by publicKey. Never throws on bad input. */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean
}

export interface KeyPair {
  readonly secretKey: Uint8Array
  readonly publicKey: Uint8Array
}

/** Throws BAD_KEY unless `secretKey` is a 32-byte secret (seed). */
export function checkSecretKey(secretKey: Uint8Array): void {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== secretKeyBytesLength) {
    throw new ProtocolError('BAD_KEY', `an Ed25519 secret key is ${secretKeyBytesLength} bytes`)
  }
}

/** Derives the key pair of a 32-byte secret (seed). Entropy comes from the caller: the core draws none. */
export function keyPairFromSecret(secretKey: Uint8Array): KeyPair {
  checkSecretKey(secretKey)
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) }
}

export function publicKeyFromHex(hex: string): Uint8Array {
  const key = hexToBytes(hex, publicKeyBytesLength)
  if (!ed25519.utils.isValidPublicKey(key)) throw new ProtocolError('BAD_KEY', `not a valid Ed25519 public key: ${hex}`)
  return key
}

export function publicKeyToHex(publicKey: Uint8Array): string {
  return bytesToHex(publicKey)
}

/** Portable signer on @noble/curves. */
export function createPortableSigner(secretKey: Uint8Array): Signer {
  const { publicKey } = keyPairFromSecret(secretKey)
  return {
    publicKey,
    sign: (message) => ed25519.sign(message, secretKey)
  }
}

/** Portable verifier on @noble/curves (RFC 8032 with the strict ZIP-215-off checks noble applies). */
export const portableVerifier: SignatureVerifier = {
  verify(publicKey, message, signature) {
    if (publicKey.length !== publicKeyBytesLength || signature.length !== signatureBytesLength) return false
    try {
      return ed25519.verify(signature, message, publicKey, { zip215: false })
    } catch {
      return false
    }
  }
}
