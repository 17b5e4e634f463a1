/**
 * Blocks as the engine sees them: a header it checks and an opaque payload it only hashes. The
 * engine never interprets the payload (for Corridor, the replica puts a list of encoded
 * transactions there); the application decides whether a payload is valid.
 *
 * Header tuple (canonical encoding, hashed to the block hash):
 *   [chainId, height, timeMs, previousBlockHash, proposer, payloadHash, appHash]
 * - timeMs is chosen by the proposer from the driver's clock; every block's time is after its
 *   parent's, so the ledger can use block time as its clock;
 * - appHash is the application's state hash after the previous block (as in CometBFT), so a block
 *   also certifies the state its parent produced.
 */
import { bytesToHex, equalBytes } from '../protocol/bytes.ts'
import { encode, Preencoded, type Encodable } from '../protocol/encoding.ts'
import { hashBytesLength, hashTagged, hashValue } from '../protocol/hash.ts'
import { isValidChainId, isValidId } from '../protocol/ids.ts'
import { ConsensusError } from './errors.ts'

export type Payload = Encodable

export interface BlockHeader {
  readonly chainId: string
  readonly height: number
  readonly timeMs: number
  readonly previousBlockHash: Uint8Array
  /** The validator that built the block (the proposer of the round it was first proposed in). */
  readonly proposer: string
  readonly payloadHash: Uint8Array
  readonly appHash: Uint8Array
}

export interface Block {
  readonly header: BlockHeader
  readonly payload: Payload
}

/** The last block this validator has committed (or the genesis, at height 0): what the next block builds on. */
export interface ChainTip {
  readonly height: number
  readonly blockHash: Uint8Array
  readonly timeMs: number
  readonly appHash: Uint8Array
}

export const blockHashTag = 'corridor.consensus.block-header.v1'
export const payloadHashTag = 'corridor.consensus.payload.v1'
export const genesisHashTag = 'corridor.consensus.genesis.v1'

/** Heights start at 1 (0 is the genesis); rounds at 0. Both stay far inside the safe-integer range. */
export const heightMax = 2 ** 48
export const roundMax = 2 ** 31 - 1

export function isHeight(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= heightMax
}
export function isRound(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= roundMax
}
export function isHash(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === hashBytesLength
}

/** The tip before the first block: height 0, with a hash binding the chain id, genesis time and initial app hash. */
export function genesisTip(chainId: string, genesisTimeMs: number, appHash: Uint8Array): ChainTip {
  return { height: 0, blockHash: hashValue(genesisHashTag, [chainId, genesisTimeMs, appHash]), timeMs: genesisTimeMs, appHash }
}

/**
 * Encodings of payloads, memoized per payload object. A payload is an immutable value: the same
 * object travels in the proposal, the lock, valid and decision WAL records and catch-up responses,
 * and, in a simulation, through every simulated validator of the process, so its encoding (the
 * bulk of those bytes) is computed once.
 */
const payloadBytesCache = new WeakMap<object, Uint8Array>()

/** The canonical encoding of a payload (memoized per payload object). */
export function encodePayload(payload: Payload): Uint8Array {
  if (typeof payload !== 'object' || payload === null || payload instanceof Uint8Array) return encode(payload)
  let bytes = payloadBytesCache.get(payload)
  if (bytes === undefined) {
    bytes = encode(payload)
    payloadBytesCache.set(payload, bytes)
  }
  return bytes
}

/**
 * Records the canonical encoding of a payload its builder put together from parts it had encoded
 * already (the replica splices transactions' signing bytes), so encodePayload does not pack it
 * again. The caller vouches that `bytes` is exactly `encode(payload)`.
 */
export function rememberPayloadEncoding(payload: Payload, bytes: Uint8Array): void {
  if (typeof payload === 'object' && payload !== null && !(payload instanceof Uint8Array)) payloadBytesCache.set(payload, bytes)
}

/** The payload's encoding as an element of an enclosing tuple (see encodeTuple). */
export function preencodedPayload(payload: Payload): Preencoded {
  return new Preencoded(encodePayload(payload))
}

const payloadHashCache = new WeakMap<object, Uint8Array>()

