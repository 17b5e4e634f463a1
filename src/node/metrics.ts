/**
 * The node's Prometheus metrics (prom-client), one registry per node so tests and several nodes in
 * one process never share series. Units are last in every name. Counters that other components
 * keep as plain numbers (the transport's) are read at scrape time.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { TransportCounters } from './io/transport.ts'
import { transportChannels } from './io/transportOptions.ts'

/** Where input was refused: a closed set, safe as a label. */
export type RejectionEdge = 'http' | 'gossip' | 'consensus' | 'admission' | 'queue' | 'transport'

export interface NodeMetricsSources {
  readonly transportCounters: () => TransportCounters | undefined
  readonly peers: () => number
  readonly mempoolTransactions: () => number
  readonly round: () => number
  readonly inputQueueLength: () => number
  /** Transaction signatures verified, and admissions answered from the cache instead. */
  readonly signatureChecks: () => { readonly verified: number; readonly cached: number }
}

export class NodeMetrics {
  readonly registry = new Registry()
  readonly height: Gauge
  readonly blockIntervalSeconds: Histogram
  readonly finalityLatencySeconds: Histogram
  readonly rejections: Counter<'edge' | 'reason'>
  readonly transactionsCommitted: Counter
  readonly blocksCommitted: Counter
  readonly evidence: Counter
  readonly reannounced: Counter
  /** Faults the testing-only fault layer injected (io/faultLayer.ts), by kind. */
  readonly injectedFaults: Counter<'kind'>
  readonly storeWriteSeconds: Histogram<'kind'>

  constructor(bankId: string, sources: NodeMetricsSources) {
    this.registry.setDefaultLabels({ bank: bankId })
    const registers = [this.registry]
    this.height = new Gauge({ name: 'corridor_height_blocks', help: 'Height of the last committed block', registers })
    new Gauge({ name: 'corridor_round', help: 'Consensus round at the current height', registers, collect() { this.set(sources.round()) } })
    new Gauge({ name: 'corridor_mempool_transactions', help: 'Transactions waiting in the mempool', registers, collect() { this.set(sources.mempoolTransactions()) } })
    new Gauge({ name: 'corridor_peers', help: 'Validators connected to this node', registers, collect() { this.set(sources.peers()) } })
    new Gauge({ name: 'corridor_input_queue_inputs', help: 'Inputs waiting in the node queue', registers, collect() { this.set(sources.inputQueueLength()) } })
    // Counters kept by the admission cache; exposed as counters read at scrape time.
    new Counter({
      name: 'corridor_signature_checks_total',
      help: 'Transaction admissions by outcome of the signature cache: verified (an Ed25519 check ran) or cached (the transaction was checked before)',
      labelNames: ['result'],
      registers,
      collect() {
        const checks = sources.signatureChecks()
        this.reset()
        this.inc({ result: 'verified' }, checks.verified)
        this.inc({ result: 'cached' }, checks.cached)
      }
    })
    this.blockIntervalSeconds = new Histogram({
      name: 'corridor_block_interval_seconds',
      help: 'Block time of a committed block minus that of its parent',
      buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30],
      registers
    })
    this.finalityLatencySeconds = new Histogram({
      name: 'corridor_finality_latency_seconds',
      help: 'From submission to this node to commit, for transactions submitted through this node',
      buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60],
      registers
    })
    this.rejections = new Counter({ name: 'corridor_rejections_total', help: 'Input refused, by edge and reason code', labelNames: ['edge', 'reason'], registers })
    this.transactionsCommitted = new Counter({ name: 'corridor_transactions_committed_total', help: 'Transactions in committed blocks', registers })
    this.blocksCommitted = new Counter({ name: 'corridor_blocks_committed_total', help: 'Blocks committed', registers })
    this.evidence = new Counter({ name: 'corridor_evidence_total', help: 'Misbehaviour evidence detected', registers })
    this.reannounced = new Counter({ name: 'corridor_reannounced_transactions_total', help: "Own clients' pending transactions published again to reconnected validators", registers })
    this.injectedFaults = new Counter({ name: 'corridor_injected_faults_total', help: 'Faults injected by the testing-only fault layer, by kind (blocked, drop, delay, duplicate)', labelNames: ['kind'], registers })
    this.storeWriteSeconds = new Histogram({
      name: 'corridor_store_write_seconds',
      help: 'Synced LevelDB writes: WAL appends and block commits',
      labelNames: ['kind'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
      registers
    })
    const transportCounter = (name: string, help: string, pick: (counters: TransportCounters, channel: (typeof transportChannels)[number]) => number): void => {
      new Counter({
        name,
        help,
        labelNames: ['channel'],
        registers,
        collect() {
          const counters = sources.transportCounters()
          if (counters === undefined) return
          this.reset()
          for (const channel of transportChannels) this.inc({ channel }, pick(counters, channel))
        }
      })
    }
    transportCounter('corridor_messages_in_total', 'Messages received, by channel', (c, ch) => c.channels[ch].messagesIn)
    transportCounter('corridor_messages_out_total', 'Messages sent, by channel', (c, ch) => c.channels[ch].messagesOut)
    transportCounter('corridor_message_in_bytes_total', 'Bytes received, by channel', (c, ch) => c.channels[ch].bytesIn)
    transportCounter('corridor_message_out_bytes_total', 'Bytes sent, by channel', (c, ch) => c.channels[ch].bytesOut)
    transportCounter('corridor_messages_oversized_total', 'Messages dropped or refused for their size, by channel', (c, ch) => c.channels[ch].oversizedIn + c.channels[ch].oversizedOut)
    new Counter({
      name: 'corridor_connections_refused_total',
      help: 'Connections refused by the gater (not a validator)',
      registers,
      collect() {
        const counters = sources.transportCounters()
        if (counters === undefined) return
        this.reset()
        this.inc(counters.connectionsRefused)
      }
    })
    new Counter({
      name: 'corridor_gossip_foreign_author_total',
      help: 'Gossip messages dropped because their author is not a validator',
      registers,
      collect() {
        const counters = sources.transportCounters()
        if (counters === undefined) return
        this.reset()
        this.inc(counters.gossipForeignAuthor)
      }
    })
  }

  reject(edge: RejectionEdge, reason: string): void {
    this.rejections.inc({ edge, reason })
  }

  async text(): Promise<string> {
    return this.registry.metrics()
  }
}
