/**
 * A minimal in-process driver of replicas for tests: instant, ordered delivery (with optional
 * drops), timeouts on a virtual clock, and an in-memory "store" per replica holding its WAL and
 * committed blocks, so a replica can be crashed and restarted. The simulator is the full driver.
 */
import { createValidatorSet, createCachingVerifier, genesisTip, walRecordHeight, type CertifiedBlock, type ChainTip, type WalRecord } from '../../../../src/consensus/index.ts'
import { genesisValidators } from '../../../../src/ledger/genesis.ts'
import { createTestNetwork, type TestNetwork } from '../../../../src/ledger/testing/index.ts'
import { createNativeVerifier } from '../../../../src/platform/ed25519Native.ts'
import { AdmissionCache } from '../../../../src/node/replica/admission.ts'
import { Replica, type CommittedBlock, type ReplicaAction, type ReplicaByzantine, type ReplicaInput } from '../../../../src/node/replica/replica.ts'
import { EventQueue } from '../../../../src/sim/eventQueue.ts'
import { cloneLedgerState, type LedgerState } from '../../../../src/ledger/state.ts'

interface Store {
  wal: WalRecord[]
  blocks: CommittedBlock[]
  ledger: LedgerState
  tip: ChainTip
}

type Event =
  | { kind: 'input'; to: string; input: ReplicaInput }

export class ReplicaCluster {
  readonly network: TestNetwork
  readonly replicas = new Map<string, Replica>()
  readonly stores = new Map<string, Store>()
  readonly down = new Set<string>()
  readonly queue = new EventQueue<Event>()
  readonly admission: AdmissionCache
  private readonly consensusVerifier = createCachingVerifier(createNativeVerifier())
  nowMs: number
  latencyMs = 5
  dropped = 0
  /** Drop messages between these pairs ("a>b"). */
  readonly cut = new Set<string>()

  constructor(customersPerBank = 8) {
    this.network = createTestNetwork({ customersPerBank })
    this.admission = new AdmissionCache({ chainId: this.network.chainId, verifier: createNativeVerifier() })
    this.nowMs = this.network.state.timeMs + 1
    const genesis = this.network.state
    for (const bank of this.network.document.banks) {
      const tip = genesisTip(this.network.chainId, genesis.timeMs, genesis.stateRoot)
      this.stores.set(bank.id, { wal: [], blocks: [], ledger: cloneLedgerState(genesis), tip })
      this.boot(bank.id)
    }
  }

  get ids(): string[] {
    return [...this.replicas.keys()]
  }

  boot(id: string, byzantine?: ReplicaByzantine): void {
    const store = this.stores.get(id)!
    const validatorSet = createValidatorSet(genesisValidators(this.network.document).map((v) => ({ id: v.id, publicKey: v.publicKey, power: v.votingPower })))
    const replica = new Replica({
      chainId: this.network.chainId,
      validatorId: id,
      signer: this.network.signer(id),
      validatorSet,
      consensusVerifier: this.consensusVerifier,
      admission: this.admission,
      ledger: cloneLedgerState(store.ledger),
      tip: store.tip,
      wal: store.wal.filter((record) => walRecordHeight(record) > store.tip.height),
      ...(byzantine === undefined ? {} : { byzantine })
    })
    this.replicas.set(id, replica)
    this.down.delete(id)
    this.perform(id, replica.step({ kind: 'start', nowMs: this.nowMs }))
  }

  crash(id: string): void {
    this.down.add(id)
    this.replicas.delete(id)
  }

  submit(to: string, envelopes: Parameters<Replica['submit']>[0]): ReturnType<Replica['submit']>['results'] {
    const replica = this.replicas.get(to)!
    const { results, actions } = replica.submit(envelopes, this.nowMs)
    this.perform(to, actions)
    return results
  }

  private deliver(from: string, to: string, input: ReplicaInput): void {
    if (this.cut.has(`${from}>${to}`)) {
      this.dropped++
      return
    }
    this.queue.push(this.nowMs + this.latencyMs, { kind: 'input', to, input })
  }

  private perform(id: string, actions: readonly ReplicaAction[]): void {
    const store = this.stores.get(id)!
    for (const action of actions) {
      switch (action.kind) {
        case 'persist':
          store.wal.push(action.record)
          break
        case 'commit': {
          store.blocks.push(action.committed)
          const replica = this.replicas.get(id)!
          store.ledger = cloneLedgerState(replica.ledgerState)
          const header = action.committed.block.header
          store.tip = { height: header.height, blockHash: action.committed.blockHash, timeMs: header.timeMs, appHash: action.committed.stateRoot }
          store.wal = store.wal.filter((record) => walRecordHeight(record) > header.height)
          break
        }
        case 'broadcast':
          for (const other of this.ids) if (other !== id) this.deliver(id, other, { kind: 'consensusMessage', from: id, bytes: action.bytes, nowMs: 0 })
          break
        case 'send':
          this.deliver(id, action.to, { kind: 'consensusMessage', from: id, bytes: action.bytes, nowMs: 0 })
          break
        case 'gossipTransactions':
          for (const other of this.ids) if (other !== id) this.deliver(id, other, { kind: 'transactionBatch', from: id, bytes: action.bytes, nowMs: 0 })
          break
        case 'scheduleTimeout':
          this.queue.push(this.nowMs + action.durationMs, { kind: 'input', to: id, input: { kind: 'timeout', timeout: action.timeout, nowMs: 0 } })
          break
        case 'loadBlocks': {
          const blocks: CertifiedBlock[] = store.blocks
            .filter((b) => b.height >= action.fromHeight)
            .slice(0, action.count)
            .map((b) => ({ block: b.block, certificate: b.certificate }))
          this.queue.push(this.nowMs, { kind: 'input', to: id, input: { kind: 'blocksLoaded', to: action.to, blocks, nowMs: 0 } })
          break
        }
        case 'evidence':
        case 'messageVerdict':
          break
      }
    }
  }

  /** Runs until `done` holds or the virtual clock passes `untilMs`. Returns whether done held. */
  run(done: () => boolean, durationMs = 60_000): boolean {
    const untilMs = this.nowMs + durationMs
    while (!done()) {
      const event = this.queue.pop()
      if (event === undefined || event.timeMs > untilMs) return false
      this.nowMs = Math.max(this.nowMs, event.timeMs)
      const replica = this.replicas.get(event.payload.to)
      if (replica === undefined || this.down.has(event.payload.to)) continue
      this.perform(event.payload.to, replica.step({ ...event.payload.input, nowMs: this.nowMs } as ReplicaInput))
    }
    return true
  }

  heights(): number[] {
    return this.ids.map((id) => this.replicas.get(id)!.height)
  }
}
