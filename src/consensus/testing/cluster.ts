/**
 * The in-process cluster harness: real engines, a simulated network and a virtual clock, all driven
 * by one seed. It delivers messages in a seeded order with delays, drops, duplicates, partitions
 * and gossip relay; fires timeouts on the virtual clock; plays the application; crashes and
 * restarts validators from their WAL; runs twins (two engines under one key); and checks the
 * invariants after every action (checkers.ts). A run has a safety phase with faults, then from
 * `healAtMs` a liveness phase on a clean network in which every honest live validator must decide
 * new heights within a bounded number of rounds.
 *
 * It is a driver of the engine like the node and the simulator are: it honours the ordering
 * contract (persist, then send, then apply) and answers every request action with an input.
 */
import { bytesToHex } from '../../protocol/bytes.ts'
import { assert } from '../../protocol/assert.ts'
import { blockHash, genesisTip, type ChainTip } from '../block.ts'
import type { ByzantineBehaviour } from '../byzantine.ts'
import { ConsensusEngine } from '../engine.ts'
import { describeEvidence, type Evidence } from '../evidence.ts'
import { checkConsensusLimits, timeoutDurationMs, type ConsensusLimits } from '../limits.ts'
import { decodeConsensusMessage, describeMessage, type CertifiedBlock, type ConsensusMessage } from '../messages.ts'
import type { ConsensusAction, ConsensusInput, ConsensusMetrics } from '../types.ts'
import { createValidatorSet, type ValidatorSet } from '../validatorSet.ts'
import { createCachingVerifier, type CachingVerifier } from '../verifierCache.ts'
import { walRecordHeight, type WalRecord } from '../wal.ts'
import { ClusterChecker, InvariantViolation, type Violation } from './checkers.ts'
import { EventQueue } from './eventQueue.ts'
import { createTestKeyring, type NativeEd25519, type SignatureScheme, type TestKeyring } from './keys.ts'
import { Prng } from './prng.ts'
import { TestApplication, testGenesisAppHash } from './testApplication.ts'

export const byzantineKinds = ['equivocate', 'withholdVotes', 'signGarbage', 'silentProposer', 'proposeToSome', 'censor'] as const
export type ByzantineKind = (typeof byzantineKinds)[number]

export interface NetworkSpec {
  readonly latencyMinMs: number
  readonly latencyMaxMs: number
  /** Probability that a transmission is lost (before healAtMs only). */
  readonly dropProbability: number
  /** Probability that a transmission is delivered twice (before healAtMs only). */
  readonly duplicateProbability: number
  /** Gossip relay: a validator forwards what it accepted to peers that have not received it after a while. */
  readonly relay: boolean
}

export type FaultSpec =
  | { readonly kind: 'crash'; readonly atMs: number; readonly node: string }
  | { readonly kind: 'restart'; readonly atMs: number; readonly node: string }
  /** Nodes in different groups cannot reach each other; nodes in no group are cut off from all. */
  | { readonly kind: 'partition'; readonly atMs: number; readonly untilMs: number; readonly groups: readonly (readonly string[])[] }

/** A run, as plain data (JSON): what a failing seed prints and what `--replay` reads. */
export interface ClusterSpec {
  readonly seed: number
  readonly validators: number
  readonly powers?: readonly number[]
  readonly byzantine?: readonly { readonly validator: number; readonly behaviours: readonly ByzantineKind[] }[]
  /** Validators run as two engines under one key (Twins). */
  readonly twins?: readonly number[]
  readonly network: NetworkSpec
  readonly faults?: readonly FaultSpec[]
  /** From this virtual time: no drops, duplicates, partitions or new faults. */
  readonly healAtMs: number
  /** Liveness: every honest live node decides this many heights beyond the highest decided at heal. */
  readonly heightsAfterHeal: number
  readonly limits?: Partial<ConsensusLimits>
}

