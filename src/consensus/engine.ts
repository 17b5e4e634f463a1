/**
 * The consensus engine: the Tendermint algorithm (Buchman, Kwon, Milosevic, "The latest gossip on
 * BFT consensus", 2018, Algorithm 1) as a deterministic state machine. Like etcd raft's RawNode it
 * owns its state and is driven by `step(input) -> actions`; it reads no clock, does no I/O, draws
 * no randomness and imports nothing from node:*, so one sequence of inputs always produces one
 * sequence of actions. The node and the simulator are two drivers of this one class.
 *
 * Comments of the form "line N" refer to the paper's Algorithm 1; docs/consensus.md maps every
 * rule to the method that implements it and the test that covers it.
 */
import { bytesToHex, equalBytes } from '../protocol/bytes.ts'
import { assert } from '../protocol/assert.ts'
import { hashValue } from '../protocol/hash.ts'
import { blockHash, checkExtends, payloadHash, payloadMatches, type Block, type ChainTip, type Payload } from './block.ts'
import { isByzantine, type ByzantineBehaviour } from './byzantine.ts'
import { buildCommitCertificate, verifyCommitCertificate, verifyVoteSignatures } from './certificate.ts'
import { ConsensusError, consensusErrorCodes, verdictOf, type ConsensusErrorCode } from './errors.ts'
import { EvidencePool, type Evidence } from './evidence.ts'
import { checkConsensusLimits, timeoutDurationMs, type ConsensusLimits, type TimeoutStep } from './limits.ts'
import {
  decodeConsensusMessage,
  encodeConsensusMessage,
  proposalBytesOf,
  proposalSigningBytes,
  voteBytesOf,
  voteSigningBytes,
  type BlockRequestMessage,
  type BlockResponseMessage,
  type CertifiedBlock,
  type CommitCertificate,
  type ConsensusMessage,
  type Proposal,
  type ProposalMessage,
  type Vote,
  type VoteSignature,
  type VoteType
} from './messages.ts'
import type { Validator, ValidatorSet } from './validatorSet.ts'
import { encodeWalRecord, walRecordHeight, type WalRecord } from './wal.ts'
import type { SignatureVerifier, Signer } from '../protocol/keys.ts'
import type { ConsensusAction, ConsensusConfig, ConsensusInput, ConsensusMetrics, ConsensusStatus, ConsensusStep, TimeoutKey } from './types.ts'

const nilKey = 'nil'

/** Decoded votes and proposals whose signature was found valid, with the verifier and key that checked it (see signatureValid). */
const verifiedSignatures = new WeakMap<Vote | Proposal, { readonly verifier: SignatureVerifier; readonly publicKey: Uint8Array }>()
function keyOf(hash: Uint8Array | null): string {
  return hash === null ? nilKey : bytesToHex(hash)
}
function sameHash(a: Uint8Array | null, b: Uint8Array | null): boolean {
  return a === null ? b === null : b !== null && equalBytes(a, b)
}

/** Votes of one type in one round: at most one per validator, with power tallied per value. */
/**
 * A `persist` action whose record is encoded when its bytes are first read. A real node reads
 * them at once (it writes them to its WAL); a simulation keeps the record and encodes only the
 * records a crash finds unapplied, which spares it a copy of every block per record per validator.
 */
class PersistAction {
  readonly kind = 'persist' as const
  readonly record: WalRecord
  #bytes: Uint8Array | undefined = undefined

  constructor(record: WalRecord) {
    this.record = record
  }

  get bytes(): Uint8Array {
    return (this.#bytes ??= encodeWalRecord(this.record))
  }
}

class VoteSet {
  readonly votes = new Map<string, Vote>()
  readonly powerByKey = new Map<string, number>()
  /** Total power of all votes, whatever their value. */
  power = 0
  /** The values (block hash hex or 'nil') that reached a quorum, in the order they did. */
  readonly quorumKeys: string[] = []

  add(vote: Vote, power: number, validatorSet: ValidatorSet): void {
    assert(!this.votes.has(vote.validator), 'a vote set holds one vote per validator')
    this.votes.set(vote.validator, vote)
    this.power += power
    const key = keyOf(vote.blockHash)
    const before = this.powerByKey.get(key) ?? 0
    const after = before + power
    this.powerByKey.set(key, after)
    if (!validatorSet.isQuorum(before) && validatorSet.isQuorum(after)) this.quorumKeys.push(key)
  }

  hasQuorumFor(key: string, validatorSet: ValidatorSet): boolean {
    return validatorSet.isQuorum(this.powerByKey.get(key) ?? 0)
  }

  signaturesFor(blockHash: Uint8Array): VoteSignature[] {
    const out: VoteSignature[] = []
    for (const vote of this.votes.values()) {
      if (vote.blockHash !== null && equalBytes(vote.blockHash, blockHash)) out.push({ validator: vote.validator, signature: vote.signature })
    }
    return out.sort((a, b) => (a.validator < b.validator ? -1 : 1))
  }
}

interface RoundState {
  /** The proposer's proposals in arrival order: the first is followed, later conflicting ones are kept as evidence. */
  readonly proposals: ProposalMessage[]
  readonly prevotes: VoteSet
  readonly precommits: VoteSet
  /** Validators with any message in this round, for line 55. */
  readonly senders: Set<string>
  senderPower: number
  /** "For the first time" flags of lines 34, 36 and 47. */
  prevoteTimeoutScheduled: boolean
  precommitTimeoutScheduled: boolean
  lockRuleFired: boolean
  proposalMissCounted: boolean
}

type Verdict = 'pending' | 'accepted' | 'rejected'

interface BlockEntry {
  readonly block: Block
  readonly hash: Uint8Array
  readonly key: string
  /** Why the block cannot follow the tip, or null when it can. */
  readonly extendsProblem: string | null
  verdict: Verdict
}

interface ValueAtRound {
  readonly round: number
  readonly entry: BlockEntry
}

interface FutureMessage {
  readonly from: string
  readonly message: ProposalMessage | { readonly kind: 'vote'; readonly vote: Vote }
}

interface Decision {
  readonly block: Block
  readonly hash: Uint8Array
  readonly certificate: CommitCertificate
  readonly source: 'consensus' | 'catchUp'
}

function newRoundState(): RoundState {
  return {
    proposals: [],
    prevotes: new VoteSet(),
    precommits: new VoteSet(),
    senders: new Set(),
    senderPower: 0,
    prevoteTimeoutScheduled: false,
    precommitTimeoutScheduled: false,
    lockRuleFired: false,
    proposalMissCounted: false
  }
}

function newMetrics(): ConsensusMetrics {
  const messagesDropped = {} as Record<ConsensusErrorCode, number>
  for (const code of consensusErrorCodes) messagesDropped[code] = 0
  return {
    messagesAccepted: 0,
    messagesDropped,
    decisions: 0,
    decisionsByCatchUp: 0,
    roundsStarted: 0,
    timeoutsFired: 0,
    catchUpRequests: 0,
    catchUpBlocksServed: 0,
    evidenceDetected: 0,
    evidenceEvicted: 0,
    missedProposals: {},
    missedVotes: {}
  }
}

export class ConsensusEngine {
  readonly chainId: string
  readonly validatorSet: ValidatorSet
  readonly validatorId: string
  readonly limits: ConsensusLimits
  private readonly signer: Signer
  private readonly verifier: SignatureVerifier
  private byzantine: ByzantineBehaviour
  private readonly peers: readonly string[]

