/**
 * Deterministic keys for test and demo networks. Every entity's secret key derives from the
 * network's key seed and the entity's id:
 *
 *   secretKey(id) = SHA-256( "corridor.key" || 0x00 || UTF-8("<keySeed>/<id>") )
 *
 * so a genesis file can hold only public keys and a demo can still sign for anyone. Never use a
 * key seed on a real network: anyone who reads the seed can sign.
 *
 * `createFastSigner` derives the public key and signs on node:crypto: deriving 10,000 customer
 * keys takes a fraction of a second instead of the five @noble/curves needs here.
 */
import { createPrivateKey, createPublicKey, sign as nodeSign } from 'node:crypto'
import { utf8 } from '../../protocol/bytes.ts'
import { hashTagged } from '../../protocol/hash.ts'
import { secretKeyBytesLength, type Signer } from '../../protocol/keys.ts'

export const keyDerivationTag = 'corridor.key'

export function deriveSecretKey(keySeed: string, id: string): Uint8Array {
  return hashTagged(keyDerivationTag, utf8(`${keySeed}/${id}`))
}

export type SignerFactory = (secretKey: Uint8Array) => Signer

// DER prefix that wraps a raw Ed25519 secret key as PKCS#8.
const pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex')
const spkiPrefixBytesLength = 12

/** Ed25519 signer on node:crypto, public key derived natively. Same keys and signatures as noble. */
export const createFastSigner: SignerFactory = (secretKey) => {
  if (secretKey.length !== secretKeyBytesLength) throw new RangeError(`an Ed25519 secret key is ${secretKeyBytesLength} bytes`)
  const privateKey = createPrivateKey({ key: Buffer.concat([pkcs8Prefix, secretKey]), format: 'der', type: 'pkcs8' })
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' })
  const publicKey = new Uint8Array(spki.subarray(spkiPrefixBytesLength))
  return {
    publicKey,
    sign: (message) => new Uint8Array(nodeSign(null, message, privateKey))
  }
}
