/**
 * Bounds of the replica: the mempool, blocks and transaction gossip. Units last. The relations
 * between them (a block fits in a consensus message; a gossip batch fits in a wire message) are
 * checked by `checkReplicaLimits`.
 */
import { protocolLimits } from '../../protocol/limits.ts'
import { CorridorError } from '../../protocol/errors.ts'

export interface ReplicaLimits {
  /** Transactions waiting in the mempool at most; new ones are refused with MEMPOOL_FULL beyond. */
  readonly mempoolTransactionsMax: number
  /** Transactions one signer may have waiting, so one sender cannot fill the mempool. */
  readonly mempoolTransactionsPerSignerMax: number
  /** Transactions in one block at most. */
  readonly blockTransactionsMax: number
  /** Encoded transaction bytes in one block at most; must fit a consensus message with room for the header. */
  readonly blockBytesMax: number
  /** Transactions in one gossip batch at most. */
  readonly gossipBatchTransactionsMax: number
  /** How long newly admitted transactions wait to be batched before they are gossiped. */
  readonly gossipFlushMs: number
  /** Largest gossip batch message on the wire. */
  readonly gossipBatchBytesMax: number
  /** How long a proposer holds back a signer's transaction that follows a nonce gap (see Mempool.reap). */
  readonly nonceGapGraceMs: number
  /** How far ahead of this validator's clock a proposed block's time may be. */
  readonly blockTimeDriftMaxMs: number
}

export const defaultReplicaLimits: ReplicaLimits = {
  mempoolTransactionsMax: 200_000,
  mempoolTransactionsPerSignerMax: 256,
  blockTransactionsMax: 5_000,
  blockBytesMax: 3 * 1024 * 1024,
  gossipBatchTransactionsMax: 1_000,
  gossipFlushMs: 10,
  gossipBatchBytesMax: 1024 * 1024,
  nonceGapGraceMs: 3_000,
  blockTimeDriftMaxMs: 5_000
}

export function checkReplicaLimits(overrides: Partial<ReplicaLimits> = {}, consensusMessageBytesMax = 4 * 1024 * 1024): ReplicaLimits {
  const limits = { ...defaultReplicaLimits, ...overrides }
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < (name === 'gossipFlushMs' || name === 'nonceGapGraceMs' ? 0 : 1)) {
      throw new CorridorError('BAD_CONFIG', `replica limit ${name} must be a positive integer, got ${value}`)
    }
  }
  const rules: Array<[boolean, string]> = [
    [limits.blockBytesMax + 64 * 1024 <= consensusMessageBytesMax, `blockBytesMax (${limits.blockBytesMax}) plus 64 KiB for the header and signatures must fit consensus messageBytesMax (${consensusMessageBytesMax})`],
    [limits.mempoolTransactionsPerSignerMax <= limits.mempoolTransactionsMax, 'mempoolTransactionsPerSignerMax must not exceed mempoolTransactionsMax'],
    [limits.blockTransactionsMax <= limits.mempoolTransactionsMax, 'blockTransactionsMax must not exceed mempoolTransactionsMax'],
    [limits.gossipBatchBytesMax >= protocolLimits.transactionBytesMax, 'gossipBatchBytesMax must hold at least one transaction of transactionBytesMax'],
    [limits.gossipBatchBytesMax <= protocolLimits.messageBytesMax, 'gossipBatchBytesMax must fit a wire message (protocolLimits.messageBytesMax)']
  ]
  for (const [ok, message] of rules) if (!ok) throw new CorridorError('BAD_CONFIG', `replica limits: ${message}`)
  return limits
}