export interface RunOptions {
  readonly scheme?: SignatureScheme
  readonly native?: NativeEd25519
  /** Share one caching verifier across runs (a process-wide cache). */
  readonly verifier?: CachingVerifier
  readonly trace?: boolean
  readonly traceLinesMax?: number
  /** Stop after this many events (for prefix replays while shrinking). */
  readonly stepsMax?: number
  /** Rounds beyond the highest round at heal within which the liveness target must be met. */
  readonly livenessRoundsMax?: number
  /** Delay before an application answer, at most (virtual ms). */
  readonly applicationDelayMaxMs?: number
}

export interface NodeSummary {
  readonly nodeId: string
  readonly validatorId: string
  readonly honest: boolean
  readonly crashed: boolean
  readonly height: number
  readonly round: number
  readonly evidence: readonly Evidence[]
  readonly metrics: ConsensusMetrics | null
  readonly walRecords: number
}

export interface ClusterResult {
  readonly spec: ClusterSpec
  readonly violation: Violation | null
  readonly steps: number
  readonly timeMs: number
  readonly stoppedBy: 'liveness-met' | 'steps' | 'violation'
  readonly nodes: readonly NodeSummary[]
  readonly heightAtHeal: number
  readonly roundAtHeal: number
  readonly livenessDeadlineMs: number
  readonly decidedHeightMax: number
  readonly messagesDelivered: number
  /** Restarts whose WAL held records of the height they resumed: crashes in the middle of a height. */
  readonly restartsMidHeight: number
  readonly trace: readonly string[]
}

/** Test timeouts: short, and growing per round. Latencies in specs stay well under them. */
export const harnessLimits: Partial<ConsensusLimits> = {
  timeoutProposeBaseMs: 300,
  timeoutProposeDeltaMs: 100,
  timeoutPrevoteBaseMs: 150,
  timeoutPrevoteDeltaMs: 50,
  timeoutPrecommitBaseMs: 150,
  timeoutPrecommitDeltaMs: 50,
  timeoutMaxMs: 10_000,
  validatorsMax: 32,
  votesPerRoundMax: 32,
  futureMessagesMax: 32 * 3 * 4,
  messageBytesMax: 256 * 1024
}

export const harnessChainId = 'corridor-test'
export const harnessGenesisTimeMs = 1_700_000_000_000

export function validatorName(index: number): string {
  return `v${index}`
}
export function twinName(index: number): string {
  return `v${index}~twin`
}

type Event =
  | { kind: 'deliver'; to: number; from: string; bytes: Uint8Array; messageId: number; duplicate: boolean; relayable: boolean }
  | { kind: 'relay'; node: number; incarnation: number; bytes: Uint8Array; messageId: number }
  | { kind: 'timeout'; node: number; incarnation: number; input: ConsensusInput }
  | { kind: 'input'; node: number; incarnation: number; input: ConsensusInput }
  | { kind: 'commit'; node: number; incarnation: number; height: number; certified: CertifiedBlock & { appHash: Uint8Array } }
  | { kind: 'fault'; fault: FaultSpec }
  | { kind: 'heal' }

interface SimNode {
  readonly index: number
  readonly nodeId: string
  readonly validatorIndex: number
  readonly validatorId: string
  readonly honest: boolean
  readonly byzantine: ByzantineBehaviour | undefined
  engine: ConsensusEngine | null
  app: TestApplication
  incarnation: number
  readonly wal: WalRecord[]
  readonly store: Map<number, CertifiedBlock & { appHash: Uint8Array }>
  decidedHeight: number
  readonly seen: Set<number>
  readonly evidence: Evidence[]
  lastMetrics: ConsensusMetrics | null
}

function behaviourOf(kinds: readonly ByzantineKind[], validatorIndex: number, validators: number): ByzantineBehaviour {
  const behaviour: { -readonly [K in keyof ByzantineBehaviour]: ByzantineBehaviour[K] } = {}
  for (const kind of kinds) {
    switch (kind) {
      case 'equivocate':
        behaviour.equivocate = true
        break
      case 'withholdVotes':
        behaviour.withholdVotes = true
        break
      case 'signGarbage':
        behaviour.signGarbage = true
        break
      case 'silentProposer':
        behaviour.proposeTo = []
        break
      case 'proposeToSome': {
        // The lower half of the other validators only.
        const others = Array.from({ length: validators }, (_, i) => i).filter((i) => i !== validatorIndex)
        behaviour.proposeTo = others.slice(0, Math.ceil(others.length / 2)).map(validatorName)
        break
      }
      case 'censor':
        behaviour.censor = (payload) => (Array.isArray(payload) ? [...payload.slice(0, 2), 'censored'] : payload)
        break
    }
  }
  return behaviour
}