  // Position.
  private tip: ChainTip
  private height: number
  private round = 0
  private roundStep: Exclude<ConsensusStep, 'decided'> = 'propose'
  private started = false
  private restored = false
  /** The height has not started yet: waiting out timeoutCommitMs, or for transactions (emptyBlockIntervalMs). */
  private waiting: 'commit' | 'transactions' | null = null
  private decision: Decision | null = null

  // The paper's lockedValue/lockedRound and validValue/validRound; validProofOfLock justifies re-proposing.
  private locked: ValueAtRound | null = null
  private valid: ValueAtRound | null = null
  private validProofOfLock: readonly VoteSignature[] = []

  // The message log of the current height.
  private readonly rounds = new Map<number, RoundState>()
  private readonly blocks = new Map<string, BlockEntry>()
  private readonly ownVotes = new Map<string, Vote>()
  private readonly ownProposals = new Map<number, ProposalMessage>()
  private awaitingProposalRound: number | null = null

  // The next height's messages, verified and buffered.
  private readonly futureMessages: FutureMessage[] = []
  private readonly futureKeys = new Set<string>()

  // Catch-up.
  private readonly heightSeen = new Map<string, number>()
  private catchUpPeer: string | null = null
  private catchUpRequested = false
  /** Lagging peers pushed blocks since the last timeout (bounded by the number of peers that send). */
  private readonly helpedPeers = new Map<string, number>()
  /**
   * Peers heard from only at heights below this one: maybe stuck, maybe only slower to decide.
   * Pushed blocks at this validator's next timeout of its round, or when it moves on again,
   * unless a message of this height arrives from them first (see helpLaggingPeer).
   */
  private readonly laggingPeers = new Map<string, number>()
  /** The highest height of any proposal or vote each peer has sent (relayed ones too), so a relay of an old message is not mistaken for a peer left behind. */
  private readonly peerHeights = new Map<string, number>()
  private readonly helpedPeersInRound = new Set<string>()
  private readonly catchUpBlocks = new Map<number, CertifiedBlock>()
  private missingDecidedBlock = false

  private readonly evidencePool: EvidencePool
  private readonly counters: ConsensusMetrics = newMetrics()
  private out: ConsensusAction[] = []

  /** A validator starting at the block after `config.tip`, with an empty WAL. */
  static create(config: ConsensusConfig): ConsensusEngine {
    return new ConsensusEngine(config)
  }

  /**
   * A validator restarting after a crash: `config.tip` is the last block the driver committed and
   * `records` its WAL in write order. The engine resumes the round it had reached, with its lock,
   * its valid value and its own signed messages, so it never signs anything that conflicts with
   * them. Feed `start` next; it re-sends the messages of the round it resumes.
   */
  static restore(config: ConsensusConfig, records: readonly WalRecord[]): ConsensusEngine {
    const engine = new ConsensusEngine(config)
    engine.restoreFrom(records)
    return engine
  }

  private constructor(config: ConsensusConfig) {
    this.limits = checkConsensusLimits(config.limits)
    this.chainId = config.chainId
    this.validatorSet = config.validatorSet
    this.validatorId = config.validatorId
    this.signer = config.signer
    this.verifier = config.verifier
    this.byzantine = config.byzantine ?? {}
    this.tip = config.tip
    this.height = config.tip.height + 1
    const self = this.validatorSet.get(config.validatorId)
    if (self === undefined) throw new ConsensusError('BAD_CONFIG', `${config.validatorId} is not in the validator set`)
    if (!equalBytes(self.publicKey, config.signer.publicKey)) {
      throw new ConsensusError('BAD_CONFIG', `the signer's public key is not the one the validator set holds for ${config.validatorId}`)
    }
    if (this.validatorSet.validators.length > this.limits.validatorsMax) {
      throw new ConsensusError('BAD_CONFIG', `the validator set has more than limits.validatorsMax = ${this.limits.validatorsMax} validators`)
    }
    if (!Number.isSafeInteger(config.tip.height) || config.tip.height < 0) throw new ConsensusError('BAD_CONFIG', 'tip height must be a non-negative integer')
    this.peers = this.validatorSet.validators.map((v) => v.id).filter((id) => id !== config.validatorId)
    this.evidencePool = new EvidencePool(this.limits.evidenceMax)
  }

  // ---------------------------------------------------------------------------------------------
  // Queries.

  status(): ConsensusStatus {
    return {
      height: this.height,
      round: this.round,
      step: this.decision !== null ? 'decided' : this.roundStep,
      lockedRound: this.locked?.round ?? -1,
      validRound: this.valid?.round ?? -1,
      tip: this.tip,
      started: this.started
    }
  }

  /** Evidence detected so far (bounded; the oldest is evicted first). */
  evidence(): Evidence[] {
    return this.evidencePool.list()
  }

  /** A snapshot of the counters, for metrics. */
  metrics(): ConsensusMetrics {
    return structuredCloneMetrics(this.counters, this.evidencePool.evicted)
  }

  /** Whether Byzantine hooks are switched on (for logs and summaries). */
  /**
   * Switches Byzantine behaviour on or off while running, for fault schedules ("equivocate from
   * 7m until 8m"). Only the hooks change: the engine's state and its WAL are untouched.
   */
  setByzantine(behaviour: ByzantineBehaviour): void {
    this.byzantine = behaviour
  }

  get isByzantine(): boolean {
    return isByzantine(this.byzantine)
  }

  // ---------------------------------------------------------------------------------------------
  // The one entry point.

  step(input: ConsensusInput): ConsensusAction[] {
    assert(this.out.length === 0, 'step is not re-entrant')
    if (input.kind !== 'start' && !this.started) throw new ConsensusError('BAD_INPUT', `input ${input.kind} before start`)
    switch (input.kind) {
      case 'start':
        if (this.started) throw new ConsensusError('BAD_INPUT', 'start fed twice')
        this.onStart()
        break
      case 'message':
        this.onMessage(input.from, input.bytes)
        break
      case 'timeout':
        this.onTimeout(input.timeout)
        break
      case 'proposalValue':
        this.onProposalValue(input.height, input.round, input.payload, input.timeMs)
        break
      case 'proposalVerdict':
        this.onProposalVerdict(input.height, input.blockHash, input.accept)
        break
      case 'committed':
        this.onCommitted(input.height, input.appHash)
        break
      case 'blocksLoaded':
        this.onBlocksLoaded(input.to, input.blocks)
        break
      case 'transactionsAvailable':
        if (input.height === this.height && this.waiting === 'transactions' && this.decision === null) this.startRound(0)
        break
      default:
        throw new ConsensusError('BAD_INPUT', `unknown input kind ${String((input as { kind: unknown }).kind)}`)
    }
    this.evaluate()
    const out = this.out
    this.out = []
    return out
  }

  // ---------------------------------------------------------------------------------------------
  // Inputs.

