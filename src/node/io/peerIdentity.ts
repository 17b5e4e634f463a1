/**
 * The libp2p identity of a validator is its validator key: the Ed25519 seed from the bank's key
 * file gives both the signing key of its votes and the key that authenticates its connections
 * (Noise) and its gossip (gossipsub signatures). So the network config lists validators by public
 * key only, and every node derives the peer ids from them.
 */
import { generateKeyPairFromSeed, publicKeyFromRaw } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey, peerIdFromString } from '@libp2p/peer-id'
import { ed25519 } from '@noble/curves/ed25519.js'
import type { Ed25519PrivateKey, PeerId } from '@libp2p/interface'
import { bytesToHex } from '../../protocol/bytes.ts'
import { publicKeyBytesLength, secretKeyBytesLength } from '../../protocol/keys.ts'
import { assert } from '../../protocol/assert.ts'
import type { ValidatorPeer } from './transportOptions.ts'

/** The libp2p private key of a validator, from its 32-byte Ed25519 secret (seed). */
export async function libp2pPrivateKeyOf(secretKey: Uint8Array): Promise<Ed25519PrivateKey> {
  assert(secretKey.length === secretKeyBytesLength, 'an Ed25519 secret key is 32 bytes')
  return generateKeyPairFromSeed('Ed25519', secretKey)
}

/**
 * The libp2p peer id (base58btc, `12D3KooW...`) of the validator with this Ed25519 public key.
 * The peer id embeds the key itself (identity multihash), so the mapping is exact both ways.
 */
export function peerIdOf(publicKey: Uint8Array): string {
  return peerIdObjectOf(publicKey).toString()
}

export function peerIdObjectOf(publicKey: Uint8Array): PeerId {
  assert(publicKey.length === publicKeyBytesLength, 'an Ed25519 public key is 32 bytes')
  return peerIdFromPublicKey(publicKeyFromRaw(publicKey))
}

/** The Ed25519 public key inside a peer id string, or undefined when it is not an Ed25519 peer id. */
export function publicKeyOfPeerId(peerId: string): Uint8Array | undefined {
  try {
    const parsed = peerIdFromString(peerId)
    return parsed.type === 'Ed25519' ? parsed.publicKey.raw : undefined
  } catch {
    return undefined
  }
}

export function isValidEd25519PublicKey(publicKey: Uint8Array): boolean {
  try {
    return ed25519.utils.isValidPublicKey(publicKey)
  } catch {
    return false
  }
}

export interface ValidatorEntry {
  readonly peerId: PeerId
  readonly peerIdText: string
  readonly publicKey: Uint8Array
  readonly publicKeyHex: string
  readonly addresses: readonly string[]
}

/** The network's validators, indexed by peer id: the one list the gater and the gossip checks consult. */
export class ValidatorSet {
  readonly #byPeerId = new Map<string, ValidatorEntry>()

  constructor(validators: readonly ValidatorPeer[]) {
    for (const validator of validators) {
      const peerId = peerIdObjectOf(validator.publicKey)
      const peerIdText = peerId.toString()
      assert(!this.#byPeerId.has(peerIdText), 'validators are listed once each')
      this.#byPeerId.set(peerIdText, {
        peerId,
        peerIdText,
        publicKey: validator.publicKey,
        publicKeyHex: bytesToHex(validator.publicKey),
        addresses: validator.addresses
      })
    }
  }

  get size(): number {
    return this.#byPeerId.size
  }

  has(peerId: string | PeerId): boolean {
    return this.#byPeerId.has(typeof peerId === 'string' ? peerId : peerId.toString())
  }

  get(peerId: string | PeerId): ValidatorEntry | undefined {
    return this.#byPeerId.get(typeof peerId === 'string' ? peerId : peerId.toString())
  }

  entries(): IterableIterator<ValidatorEntry> {
    return this.#byPeerId.values()
  }
}