/** The validator set and keys of a spec. */
export function clusterValidatorSet(spec: ClusterSpec, keyring: TestKeyring): ValidatorSet {
  return createValidatorSet(
    Array.from({ length: spec.validators }, (_, i) => ({ id: validatorName(i), publicKey: keyring.signer(i).publicKey, power: spec.powers?.[i] ?? 1 })),
    harnessLimits.validatorsMax
  )
}

const processVerifiers = new Map<string, CachingVerifier>()

/** Runs one cluster spec to its end: a violation, the liveness target, or the step limit. */
export function runCluster(spec: ClusterSpec, options: RunOptions = {}): ClusterResult {
  return new Cluster(spec, options).run()
}

class Cluster {
  private readonly rng: Prng
  private readonly networkRng: Prng
  private readonly queue = new EventQueue<Event>()
  private readonly nodes: SimNode[] = []
  private readonly keyring: TestKeyring
  private readonly verifier: CachingVerifier
  private readonly validatorSet: ValidatorSet
  private readonly checker: ClusterChecker
  private readonly limits: ConsensusLimits
  private readonly partitions: { atMs: number; untilMs: number; groupOf: Map<string, number> }[] = []
  private readonly trace: string[] = []
  private readonly traceOn: boolean
  private readonly traceLinesMax: number
  private readonly faulty = new Set<string>()
  private now = 0
  private steps = 0
  private messageIds = 0
  private delivered = 0
  private restartsMidHeight = 0
  private healed = false
  private heightAtHeal = 0
  private roundAtHeal = 0
  private livenessDeadlineMs = Number.POSITIVE_INFINITY
  private currentNode: SimNode | null = null

  constructor(
    private readonly spec: ClusterSpec,
    private readonly options: RunOptions
  ) {
    const scheme = options.scheme ?? 'fast'
    this.rng = new Prng(spec.seed)
    this.networkRng = this.rng.fork()
    this.keyring = createTestKeyring(scheme, options.native)
    let verifier = options.verifier
    if (verifier === undefined) {
      const key = scheme + (options.native !== undefined ? '/native' : '')
      verifier = processVerifiers.get(key) ?? createCachingVerifier(this.keyring.verifier)
      processVerifiers.set(key, verifier)
    }
    this.verifier = verifier
    this.limits = checkConsensusLimits({ ...harnessLimits, ...spec.limits })
    this.validatorSet = clusterValidatorSet(spec, this.keyring)
    this.traceOn = options.trace === true
    this.traceLinesMax = options.traceLinesMax ?? 100_000
    const byzantine = new Map<number, ByzantineBehaviour>()
    for (const entry of spec.byzantine ?? []) {
      byzantine.set(entry.validator, behaviourOf(entry.behaviours, entry.validator, spec.validators))
      this.faulty.add(validatorName(entry.validator))
    }
    for (const index of spec.twins ?? []) this.faulty.add(validatorName(index))
    this.checker = new ClusterChecker(harnessChainId, this.validatorSet, this.verifier, this.faulty)
    for (let i = 0; i < spec.validators; i++) {
      this.addNode(validatorName(i), i, byzantine.get(i))
      if (spec.twins?.includes(i)) this.addNode(twinName(i), i, byzantine.get(i))
    }
    for (const fault of spec.faults ?? []) {
      if (fault.kind === 'partition') {
        const groupOf = new Map<string, number>()
        fault.groups.forEach((group, g) => group.forEach((node) => groupOf.set(node, g)))
        this.partitions.push({ atMs: fault.atMs, untilMs: Math.min(fault.untilMs, spec.healAtMs), groupOf })
      } else if (fault.atMs < spec.healAtMs) {
        this.queue.push(fault.atMs, { kind: 'fault', fault })
      }
    }
    this.queue.push(spec.healAtMs, { kind: 'heal' })
  }

