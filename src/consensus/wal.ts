/**
 * Write-ahead log records. The engine emits a `persist` action with a record before any action
 * that depends on it; the driver writes it, synced, before it performs the next action (framing
 * with length and CRC, and rotation, are the driver's storage concern). On restart the driver
 * passes the records back to `ConsensusEngine.restore`, which rebuilds enough state that the
 * validator never signs a vote or proposal that conflicts with one it signed before the crash.
 *
 * Records (canonical tuples):
 *   1 proposal: [1, proposalMessage]                        own signed proposal, with block and proof of lock
 *   2 vote:     [2, vote]                                   own signed vote
 *   3 lock:     [3, height, round, header, payload]         lockedValue/lockedRound changed (line 38-39)
 *   4 valid:    [4, height, round, header, payload, pol]    validValue/validRound changed (line 42-43), with the prevotes that justify it
 *   5 decision: [5, header, payload, certificate]           a block was decided; written before `decide`
 * Records for heights at or below the last committed block are stale and ignored by restore: the
 * driver may drop them once the block is committed.
 */
import { decode, encode, encodeTuple, Preencoded, type Encodable } from '../protocol/encoding.ts'
import { ProtocolError } from '../protocol/errors.ts'
import { headerToTuple, isHeight, isRound, preencodedPayload, type Block } from './block.ts'
import { ConsensusError } from './errors.ts'
import type { ConsensusLimits } from './limits.ts'
import {
  blockFromTuple,
  certificateFromTuple,
  certificateToTuple,
  encodeConsensusMessage,
  messageFromTuple,
  proposalMessageToTuple,
  signaturesFromTuple,
  voteToTuple,
  type CommitCertificate,
  type ProposalMessage,
  type Vote,
  type VoteSignature
} from './messages.ts'

export type WalRecord =
  | { readonly kind: 'proposal'; readonly message: ProposalMessage }
  | { readonly kind: 'vote'; readonly vote: Vote }
  | { readonly kind: 'lock'; readonly height: number; readonly round: number; readonly block: Block }
  | { readonly kind: 'valid'; readonly height: number; readonly round: number; readonly block: Block; readonly proofOfLock: readonly VoteSignature[] }
  | { readonly kind: 'decision'; readonly block: Block; readonly certificate: CommitCertificate }

export function walRecordHeight(record: WalRecord): number {
  switch (record.kind) {
    case 'proposal':
      return record.message.proposal.height
    case 'vote':
      return record.vote.height
    case 'lock':
    case 'valid':
      return record.height
    case 'decision':
      return record.block.header.height
  }
}

export function walRecordToTuple(record: WalRecord): Encodable {
  switch (record.kind) {
    case 'proposal':
      return [1, proposalMessageToTuple(record.message)]
    case 'vote':
      return [2, voteToTuple(record.vote)]
    case 'lock':
      return [3, record.height, record.round, headerToTuple(record.block.header), record.block.payload]
    case 'valid':
      return [4, record.height, record.round, headerToTuple(record.block.header), record.block.payload, record.proofOfLock.map((s) => [s.validator, s.signature])]
    case 'decision':
      return [5, headerToTuple(record.block.header), record.block.payload, certificateToTuple(record.certificate)]
  }
}

/** `encode(walRecordToTuple(record))`, with the block payload spliced in from its memoized encoding. */
export function encodeWalRecord(record: WalRecord): Uint8Array {
  switch (record.kind) {
    case 'proposal':
      return encodeTuple([1, new Preencoded(encodeConsensusMessage(record.message))])
    case 'vote':
      return encode(walRecordToTuple(record))
    case 'lock':
      return encodeTuple([3, record.height, record.round, headerToTuple(record.block.header), preencodedPayload(record.block.payload)])
    case 'valid':
      return encodeTuple([
        4,
        record.height,
        record.round,
        headerToTuple(record.block.header),
        preencodedPayload(record.block.payload),
        record.proofOfLock.map((s) => [s.validator, s.signature])
      ])
    case 'decision':
      return encodeTuple([5, headerToTuple(record.block.header), preencodedPayload(record.block.payload), certificateToTuple(record.certificate)])
  }
}

function bad(condition: boolean, message: string): asserts condition {
  if (!condition) throw new ConsensusError('BAD_WAL_RECORD', message)
}

/** Decodes a record read back from storage. Throws BAD_WAL_RECORD on anything that is not a well-formed record. */
export function decodeWalRecord(bytes: Uint8Array, limits: ConsensusLimits): WalRecord {
  let value: Encodable
  try {
    value = decode(bytes, { bytesMax: 2 * limits.messageBytesMax })
  } catch (error) {
    if (error instanceof ProtocolError) throw new ConsensusError('BAD_WAL_RECORD', `record does not decode: ${error.message}`)
    throw error
  }
  try {
    bad(Array.isArray(value) && value.length >= 2, 'a record is an array starting with its kind')
    const tuple = value as Encodable[]
    switch (tuple[0]) {
      case 1: {
        bad(tuple.length === 2, 'a proposal record is [1, proposal]')
        const message = messageFromTuple(tuple[1]!, limits)
        bad(message.kind === 'proposal', 'a proposal record holds a proposal')
        return { kind: 'proposal', message }
      }
      case 2: {
        bad(tuple.length === 2, 'a vote record is [2, vote]')
        const message = messageFromTuple(tuple[1]!, limits)
        bad(message.kind === 'vote', 'a vote record holds a vote')
        return { kind: 'vote', vote: message.vote }
      }
      case 3:
      case 4: {
        bad(tuple.length === (tuple[0] === 3 ? 5 : 6), 'a lock record is [3, height, round, header, payload]; a valid record adds the proof of lock')
        const [, height, round, header, payload] = tuple
        bad(isHeight(height) && isRound(round), 'record height and round must be integers')
        const block = blockFromTuple(header!, payload!, limits)
        if (tuple[0] === 3) return { kind: 'lock', height: height as number, round: round as number, block }
        return { kind: 'valid', height: height as number, round: round as number, block, proofOfLock: signaturesFromTuple(tuple[5]!, limits.validatorsMax, 'proof of lock') }
      }
      case 5: {
        bad(tuple.length === 4, 'a decision record is [5, header, payload, certificate]')
        return { kind: 'decision', block: blockFromTuple(tuple[1]!, tuple[2]!, limits), certificate: certificateFromTuple(tuple[3]!, limits) }
      }
      default:
        throw new ConsensusError('BAD_WAL_RECORD', `unknown record kind ${JSON.stringify(tuple[0])}`)
    }
  } catch (error) {
    if (error instanceof ConsensusError && error.code !== 'BAD_WAL_RECORD') throw new ConsensusError('BAD_WAL_RECORD', error.message)
    throw error
  }
}