  private onStart(): void {
    this.started = true
    if (!this.restored) {
      this.beginHeight()
      return
    }
    if (this.decision !== null) {
      // Crashed between deciding and committing: hand the block over again.
      this.emitDecide(this.decision)
      return
    }
    // Resume the restored round: re-send what this validator signed in it (peers drop duplicates),
    // and schedule the timeout of the step it is in so a lost message cannot stall it.
    this.scheduleTimeout(this.roundStep, this.round)
    this.scheduleTimeout('resend', this.round)
    this.resendRound()
    if (this.roundStep === 'propose' && !this.ownProposals.has(this.round) && this.isProposer(this.round)) this.proposeOrRequest()
  }

  private onMessage(from: string, bytes: Uint8Array): void {
    let code: ConsensusErrorCode | null
    try {
      const message = decodeConsensusMessage(bytes, this.limits)
      code = this.receive(from, message)
    } catch (error) {
      if (!(error instanceof ConsensusError)) throw error
      code = error.code
    }
    if (code === null) this.counters.messagesAccepted++
    else this.counters.messagesDropped[code]++
    this.out.unshift({ kind: 'messageVerdict', verdict: verdictOf(code), code })
  }

  private receive(from: string, message: ConsensusMessage): ConsensusErrorCode | null {
    const chainId = message.kind === 'proposal' ? message.proposal.chainId : message.kind === 'vote' ? message.vote.chainId : message.chainId
    if (chainId !== this.chainId) return 'WRONG_CHAIN'
    switch (message.kind) {
      case 'vote':
        return this.receiveVote(from, message.vote, false)
      case 'proposal':
        return this.receiveProposal(from, message, false)
      case 'blockRequest':
        return this.receiveBlockRequest(from, message)
      case 'blockResponse':
        return this.receiveBlockResponse(message)
    }
  }

  /** Lines 57-67: the three timeouts. A timeout for another height, round or step is stale and ignored. */
  private onTimeout(timeout: TimeoutKey): void {
    this.counters.timeoutsFired++
    // Every timeout also paces catch-up: one request, and one push to each lagging peer, per timeout at most.
    this.catchUpRequested = false
    this.helpedPeers.clear()
    this.helpedPeersInRound.clear()
    if (timeout.height !== this.height || this.decision !== null || timeout.round !== this.round) return
    if (timeout.step === 'commit') {
      if (this.waiting === 'commit') this.beginHeight()
      return
    }
    if (timeout.step === 'emptyBlock') {
      if (this.waiting === 'transactions') this.startRound(0)
      return
    }
    // The round is taking longer than a healthy one: a peer still at the previous height may be
    // stuck there (and needed for a quorum here).
    this.helpLaggingPeers()
    switch (timeout.step) {
      case 'resend':
        // Not in the paper: retransmission of this round's own messages while the round is stuck.
        this.resendRound()
        this.scheduleTimeout('resend', this.round)
        return
      case 'propose':
        // Line 57: OnTimeoutPropose.
        if (this.roundStep === 'propose') {
          this.countMissedProposal(this.round)
          this.castVote('prevote', null)
          this.roundStep = 'prevote'
        }
        return
      case 'prevote':
        // Line 61: OnTimeoutPrevote.
        if (this.roundStep === 'prevote') {
          this.castVote('precommit', null)
          this.roundStep = 'precommit'
        }
        return
      case 'precommit':
        // Line 65: OnTimeoutPrecommit.
        this.startRound(this.round + 1)
        return
    }
  }

  private onProposalValue(height: number, round: number, payload: Payload, timeMs: number): void {
    if (height !== this.height || round !== this.awaitingProposalRound || this.decision !== null || round !== this.round) return
    if (!Number.isSafeInteger(timeMs) || timeMs < 0) throw new ConsensusError('BAD_INPUT', 'proposal time must be a non-negative integer of milliseconds')
    this.awaitingProposalRound = null
    const content = this.byzantine.censor !== undefined ? this.byzantine.censor(payload) : payload
    const block: Block = {
      header: {
        chainId: this.chainId,
        height: this.height,
        timeMs: Math.max(timeMs, this.tip.timeMs + 1),
        previousBlockHash: this.tip.blockHash,
        proposer: this.validatorId,
        payloadHash: payloadHash(content),
        appHash: this.tip.appHash
      },
      payload: content
    }
    this.propose(block, -1, [])
  }

  private onProposalVerdict(height: number, hash: Uint8Array, accept: boolean): void {
    if (height !== this.height) return
    const entry = this.blocks.get(bytesToHex(hash))
    if (entry === undefined || entry.verdict !== 'pending') return
    entry.verdict = accept ? 'accepted' : 'rejected'
  }

  private onCommitted(height: number, appHash: Uint8Array): void {
    const decision = this.decision
    if (decision === null || height !== this.height) {
      throw new ConsensusError('BAD_INPUT', `committed height ${height}, but the engine has not decided it (at height ${this.height})`)
    }
    if (!(appHash instanceof Uint8Array) || appHash.length > this.limits.appHashBytesMax) {
      throw new ConsensusError('BAD_INPUT', `app hash must be at most ${this.limits.appHashBytesMax} bytes`)
    }
    this.tip = { height, blockHash: decision.hash, timeMs: decision.block.header.timeMs, appHash }
    this.enterHeight(height + 1)
  }

