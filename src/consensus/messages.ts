/**
 * Consensus messages on the wire and the bytes validators sign.
 *
 * Signed bytes (canonical encoding, domain-separated, chain-bound):
 *   vote:     ['corridor.consensus.vote.v1', chainId, type, height, round, blockHash | null]
 *   proposal: ['corridor.consensus.proposal.v1', chainId, height, round, validRound, blockHash]
 * with type 1 = prevote, 2 = precommit. A vote signs the block hash, never the block: the hash
 * commits to the header, which commits to the payload.
 *
 * Messages (canonical tuples, first element the kind):
 *   1 proposal:      [1, chainId, height, round, validRound, proposer, signature, header, payload, proofOfLock]
 *   2 vote:          [2, chainId, type, height, round, blockHash | null, validator, signature]
 *   3 blockRequest:  [3, chainId, fromHeight, count]
 *   4 blockResponse: [4, chainId, [[header, payload, certificate], ...]]
 * proofOfLock is, for a proposal that re-proposes a value with validRound >= 0, the prevotes of
 * validRound for that value as [[validator, signature], ...]: the receiver needs them for the
 * paper's line 28 and may have missed them while the network was partitioned. It is empty when
 * validRound is -1. Catch-up messages are not signed: the commit certificate is the proof.
 */
import { decode, encode, encodeTuple, Preencoded, type Encodable } from '../protocol/encoding.ts'
import { ProtocolError } from '../protocol/errors.ts'
import { isValidChainId, isValidId } from '../protocol/ids.ts'
import { signatureBytesLength } from '../protocol/keys.ts'
import { blockHash, headerFromTuple, headerToTuple, isHash, isHeight, isRound, preencodedPayload, type Block } from './block.ts'
import { ConsensusError } from './errors.ts'
import type { ConsensusLimits } from './limits.ts'

export type VoteType = 'prevote' | 'precommit'

export const voteDomainTag = 'corridor.consensus.vote.v1'
export const proposalDomainTag = 'corridor.consensus.proposal.v1'

export interface Vote {
  readonly chainId: string
  readonly type: VoteType
  readonly height: number
  readonly round: number
  /** The block voted for, or null for a nil vote. */
  readonly blockHash: Uint8Array | null
  readonly validator: string
  readonly signature: Uint8Array
}

export interface Proposal {
  readonly chainId: string
  readonly height: number
  readonly round: number
  /** -1 for a fresh value; otherwise the round in which the value gathered a quorum of prevotes. */
  readonly validRound: number
  readonly blockHash: Uint8Array
  readonly proposer: string
  readonly signature: Uint8Array
}

/** A validator's signature on vote bytes that are implied by context (a certificate, a proof of lock). */
export interface VoteSignature {
  readonly validator: string
  readonly signature: Uint8Array
}

/** Precommits of more than 2/3 of the voting power for one block in one round. */
export interface CommitCertificate {
  readonly height: number
  readonly round: number
  readonly blockHash: Uint8Array
  /** Sorted by validator id, one per validator. */
  readonly signatures: readonly VoteSignature[]
}

export interface CertifiedBlock {
  readonly block: Block
  readonly certificate: CommitCertificate
}

export interface ProposalMessage {
  readonly kind: 'proposal'
  readonly proposal: Proposal
  readonly block: Block
  /** Prevotes of proposal.validRound for the block; empty when validRound is -1. */
  readonly proofOfLock: readonly VoteSignature[]
}
export interface VoteMessage {
  readonly kind: 'vote'
  readonly vote: Vote
}
export interface BlockRequestMessage {
  readonly kind: 'blockRequest'
  readonly chainId: string
  readonly fromHeight: number
  readonly count: number
}
export interface BlockResponseMessage {
  readonly kind: 'blockResponse'
  readonly chainId: string
  readonly blocks: readonly CertifiedBlock[]
}
export type ConsensusMessage = ProposalMessage | VoteMessage | BlockRequestMessage | BlockResponseMessage

const voteTypeNumber: Record<VoteType, number> = { prevote: 1, precommit: 2 }

export function voteSigningBytes(chainId: string, type: VoteType, height: number, round: number, blockHash: Uint8Array | null): Uint8Array {
  return encode([voteDomainTag, chainId, voteTypeNumber[type], height, round, blockHash])
}

export function proposalSigningBytes(chainId: string, height: number, round: number, validRound: number, blockHash: Uint8Array): Uint8Array {
  return encode([proposalDomainTag, chainId, height, round, validRound, blockHash])
}

export function voteBytesOf(vote: Vote): Uint8Array {
  return voteSigningBytes(vote.chainId, vote.type, vote.height, vote.round, vote.blockHash)
}
export function proposalBytesOf(proposal: Proposal): Uint8Array {
  return proposalSigningBytes(proposal.chainId, proposal.height, proposal.round, proposal.validRound, proposal.blockHash)
}

