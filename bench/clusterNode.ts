/**
 * The bank node under load: a four-node local cluster of real processes on this machine (libp2p
 * over loopback, LevelDB, the HTTP API), driven by an open-loop load generator that submits
 * pre-signed payments in batches at a fixed offered rate. Measures finalized payments per second
 * at saturation, and finality latency (submission to the block that holds the payment being
 * committed) at 500 and 1,000 payments per second offered.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Benchmark, BenchmarkContext } from './index.ts'
import { describeMachine } from './machine.ts'
import { LocalCluster } from '../src/cluster/localCluster.ts'
import type { NodeClient } from '../src/cluster/nodeClient.ts'
import { createNativeSigner } from '../src/platform/ed25519Native.ts'
import { encodeTransactionBody } from '../src/ledger/transactions.ts'
import { encodeTransaction, signTransaction } from '../src/protocol/envelope.ts'
import { bytesToHex, hexToBytes } from '../src/protocol/bytes.ts'
import type { Signer } from '../src/protocol/keys.ts'

const bankToken: Readonly<Record<string, string>> = { icbc: 'icbc.CNH', bochk: 'bochk.CNH', enbd: 'enbd.AED', dbs: 'dbs.SGD' }
const customersPerBank = 250
const tickMs = 20
const batchMax = 1_000
/** A refused batch is sent again after a back-off from retryMs to retryMaxMs, for up to retryWindowMs after the phase. */
const retryMs = 50
const retryMaxMs = 800
const retryWindowMs = 60_000
/** Per-payment refusals for room (the node's queue or mempool): the payment is sent again. */
const retryable = new Set(['QUEUE_FULL', 'MEMPOOL_FULL', 'SIGNER_QUEUE_FULL'])
/** What a payment sent again after a lost answer meets if the node took it the first time. */
const alreadyThere = new Set(['DUPLICATE', 'STALE_NONCE', 'DUPLICATE_NONCE'])

interface Payment {
  readonly bank: string
  readonly hex: string
  readonly id: string
}

interface Phase {
  readonly label: string
  readonly rate: number
  readonly seconds: number
}

interface PhaseResult {
  readonly phase: Phase
  readonly offered: number
  readonly accepted: number
  readonly refused: Record<string, number>
  readonly final: number
  readonly submitSeconds: number
  /** Payments sent per second, from the first batch sent to the last: below the offered rate if the generator fell behind. */
  /** Payments accepted per second, from the first batch sent to the last answer: below the sent rate if the nodes answer late. */
  readonly acceptedRate: number
  /** Finalized per second over the steady window (from 20% of the submission period to its end, then the drain). */
  readonly finalizedPerSecond: number
  readonly latencyMs: { p50: number; p90: number; p99: number; max: number }
  readonly blocks: number
  readonly meanBlockPayments: number
  readonly cpuMsPerPayment: number
  /** The load generator's own CPU (this process: signing excluded, sending, polling, reading blocks) per final payment. */
  readonly generatorCpuMsPerPayment: number
}

interface Customer {
  readonly id: string
  readonly bank: string
  readonly signer: Signer
  nonce: bigint
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

interface SignatureChecks {
  /** Ed25519 verifications of transactions per committed transaction, per node. */
  readonly verifiedPerTransaction: number
  /** Admissions answered from the signature cache per committed transaction, per node. */
  readonly cachedPerTransaction: number
}

/** Reads every node's signature-check and committed-transaction counters from /metrics. */
async function readSignatureChecks(cluster: LocalCluster): Promise<SignatureChecks> {
  let verified = 0
  let cached = 0
  let committed = 0
  for (const node of cluster.nodes) {
    const text = await (await fetch(`${node.api}/metrics`)).text()
    const value = (pattern: RegExp): number => Number(pattern.exec(text)?.[1] ?? 0)
    verified += value(/^corridor_signature_checks_total\{result="verified"[^}]*\} (\d+)/m)
    cached += value(/^corridor_signature_checks_total\{result="cached"[^}]*\} (\d+)/m)
    committed += value(/^corridor_transactions_committed_total\{[^}]*\} (\d+)/m)
  }
  return { verifiedPerTransaction: verified / Math.max(1, committed), cachedPerTransaction: cached / Math.max(1, committed) }
}

