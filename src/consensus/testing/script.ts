/**
 * Single-engine scripts, in the manner of etcd raft's data-driven tests: one real engine under
 * test, the other validators played by the script, which signs their proposals and votes with
 * their keys and hands them over as bytes. A test reads as what happens and what must follow:
 *
 *   const s = new Script({ validators: 4, self: 'v0' })
 *   s.start()
 *   const block = s.block(1)
 *   s.deliver(s.proposal(0, block))
 *   s.verdict(block, true)
 *   expect s.lastVote('prevote') to be for block
 */
import { bytesToHex } from '../../protocol/bytes.ts'
import type { Encodable } from '../../protocol/encoding.ts'
import type { SignatureVerifier } from '../../protocol/keys.ts'
import { blockHash, genesisTip, payloadHash, type Block, type ChainTip } from '../block.ts'
import type { ByzantineBehaviour } from '../byzantine.ts'
import { ConsensusEngine } from '../engine.ts'
import type { ConsensusLimits, TimeoutStep } from '../limits.ts'
import {
  encodeConsensusMessage,
  proposalSigningBytes,
  voteSigningBytes,
  type CommitCertificate,
  type ConsensusMessage,
  type Vote,
  type VoteSignature,
  type VoteType
} from '../messages.ts'
import type { ConsensusAction, ConsensusConfig, ConsensusInput } from '../types.ts'
import type { ValidatorSet } from '../validatorSet.ts'
import { createCachingVerifier } from '../verifierCache.ts'
import type { WalRecord } from '../wal.ts'
import { clusterValidatorSet, harnessChainId, harnessGenesisTimeMs, harnessLimits } from './cluster.ts'
import { createTestKeyring, type TestKeyring } from './keys.ts'
import { testGenesisAppHash } from './testApplication.ts'

export interface ScriptOptions {
  readonly validators?: number
  readonly powers?: readonly number[]
  /** The validator under test; default 'v0'. */
  readonly self?: string
  readonly limits?: Partial<ConsensusLimits>
  readonly byzantine?: ByzantineBehaviour
  /** Restore from these WAL records instead of starting fresh. */
  readonly wal?: readonly WalRecord[]
  readonly tip?: ChainTip
  readonly verifier?: SignatureVerifier
}

export class Script {
  readonly keyring: TestKeyring
  readonly validatorSet: ValidatorSet
  readonly config: ConsensusConfig
  engine: ConsensusEngine
  /** Every action the engine returned, in order. */
  readonly actions: ConsensusAction[] = []
  /** The WAL as the driver would keep it. */
  readonly wal: WalRecord[] = []
  /** Actions of the latest step only. */
  last: ConsensusAction[] = []

  constructor(options: ScriptOptions = {}) {
    this.keyring = createTestKeyring('fast')
    const validators = options.validators ?? 4
    this.validatorSet = clusterValidatorSet(
      {
        seed: 0,
        validators,
        ...(options.powers !== undefined ? { powers: options.powers } : {}),
        network: { latencyMinMs: 0, latencyMaxMs: 0, dropProbability: 0, duplicateProbability: 0, relay: false },
        healAtMs: 0,
        heightsAfterHeal: 0
      },
      this.keyring
    )
    const self = options.self ?? 'v0'
    this.config = {
      chainId: harnessChainId,
      validatorSet: this.validatorSet,
      validatorId: self,
      signer: this.keyring.signer(this.indexOf(self)),
      verifier: options.verifier ?? createCachingVerifier(this.keyring.verifier),
      tip: options.tip ?? genesisTip(harnessChainId, harnessGenesisTimeMs, testGenesisAppHash),
      limits: { ...harnessLimits, ...options.limits },
      ...(options.byzantine !== undefined ? { byzantine: options.byzantine } : {})
    }
    this.engine = options.wal !== undefined ? ConsensusEngine.restore(this.config, options.wal) : ConsensusEngine.create(this.config)
  }

  indexOf(id: string): number {
    return Number(id.slice(1))
  }

  get tip(): ChainTip {
    return this.engine.status().tip
  }

  /** Feeds one input; records its actions and the WAL as a driver would. */
  step(input: ConsensusInput): ConsensusAction[] {
    this.last = this.engine.step(input)
    for (const action of this.last) if (action.kind === 'persist') this.wal.push(action.record)
    this.actions.push(...this.last)
    return this.last
  }

  start(): ConsensusAction[] {
    return this.step({ kind: 'start' })
  }

  /** A block another validator (by default the round's proposer) built on the current tip. */
  block(round: number, options: { proposer?: string; payload?: Encodable; timeMs?: number; appHash?: Uint8Array; height?: number } = {}): Block {
    const tip = this.tip
    const height = options.height ?? tip.height + 1
    const proposer = options.proposer ?? this.validatorSet.proposer(height, round).id
    const payload = options.payload ?? ['test-block', height, round, proposer, 0]
    return {
      header: {
        chainId: harnessChainId,
        height,
        timeMs: options.timeMs ?? tip.timeMs + 1000,
        previousBlockHash: tip.blockHash,
        proposer,
        payloadHash: payloadHash(payload),
        appHash: options.appHash ?? tip.appHash
      },
      payload
    }
  }