function signaturesToTuple(signatures: readonly VoteSignature[]): Encodable {
  return signatures.map((s) => [s.validator, s.signature])
}

export function certificateToTuple(certificate: CommitCertificate): Encodable {
  return [certificate.height, certificate.round, certificate.blockHash, signaturesToTuple(certificate.signatures)]
}

export function blockToTuple(block: Block): Encodable {
  return [headerToTuple(block.header), block.payload]
}

export function voteToTuple(vote: Vote): Encodable {
  return [2, vote.chainId, voteTypeNumber[vote.type], vote.height, vote.round, vote.blockHash, vote.validator, vote.signature]
}

export function proposalMessageToTuple(message: ProposalMessage): Encodable {
  const p = message.proposal
  return [
    1,
    p.chainId,
    p.height,
    p.round,
    p.validRound,
    p.proposer,
    p.signature,
    headerToTuple(message.block.header),
    message.block.payload,
    signaturesToTuple(message.proofOfLock)
  ]
}

export function messageToTuple(message: ConsensusMessage): Encodable {
  switch (message.kind) {
    case 'proposal':
      return proposalMessageToTuple(message)
    case 'vote':
      return voteToTuple(message.vote)
    case 'blockRequest':
      return [3, message.chainId, message.fromHeight, message.count]
    case 'blockResponse':
      return [4, message.chainId, message.blocks.map((b) => [headerToTuple(b.block.header), b.block.payload, certificateToTuple(b.certificate)])]
  }
}

/** The last block response encoded for each first block object (see encodeConsensusMessage). */
const blockResponses = new WeakMap<CertifiedBlock, { readonly chainId: string; readonly blocks: readonly CertifiedBlock[]; readonly bytes: Uint8Array }>()

/**
 * The wire bytes of a message: `encode(messageToTuple(message))`, with block payloads spliced in
 * from their memoized encodings (encodePayload) rather than packed again for every message.
 */
export function encodeConsensusMessage(message: ConsensusMessage): Uint8Array {
  switch (message.kind) {
    case 'proposal': {
      const p = message.proposal
      const bytes = encodeTuple([
        1,
        p.chainId,
        p.height,
        p.round,
        p.validRound,
        p.proposer,
        p.signature,
        headerToTuple(message.block.header),
        preencodedPayload(message.block.payload),
        signaturesToTuple(message.proofOfLock)
      ])
      encodedHere.set(bytes, message)
      return bytes
    }
    case 'blockResponse': {
      // The same blocks served again (a simulated validator helping each peer that sends a late
      // vote, all from one archive) give the same bytes object, so receivers decode it once too.
      const first = message.blocks[0]
      const cached = first === undefined ? undefined : blockResponses.get(first)
      if (cached !== undefined && cached.chainId === message.chainId && cached.blocks.length === message.blocks.length && cached.blocks.every((block, i) => block === message.blocks[i])) {
        return cached.bytes
      }
      const bytes = encodeTuple([
        4,
        message.chainId,
        new Preencoded(
          encodeTuple(message.blocks.map((b) => new Preencoded(encodeTuple([headerToTuple(b.block.header), preencodedPayload(b.block.payload), certificateToTuple(b.certificate)]))))
        )
      ])
      if (first !== undefined) blockResponses.set(first, { chainId: message.chainId, blocks: [...message.blocks], bytes })
      encodedHere.set(bytes, message)
      return bytes
    }
    case 'vote': {
      const bytes = encode(messageToTuple(message))
      encodedHere.set(bytes, message)
      return bytes
    }
    case 'blockRequest':
      return encode(messageToTuple(message))
  }
}

/**
 * Proposals, votes and block responses encoded in this process, by the identity of their bytes. A simulated
 * validator's broadcast reaches the others as the bytes object its engine encoded; decoding it
 * shape-checks the message's tuple (messageFromTuple, every check a received message gets) but
 * skips unpacking and re-encoding bytes this encoder wrote, which are canonical by construction.
 * A decoded proposal or block then shares its payload object with the sender's, so the payload's
 * encoding, hash and admission (memoized per payload object) are computed once per process.
 */
const encodedHere = new WeakMap<Uint8Array, ConsensusMessage>()

function shape(condition: boolean, message: string): asserts condition {
  if (!condition) throw new ConsensusError('MESSAGE_SHAPE', message)
}

function isSignature(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === signatureBytesLength
}

export function signaturesFromTuple(value: Encodable, countMax: number, what: string): VoteSignature[] {
  shape(Array.isArray(value) && value.length <= countMax, `${what} is an array of at most ${countMax} [validator, signature] pairs`)
  const out: VoteSignature[] = []
  for (const entry of value as Encodable[]) {
    shape(Array.isArray(entry) && entry.length === 2, `${what} entries are [validator, signature] pairs`)
    const [validator, signature] = entry as Encodable[]
    shape(isValidId(validator), `${what} names a validator with an invalid id`)
    shape(isSignature(signature), `${what} signatures are ${signatureBytesLength} bytes`)
    out.push({ validator: validator as string, signature: signature as Uint8Array })
  }
  return out
}