  private addNode(nodeId: string, validatorIndex: number, byzantine: ByzantineBehaviour | undefined): void {
    const validatorId = validatorName(validatorIndex)
    this.nodes.push({
      index: this.nodes.length,
      nodeId,
      validatorIndex,
      validatorId,
      honest: !this.faulty.has(validatorId),
      byzantine,
      engine: null,
      app: new TestApplication(nodeId),
      incarnation: 0,
      wal: [],
      store: new Map(),
      decidedHeight: 0,
      seen: new Set(),
      evidence: [],
      lastMetrics: null
    })
  }

  private tipOf(node: SimNode): ChainTip {
    const last = node.store.get(node.store.size)
    if (last === undefined) return genesisTip(harnessChainId, harnessGenesisTimeMs, testGenesisAppHash)
    const header = last.block.header
    return { height: header.height, blockHash: blockHash(header), timeMs: header.timeMs, appHash: last.appHash }
  }

  private boot(node: SimNode, restore: boolean): void {
    const config = {
      chainId: harnessChainId,
      validatorSet: this.validatorSet,
      validatorId: node.validatorId,
      signer: this.keyring.signer(node.validatorIndex),
      verifier: this.verifier,
      tip: this.tipOf(node),
      limits: this.limits,
      ...(node.byzantine !== undefined ? { byzantine: node.byzantine } : {})
    }
    node.incarnation++
    if (restore && node.wal.some((record) => walRecordHeight(record) === config.tip.height + 1)) this.restartsMidHeight++
    node.engine = restore ? ConsensusEngine.restore(config, node.wal) : ConsensusEngine.create(config)
    node.app = new TestApplication(node.nodeId, config.tip.appHash)
    node.decidedHeight = config.tip.height
    this.log(node, restore ? `restart at h${config.tip.height + 1} from ${node.wal.length} WAL records` : 'start')
    this.feed(node, { kind: 'start' })
  }