/** CPU milliseconds (user + system) a process has used, from /proc (Linux). */
function cpuMsOf(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000
}

function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
  } catch {
    return 0
  }
}

class LoadGenerator {
  readonly #cluster: LocalCluster
  readonly #customers: Customer[]
  readonly #chainId: string
  readonly #clients: Map<string, NodeClient>
  readonly #heightSeenAt = new Map<number, number>()
  #polling = false

  constructor(cluster: LocalCluster, chainId: string) {
    this.#cluster = cluster
    this.#chainId = chainId
    this.#clients = new Map(cluster.nodes.map((node) => [node.bank, cluster.client(node.bank, 30_000)]))
    this.#customers = cluster.nodes.flatMap((node) => {
      const keys = JSON.parse(readFileSync(join(cluster.dir, node.bank, 'customers.keys.json'), 'utf8')) as { keys: Array<{ id: string; secretKey: string }> }
      return keys.keys.map((key) => ({ id: key.id, bank: node.bank, signer: createNativeSigner(hexToBytes(key.secretKey)), nonce: 0n }))
    })
  }

  /** Signed payments, round robin over payers; each pays a customer of the next bank. */
  sign(count: number, offset: number): Payment[] {
    const banks = this.#cluster.nodes.map((node) => node.bank)
    const byBank = new Map(banks.map((bank) => [bank, this.#customers.filter((c) => c.bank === bank)]))
    const payments: Payment[] = []
    for (let i = 0; i < count; i++) {
      const k = offset + i
      const bank = banks[k % banks.length]!
      const payees = byBank.get(banks[(k + 1) % banks.length]!)!
      const payers = byBank.get(bank)!
      const payer = payers[Math.floor(k / banks.length) % payers.length]!
      const payee = payees[k % payees.length]!
      const payerToken = bankToken[bank]!
      const payeeToken = bankToken[payee.bank]!
      const body = encodeTransactionBody({
        kind: 'payment',
        payee: payee.id,
        payerToken,
        payeeToken,
        amount: BigInt(100 + (k % 900)),
        purpose: 'GDDS',
        documentRef: undefined,
        fxProvider: payerToken.split('.')[1] === payeeToken.split('.')[1] ? undefined : 'fxhub'
      })
      payer.nonce += 1n
      const envelope = signTransaction({ chainId: this.#chainId, signer: payer.id, publicKey: payer.signer.publicKey, nonce: payer.nonce, body }, payer.signer)
      payments.push({ bank, hex: bytesToHex(encodeTransaction(envelope)), id: envelope.id })
    }
    return payments
  }

  /** Notes when each height is first seen committed (polled every 25 ms). */
  startPolling(): void {
    this.#polling = true
    const client = this.#clients.get(this.#cluster.nodes[0]!.bank)!
    const poll = async (): Promise<void> => {
      while (this.#polling) {
        const at = performance.now()
        const status = await client.status().catch(() => undefined)
        if (status !== undefined) for (let h = status.height; h >= 1 && !this.#heightSeenAt.has(h); h--) this.#heightSeenAt.set(h, at)
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
    }
    void poll()
  }

  stopPolling(): void {
    this.#polling = false
  }

  async height(): Promise<number> {
    return (await this.#clients.get(this.#cluster.nodes[0]!.bank)!.status()).height
  }

  async run(phase: Phase, offset: number, progress: (line: string) => void): Promise<PhaseResult> {
    const total = Math.round(phase.rate * phase.seconds)
    const payments = this.sign(total, offset)
    const startHeight = await this.height()
    const cpuBefore = this.#cluster.nodes.reduce((sum, node) => sum + cpuMs(node.pid), 0)
    const generatorCpuBefore = process.cpuUsage()
    const submittedAt = new Map<string, number>()
    const refused: Record<string, number> = {}
    /** The request in flight per bank: at most one. */
    const inFlight = new Map<string, Promise<void>>()
    // What a bank's client does under backpressure: payments wait in a queue per bank, in order,
    // and each bank has one request in flight at a time, so its node receives every payer's
    // payments in nonce order. Payments refused for room (or a batch lost to an HTTP error) go
    // back to the head of its queue, and that bank gets nothing for a back-off (retryMs, doubling
    // up to retryMaxMs, reset by an accepted batch). Dropping refused payments, or sending later
    // ones while earlier ones wait, would let a payer's later nonce be committed first (after the
    // proposer's nonce-gap grace), and the earlier payment would then be stale. Latency counts
    // from the moment a payment was due, so time spent waiting in the client's queue is included.
    const queues = new Map<string, Payment[]>(this.#cluster.nodes.map((node) => [node.bank, []]))
    const backoff = new Map<string, { until: number; ms: number }>(this.#cluster.nodes.map((node) => [node.bank, { until: 0, ms: 0 }]))
    const dueAt = new Map<string, number>()
    const started = performance.now()
    const retryDeadline = started + phase.seconds * 1000 + retryWindowMs
    let sent = 0
    let lastReport = started
    const resent = new Set<string>()
    const post = (bank: string, batch: Payment[]): void => {
      const pause = backoff.get(bank)!
      const requeue = (again: Payment[]): void => {
        queues.get(bank)!.unshift(...again)
        pause.ms = Math.min(retryMaxMs, pause.ms === 0 ? retryMs : pause.ms * 2)
        pause.until = performance.now() + pause.ms
      }
      const request = this.#clients
        .get(bank)!
        .post<{ results: Array<{ ok: boolean; id: string | null; code?: string }> }>('/v1/transactions/batch', batch.map((p) => p.hex))
        .then((answer) => {
          const again: Payment[] = []
          answer.results.forEach((result, index) => {
            const payment = batch[index]!
            if (result.ok) submittedAt.set(payment.id, dueAt.get(payment.id)!)
            else if (retryable.has(result.code ?? '')) {
              // Refused for room, not for what it is: sent again before anything after it.
              refused[result.code!] = (refused[result.code!] ?? 0) + 1
              again.push(payment)
            } else if (resent.has(payment.id) && alreadyThere.has(result.code ?? '')) {
              // Sent again after a lost answer: the node had it the first time.
              submittedAt.set(payment.id, dueAt.get(payment.id)!)
            } else refused[result.code ?? 'REFUSED'] = (refused[result.code ?? 'REFUSED'] ?? 0) + 1
          })
          if (again.length > 0) requeue(again)
          else pause.ms = 0
        })
        .catch((error: unknown) => {
          const details = (error as { details?: { code?: string; status?: number } }).details
          const code = details?.code ?? 'HTTP_ERROR'
          refused[code] = (refused[code] ?? 0) + batch.length
          // The whole batch was refused for room (503), or its answer was lost: send it again
          // (the node may have taken it; see alreadyThere). Anything else will not change.
          if (details?.status === undefined || details.status === 503) {
            for (const payment of batch) resent.add(payment.id)
            requeue(batch)
          }
        })
        .finally(() => inFlight.delete(bank))
      inFlight.set(bank, request)
    }
    function sendNext(bank: string, now: number): void {
      const queue = queues.get(bank)!
      if (queue.length > 0 && !inFlight.has(bank) && backoff.get(bank)!.until <= now) post(bank, queue.splice(0, batchMax))
    }
    const waiting = (): number => [...queues.values()].reduce((n, queue) => n + queue.length, 0)
    while (performance.now() < retryDeadline && (sent < total || inFlight.size > 0 || waiting() > 0)) {
      const now = performance.now()
      const due = Math.min(total, Math.floor((phase.rate * (now - started)) / 1000)) - sent
      if (due > 0) {
        for (const payment of payments.slice(sent, sent + due)) {
          dueAt.set(payment.id, now)
          queues.get(payment.bank)!.push(payment)
        }
        sent += due
      }
      for (const bank of queues.keys()) sendNext(bank, now)
      if (performance.now() - lastReport > 5_000) {
        lastReport = performance.now()
        progress(`${phase.label}: ${sent.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} due, ${submittedAt.size.toLocaleString('en-US')} accepted, ${waiting().toLocaleString('en-US')} waiting in the client's queues`)
      }
      await new Promise((resolve) => setTimeout(resolve, tickMs))
    }
    const unsent = waiting()
    if (unsent > 0) progress(`${phase.label}: ${unsent.toLocaleString('en-US')} payments still refused ${Math.round(retryWindowMs / 1000)} s after the phase; not sent again`)
    await Promise.all(inFlight.values())
    const submitSeconds = (performance.now() - started) / 1000

    // Drain: until every accepted payment is in a committed block, or 60 s.
    const finalHeight = new Map<string, number>()
    let scanned = startHeight
    const client = this.#clients.get(this.#cluster.nodes[0]!.bank)!
    const deadline = performance.now() + 60_000
    while (finalHeight.size < submittedAt.size && performance.now() < deadline) {
      const tip = await this.height()
      while (scanned < tip) {
        const page = await client.get<{ blocks: Array<{ height: number; transactions: Array<{ id: string | null }> }> }>(`/v1/blocks?from=${scanned + 1}&to=${Math.min(tip, scanned + 20)}`)
        for (const block of page.blocks) for (const tx of block.transactions) if (tx.id !== null && submittedAt.has(tx.id)) finalHeight.set(tx.id, block.height)
        scanned = page.blocks.length === 0 ? tip : page.blocks[page.blocks.length - 1]!.height
      }
      if (finalHeight.size < submittedAt.size) await new Promise((resolve) => setTimeout(resolve, 250))
    }
    const cpuAfter = this.#cluster.nodes.reduce((sum, node) => sum + cpuMs(node.pid), 0)
    // A few accepted payments that never became final, as each node sees them: what to look at.
    const missing = [...submittedAt.keys()].filter((id) => !finalHeight.has(id)).slice(0, 3)
    for (const id of missing) {
      const bank = payments.find((payment) => payment.id === id)!.bank
      const views = await Promise.all(this.#cluster.nodes.map((node) => this.#clients.get(node.bank)!.get<unknown>(`/v1/transactions/${id}`).then((view) => JSON.stringify(view), (error: unknown) => String((error as Error).message))))
      progress(`${phase.label}: not final: ${id.slice(0, 12)} (sent to ${bank}): ${views.map((view, i) => `${this.#cluster.nodes[i]!.bank} ${view.slice(0, 160)}`).join(' | ')}`)
    }
    const latencies: number[] = []
    const finalTimes: number[] = []
    for (const [id, height] of finalHeight) {
      const seen = this.#heightSeenAt.get(height)
      if (seen === undefined) continue
      latencies.push(seen - submittedAt.get(id)!)
      finalTimes.push(seen)
    }
    latencies.sort((a, b) => a - b)
    // Throughput over the steady part: payments final from 20% into the submission period until the last one.
    finalTimes.sort((a, b) => a - b)
    const windowStart = started + submitSeconds * 200
    const inWindow = finalTimes.filter((time) => time >= windowStart)
    const windowSeconds = inWindow.length > 1 ? (inWindow[inWindow.length - 1]! - windowStart) / 1000 : NaN
    const blocks = scanned - startHeight
    return {
      phase,
      offered: total,
      accepted: submittedAt.size,
      refused,
      final: finalHeight.size,
      submitSeconds,
      acceptedRate: submittedAt.size / submitSeconds,
      finalizedPerSecond: inWindow.length / windowSeconds,
      latencyMs: { p50: quantile(latencies, 0.5), p90: quantile(latencies, 0.9), p99: quantile(latencies, 0.99), max: latencies[latencies.length - 1] ?? NaN },
      blocks,
      meanBlockPayments: finalHeight.size / Math.max(1, blocks),
      cpuMsPerPayment: (cpuAfter - cpuBefore) / Math.max(1, finalHeight.size),
      generatorCpuMsPerPayment: cpuMsOf(process.cpuUsage(generatorCpuBefore)) / Math.max(1, finalHeight.size)
    }
  }
}

/**
 * From CPU profiles of the four nodes (`CORRIDOR_BENCH_NODE_PROFILE=DIR npm run bench -- --quick
 * cluster-node`, then the profiles grouped by call stack), not measured by each run: update it
 * when the node changes.
 */
const whereTheTimeGoes = [
  'Where the time goes (CPU profiles of the four nodes at saturation, a quick run, 2026-11-23, start-up excluded; shares of their busy time): Ed25519 verification of each transaction 26% (once per payment on each node, as the line above shows; about 58 µs each on libsodium, so 0.23 ms of node CPU per payment before anything else); garbage collection 15%; the libp2p transport (Noise encryption, Yamux framing, stream plumbing, socket writes) 8.5%; the replica (admission, mempool, proposals) 8%; canonical encoding and decoding 7.5%; the LevelDB store 5.5%; the HTTP API 2.5%; ledger execution 2%; gossipsub 1%; the consensus engine under 1%. At low rates the picture differs: each block costs the four nodes some tens of milliseconds of CPU whatever it holds (consensus messages, each a socket write costing about 0.2 ms in this VM, synced WAL and block writes), which is why CPU per payment is higher at 500/s and 1,000/s than at saturation, where blocks hold thousands of payments.',
  '',
  'What changed since the first measurement on this machine (1,027/s at saturation, 1.9 to 3.3 ms of node CPU per payment, p99 9.1 s at 1,000/s): gossipsub without its own per-message signatures and without relaying (every validator is connected to every other, and each relay was a redundant copy: 9 transmissions per message among four validators instead of 3); a compiled bundle instead of tsx at start (half the start-up time); LevelDB writes as chained batches and a block\'s ledger writes as one log record, folded into the state entries every 64 blocks; table-driven hex parsing and one-shot hashing; a 150 ms timeout_commit (an unpaced network made ten blocks a second at 100 payments a second); client submissions refused once they hold a 1/n share of the input queue, so peers\' gossip is seldom dropped; then, in the last round: Ed25519 on libsodium instead of OpenSSL (58 µs a verification instead of 113, and signing 20 µs instead of 38; OpenSSL stays as the fallback with the same acceptance rule); a canonical decoder that checks the bytes as it reads them instead of re-encoding every decoded value; Noise frames handed to the socket as one buffer instead of two (two socket writes per message and peer instead of four; a lightly loaded cluster uses 30% less CPU); a 32 MiB V8 young generation for the node processes; and, in the load generator, node:http with keep-alive instead of fetch and one request in flight per bank (the client a bank would run: it keeps each payer\'s payments in nonce order and resends a refused batch before anything after it).',
  '',
  'Reading the figures: four nodes and the load generator share two cores, so the nodes together can spend at most about 2 s of CPU per second, less the generator\'s share. At saturation each payment costs the four nodes the CPU in the node column, of which about 0.23 ms is the four signature checks no validator can skip; blocks there hold thousands of payments, so the per-block work is spread thin. At 1,000/s blocks hold a few hundred payments and the per-block work weighs more, so the machine is busier per payment, and a payment\'s latency is the wait for the next block (a 150 ms timeout_commit plus a round of proposal and votes) plus its own block\'s round, stretched by whatever else the two cores are doing. Refusals at saturation are the nodes\' backpressure (QUEUE_FULL) working as meant: the client waits and sends the same payments again. What would cut the cost further: proposals that carry transaction ids instead of transactions every validator already holds (half the bytes, and one decode and admission of every payment per node less); one long-lived stream per peer instead of gossipsub for a fully connected validator set, with messages to a peer coalesced into one write; fewer synced writes per block. Every figure depends on the load average above: other work on the two cores takes its share.'
].join('\n')

const fmt = (value: number, digits = 0): string => (Number.isFinite(value) ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '-')

/** CORRIDOR_BENCH_PHASES="200:10,500:10" (rate per second : seconds, ...) replaces the phases, for trials. */
function phasesFromEnvironment(): Phase[] | undefined {
  const text = process.env['CORRIDOR_BENCH_PHASES']
  if (text === undefined || text === '') return undefined
  return text.split(',').map((item) => {
    const [rate, seconds] = item.split(':').map(Number)
    if (!Number.isSafeInteger(rate) || !Number.isSafeInteger(seconds) || rate! <= 0 || seconds! <= 0) {
      throw new Error(`CORRIDOR_BENCH_PHASES: "${item}" is not rate:seconds with two positive integers`)
    }
    return { label: `${rate!.toLocaleString('en-US')}/s`, rate: rate!, seconds: seconds! }
  })
}

async function run(context: BenchmarkContext): Promise<string> {
  const phases: Phase[] = phasesFromEnvironment() ?? (context.quick
    ? [
        { label: '500/s', rate: 500, seconds: 10 },
        { label: '1,000/s', rate: 1_000, seconds: 10 },
        { label: 'saturation', rate: 4_000, seconds: 8 }
      ]
    : [
        { label: '500/s', rate: 500, seconds: 30 },
        { label: '1,000/s', rate: 1_000, seconds: 30 },
        { label: 'saturation', rate: 4_000, seconds: 20 }
      ])
  const parent = mkdtempSync(join(tmpdir(), 'corridor-bench-cluster-'))
  const cluster = await LocalCluster.create({ dir: join(parent, 'net'), banks: 4, customersPerBank, logLevel: 'warn' })
  // CORRIDOR_BENCH_NODE_PROFILE=DIR: each node writes a V8 CPU profile to DIR when it stops.
  const profileDir = process.env['CORRIDOR_BENCH_NODE_PROFILE']
  if (profileDir !== undefined && profileDir !== '') {
    cluster.nodeExecArgv = [...cluster.nodeExecArgv, '--cpu-prof', `--cpu-prof-dir=${profileDir}`]
    context.progress(`node processes write CPU profiles to ${profileDir}`)
  }
  // CORRIDOR_BENCH_NODE_FLAGS="--flag ...": extra Node.js flags for the node processes (trials).
  const nodeFlags = (process.env['CORRIDOR_BENCH_NODE_FLAGS'] ?? '').split(/\s+/).filter((flag) => flag !== '')
  if (nodeFlags.length > 0) {
    cluster.nodeExecArgv = [...cluster.nodeExecArgv, ...nodeFlags]
    context.progress(`node processes run with ${nodeFlags.join(' ')}`)
  }
  const results: PhaseResult[] = []
  let signatureChecks: SignatureChecks | undefined
  try {
    cluster.startAll()
    await cluster.waitFinalizing(90_000)
    const { chainId } = await cluster.client('icbc').get<{ chainId: string }>('/v1/validators')
    const generator = new LoadGenerator(cluster, chainId)
    generator.startPolling()
    let offset = 0
    for (const phase of phases) {
      context.progress(`${phase.label}: signing ${fmt(phase.rate * phase.seconds)} payments, then offering ${fmt(phase.rate)}/s for ${phase.seconds} s`)
      const result = await generator.run(phase, offset, context.progress)
      offset += result.offered
      results.push(result)
      context.progress(
        `${phase.label}: ${fmt(result.final)} of ${fmt(result.offered)} final, ${fmt(result.finalizedPerSecond)}/s finalized, p50 ${fmt(result.latencyMs.p50)} ms, p99 ${fmt(result.latencyMs.p99)} ms`
      )
      await new Promise((resolve) => setTimeout(resolve, 2_000))
    }
    generator.stopPolling()
    signatureChecks = await readSignatureChecks(cluster)
  } finally {
    await cluster.stopAll()
    // CORRIDOR_BENCH_KEEP=1 keeps the nodes' data and logs for a look afterwards.
    if (process.env['CORRIDOR_BENCH_KEEP'] === '1') context.progress(`kept the cluster's data and logs in ${parent}`)
    else rmSync(parent, { recursive: true, force: true })
  }

  const saturation = results[results.length - 1]!
  const at1000 = results.find((r) => r.phase.rate === 1_000)
  const rows = results.map((r) =>
    [
      r.phase.label,
      fmt(r.phase.rate),
      fmt(r.acceptedRate),
      `${fmt(r.accepted)} / ${fmt(r.offered)}`,
      Object.keys(r.refused).length === 0 ? 'none' : Object.entries(r.refused).map(([code, n]) => `${code} ${fmt(n)}`).join(', '),
      `**${fmt(r.finalizedPerSecond)}**`,
      `${fmt((100 * r.final) / Math.max(1, r.accepted), 1)}%`,
      `${fmt(r.latencyMs.p50)} / ${fmt(r.latencyMs.p90)} / **${fmt(r.latencyMs.p99)}** / ${fmt(r.latencyMs.max)}`,
      fmt(r.blocks),
      fmt(r.meanBlockPayments),
      fmt(r.cpuMsPerPayment, 2),
      fmt(r.generatorCpuMsPerPayment, 2)
    ].join(' | ')
  )
  const verdict = (ok: boolean): string => (ok ? 'met' : 'not met')
  return [
    '## Bank node: four-node local cluster',
    '',
    `Machine: ${describeMachine(context.machine)}.${context.quick ? ' Quick run (`--quick`): shorter phases.' : ''}`,
    '',
    `What is measured: four real node processes (\`corridor node start\`, started by src/cluster/LocalCluster, with its V8 options) on loopback, each with its libp2p (TCP, Noise, Yamux, gossipsub), its LevelDB and its HTTP API, and ${customersPerBank} customers per bank. A load generator in the benchmark's process signs payments ahead of time (Ed25519 on libsodium; each a cross-border payment from a customer of one bank to a customer of the next, through the FX provider where the currencies differ) and offers them open-loop: every ${tickMs} ms, what the offered rate says is due joins a queue per bank (each payment goes to its payer's bank), and each bank's queue is sent as \`POST /v1/transactions/batch\` requests of up to ${fmt(batchMax)} payments, without waiting for earlier answers. One request is in flight per bank at a time, so a node gets each payer's payments in nonce order. Payments the node refuses for room (QUEUE_FULL for the whole batch, or QUEUE_FULL, MEMPOOL_FULL or SIGNER_QUEUE_FULL one by one) go back to the head of their queue and that bank gets nothing for a back-off of ${retryMs} ms, doubling up to ${retryMaxMs} ms, as a bank's client honouring backpressure would (dropping them would leave the payers' later payments, already accepted, stuck behind the missing nonces); a batch whose answer is lost is sent again too, and a payment the node then reports as already held counts as accepted when first sent. *Refused at submission* counts the refusals, each payment as often as it was refused. *Accepted /s* counts the payments the nodes accepted, from the start of the phase to the last answer. Latency runs from the moment a payment was due (time in the client's queue included) to the moment the block that holds it is first seen committed on icbc (its status is polled every 25 ms; the generator reads the blocks afterwards to find each payment's height). Finalized per second counts payments whose block was committed from 20% into the submission period (until the last payment was accepted) to the last one. Node CPU is the four node processes' user and system time per final payment; the generator's is its own process's (sending, polling, reading blocks; signing is done before the phase). The generator shares the two cores with the four nodes.`,
    '',
    '| phase | offered /s | accepted /s (answered) | accepted / offered | refused at submission (sent again) | finalized /s | final | latency p50 / p90 / p99 / max ms | blocks | payments per block | node CPU ms per payment | generator CPU ms per payment |',
    '| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((row) => `| ${row} |`),
    '',
    `Targets (issue 5): at least 2,000 finalized per second at saturation: ${verdict(saturation.finalizedPerSecond >= 2_000)} (${fmt(saturation.finalizedPerSecond)}/s); p99 under 1 s at 1,000 per second offered: ${at1000 === undefined ? 'not measured (no 1,000/s phase)' : `${verdict(at1000.latencyMs.p99 < 1_000)} (${fmt(at1000.latencyMs.p99)} ms)`}.`,
    '',
    ...(signatureChecks === undefined
      ? []
      : [
          `Signature checks over the whole run, from the nodes' \`corridor_signature_checks_total\`: ${fmt(signatureChecks.verifiedPerTransaction, 2)} Ed25519 verifications per committed payment on each node (the floor is 1: every validator checks every payment it admits), and ${fmt(signatureChecks.cachedPerTransaction, 2)} admissions per payment answered from the cache (the same payment met again in a proposal or a block).`,
          ''
        ]),
    whereTheTimeGoes
  ].join('\n')
}

export const clusterNodeBenchmark: Benchmark = {
  name: 'cluster-node',
  summary: 'four real node processes on loopback: finalized payments/s at saturation, finality latency at 500 and 1,000/s offered',
  run
}