export function certificateFromTuple(value: Encodable, limits: ConsensusLimits): CommitCertificate {
  shape(Array.isArray(value) && value.length === 4, 'a commit certificate is [height, round, blockHash, signatures]')
  const [height, round, hash, signatures] = value as Encodable[]
  shape(isHeight(height), 'certificate height must be an integer from 1')
  shape(isRound(round), 'certificate round must be a non-negative integer')
  shape(isHash(hash), 'certificate block hash must be 32 bytes')
  return { height: height as number, round: round as number, blockHash: hash as Uint8Array, signatures: signaturesFromTuple(signatures!, limits.validatorsMax, 'certificate') }
}

export function blockFromTuple(header: Encodable, payload: Encodable, limits: ConsensusLimits): Block {
  return { header: headerFromTuple(header, limits.appHashBytesMax), payload }
}

function voteFromTuple(value: Encodable[]): VoteMessage {
  shape(value.length === 8, 'a vote is [2, chainId, type, height, round, blockHash, validator, signature]')
  const [, chainId, type, height, round, hash, validator, signature] = value
  shape(isValidChainId(chainId), 'vote chain id is not valid')
  shape(type === 1 || type === 2, 'vote type is 1 (prevote) or 2 (precommit)')
  shape(isHeight(height), 'vote height must be an integer from 1')
  shape(isRound(round), 'vote round must be a non-negative integer')
  shape(hash === null || isHash(hash), 'vote block hash is 32 bytes or nil')
  shape(isValidId(validator), 'vote validator is not a valid id')
  shape(isSignature(signature), `vote signature is ${signatureBytesLength} bytes`)
  return {
    kind: 'vote',
    vote: {
      chainId: chainId as string,
      type: type === 1 ? 'prevote' : 'precommit',
      height: height as number,
      round: round as number,
      blockHash: hash as Uint8Array | null,
      validator: validator as string,
      signature: signature as Uint8Array
    }
  }
}

function proposalFromTuple(value: Encodable[], limits: ConsensusLimits): ProposalMessage {
  shape(value.length === 10, 'a proposal is [1, chainId, height, round, validRound, proposer, signature, header, payload, proofOfLock]')
  const [, chainId, height, round, validRound, proposer, signature, header, payload, proofOfLock] = value
  shape(isValidChainId(chainId), 'proposal chain id is not valid')
  shape(isHeight(height), 'proposal height must be an integer from 1')
  shape(isRound(round), 'proposal round must be a non-negative integer')
  shape(
    typeof validRound === 'number' && Number.isSafeInteger(validRound) && validRound >= -1 && validRound < (round as number),
    'proposal valid round is -1 or a round before the proposal round'
  )
  shape(isValidId(proposer), 'proposal proposer is not a valid id')
  shape(isSignature(signature), `proposal signature is ${signatureBytesLength} bytes`)
  const block = blockFromTuple(header!, payload!, limits)
  const pol = signaturesFromTuple(proofOfLock!, limits.validatorsMax, 'proof of lock')
  shape(validRound !== -1 || pol.length === 0, 'a proposal with valid round -1 carries no proof of lock')
  return {
    kind: 'proposal',
    proposal: {
      chainId: chainId as string,
      height: height as number,
      round: round as number,
      validRound: validRound as number,
      // Filled in by the receiver from the block; the signature is checked against it.
      blockHash: new Uint8Array(0),
      proposer: proposer as string,
      signature: signature as Uint8Array
    },
    block,
    proofOfLock: pol
  }
}

/**
 * Decodes and shape-checks a message received from a peer: the size bound first, then canonical
 * decoding, then the shape. Signatures and state are the engine's to check. A proposal's
 * blockHash is computed from its block (the wire form does not repeat it).
 */
export function decodeConsensusMessage(bytes: Uint8Array, limits: ConsensusLimits): ConsensusMessage {
  if (!(bytes instanceof Uint8Array)) throw new ConsensusError('MESSAGE_MALFORMED', 'a message is bytes')
  const cached = decodedMessages.get(bytes)
  const key = limitsKey(limits)
  if (cached !== undefined && cached.limitsKey === key) return cached.message
  const message = decodeUncached(bytes, limits)
  decodedMessages.set(bytes, { limitsKey: key, message })
  return message
}

/**
 * Messages decoded in this process, by the identity of their bytes. A driver that hands the same
 * bytes object to several engines (the simulator delivers one broadcast to every simulated
 * validator) has it decoded, canonically checked and shape-checked once; a real node receives
 * fresh bytes for every message and only pays for the WeakMap entry, which goes with the bytes.
 * Messages are immutable values, so engines can share one. Failures are not remembered.
 */
