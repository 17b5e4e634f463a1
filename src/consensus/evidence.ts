/**
 * Evidence of misbehaviour. Two kinds are proofs anyone can check (`verifyEvidence`): two
 * conflicting votes, or two conflicting proposals, signed by one validator for one height and
 * round. The third is local: a message that claimed to come from a validator but carried a bad
 * signature, attributed to the transport peer that delivered it (honest peers relay only messages
 * that verified, so the peer is the culprit); it is not transferable proof.
 */
import { bytesToHex, equalBytes } from '../protocol/bytes.ts'
import { encode, type Encodable } from '../protocol/encoding.ts'
import type { SignatureVerifier } from '../protocol/keys.ts'
import { ConsensusError } from './errors.ts'
import { proposalBytesOf, voteBytesOf, voteToTuple, type Proposal, type Vote } from './messages.ts'
import type { ValidatorSet } from './validatorSet.ts'

export interface ConflictingVotesEvidence {
  readonly kind: 'conflictingVotes'
  readonly validator: string
  readonly first: Vote
  readonly second: Vote
}
export interface ConflictingProposalsEvidence {
  readonly kind: 'conflictingProposals'
  readonly validator: string
  readonly first: Proposal
  readonly second: Proposal
}
export interface InvalidSignatureEvidence {
  readonly kind: 'invalidSignature'
  /** The validator the message claimed to come from. */
  readonly validator: string
  /** The transport peer that delivered it. */
  readonly peer: string
  readonly height: number
  readonly round: number
}
export type Evidence = ConflictingVotesEvidence | ConflictingProposalsEvidence | InvalidSignatureEvidence

/** The validator the evidence is against: the signer for proofs, the peer for bad signatures. */
export function culpritOf(evidence: Evidence): string {
  return evidence.kind === 'invalidSignature' ? evidence.peer : evidence.validator
}

function evidenceKey(evidence: Evidence): string {
  switch (evidence.kind) {
    case 'conflictingVotes':
      return `v/${evidence.validator}/${evidence.first.height}/${evidence.first.round}/${evidence.first.type}`
    case 'conflictingProposals':
      return `p/${evidence.validator}/${evidence.first.height}/${evidence.first.round}`
    case 'invalidSignature':
      return `s/${evidence.peer}/${evidence.validator}/${evidence.height}`
  }
}

function proposalToTuple(p: Proposal): Encodable {
  return [p.chainId, p.height, p.round, p.validRound, p.blockHash, p.proposer, p.signature]
}

/** Canonical bytes of an evidence record, for a driver that stores or reports it. */
export function encodeEvidence(evidence: Evidence): Uint8Array {
  switch (evidence.kind) {
    case 'conflictingVotes':
      return encode(['conflictingVotes', voteToTuple(evidence.first), voteToTuple(evidence.second)])
    case 'conflictingProposals':
      return encode(['conflictingProposals', proposalToTuple(evidence.first), proposalToTuple(evidence.second)])
    case 'invalidSignature':
      return encode(['invalidSignature', evidence.validator, evidence.peer, evidence.height, evidence.round])
  }
}

/**
 * Checks a proof of equivocation on its own: both messages signed by the named validator, for the
 * same chain, height, round (and vote type), and different. Throws BAD_EVIDENCE.
 */
export function verifyEvidence(validatorSet: ValidatorSet, evidence: Evidence, verifier: SignatureVerifier): void {
  if (evidence.kind === 'invalidSignature') throw new ConsensusError('BAD_EVIDENCE', 'a bad signature is local evidence, not a transferable proof')
  const member = validatorSet.get(evidence.validator)
  if (member === undefined) throw new ConsensusError('BAD_EVIDENCE', `${evidence.validator} is not a validator`)
  if (evidence.kind === 'conflictingVotes') {
    const { first, second } = evidence
    if (first.validator !== evidence.validator || second.validator !== evidence.validator) throw new ConsensusError('BAD_EVIDENCE', 'votes are not both by the accused')
    if (first.chainId !== second.chainId || first.height !== second.height || first.round !== second.round || first.type !== second.type) {
      throw new ConsensusError('BAD_EVIDENCE', 'votes are not for the same chain, height, round and type')
    }
    const same = first.blockHash === null ? second.blockHash === null : second.blockHash !== null && equalBytes(first.blockHash, second.blockHash)
    if (same) throw new ConsensusError('BAD_EVIDENCE', 'votes do not conflict')
    if (!verifier.verify(member.publicKey, voteBytesOf(first), first.signature) || !verifier.verify(member.publicKey, voteBytesOf(second), second.signature)) {
      throw new ConsensusError('BAD_EVIDENCE', 'a vote signature does not verify')
    }
    return
  }
  const { first, second } = evidence
  if (first.proposer !== evidence.validator || second.proposer !== evidence.validator) throw new ConsensusError('BAD_EVIDENCE', 'proposals are not both by the accused')
  if (first.chainId !== second.chainId || first.height !== second.height || first.round !== second.round) {
    throw new ConsensusError('BAD_EVIDENCE', 'proposals are not for the same chain, height and round')
  }
  if (equalBytes(first.blockHash, second.blockHash) && first.validRound === second.validRound) throw new ConsensusError('BAD_EVIDENCE', 'proposals do not conflict')
  if (!verifier.verify(member.publicKey, proposalBytesOf(first), first.signature) || !verifier.verify(member.publicKey, proposalBytesOf(second), second.signature)) {
    throw new ConsensusError('BAD_EVIDENCE', 'a proposal signature does not verify')
  }
}

/** A bounded, de-duplicated store of evidence: the oldest record is evicted when full. */
export class EvidencePool {
  private readonly records = new Map<string, Evidence>()
  private evictedCount = 0

  constructor(private readonly evidenceMax: number) {}

  /** Adds evidence; returns false when the same misbehaviour is already recorded. */
  add(evidence: Evidence): boolean {
    const key = evidenceKey(evidence)
    if (this.records.has(key)) return false
    if (this.records.size >= this.evidenceMax) {
      this.records.delete(this.records.keys().next().value as string)
      this.evictedCount++
    }
    this.records.set(key, evidence)
    return true
  }

  list(): Evidence[] {
    return [...this.records.values()]
  }

  get size(): number {
    return this.records.size
  }

  get evicted(): number {
    return this.evictedCount
  }
}

export function describeEvidence(evidence: Evidence): string {
  switch (evidence.kind) {
    case 'conflictingVotes':
      return `${evidence.validator} signed two ${evidence.first.type}s at h${evidence.first.height} r${evidence.first.round}: ${short(evidence.first.blockHash)} and ${short(evidence.second.blockHash)}`
    case 'conflictingProposals':
      return `${evidence.validator} signed two proposals at h${evidence.first.height} r${evidence.first.round}`
    case 'invalidSignature':
      return `peer ${evidence.peer} delivered a message from ${evidence.validator} with a bad signature at h${evidence.height} r${evidence.round}`
  }
}

function short(hash: Uint8Array | null): string {
  return hash === null ? 'nil' : bytesToHex(hash.subarray(0, 3))
}