type TaggedHash = (tag: string, bytes: Uint8Array) => Uint8Array
let taggedHash: TaggedHash = hashTagged

/**
 * Lets a driver hash block payloads (a block's largest part) with a faster implementation of the
 * same function, `hashTagged` (SHA-256 over the tag, a zero byte and the bytes): the simulator
 * passes node:crypto's, which the core may not import. The result is the same bytes either way.
 */
export function usePayloadHasher(hasher: TaggedHash): void {
  taggedHash = hasher
}

/** hashValue(payloadHashTag, payload), memoized per payload object like its encoding. */
export function payloadHash(payload: Payload): Uint8Array {
  if (typeof payload !== 'object' || payload === null || payload instanceof Uint8Array) return hashValue(payloadHashTag, payload)
  let hash = payloadHashCache.get(payload)
  if (hash === undefined) {
    hash = taggedHash(payloadHashTag, encodePayload(payload))
    payloadHashCache.set(payload, hash)
  }
  return hash
}

export function headerToTuple(header: BlockHeader): Encodable {
  return [header.chainId, header.height, header.timeMs, header.previousBlockHash, header.proposer, header.payloadHash, header.appHash]
}

const blockHashCache = new WeakMap<BlockHeader, Uint8Array>()

/** The block hash: the tagged hash of the header tuple (memoized per header object). */
export function blockHash(header: BlockHeader): Uint8Array {
  let hash = blockHashCache.get(header)
  if (hash === undefined) {
    hash = hashValue(blockHashTag, headerToTuple(header))
    blockHashCache.set(header, hash)
  }
  return hash
}

export function blockHashHex(header: BlockHeader): string {
  return bytesToHex(blockHash(header))
}

function shape(condition: boolean, message: string): asserts condition {
  if (!condition) throw new ConsensusError('MESSAGE_SHAPE', message)
}

/** Checks the shape of a decoded header tuple. */
export function headerFromTuple(value: Encodable, appHashBytesMax: number): BlockHeader {
  shape(Array.isArray(value) && value.length === 7, 'a block header is a 7-element array')
  const [chainId, height, timeMs, previousBlockHash, proposer, payloadHashValue, appHash] = value as Encodable[]
  shape(isValidChainId(chainId), 'block header chain id is not valid')
  shape(isHeight(height), 'block header height must be an integer from 1')
  shape(typeof timeMs === 'number' && Number.isSafeInteger(timeMs) && timeMs >= 0, 'block header time must be a non-negative integer of milliseconds')
  shape(isHash(previousBlockHash), 'block header previous hash must be 32 bytes')
  shape(isValidId(proposer), 'block header proposer is not a valid id')
  shape(isHash(payloadHashValue), 'block header payload hash must be 32 bytes')
  shape(appHash instanceof Uint8Array && appHash.length <= appHashBytesMax, `block header app hash must be at most ${appHashBytesMax} bytes`)
  return {
    chainId: chainId as string,
    height: height as number,
    timeMs: timeMs as number,
    previousBlockHash: previousBlockHash as Uint8Array,
    proposer: proposer as string,
    payloadHash: payloadHashValue as Uint8Array,
    appHash: appHash as Uint8Array
  }
}

/** Checks that a block's payload matches the hash its header commits to. */
export function payloadMatches(block: Block): boolean {
  return equalBytes(payloadHash(block.payload), block.header.payloadHash)
}

/**
 * Checks that a block extends the tip: chain, height, parent hash, a later time and the app hash
 * of the tip. Returns a reason, or null when it does.
 */
export function checkExtends(block: Block, chainId: string, tip: ChainTip): string | null {
  const header = block.header
  if (header.chainId !== chainId) return `block is for chain ${header.chainId}, not ${chainId}`
  if (header.height !== tip.height + 1) return `block height ${header.height} does not follow ${tip.height}`
  if (!equalBytes(header.previousBlockHash, tip.blockHash)) return 'block does not build on the last committed block'
  if (!(header.timeMs > tip.timeMs)) return `block time ${header.timeMs} is not after the previous block's ${tip.timeMs}`
  if (!equalBytes(header.appHash, tip.appHash)) return 'block carries an app hash different from this validator’s'
  return null
}