const decodedMessages = new WeakMap<Uint8Array, { readonly limitsKey: string; readonly message: ConsensusMessage }>()
const limitsKeys = new WeakMap<ConsensusLimits, string>()

/** The limits that decoding depends on, as a string: a message decoded under other limits is decoded again. */
function limitsKey(limits: ConsensusLimits): string {
  let key = limitsKeys.get(limits)
  if (key === undefined) {
    key = `${limits.messageBytesMax}/${limits.validatorsMax}/${limits.catchUpBlocksMax}/${limits.appHashBytesMax}`
    limitsKeys.set(limits, key)
  }
  return key
}

function decodeUncached(bytes: Uint8Array, limits: ConsensusLimits): ConsensusMessage {
  if (bytes.length > limits.messageBytesMax) {
    throw new ConsensusError('MESSAGE_OVERSIZED', `message of ${bytes.length} bytes exceeds ${limits.messageBytesMax}`)
  }
  const encoded = encodedHere.get(bytes)
  if (encoded !== undefined) return messageFromTuple(messageToTuple(encoded), limits)
  let value: Encodable
  try {
    value = decode(bytes, { bytesMax: limits.messageBytesMax })
  } catch (error) {
    if (error instanceof ProtocolError) throw new ConsensusError('MESSAGE_MALFORMED', error.message)
    throw error
  }
  return messageFromTuple(value, limits)
}

/** Shape-checks a decoded message tuple (also used for messages nested in WAL records). */
export function messageFromTuple(value: Encodable, limits: ConsensusLimits): ConsensusMessage {
  shape(Array.isArray(value) && value.length >= 2, 'a consensus message is an array starting with its kind')
  const tuple = value as Encodable[]
  switch (tuple[0]) {
    case 1: {
      const message = proposalFromTuple(tuple, limits)
      return { ...message, proposal: { ...message.proposal, blockHash: blockHash(message.block.header) } }
    }
    case 2:
      return voteFromTuple(tuple)
    case 3: {
      shape(tuple.length === 4, 'a block request is [3, chainId, fromHeight, count]')
      const [, chainId, fromHeight, count] = tuple
      shape(isValidChainId(chainId), 'block request chain id is not valid')
      shape(isHeight(fromHeight), 'block request height must be an integer from 1')
      shape(typeof count === 'number' && Number.isSafeInteger(count) && count >= 1 && count <= limits.catchUpBlocksMax, `block request count is 1 to ${limits.catchUpBlocksMax}`)
      return { kind: 'blockRequest', chainId: chainId as string, fromHeight: fromHeight as number, count: count as number }
    }
    case 4: {
      shape(tuple.length === 3, 'a block response is [4, chainId, blocks]')
      const [, chainId, entries] = tuple
      shape(isValidChainId(chainId), 'block response chain id is not valid')
      shape(Array.isArray(entries) && entries.length <= limits.catchUpBlocksMax, `a block response carries at most ${limits.catchUpBlocksMax} blocks`)
      const blocks: CertifiedBlock[] = []
      for (const entry of entries as Encodable[]) {
        shape(Array.isArray(entry) && entry.length === 3, 'a block response entry is [header, payload, certificate]')
        const [header, payload, certificate] = entry as Encodable[]
        blocks.push({ block: blockFromTuple(header!, payload!, limits), certificate: certificateFromTuple(certificate!, limits) })
      }
      return { kind: 'blockResponse', chainId: chainId as string, blocks }
    }
    default:
      throw new ConsensusError('MESSAGE_SHAPE', `unknown consensus message kind ${JSON.stringify(tuple[0])}`)
  }
}

/** A short human-readable description of a message, for traces and logs (never raw payload bytes). */
export function describeMessage(message: ConsensusMessage): string {
  const short = (hash: Uint8Array | null): string => (hash === null ? 'nil' : Array.from(hash.subarray(0, 3), (b) => b.toString(16).padStart(2, '0')).join(''))
  switch (message.kind) {
    case 'proposal': {
      const p = message.proposal
      return `proposal h${p.height} r${p.round} vr${p.validRound} ${short(p.blockHash)} by ${p.proposer}${message.proofOfLock.length > 0 ? ` pol${message.proofOfLock.length}` : ''}`
    }
    case 'vote': {
      const v = message.vote
      return `${v.type} h${v.height} r${v.round} ${short(v.blockHash)} by ${v.validator}`
    }
    case 'blockRequest':
      return `blockRequest from h${message.fromHeight} x${message.count}`
    case 'blockResponse':
      return `blockResponse ${message.blocks.map((b) => `h${b.block.header.height}`).join(',') || 'empty'}`
  }
}
