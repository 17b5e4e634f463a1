/**
 * A small deterministic application for tests and simulations of consensus alone: payloads are
 * short tuples, a payload is valid when it names the block's height, and the app hash chains the
 * block hashes. It implements the same boundary the replica implements with the ledger.
 */
import type { Encodable } from '../../protocol/encoding.ts'
import { hashValue } from '../../protocol/hash.ts'
import type { ConsensusApplication, ProposalRequest } from '../application.ts'
import { blockHash, type Block } from '../block.ts'

export const testGenesisAppHash = hashValue('corridor.test.app', ['genesis'])

export class TestApplication implements ConsensusApplication<void> {
  private pendingAppHash: Uint8Array | null = null
  private proposals = 0

  constructor(
    private readonly proposerId: string,
    private appHash: Uint8Array = testGenesisAppHash
  ) {}

  checkTx(): { ok: true } {
    return { ok: true }
  }

  prepareProposal(request: ProposalRequest): Encodable {
    this.proposals++
    return ['test-block', request.height, request.round, this.proposerId, this.proposals]
  }

  processProposal(block: Block): boolean {
    const payload = block.payload
    return Array.isArray(payload) && payload[0] === 'test-block' && payload[1] === block.header.height
  }

  finalizeBlock(block: Block): void {
    this.pendingAppHash = hashValue('corridor.test.app', [this.appHash, blockHash(block.header)])
  }

  commit(): { appHash: Uint8Array } {
    if (this.pendingAppHash === null) throw new Error('commit without finalizeBlock')
    this.appHash = this.pendingAppHash
    this.pendingAppHash = null
    return { appHash: this.appHash }
  }

  get currentAppHash(): Uint8Array {
    return this.appHash
  }
}
