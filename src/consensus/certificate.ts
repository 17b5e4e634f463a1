/**
 * Commit certificates: precommits of more than 2/3 of the voting power for one block in one round.
 * Anyone who knows the validator set and the chain id can check one on its own, which is what
 * makes a decided block final for the ledger and verifiable in catch-up.
 */
import { compareBytes, equalBytes } from '../protocol/bytes.ts'
import type { SignatureVerifier } from '../protocol/keys.ts'
import { ConsensusError, type ConsensusErrorCode } from './errors.ts'
import { voteSigningBytes, type CommitCertificate, type Vote, type VoteSignature, type VoteType } from './messages.ts'
import type { ValidatorSet } from './validatorSet.ts'

/**
 * Checks that signatures are votes of one type for (height, round, blockHash) by distinct
 * validators of the set, in ascending id order, and returns their total power. Throws `code`.
 */
export function verifyVoteSignatures(
  validatorSet: ValidatorSet,
  chainId: string,
  type: VoteType,
  height: number,
  round: number,
  blockHash: Uint8Array,
  signatures: readonly VoteSignature[],
  verifier: SignatureVerifier,
  code: ConsensusErrorCode
): number {
  const bytes = voteSigningBytes(chainId, type, height, round, blockHash)
  let power = 0
  let previous: string | undefined
  for (const { validator, signature } of signatures) {
    if (previous !== undefined && !(previous < validator)) {
      throw new ConsensusError(code, 'signatures must name distinct validators in ascending order')
    }
    previous = validator
    const member = validatorSet.get(validator)
    if (member === undefined) throw new ConsensusError(code, `signature by ${validator}, who is not a validator`)
    if (!verifier.verify(member.publicKey, bytes, signature)) throw new ConsensusError(code, `signature by ${validator} does not verify`)
    power += member.power
  }
  return power
}

/**
 * Verifies a commit certificate for `blockHash` against a validator set, standalone. Throws
 * BAD_CERTIFICATE saying what is wrong; returns the power that signed.
 */
export function verifyCommitCertificate(
  validatorSet: ValidatorSet,
  chainId: string,
  blockHash: Uint8Array,
  certificate: CommitCertificate,
  verifier: SignatureVerifier
): number {
  if (!equalBytes(certificate.blockHash, blockHash)) throw new ConsensusError('BAD_CERTIFICATE', 'certificate is for another block')
  const power = verifyVoteSignatures(
    validatorSet,
    chainId,
    'precommit',
    certificate.height,
    certificate.round,
    certificate.blockHash,
    certificate.signatures,
    verifier,
    'BAD_CERTIFICATE'
  )
  if (!validatorSet.isQuorum(power)) {
    throw new ConsensusError('BAD_CERTIFICATE', `certificate carries ${power} of ${validatorSet.totalPower} voting power, not more than 2/3`)
  }
  return power
}

/** Builds a certificate from precommits for one block and round (as the engine collected them). */
export function buildCommitCertificate(height: number, round: number, blockHash: Uint8Array, precommits: Iterable<Vote>): CommitCertificate {
  const signatures: VoteSignature[] = []
  for (const vote of precommits) {
    if (vote.type === 'precommit' && vote.height === height && vote.round === round && vote.blockHash !== null && equalBytes(vote.blockHash, blockHash)) {
      signatures.push({ validator: vote.validator, signature: vote.signature })
    }
  }
  signatures.sort((a, b) => (a.validator < b.validator ? -1 : a.validator > b.validator ? 1 : compareBytes(a.signature, b.signature)))
  return { height, round, blockHash, signatures }
}