  private onBlocksLoaded(to: string, blocks: readonly CertifiedBlock[]): void {
    const chosen = [...blocks].slice(0, this.limits.catchUpBlocksMax)
    while (chosen.length > 0) {
      const message: BlockResponseMessage = { kind: 'blockResponse', chainId: this.chainId, blocks: chosen }
      const bytes = encodeConsensusMessage(message)
      if (bytes.length <= this.limits.messageBytesMax) {
        this.counters.catchUpBlocksServed += chosen.length
        this.out.push({ kind: 'send', to, message, bytes })
        return
      }
      chosen.pop()
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Receipt: every check before a message touches state.

  private roundWindowProblem(round: number): ConsensusErrorCode | null {
    if (round > this.round + this.limits.roundsAheadMax) return 'ROUND_TOO_FAR'
    if (round < this.round - this.limits.roundsKeptMax && round !== this.locked?.round && round !== this.valid?.round) return 'ROUND_PRUNED'
    return null
  }

  private receiveVote(from: string, vote: Vote, verified: boolean): ConsensusErrorCode | null {
    const member = this.validatorSet.get(vote.validator)
    if (member === undefined) return 'UNKNOWN_VALIDATOR'
    if (vote.validator === this.validatorId) return 'OWN_MESSAGE'
    if (vote.height < this.height) return this.helpLaggingPeer(from, vote.height)
    this.notePeerHeight(from, vote.height)
    if (vote.height > this.height) {
      if (!verified && !this.signatureValid(vote, member, voteBytesOf)) return this.badSignature(from, vote.validator, vote.height, vote.round)
      return this.receiveFuture(from, { kind: 'vote', vote }, member, vote.height, vote.round, `${vote.type}/${keyOf(vote.blockHash)}`)
    }
    const windowProblem = this.roundWindowProblem(vote.round)
    if (windowProblem !== null) return windowProblem
    if (vote.round < this.round) this.helpPeerInRound(from, vote.round)
    const state = this.roundState(vote.round)
    const set = vote.type === 'prevote' ? state.prevotes : state.precommits
    const existing = set.votes.get(vote.validator)
    if (existing !== undefined && sameHash(existing.blockHash, vote.blockHash)) return 'DUPLICATE'
    if (!verified && !this.signatureValid(vote, member, voteBytesOf)) return this.badSignature(from, vote.validator, vote.height, vote.round)
    if (existing !== undefined) {
      this.recordEvidence({ kind: 'conflictingVotes', validator: vote.validator, first: existing, second: vote })
      return 'CONFLICTING_VOTE'
    }
    set.add(vote, member.power, this.validatorSet)
    this.noteSender(state, member)
    if (vote.type === 'precommit' && vote.blockHash !== null) this.catchUpPeer ??= from
    return null
  }

  /**
   * Checks the signature of a decoded vote or proposal. Decoded messages are shared by every engine
   * of a process that receives the same bytes (decodeConsensusMessage), and never modified, so one
   * object checked with one verifier and key stays checked: the other validators of a simulation
   * skip encoding the signing bytes and looking them up in the verifier's cache.
   */
  private signatureValid<T extends Vote | Proposal>(signed: T, member: Validator, signingBytes: (signed: T) => Uint8Array): boolean {
    const known = verifiedSignatures.get(signed)
    if (known !== undefined && known.verifier === this.verifier && known.publicKey === member.publicKey) return true
    if (!this.verifier.verify(member.publicKey, signingBytes(signed), signed.signature)) return false
    verifiedSignatures.set(signed, { verifier: this.verifier, publicKey: member.publicKey })
    return true
  }

  private receiveProposal(from: string, message: ProposalMessage, verified: boolean): ConsensusErrorCode | null {
    const proposal = message.proposal
    const member = this.validatorSet.get(proposal.proposer)
    if (member === undefined) return 'UNKNOWN_VALIDATOR'
    if (proposal.proposer === this.validatorId) return 'OWN_MESSAGE'
    if (proposal.height < this.height) return this.helpLaggingPeer(from, proposal.height)
    this.notePeerHeight(from, proposal.height)
    const header = message.block.header
    if (header.chainId !== proposal.chainId || header.height !== proposal.height || !payloadMatches(message.block)) return 'BAD_BLOCK'
    if (this.validatorSet.proposer(proposal.height, proposal.round).id !== proposal.proposer) return 'NOT_PROPOSER'
    if (proposal.height > this.height) {
      if (!verified && !this.signatureValid(proposal, member, proposalBytesOf)) {
        return this.badSignature(from, proposal.proposer, proposal.height, proposal.round)
      }
      return this.receiveFuture(from, message, member, proposal.height, proposal.round, `proposal/${keyOf(proposal.blockHash)}/${proposal.validRound}`)
    }
    const windowProblem = this.roundWindowProblem(proposal.round)
    if (windowProblem !== null) return windowProblem
    const state = this.roundState(proposal.round)
    const same = state.proposals.find((p) => equalBytes(p.proposal.blockHash, proposal.blockHash) && p.proposal.validRound === proposal.validRound)
    if (same !== undefined) return 'DUPLICATE'
    if (!verified && !this.signatureValid(proposal, member, proposalBytesOf)) {
      return this.badSignature(from, proposal.proposer, proposal.height, proposal.round)
    }
    // The proof of lock: a quorum of prevotes of validRound for this value, which line 28 needs.
    if (proposal.validRound >= 0) {
      try {
        const power = verifyVoteSignatures(
          this.validatorSet,
          this.chainId,
          'prevote',
          proposal.height,
          proposal.validRound,
          proposal.blockHash,
          message.proofOfLock,
          this.verifier,
          'BAD_PROOF_OF_LOCK'
        )
        if (!this.validatorSet.isQuorum(power)) return 'BAD_PROOF_OF_LOCK'
      } catch (error) {
        if (error instanceof ConsensusError) return error.code
        throw error
      }
      if (this.roundWindowProblem(proposal.validRound) === null) {
        for (const { validator, signature } of message.proofOfLock) {
          if (validator === this.validatorId) continue
          const vote: Vote = { chainId: this.chainId, type: 'prevote', height: proposal.height, round: proposal.validRound, blockHash: proposal.blockHash, validator, signature }
          this.receiveVote(from, vote, true)
        }
      }
    }
    if (state.proposals.length > 0) {
      this.recordEvidence({ kind: 'conflictingProposals', validator: proposal.proposer, first: state.proposals[0]!.proposal, second: proposal })
      if (state.proposals.length >= this.limits.proposalsPerRoundMax) return 'CONFLICTING_PROPOSAL'
      state.proposals.push(message)
      this.addBlock(message.block, proposal.blockHash, proposal.round)
      return 'CONFLICTING_PROPOSAL'
    }
    state.proposals.push(message)
    this.noteSender(state, member)
    this.addBlock(message.block, proposal.blockHash, proposal.round)
    return null
  }

  private receiveFuture(
    from: string,
    message: FutureMessage['message'],
    member: Validator,
    height: number,
    round: number,
    contentKey: string
  ): ConsensusErrorCode | null {
    const seen = this.heightSeen.get(member.id) ?? 0
    if (height > seen) this.heightSeen.set(member.id, height)
    if (height >= this.height) this.catchUpPeer = from
    this.maybeRequestCatchUp()
    if (height !== this.height + 1 || round > this.limits.roundsAheadMax) return 'HEIGHT_FUTURE'
    const key = `${member.id}/${round}/${contentKey}`
    if (this.futureKeys.has(key)) return 'DUPLICATE'
    if (this.futureMessages.length >= this.limits.futureMessagesMax) return 'FUTURE_BUFFER_FULL'
    this.futureKeys.add(key)
    this.futureMessages.push({ from, message })
    return null
  }

  /**
   * A peer still voting at a height this validator has committed is behind, and may be stuck: if
   * the precommits that decided it were lost, it never will see them again. Push it the committed
   * blocks from that height (once per peer and timeout), as if it had asked.
   */
  private helpLaggingPeer(from: string, height: number): ConsensusErrorCode {
    this.notePeerHeight(from, height)
    // A peer that sent something of this height or later (a relayed old message proves nothing) is not behind.
    const peerHeight = this.peerHeights.get(from) ?? height
    if (peerHeight >= this.height) return 'HEIGHT_PAST'
    if (peerHeight === this.height - 1) {
      // One height behind is usually no more than a peer slower to see the quorum of precommits
      // that decided it, or its late precommit: it moves on in a moment, and pushing it the block
      // would cost a load, a large message and its receipt for nothing (at 16 validators, some
      // eighty of them per block). Note it, and push only if it is still there at this
      // validator's next timeout of its round, or once this validator moves on again.
      if (!this.laggingPeers.has(from) && this.laggingPeers.size < this.limits.validatorsMax) this.laggingPeers.set(from, height)
      return 'HEIGHT_PAST'
    }
    this.pushBlocks(from, height)
    return 'HEIGHT_PAST'
  }

  private notePeerHeight(from: string, height: number): void {
    const known = this.peerHeights.get(from)
    if (known === undefined) {
      // Bounded: `from` names a transport peer, which the driver maps to the validators it knows.
      if (this.peerHeights.size < 4 * this.limits.validatorsMax) this.peerHeights.set(from, height)
    } else if (height > known) this.peerHeights.set(from, height)
  }

  private pushBlocks(to: string, height: number): void {
    if (height <= this.tip.height && this.helpedPeers.get(to) !== height) {
      this.helpedPeers.set(to, height)
      this.out.push({ kind: 'loadBlocks', to, fromHeight: height, count: Math.min(this.limits.catchUpBlocksMax, this.tip.height - height + 1) })
    }
  }

  private helpLaggingPeers(): void {
    if (this.laggingPeers.size === 0) return
    for (const [peer, height] of this.laggingPeers) if ((this.peerHeights.get(peer) ?? height) < this.height) this.pushBlocks(peer, height)
    this.laggingPeers.clear()
  }

  /**
   * A peer still sending messages of an earlier round of this height may be stuck there, waiting for
   * votes it lost: send it this validator's own messages of that round (once per peer, round and timeout).
   */
  private helpPeerInRound(from: string, round: number): void {
    const key = `${from}/${round}`
    // Bounded between timeouts: a peer may name only rounds inside the window.
    if (this.helpedPeersInRound.has(key) || this.helpedPeersInRound.size >= this.limits.validatorsMax * (this.limits.roundsKeptMax + 1)) return
    this.helpedPeersInRound.add(key)
    const proposal = this.ownProposals.get(round)
    if (proposal !== undefined) this.sendTo([from], proposal)
    for (const type of ['prevote', 'precommit'] as const) {
      const vote = this.ownVotes.get(`${round}/${type}`)
      if (vote !== undefined && this.byzantine.withholdVotes !== true) this.sendTo([from], { kind: 'vote', vote })
    }
  }

  private receiveBlockRequest(from: string, request: BlockRequestMessage): ConsensusErrorCode | null {
    if (request.fromHeight > this.tip.height) return 'CATCH_UP_NOTHING_TO_SERVE'
    const count = Math.min(request.count, this.limits.catchUpBlocksMax, this.tip.height - request.fromHeight + 1)
    this.out.push({ kind: 'loadBlocks', to: from, fromHeight: request.fromHeight, count })
    return null
  }

  /** Catch-up blocks are checked (hashes, certificate against the validator set) before they are kept. */
  private receiveBlockResponse(response: BlockResponseMessage): ConsensusErrorCode | null {
    let useful = 0
    for (const certified of response.blocks) {
      const { block, certificate } = certified
      const height = block.header.height
      if (height <= this.tip.height || height > this.tip.height + this.limits.catchUpBlocksMax || this.catchUpBlocks.has(height)) continue
      if (height === this.height && this.decision !== null) continue
      if (block.header.chainId !== this.chainId || certificate.height !== height || !payloadMatches(block)) return 'BAD_BLOCK'
      try {
        verifyCommitCertificate(this.validatorSet, this.chainId, blockHash(block.header), certificate, this.verifier)
      } catch (error) {
        if (error instanceof ConsensusError) return 'BAD_CERTIFICATE'
        throw error
      }
      this.catchUpBlocks.set(height, certified)
      useful++
    }
    return useful > 0 ? null : 'CATCH_UP_UNWANTED'
  }

  private badSignature(from: string, validator: string, height: number, round: number): ConsensusErrorCode {
    this.recordEvidence({ kind: 'invalidSignature', validator, peer: from, height, round })
    return 'BAD_SIGNATURE'
  }

  private recordEvidence(evidence: Evidence): void {
    if (!this.evidencePool.add(evidence)) return
    this.counters.evidenceDetected++
    this.out.push({ kind: 'evidence', evidence })
  }

  private roundState(round: number): RoundState {
    let state = this.rounds.get(round)
    if (state === undefined) {
      state = newRoundState()
      this.rounds.set(round, state)
    }
    return state
  }

  private noteSender(state: RoundState, member: Validator): void {
    if (state.senders.has(member.id)) return
    state.senders.add(member.id)
    state.senderPower += member.power
  }

  private addBlock(block: Block, hash: Uint8Array, round: number): BlockEntry {
    const key = bytesToHex(hash)
    let entry = this.blocks.get(key)
    if (entry !== undefined) return entry
    let extendsProblem = checkExtends(block, this.chainId, this.tip)
    if (extendsProblem === null && this.validatorSet.get(block.header.proposer) === undefined) extendsProblem = 'block proposer is not a validator'
    entry = { block, hash, key, extendsProblem, verdict: 'pending' }
    this.blocks.set(key, entry)
    // Only a block that could follow the tip is worth the application's time.
    if (extendsProblem === null) this.out.push({ kind: 'processProposal', height: this.height, round, blockHash: hash, block })
    else entry.verdict = 'rejected'
    return entry
  }

  // ---------------------------------------------------------------------------------------------
  // Rounds, heights, proposing and voting.

  private isProposer(round: number): boolean {
    return this.validatorSet.proposer(this.height, round).id === this.validatorId
  }

  private scheduleTimeout(step: TimeoutStep, round: number): void {
    this.out.push({ kind: 'scheduleTimeout', timeout: { height: this.height, round, step }, durationMs: timeoutDurationMs(this.limits, step, round) })
  }

  /** Lines 11-21: StartRound. Every validator schedules the propose timeout, the proposer too, so a slow application cannot stall the round. */
  /**
   * Round 0 of a new height, unless limits.emptyBlockIntervalMs says to wait for transactions
   * first: then the application is asked (awaitTransactions) and the round starts on its answer,
   * on a message of this height from a peer, or when the interval is over.
   */
  private beginHeight(): void {
    if (this.limits.emptyBlockIntervalMs === 0) {
      this.startRound(0)
      return
    }
    this.waiting = 'transactions'
    this.scheduleTimeout('emptyBlock', 0)
    this.out.push({ kind: 'awaitTransactions', height: this.height })
  }

  private startRound(round: number): void {
    assert(round >= this.round, 'rounds only move forward')
    this.waiting = null
    this.round = round
    this.roundStep = 'propose'
    this.awaitingProposalRound = null
    this.counters.roundsStarted++
    this.prune()
    this.scheduleTimeout('propose', round)
    this.scheduleTimeout('resend', round)
    if (this.isProposer(round)) this.proposeOrRequest()
  }

  private resendRound(): void {
    const proposal = this.ownProposals.get(this.round)
    if (proposal !== undefined) this.sendProposal(proposal, null)
    for (const type of ['prevote', 'precommit'] as const) {
      const vote = this.ownVotes.get(`${this.round}/${type}`)
      if (vote !== undefined) this.sendVote(vote, null)
    }
  }

  /** Lines 14-19: propose validValue with its round (and the prevotes that justify it), or ask the application for a value (getValue). */
  private proposeOrRequest(): void {
    const existing = this.ownProposals.get(this.round)
    if (existing !== undefined) return
    if (this.valid !== null) {
      this.propose(this.valid.entry.block, this.valid.round, this.validProofOfLock)
      return
    }
    this.awaitingProposalRound = this.round
    this.out.push({ kind: 'requestProposal', height: this.height, round: this.round, previousTimeMs: this.tip.timeMs, previousBlockHash: this.tip.blockHash })
  }

  private signProposal(block: Block, validRound: number): Proposal {
    const hash = blockHash(block.header)
    const signature = this.signer.sign(proposalSigningBytes(this.chainId, this.height, this.round, validRound, hash))
    return { chainId: this.chainId, height: this.height, round: this.round, validRound, blockHash: hash, proposer: this.validatorId, signature }
  }

  private propose(block: Block, validRound: number, proofOfLock: readonly VoteSignature[]): void {
    assert(!this.ownProposals.has(this.round), 'a validator never signs two proposals for one round (unless Byzantine)')
    const message: ProposalMessage = { kind: 'proposal', proposal: this.signProposal(block, validRound), block, proofOfLock }
    const bytes = encodeConsensusMessage(message)
    if (bytes.length > this.limits.messageBytesMax) {
      throw new ConsensusError('BAD_INPUT', `the prepared block makes a ${bytes.length}-byte proposal, more than limits.messageBytesMax = ${this.limits.messageBytesMax}`)
    }
    this.ownProposals.set(this.round, message)
    this.persist({ kind: 'proposal', message })
    let twin: ProposalMessage | null = null
    if (this.byzantine.equivocate === true) {
      // A second block differing only in its time: as valid as the first, with another hash.
      const other: Block = { header: { ...block.header, timeMs: block.header.timeMs + 1 }, payload: block.payload }
      twin = { kind: 'proposal', proposal: this.signProposal(other, -1), block: other, proofOfLock: [] }
      this.persist({ kind: 'proposal', message: twin })
    }
    this.sendProposal(message, twin)
    const state = this.roundState(this.round)
    state.proposals.push(message)
    this.noteSender(state, this.validatorSet.get(this.validatorId)!)
    const entry = this.addBlockOwn(block, message.proposal.blockHash)
    if (!(entry.extendsProblem === null || validRound >= 0)) assert(false, `an own fresh block must extend the tip: ${entry.extendsProblem}`)
  }

  private addBlockOwn(block: Block, hash: Uint8Array): BlockEntry {
    const key = bytesToHex(hash)
    const existing = this.blocks.get(key)
    if (existing !== undefined) return existing
    // The application prepared it (or the validator locked on it), so no verdict is needed.
    const entry: BlockEntry = { block, hash, key, extendsProblem: checkExtends(block, this.chainId, this.tip), verdict: 'accepted' }
    this.blocks.set(key, entry)
    return entry
  }

  /**
   * Signs and sends a vote. The invariant of crash recovery lives here: a validator never signs two
   * different votes of one type in one round of one height; a second request for the same vote is a
   * no-op. Only the Byzantine equivocation hook signs a conflicting vote, on purpose.
   */
  private castVote(type: VoteType, hash: Uint8Array | null): void {
    const key = `${this.round}/${type}`
    const existing = this.ownVotes.get(key)
    if (existing !== undefined) {
      if (!sameHash(existing.blockHash, hash)) assert(false, `never sign two different ${type}s at height ${this.height} round ${this.round}`)
      return
    }
    const vote = this.signVote(type, hash)
    this.ownVotes.set(key, vote)
    this.persist({ kind: 'vote', vote })
    let twin: Vote | null = null
    if (this.byzantine.equivocate === true) {
      twin = this.signVote(type, hash === null ? this.otherHash(type) : null)
      this.persist({ kind: 'vote', vote: twin })
    }
    this.sendVote(vote, twin)
    const state = this.roundState(this.round)
    const self = this.validatorSet.get(this.validatorId)!
    ;(type === 'prevote' ? state.prevotes : state.precommits).add(vote, self.power, this.validatorSet)
    this.noteSender(state, self)
  }

  private signVote(type: VoteType, hash: Uint8Array | null): Vote {
    const signature = this.signer.sign(voteSigningBytes(this.chainId, type, this.height, this.round, hash))
    return { chainId: this.chainId, type, height: this.height, round: this.round, blockHash: hash, validator: this.validatorId, signature }
  }

  /** For an equivocating nil vote: some other block of the height, or a made-up hash. */
  private otherHash(type: VoteType): Uint8Array {
    for (const entry of this.blocks.values()) return entry.hash
    return hashValue('corridor.consensus.equivocation.v1', [this.chainId, this.height, this.round, type])
  }

  private persist(record: WalRecord): void {
    this.out.push(new PersistAction(record))
  }

  // Sending, with the Byzantine hooks at the last moment.

  private garbled<M extends ConsensusMessage>(message: M): M {
    if (this.byzantine.signGarbage !== true) return message
    const flip = (signature: Uint8Array): Uint8Array => signature.map((b) => b ^ 0xa5)
    if (message.kind === 'vote') return { ...message, vote: { ...message.vote, signature: flip(message.vote.signature) } }
    if (message.kind === 'proposal') return { ...message, proposal: { ...message.proposal, signature: flip(message.proposal.signature) } }
    return message
  }

  private sendTo(targets: readonly string[] | null, message: ConsensusMessage): void {
    const wire = this.garbled(message)
    const bytes = encodeConsensusMessage(wire)
    if (targets === null) this.out.push({ kind: 'broadcast', message: wire, bytes })
    else for (const to of targets) this.out.push({ kind: 'send', to, message: wire, bytes })
  }

  private sendSplit(first: ConsensusMessage, second: ConsensusMessage | null, targets: readonly string[] | null): void {
    if (second === null) {
      this.sendTo(targets, first)
      return
    }
    const all = targets ?? this.peers
    const half = Math.ceil(all.length / 2)
    this.sendTo(all.slice(0, half), first)
    this.sendTo(all.slice(half), second)
  }

  private sendProposal(message: ProposalMessage, twin: ProposalMessage | null): void {
    const targets = this.byzantine.proposeTo ?? null
    this.sendSplit(message, twin, targets)
  }

  private sendVote(vote: Vote, twin: Vote | null): void {
    if (this.byzantine.withholdVotes === true) return
    this.sendSplit({ kind: 'vote', vote }, twin === null ? null : { kind: 'vote', vote: twin }, null)
  }

  // ---------------------------------------------------------------------------------------------
  // The rules. `evaluate` applies them until none fires; each check mirrors an "upon" of the paper.

  private evaluate(): void {
    for (let iteration = 0; ; iteration++) {
      assert(iteration < 10_000, 'the rules keep firing without end')
      if (!this.evaluateOnce()) break
    }
    this.maybeRequestCatchUp()
  }

  private evaluateOnce(): boolean {
    if (!this.started || this.decision !== null) return false
    if (this.applyCatchUpBlock()) return true
    if (this.ruleDecide()) return true
    if (this.ruleSkipRound()) return true
    if (this.waiting !== null) {
      // Not started yet. Waiting for transactions ends when a peer has started this height: its
      // proposal or votes are here, and its propose timeout is running.
      if (this.waiting === 'transactions' && (this.rounds.get(0)?.senders.size ?? 0) > 0) {
        this.startRound(0)
        return true
      }
      return false
    }
    const state = this.roundState(this.round)
    if (this.roundStep === 'propose' && this.rulePrevoteOnProposal(state)) return true
    if (this.roundStep === 'prevote' && !state.prevoteTimeoutScheduled && this.validatorSet.isQuorum(state.prevotes.power)) {
      // Line 34: 2f+1 prevotes of any kind -> schedule OnTimeoutPrevote.
      state.prevoteTimeoutScheduled = true
      this.scheduleTimeout('prevote', this.round)
    }
    if (this.ruleLockAndPrecommit(state)) return true
    if (this.roundStep === 'prevote' && state.prevotes.hasQuorumFor(nilKey, this.validatorSet)) {
      // Line 44: 2f+1 nil prevotes -> precommit nil.
      this.castVote('precommit', null)
      this.roundStep = 'precommit'
      return true
    }
    if (!state.precommitTimeoutScheduled && this.validatorSet.isQuorum(state.precommits.power)) {
      // Line 47: 2f+1 precommits of any kind -> schedule OnTimeoutPrecommit.
      state.precommitTimeoutScheduled = true
      this.scheduleTimeout('precommit', this.round)
    }
    return false
  }

  /** valid(v): the block follows the tip and the application accepted it. Null while the verdict is pending. */
  private isValid(entry: BlockEntry): boolean | null {
    if (entry.extendsProblem !== null || entry.verdict === 'rejected') return false
    return entry.verdict === 'accepted' ? true : null
  }

  /** Lines 22-33: the first proposal of the round, fresh (line 22) or re-proposed with a proof of lock (line 28). */
  private rulePrevoteOnProposal(state: RoundState): boolean {
    const message = state.proposals[0]
    if (message === undefined) return false
    const proposal = message.proposal
    const entry = this.blocks.get(bytesToHex(proposal.blockHash))
    assert(entry !== undefined, 'a stored proposal has its block')
    const vr = proposal.validRound
    if (vr === -1) {
      // Line 22: upon PROPOSAL(h, r, v, -1) from proposer while step = propose.
      let valid = this.isValid(entry)
      if (valid === null) return false
      if (entry.block.header.proposer !== proposal.proposer) valid = false
      const lockAllows = this.locked === null || this.locked.entry.key === entry.key
      this.castVote('prevote', valid && lockAllows ? entry.hash : null)
      this.roundStep = 'prevote'
      return true
    }
    // Line 28: upon PROPOSAL(h, r, v, vr) and 2f+1 PREVOTE(h, vr, id(v)) while step = propose and 0 <= vr < r.
    // A stored proposal with vr >= 0 carries a verified quorum of those prevotes (its proof of lock),
    // which stands even where this validator's own tally differs: an equivocator's other prevote
    // may have reached it first.
    assert(vr < this.round && message.proofOfLock.length > 0, 'a stored re-proposal carries its proof of lock')
    const valid = this.isValid(entry)
    if (valid === null) return false
    const lockAllows = this.locked === null || this.locked.round <= vr || this.locked.entry.key === entry.key
    this.castVote('prevote', valid && lockAllows ? entry.hash : null)
    this.roundStep = 'prevote'
    return true
  }

  /**
   * Line 36: upon PROPOSAL(h, r, v, *) and 2f+1 PREVOTE(h, r, id(v)) while valid(v) and step >= prevote,
   * for the first time: lock and precommit if still in prevote; in any case set validValue.
   * The block may have come with any proposal of the height: the quorum of prevotes is what counts.
   */
  private ruleLockAndPrecommit(state: RoundState): boolean {
    if (this.roundStep === 'propose' || state.lockRuleFired) return false
    for (const key of state.prevotes.quorumKeys) {
      if (key === nilKey) continue
      const entry = this.blocks.get(key)
      if (entry === undefined || this.isValid(entry) !== true) continue
      state.lockRuleFired = true
      const proofOfLock = state.prevotes.signaturesFor(entry.hash)
      if (this.roundStep === 'prevote') {
        this.locked = { round: this.round, entry }
        this.persist({ kind: 'lock', height: this.height, round: this.round, block: entry.block })
      }
      this.valid = { round: this.round, entry }
      this.validProofOfLock = proofOfLock
      this.persist({ kind: 'valid', height: this.height, round: this.round, block: entry.block, proofOfLock })
      if (this.roundStep === 'prevote') {
        this.castVote('precommit', entry.hash)
        this.roundStep = 'precommit'
      }
      return true
    }
    return false
  }

  /** Line 49: upon PROPOSAL(h, r, v, *) and 2f+1 PRECOMMIT(h, r, id(v)), in any round r, while undecided. */
  private ruleDecide(): boolean {
    this.missingDecidedBlock = false
    for (const [round, state] of this.rounds) {
      for (const key of state.precommits.quorumKeys) {
        if (key === nilKey) continue
        const entry = this.blocks.get(key)
        if (entry === undefined) {
          // Decided by a quorum, but this validator never got the block: catch-up fetches it.
          this.missingDecidedBlock = true
          this.countMissedProposal(round)
          continue
        }
        this.checkCertifiedBlockExtends(entry.block)
        if (entry.extendsProblem !== null) continue
        const certificate = buildCommitCertificate(this.height, round, entry.hash, state.precommits.votes.values())
        assert(this.validatorSet.isQuorum(certificate.signatures.reduce((sum, s) => sum + this.validatorSet.get(s.validator)!.power, 0)), 'a decision has a quorum certificate')
        for (const validator of this.validatorSet.validators) {
          if (!state.prevotes.votes.has(validator.id) && !state.precommits.votes.has(validator.id)) {
            this.counters.missedVotes[validator.id] = (this.counters.missedVotes[validator.id] ?? 0) + 1
          }
        }
        this.decide({ block: entry.block, hash: entry.hash, certificate, source: 'consensus' })
        return true
      }
    }
    return false
  }

  /**
   * A block certified by a quorum but built on another app hash means this validator's application
   * state has diverged from the network's: stopping is safer than continuing.
   */
  private checkCertifiedBlockExtends(block: Block): void {
    const header = block.header
    if (header.height === this.tip.height + 1 && equalBytes(header.previousBlockHash, this.tip.blockHash)) {
      if (!equalBytes(header.appHash, this.tip.appHash)) assert(false, `app hash diverged at height ${this.tip.height}: a quorum certified another state`)
    }
  }

  /** Line 55: upon f+1 messages of a round r > round_p, start round r (the highest such round). */
  private ruleSkipRound(): boolean {
    let target = -1
    for (const [round, state] of this.rounds) {
      if (round > this.round && round > target && this.validatorSet.isOneThird(state.senderPower)) target = round
    }
    if (target < 0) return false
    this.startRound(target)
    return true
  }

  private applyCatchUpBlock(): boolean {
    const certified = this.catchUpBlocks.get(this.height)
    if (certified === undefined) return false
    this.catchUpBlocks.delete(this.height)
    this.checkCertifiedBlockExtends(certified.block)
    if (checkExtends(certified.block, this.chainId, this.tip) !== null) return false
    this.counters.decisionsByCatchUp++
    this.decide({ block: certified.block, hash: blockHash(certified.block.header), certificate: certified.certificate, source: 'catchUp' })
    return true
  }

  /** The proposal of a round never arrived: before the propose timeout, or before a quorum decided its block. Once per round. */
  private countMissedProposal(round: number): void {
    const state = this.roundState(round)
    if (state.proposals.length > 0 || state.proposalMissCounted) return
    state.proposalMissCounted = true
    const proposer = this.validatorSet.proposer(this.height, round).id
    this.counters.missedProposals[proposer] = (this.counters.missedProposals[proposer] ?? 0) + 1
  }

  private decide(decision: Decision): void {
    this.decision = decision
    this.counters.decisions++
    this.persist({ kind: 'decision', block: decision.block, certificate: decision.certificate })
    this.emitDecide(decision)
  }

  private emitDecide(decision: Decision): void {
    this.out.push({
      kind: 'decide',
      height: this.height,
      block: decision.block,
      blockHash: decision.hash,
      certificate: decision.certificate,
      source: decision.source
    })
  }

  /** Line 52-54: the next height starts with an empty log, no lock and no valid value. */
  private enterHeight(height: number): void {
    // Peers noted one height behind that sent nothing of the height just decided are now two behind.
    this.helpLaggingPeers()
    this.height = height
    this.round = 0
    this.roundStep = 'propose'
    this.decision = null
    this.locked = null
    this.valid = null
    this.validProofOfLock = []
    this.rounds.clear()
    this.blocks.clear()
    this.ownVotes.clear()
    this.ownProposals.clear()
    this.awaitingProposalRound = null
    this.catchUpRequested = false
    this.missingDecidedBlock = false
    this.catchUpPeer = null
    for (const h of [...this.catchUpBlocks.keys()]) if (h < height) this.catchUpBlocks.delete(h)
    const buffered = this.futureMessages.splice(0)
    this.futureKeys.clear()
    const self = this.validatorSet.get(this.validatorId)!
    if (this.limits.timeoutCommitMs > 0 || this.validatorSet.isQuorum(self.power)) {
      // timeout_commit; or a validator that is a quorum alone, which would otherwise decide the
      // next height within this very step, and the next, without end.
      this.waiting = 'commit'
      this.scheduleTimeout('commit', 0)
    } else this.beginHeight()
    for (const { from, message } of buffered) {
      if (message.kind === 'vote') this.receiveVote(from, message.vote, true)
      else this.receiveProposal(from, message, true)
    }
  }

  /** Drops rounds too old to matter, except the lock's and the valid value's, and blocks no kept round refers to. */
  private prune(): void {
    const oldest = this.round - this.limits.roundsKeptMax
    let pruned = false
    for (const round of [...this.rounds.keys()]) {
      if (round < oldest && round !== this.locked?.round && round !== this.valid?.round) {
        this.rounds.delete(round)
        pruned = true
      }
    }
    // Own messages of old rounds go too: this validator only ever signs in its current round,
    // which only moves forward, so forgetting them cannot lead to a conflicting signature.
    for (const round of [...this.ownProposals.keys()]) if (round < oldest) this.ownProposals.delete(round)
    for (const key of [...this.ownVotes.keys()]) if (Number(key.slice(0, key.indexOf('/'))) < oldest) this.ownVotes.delete(key)
    if (!pruned) return
    const referenced = new Set<string>()
    for (const state of this.rounds.values()) for (const p of state.proposals) referenced.add(bytesToHex(p.proposal.blockHash))
    if (this.locked !== null) referenced.add(this.locked.entry.key)
    if (this.valid !== null) referenced.add(this.valid.entry.key)
    for (const key of [...this.blocks.keys()]) if (!referenced.has(key)) this.blocks.delete(key)
  }

  // ---------------------------------------------------------------------------------------------
  // Catch-up.

  /**
   * Asks a peer for committed blocks from this height when it is behind: validators with more
   * than 1/3 of the power (so at least one honest one) have been seen at a higher height, or a
   * quorum precommitted a block this validator does not have. At most one request per timeout.
   */
  private maybeRequestCatchUp(): void {
    if (!this.started || this.decision !== null || this.catchUpRequested || this.catchUpPeer === null) return
    let wanted = this.missingDecidedBlock
    if (!wanted) {
      let power = 0
      for (const [id, height] of this.heightSeen) if (height > this.height) power += this.validatorSet.get(id)!.power
      wanted = this.validatorSet.isOneThird(power)
    }
    if (!wanted) return
    this.catchUpRequested = true
    this.counters.catchUpRequests++
    const message: BlockRequestMessage = { kind: 'blockRequest', chainId: this.chainId, fromHeight: this.height, count: this.limits.catchUpBlocksMax }
    this.out.push({ kind: 'send', to: this.catchUpPeer, message, bytes: encodeConsensusMessage(message) })
  }

  // ---------------------------------------------------------------------------------------------
  // Restore from the WAL.

  private restoreFrom(records: readonly WalRecord[]): void {
    this.restored = true
    const height = this.height
    let round = 0
    for (const record of records) {
      const recordHeight = walRecordHeight(record)
      if (recordHeight < height) continue
      if (recordHeight > height) {
        throw new ConsensusError('BAD_WAL_RECORD', `WAL holds a record for height ${recordHeight} but the last committed block is ${this.tip.height}`)
      }
      switch (record.kind) {
        case 'proposal': {
          const p = record.message.proposal
          if (p.proposer !== this.validatorId) throw new ConsensusError('BAD_WAL_RECORD', 'WAL holds a proposal signed by another validator')
          if (this.ownProposals.has(p.round)) break // an equivocating validator's second proposal
          this.ownProposals.set(p.round, record.message)
          const state = this.roundState(p.round)
          state.proposals.push(record.message)
          this.noteSender(state, this.validatorSet.get(this.validatorId)!)
          this.addBlockOwn(record.message.block, p.blockHash)
          round = Math.max(round, p.round)
          break
        }
        case 'vote': {
          const vote = record.vote
          if (vote.validator !== this.validatorId) throw new ConsensusError('BAD_WAL_RECORD', 'WAL holds a vote signed by another validator')
          const key = `${vote.round}/${vote.type}`
          if (this.ownVotes.has(key)) break // an equivocating validator's second vote
          this.ownVotes.set(key, vote)
          const state = this.roundState(vote.round)
          const self = this.validatorSet.get(this.validatorId)!
          ;(vote.type === 'prevote' ? state.prevotes : state.precommits).add(vote, self.power, this.validatorSet)
          this.noteSender(state, self)
          round = Math.max(round, vote.round)
          break
        }
        case 'lock': {
          const entry = this.addBlockOwn(record.block, blockHash(record.block.header))
          if (this.locked === null || record.round >= this.locked.round) this.locked = { round: record.round, entry }
          round = Math.max(round, record.round)
          break
        }
        case 'valid': {
          const entry = this.addBlockOwn(record.block, blockHash(record.block.header))
          if (this.valid === null || record.round >= this.valid.round) {
            this.valid = { round: record.round, entry }
            this.validProofOfLock = record.proofOfLock
          }
          round = Math.max(round, record.round)
          break
        }
        case 'decision':
          this.decision = { block: record.block, hash: blockHash(record.block.header), certificate: record.certificate, source: 'consensus' }
          break
      }
    }
    this.round = round
    this.roundStep = this.ownVotes.has(`${round}/precommit`) ? 'precommit' : this.ownVotes.has(`${round}/prevote`) ? 'prevote' : 'propose'
    // Line 36 fired in this round if this validator precommitted a value in it.
    const precommit = this.ownVotes.get(`${round}/precommit`)
    if (precommit !== undefined && precommit.blockHash !== null) this.roundState(round).lockRuleFired = true
  }
}

function structuredCloneMetrics(metrics: ConsensusMetrics, evicted: number): ConsensusMetrics {
  return {
    ...metrics,
    evidenceEvicted: evicted,
    messagesDropped: { ...metrics.messagesDropped },
    missedProposals: { ...metrics.missedProposals },
    missedVotes: { ...metrics.missedVotes }
  }
}