  signVote(validator: string, type: VoteType, round: number, block: Block | Uint8Array | null, height = this.engine.status().height): Vote {
    const hash = block === null ? null : block instanceof Uint8Array ? block : blockHash(block.header)
    const signature = this.keyring.signer(this.indexOf(validator)).sign(voteSigningBytes(harnessChainId, type, height, round, hash))
    return { chainId: harnessChainId, type, height, round, blockHash: hash, validator, signature }
  }

  /** The bytes of a vote signed by `validator`. */
  vote(validator: string, type: VoteType, round: number, block: Block | Uint8Array | null, height?: number): Uint8Array {
    return encodeConsensusMessage({ kind: 'vote', vote: this.signVote(validator, type, round, block, height) })
  }

  /** The bytes of a proposal signed by the round's proposer (or `from`). */
  proposal(round: number, block: Block, options: { validRound?: number; proofOfLock?: readonly VoteSignature[]; from?: string; height?: number } = {}): Uint8Array {
    const height = options.height ?? block.header.height
    const from = options.from ?? this.validatorSet.proposer(height, round).id
    const validRound = options.validRound ?? -1
    const hash = blockHash(block.header)
    const signature = this.keyring.signer(this.indexOf(from)).sign(proposalSigningBytes(harnessChainId, height, round, validRound, hash))
    return encodeConsensusMessage({
      kind: 'proposal',
      proposal: { chainId: harnessChainId, height, round, validRound, blockHash: hash, proposer: from, signature },
      block,
      proofOfLock: options.proofOfLock ?? []
    })
  }

  /** Prevote signatures of `validators` for a block at a round: a proof of lock. */
  proofOfLock(validators: readonly string[], round: number, block: Block): VoteSignature[] {
    return [...validators].sort().map((validator) => ({ validator, signature: this.signVote(validator, 'prevote', round, block).signature }))
  }

  certificate(validators: readonly string[], round: number, block: Block): CommitCertificate {
    const height = block.header.height
    return {
      height,
      round,
      blockHash: blockHash(block.header),
      signatures: [...validators].sort().map((validator) => ({ validator, signature: this.signVote(validator, 'precommit', round, block, height).signature }))
    }
  }

  deliver(bytes: Uint8Array, from = 'peer'): ConsensusAction[] {
    return this.step({ kind: 'message', from, bytes })
  }

  /** Votes of one type for one value from several validators. */
  votes(validators: readonly string[], type: VoteType, round: number, block: Block | null): ConsensusAction[] {
    const all: ConsensusAction[] = []
    for (const validator of validators) all.push(...this.deliver(this.vote(validator, type, round, block), validator))
    return all
  }

  verdict(block: Block, accept: boolean): ConsensusAction[] {
    return this.step({ kind: 'proposalVerdict', height: block.header.height, blockHash: blockHash(block.header), accept })
  }

  timeout(step: TimeoutStep, round: number, height = this.engine.status().height): ConsensusAction[] {
    return this.step({ kind: 'timeout', timeout: { height, round, step } })
  }

  value(round: number, payload: Encodable = ['test-block', this.engine.status().height, round, this.config.validatorId, 1], timeMs = this.tip.timeMs + 1000): ConsensusAction[] {
    return this.step({ kind: 'proposalValue', height: this.engine.status().height, round, payload, timeMs })
  }

  committed(appHash: Uint8Array = this.tip.appHash): ConsensusAction[] {
    return this.step({ kind: 'committed', height: this.engine.status().height, appHash })
  }

  // Queries on what the engine did.

  /** Messages the engine sent (broadcast or send), in order, from all steps or the given actions. */
  sent(actions: readonly ConsensusAction[] = this.actions): ConsensusMessage[] {
    const out: ConsensusMessage[] = []
    for (const action of actions) if (action.kind === 'broadcast' || action.kind === 'send') out.push(action.message)
    return out
  }

  /** Own votes signed (persisted), in order. */
  signedVotes(type?: VoteType): Vote[] {
    return this.wal.flatMap((r) => (r.kind === 'vote' && (type === undefined || r.vote.type === type) ? [r.vote] : []))
  }

  /** The latest own vote of a type, as persisted. */
  lastVote(type: VoteType): Vote | undefined {
    return this.signedVotes(type).at(-1)
  }

  of<K extends ConsensusAction['kind']>(kind: K, actions: readonly ConsensusAction[] = this.last): Extract<ConsensusAction, { kind: K }>[] {
    return actions.filter((a): a is Extract<ConsensusAction, { kind: K }> => a.kind === kind)
  }

  verdictOfLast(): Extract<ConsensusAction, { kind: 'messageVerdict' }> | undefined {
    return this.of('messageVerdict')[0]
  }
}

/** Hex of a block's hash, or 'nil'. */
export function hashOf(value: Block | Uint8Array | null | undefined): string {
  if (value === null || value === undefined) return 'nil'
  return bytesToHex(value instanceof Uint8Array ? value : blockHash(value.header))
}
