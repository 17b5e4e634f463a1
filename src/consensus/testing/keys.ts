/**
 * Keys for in-process tests and simulations. Real Ed25519 (native) is the default; the "fast"
 * scheme is a keyed hash that only this process can check, about thirty times cheaper, for the
 * bulk of fuzz seeds where the signature algorithm is not what is under test. Both plug into the
 * engine through the same Signer and SignatureVerifier interfaces.
 */
import { concatBytes, bytesToHex, utf8 } from '../../protocol/bytes.ts'
import { hashTagged, hashValue } from '../../protocol/hash.ts'
import { createPortableSigner, portableVerifier, type SignatureVerifier, type Signer } from '../../protocol/keys.ts'

export type SignatureScheme = 'ed25519' | 'ed25519-portable' | 'fast'

export interface TestKeyring {
  readonly scheme: SignatureScheme
  signer(index: number): Signer
  /** One verifier for the whole process; wrap it in a caching verifier. */
  readonly verifier: SignatureVerifier
}

export function testSecret(index: number): Uint8Array {
  return hashValue('corridor.test.secret', [index])
}

/**
 * The native signer and verifier live in platform/ (node:crypto), which the consensus folder may
 * not import; a driver passes them in. Without them, 'ed25519' falls back to the portable ones.
 */
export interface NativeEd25519 {
  createSigner(secretKey: Uint8Array): Signer
  readonly verifier: SignatureVerifier
}

export function createTestKeyring(scheme: SignatureScheme, native?: NativeEd25519): TestKeyring {
  if (scheme === 'fast') return fastKeyring()
  const cache = new Map<number, Signer>()
  const useNative = scheme === 'ed25519' && native !== undefined
  return {
    scheme,
    signer(index) {
      let signer = cache.get(index)
      if (signer === undefined) {
        signer = useNative ? native!.createSigner(testSecret(index)) : createPortableSigner(testSecret(index))
        cache.set(index, signer)
      }
      return signer
    },
    verifier: useNative ? native!.verifier : portableVerifier
  }
}

/**
 * signature = H(secret, message) twice over, 64 bytes; the verifier knows every secret by public
 * key. Worthless outside a test process, and cheap inside one.
 */
// One registry per process, so every fast keyring's verifier knows every fast key made so far.
const fastSecretsByKey = new Map<string, Uint8Array>()
const fastSigners = new Map<number, Signer>()

function fastKeyring(): TestKeyring {
  const secretsByKey = fastSecretsByKey
  const signers = fastSigners
  const signWith = (secret: Uint8Array, message: Uint8Array): Uint8Array => {
    const first = hashTagged('corridor.test.fast-signature', concatBytes(secret, message))
    return concatBytes(first, hashTagged('corridor.test.fast-signature-2', first))
  }
  return {
    scheme: 'fast',
    signer(index) {
      let signer = signers.get(index)
      if (signer === undefined) {
        const secret = testSecret(index)
        const publicKey = hashTagged('corridor.test.fast-public-key', concatBytes(secret, utf8('pk')))
        secretsByKey.set(bytesToHex(publicKey), secret)
        signer = { publicKey, sign: (message) => signWith(secret, message) }
        signers.set(index, signer)
      }
      return signer
    },
    verifier: {
      verify(publicKey, message, signature) {
        const secret = secretsByKey.get(bytesToHex(publicKey))
        if (secret === undefined || signature.length !== 64) return false
        const expected = signWith(secret, message)
        for (let i = 0; i < 64; i++) if (expected[i] !== signature[i]) return false
        return true
      }
    }
  }
}
