/**
 * Invariant checkers that watch a whole cluster, as TigerBeetle's VOPR does: they see every action
 * of every validator and report the first violation with what it was. Shared by the harness and
 * (later) the simulator.
 */
import { bytesToHex } from '../../protocol/bytes.ts'
import type { SignatureVerifier } from '../../protocol/keys.ts'
import type { Block } from '../block.ts'
import { verifyCommitCertificate } from '../certificate.ts'
import { ConsensusError } from '../errors.ts'
import { culpritOf, describeEvidence, type Evidence } from '../evidence.ts'
import type { CommitCertificate, ConsensusMessage } from '../messages.ts'
import type { ValidatorSet } from '../validatorSet.ts'
import type { WalRecord } from '../wal.ts'

export type ViolationKind =
  | 'agreement'
  | 'conflicting-vote'
  | 'conflicting-proposal'
  | 'sent-before-persist'
  | 'bad-certificate'
  | 'non-sequential-decision'
  | 'false-evidence'
  | 'liveness'
  | 'engine-error'

export interface Violation {
  readonly kind: ViolationKind
  readonly message: string
  readonly node?: string
  /** Filled in by the harness: the event count and virtual time of the violation. */
  step?: number
  timeMs?: number
}

export class InvariantViolation extends Error {
  constructor(readonly violation: Violation) {
    super(`${violation.kind}: ${violation.message}`)
    this.name = 'InvariantViolation'
  }
}

function fail(violation: Violation): never {
  throw new InvariantViolation(violation)
}

export class ClusterChecker {
  /** height -> hash of the block the first honest validator decided. */
  private readonly decided = new Map<number, { hashHex: string; node: string }>()
  /** validator/height/round/type -> hash signed by an honest validator, across restarts. */
  private readonly honestVotes = new Map<string, string>()
  private readonly honestProposals = new Map<string, string>()
  /** Signatures each honest validator has persisted (its WAL survives restarts). */
  private readonly persistedSignatures = new Map<string, Set<string>>()

  constructor(
    private readonly chainId: string,
    private readonly validatorSet: ValidatorSet,
    private readonly verifier: SignatureVerifier,
    /** Validators that are faulty (Byzantine or twinned): the only ones evidence may accuse. */
    private readonly faultyValidators: ReadonlySet<string>
  ) {}

  isHonest(validatorId: string): boolean {
    return !this.faultyValidators.has(validatorId)
  }

  /** A validator persisted a record: an honest one never signs two different votes or proposals for one slot. */
  onPersist(node: string, validatorId: string, record: WalRecord): void {
    if (!this.isHonest(validatorId)) return
    const signatures = this.persistedSignatures.get(validatorId) ?? new Set<string>()
    this.persistedSignatures.set(validatorId, signatures)
    if (record.kind === 'vote') {
      const v = record.vote
      const key = `${validatorId}/${v.height}/${v.round}/${v.type}`
      const value = v.blockHash === null ? 'nil' : bytesToHex(v.blockHash)
      const before = this.honestVotes.get(key)
      if (before !== undefined && before !== value) {
        fail({ kind: 'conflicting-vote', node, message: `honest ${validatorId} signed two ${v.type}s at h${v.height} r${v.round}: ${before.slice(0, 8)} then ${value.slice(0, 8)}` })
      }
      this.honestVotes.set(key, value)
      signatures.add(bytesToHex(v.signature))
    } else if (record.kind === 'proposal') {
      const p = record.message.proposal
      const key = `${validatorId}/${p.height}/${p.round}`
      const value = `${bytesToHex(p.blockHash)}/${p.validRound}`
      const before = this.honestProposals.get(key)
      if (before !== undefined && before !== value) {
        fail({ kind: 'conflicting-proposal', node, message: `honest ${validatorId} signed two proposals at h${p.height} r${p.round}` })
      }
      this.honestProposals.set(key, value)
      signatures.add(bytesToHex(p.signature))
    }
  }

  /** An honest validator sends only what it has persisted first. */
  onSend(node: string, validatorId: string, message: ConsensusMessage): void {
    if (!this.isHonest(validatorId)) return
    let signature: Uint8Array | null = null
    if (message.kind === 'vote') signature = message.vote.signature
    else if (message.kind === 'proposal') signature = message.proposal.signature
    if (signature === null) return
    if (!this.persistedSignatures.get(validatorId)?.has(bytesToHex(signature))) {
      fail({ kind: 'sent-before-persist', node, message: `honest ${validatorId} sent a ${message.kind} it had not persisted` })
    }
  }

  /** Agreement, certificate validity and sequential heights for every honest decision. */
  onDecide(node: string, validatorId: string, previousHeight: number, height: number, block: Block, hash: Uint8Array, certificate: CommitCertificate): void {
    if (!this.isHonest(validatorId)) return
    if (height !== previousHeight + 1) {
      fail({ kind: 'non-sequential-decision', node, message: `${node} decided h${height} after h${previousHeight}` })
    }
    try {
      verifyCommitCertificate(this.validatorSet, this.chainId, hash, certificate, this.verifier)
    } catch (error) {
      if (error instanceof ConsensusError) fail({ kind: 'bad-certificate', node, message: `${node} decided h${height} with a bad certificate: ${error.message}` })
      throw error
    }
    if (certificate.height !== height || block.header.height !== height) {
      fail({ kind: 'bad-certificate', node, message: `${node} decided h${height} with a certificate or block of another height` })
    }
    const hashHex = bytesToHex(hash)
    const first = this.decided.get(height)
    if (first === undefined) this.decided.set(height, { hashHex, node })
    else if (first.hashHex !== hashHex) {
      fail({ kind: 'agreement', node, message: `honest ${first.node} decided ${first.hashHex.slice(0, 12)} and honest ${node} decided ${hashHex.slice(0, 12)} at h${height}` })
    }
  }

  /** Evidence seen by an honest validator must accuse a faulty one. */
  onEvidence(node: string, validatorId: string, evidence: Evidence): void {
    if (!this.isHonest(validatorId)) return
    const culprit = culpritOf(evidence)
    if (this.isHonest(culprit)) fail({ kind: 'false-evidence', node, message: `${node} holds evidence against honest ${culprit}: ${describeEvidence(evidence)}` })
  }

  decidedHash(height: number): string | undefined {
    return this.decided.get(height)?.hashHex
  }

  get decidedHeightMax(): number {
    let max = 0
    for (const height of this.decided.keys()) max = Math.max(max, height)
    return max
  }
}