  run(): ClusterResult {
    let violation: Violation | null = null
    let stoppedBy: ClusterResult['stoppedBy'] = 'steps'
    const stepsMax = this.options.stepsMax ?? 2_000_000
    try {
      for (const node of this.nodes) this.boot(node, false)
      for (;;) {
        if (this.healed && this.livenessMet()) {
          stoppedBy = 'liveness-met'
          break
        }
        if (this.steps >= stepsMax) break
        const next = this.queue.pop()
        if (next === undefined || next.time > this.livenessDeadlineMs) {
          this.now = Math.min(next?.time ?? this.now, this.livenessDeadlineMs)
          throw new InvariantViolation({ kind: 'liveness', message: this.livenessReport() })
        }
        this.now = next.time
        this.steps++
        this.handle(next.event)
      }
    } catch (error) {
      stoppedBy = 'violation'
      if (error instanceof InvariantViolation) violation = { ...error.violation }
      else violation = { kind: 'engine-error', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error), ...(this.currentNode ? { node: this.currentNode.nodeId } : {}) }
      violation.step = this.steps
      violation.timeMs = this.now
      this.log(null, `VIOLATION ${violation.kind}: ${violation.message}`)
    }
    return {
      spec: this.spec,
      violation,
      steps: this.steps,
      timeMs: this.now,
      stoppedBy,
      nodes: this.nodes.map((node) => ({
        nodeId: node.nodeId,
        validatorId: node.validatorId,
        honest: node.honest,
        crashed: node.engine === null,
        height: node.decidedHeight,
        round: node.engine?.status().round ?? -1,
        evidence: node.evidence,
        metrics: node.engine?.metrics() ?? node.lastMetrics,
        walRecords: node.wal.length
      })),
      heightAtHeal: this.heightAtHeal,
      roundAtHeal: this.roundAtHeal,
      livenessDeadlineMs: this.livenessDeadlineMs,
      decidedHeightMax: this.checker.decidedHeightMax,
      messagesDelivered: this.delivered,
      restartsMidHeight: this.restartsMidHeight,
      trace: this.trace
    }
  }

  private handle(event: Event): void {
    switch (event.kind) {
      case 'deliver': {
        const node = this.nodes[event.to]!
        if (node.engine === null) return
        if (!event.duplicate && node.seen.has(event.messageId)) return
        node.seen.add(event.messageId)
        this.delivered++
        const actions = this.feed(node, { kind: 'message', from: event.from, bytes: event.bytes }, event.from)
        const verdict = actions[0]
        if (this.spec.network.relay && event.relayable && verdict?.kind === 'messageVerdict' && verdict.verdict === 'accept') {
          // Gossip: after a heartbeat, forward to peers that still have not received it.
          this.queue.push(this.now + 2 * this.spec.network.latencyMaxMs + 10, { kind: 'relay', node: node.index, incarnation: node.incarnation, bytes: event.bytes, messageId: event.messageId })
        }
        return
      }
      case 'relay': {
        const node = this.nodes[event.node]!
        if (node.engine === null || node.incarnation !== event.incarnation) return
        for (const peer of this.nodes) {
          if (peer.validatorId === node.validatorId || peer.engine === null || peer.seen.has(event.messageId)) continue
          this.transmit(node, peer, event.bytes, event.messageId, true)
        }
        return
      }
      case 'timeout':
      case 'input': {
        const node = this.nodes[event.node]!
        if (node.engine === null || node.incarnation !== event.incarnation) return
        this.feed(node, event.input)
        return
      }
      case 'commit': {
        const node = this.nodes[event.node]!
        if (node.engine === null || node.incarnation !== event.incarnation) return
        node.store.set(event.height, event.certified)
        this.feed(node, { kind: 'committed', height: event.height, appHash: event.certified.appHash })
        return
      }
      case 'fault':
        this.applyFault(event.fault)
        return
      case 'heal':
        this.heal()
        return
    }
  }

  private applyFault(fault: FaultSpec): void {
    if (fault.kind === 'partition') return
    const node = this.nodes.find((n) => n.nodeId === fault.node)
    assert(node !== undefined, `fault names an unknown node ${fault.node}`)
    if (fault.kind === 'crash') {
      if (node.engine === null) return
      node.lastMetrics = node.engine.metrics()
      node.engine = null
      node.incarnation++
      this.log(node, 'crash')
    } else {
      if (node.engine !== null) return
      this.boot(node, true)
    }
  }

  private heal(): void {
    this.healed = true
    let height = 0
    let round = 0
    for (const node of this.nodes) {
      if (!node.honest || node.engine === null) continue
      height = Math.max(height, node.decidedHeight)
      round = Math.max(round, node.engine.status().round)
    }
    this.heightAtHeal = height
    this.roundAtHeal = round
    // The budget: rounds up to roundAtHeal + livenessRoundsMax at the current height, then as many
    // rounds again for each further height, plus network slack.
    const roundsMax = this.options.livenessRoundsMax ?? this.spec.validators + 4
    const roundTime = (r: number): number =>
      timeoutDurationMs(this.limits, 'propose', r) + timeoutDurationMs(this.limits, 'prevote', r) + timeoutDurationMs(this.limits, 'precommit', r) + 4 * this.spec.network.latencyMaxMs + 100
    let budget = 0
    for (let r = 0; r <= round + roundsMax; r++) budget += roundTime(r)
    let perHeight = 0
    for (let r = 0; r <= roundsMax; r++) perHeight += roundTime(r)
    this.livenessDeadlineMs = this.now + budget + this.spec.heightsAfterHeal * perHeight
    this.log(null, `heal: honest height ${height}, round ${round}; liveness deadline ${this.livenessDeadlineMs - this.now}ms from now`)
  }

  private livenessTarget(): number {
    return this.heightAtHeal + this.spec.heightsAfterHeal
  }

  private livenessMet(): boolean {
    const target = this.livenessTarget()
    for (const node of this.nodes) if (node.honest && node.engine !== null && node.decidedHeight < target) return false
    return true
  }

  private livenessReport(): string {
    const behind = this.nodes
      .filter((n) => n.honest && n.engine !== null && n.decidedHeight < this.livenessTarget())
      .map((n) => `${n.nodeId} at h${n.decidedHeight + 1} r${n.engine!.status().round} ${n.engine!.status().step}`)
    return `after healing at ${this.spec.healAtMs}ms (honest height ${this.heightAtHeal}, round ${this.roundAtHeal}), not every honest validator reached h${this.livenessTarget()} by ${this.livenessDeadlineMs}ms: ${behind.join(', ')}`
  }

  // ---------------------------------------------------------------------------------------------
  // Driving one engine.

  private feed(node: SimNode, input: ConsensusInput, from?: string): ConsensusAction[] {
    const engine = node.engine
    assert(engine !== null, 'feed a live node')
    this.currentNode = node
    if (this.traceOn) this.log(node, describeInput(input, from, this.limits))
    const actions = engine.step(input)
    for (const action of actions) this.perform(node, action)
    this.currentNode = null
    return actions
  }

  private perform(node: SimNode, action: ConsensusAction): void {
    switch (action.kind) {
      case 'messageVerdict':
        if (this.traceOn && action.code !== null) this.log(node, `  ${action.verdict} ${action.code}`)
        return
      case 'persist':
        node.wal.push(action.record)
        this.checker.onPersist(node.nodeId, node.validatorId, action.record)
        return
      case 'broadcast':
        this.checker.onSend(node.nodeId, node.validatorId, action.message)
        if (this.traceOn) this.log(node, `  broadcast ${describeMessage(action.message)}`)
        this.broadcast(node, action.bytes, action.message)
        return
      case 'send': {
        this.checker.onSend(node.nodeId, node.validatorId, action.message)
        if (this.traceOn) this.log(node, `  send to ${action.to}: ${describeMessage(action.message)}`)
        const id = ++this.messageIds
        const gossip = action.message.kind === 'proposal' || action.message.kind === 'vote'
        for (const peer of this.nodes) if (peer !== node && peer.validatorId === action.to) this.transmit(node, peer, action.bytes, id, gossip)
        return
      }
      case 'scheduleTimeout':
        this.queue.push(this.now + action.durationMs, { kind: 'timeout', node: node.index, incarnation: node.incarnation, input: { kind: 'timeout', timeout: action.timeout } })
        return
      case 'requestProposal': {
        const payload = node.app.prepareProposal({ height: action.height, round: action.round, previousTimeMs: action.previousTimeMs, previousBlockHash: action.previousBlockHash })
        this.later(node, { kind: 'proposalValue', height: action.height, round: action.round, payload, timeMs: harnessGenesisTimeMs + this.now })
        return
      }
      case 'processProposal':
        this.later(node, { kind: 'proposalVerdict', height: action.height, blockHash: action.blockHash, accept: node.app.processProposal(action.block) })
        return
      case 'awaitTransactions':
        // The harness's application always has something to propose.
        this.later(node, { kind: 'transactionsAvailable', height: action.height })
        return
      case 'decide': {
        this.checker.onDecide(node.nodeId, node.validatorId, node.decidedHeight, action.height, action.block, action.blockHash, action.certificate)
        if (this.traceOn) this.log(node, `  DECIDE h${action.height} ${bytesToHex(action.blockHash).slice(0, 6)} (${action.source}, round ${action.certificate.round})`)
        node.decidedHeight = action.height
        node.app.finalizeBlock(action.block)
        const { appHash } = node.app.commit()
        // The block store write and the commit happen together, after an application delay.
        // The block store write lands with the commit, after an application delay: a crash in
        // between leaves the block out of the store, and the engine re-decides it from its WAL.
        this.queue.push(this.now + this.appDelay(), {
          kind: 'commit',
          node: node.index,
          incarnation: node.incarnation,
          height: action.height,
          certified: { block: action.block, certificate: action.certificate, appHash }
        })
        return
      }
      case 'evidence':
        node.evidence.push(action.evidence)
        if (this.traceOn) this.log(node, `  evidence: ${describeEvidence(action.evidence)}`)
        this.checker.onEvidence(node.nodeId, node.validatorId, action.evidence)
        return
      case 'loadBlocks': {
        const blocks: CertifiedBlock[] = []
        for (let h = action.fromHeight; h < action.fromHeight + action.count; h++) {
          const stored = node.store.get(h)
          if (stored === undefined) break
          blocks.push({ block: stored.block, certificate: stored.certificate })
        }
        this.later(node, { kind: 'blocksLoaded', to: action.to, blocks })
        return
      }
    }
  }

  private appDelay(): number {
    const max = this.options.applicationDelayMaxMs ?? 5
    return this.rng.int(max + 1)
  }

  private later(node: SimNode, input: ConsensusInput): void {
    this.queue.push(this.now + this.appDelay(), { kind: 'input', node: node.index, incarnation: node.incarnation, input })
  }

  private broadcast(node: SimNode, bytes: Uint8Array, message: ConsensusMessage): void {
    const id = ++this.messageIds
    const gossip = message.kind === 'proposal' || message.kind === 'vote'
    for (const peer of this.nodes) if (peer.validatorId !== node.validatorId) this.transmit(node, peer, bytes, id, gossip)
    // Its twin shares the key and would drop it as its own message; twins do not talk.
  }

  private partitioned(a: string, b: string): boolean {
    for (const p of this.partitions) {
      if (this.now < p.atMs || this.now >= p.untilMs) continue
      // A node named in no group is cut off from everyone.
      const groupA = p.groupOf.get(a)
      const groupB = p.groupOf.get(b)
      if (groupA === undefined || groupB === undefined || groupA !== groupB) return true
    }
    return false
  }

  private transmit(from: SimNode, to: SimNode, bytes: Uint8Array, messageId: number, relayable: boolean): void {
    const network = this.spec.network
    const rng = this.networkRng
    if (!this.healed) {
      if (this.partitioned(from.nodeId, to.nodeId)) return
      if (rng.chance(network.dropProbability)) return
    }
    const delay = () => network.latencyMinMs + rng.int(network.latencyMaxMs - network.latencyMinMs + 1)
    this.queue.push(this.now + delay(), { kind: 'deliver', to: to.index, from: from.validatorId, bytes, messageId, duplicate: false, relayable })
    if (!this.healed && rng.chance(network.duplicateProbability)) {
      this.queue.push(this.now + delay(), { kind: 'deliver', to: to.index, from: from.validatorId, bytes, messageId, duplicate: true, relayable })
    }
  }

  private log(node: SimNode | null, line: string): void {
    if (!this.traceOn) return
    if (this.trace.length >= this.traceLinesMax) this.trace.shift()
    this.trace.push(`${String(this.now).padStart(7)}ms ${(node?.nodeId ?? '*').padEnd(8)} ${line}`)
  }
}

function describeInput(input: ConsensusInput, from: string | undefined, limits: ConsensusLimits): string {
  switch (input.kind) {
    case 'message': {
      let what = `${input.bytes.length} bytes`
      try {
        // Decoding again only for the trace; the engine decodes it itself.
        what = describeBytes(input.bytes, limits)
      } catch {
        /* described by the verdict line */
      }
      return `<- ${from ?? '?'}: ${what}`
    }
    case 'timeout':
      return `timeout ${input.timeout.step} h${input.timeout.height} r${input.timeout.round}`
    case 'proposalValue':
      return `proposal value for h${input.height} r${input.round}`
    case 'proposalVerdict':
      return `verdict ${input.accept ? 'accept' : 'reject'} ${bytesToHex(input.blockHash).slice(0, 6)}`
    case 'committed':
      return `committed h${input.height}`
    case 'blocksLoaded':
      return `loaded ${input.blocks.length} blocks for ${input.to}`
    case 'start':
      return 'start'
    case 'transactionsAvailable':
      return `transactions available for h${input.height}`
  }
}

function describeBytes(bytes: Uint8Array, limits: ConsensusLimits): string {
  return describeMessage(decodeConsensusMessage(bytes, limits))
}
