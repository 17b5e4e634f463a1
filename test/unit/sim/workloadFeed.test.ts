// The workload worker gives the simulation exactly the workload it would have generated itself.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { createFxTable } from '../../../src/ledger/fx.ts'
import { bytesToHex } from '../../../src/protocol/bytes.ts'
import { EventQueue } from '../../../src/sim/eventQueue.ts'
import { createModeledSigner, modeledVerifier, recordIssuedChunk } from '../../../src/sim/modeledCrypto.ts'
import { loadScenarioFile, type LoadedScenario } from '../../../src/sim/scenario/load.ts'
import { Simulation } from '../../../src/sim/simulation.ts'
import { buildWorld } from '../../../src/sim/world.ts'
import { createScenarioSources } from '../../../src/sim/workload.ts'
import { chooseWorkloadThread, expectedTransfers, InlineWorkloadFeed, WorkerWorkloadFeed, WorkloadWorker, type WorkloadFeed } from '../../../src/sim/workloadFeed.ts'
import { scaleScenario } from '../../../bench/simScenario.ts'

const root = resolve(import.meta.dirname, '..', '..', '..')

/** Trades from CN to three places (the same CN payers, so their nonces interleave across sources), remittances, FX updates and a liquidity shock. */
const mixedWorkload = [
  { kind: 'trade', from: 'CN', to: 'AE', rate: '40/s', amount: { median: '30000 USD', sigma: 1.1 }, documented: 0.5 },
  { kind: 'trade', from: 'CN', to: 'HK', rate: '30/s', amount: { median: '20000 USD', sigma: 1.0 } },
  { kind: 'trade', from: 'CN', to: 'SG', rate: '20/s', amount: { median: '25000 USD', sigma: 1.0 }, start: '1s', end: '6s' },
  { kind: 'remittance', from: 'CN', to: 'AE', rate: '12/s', amount: { median: '9000 USD', sigma: 0.8 }, purpose: 'GIFT', payees: 10 },
  { kind: 'fx', currency: 'CNY', every: '500ms', volatility: '0.1%' },
  { kind: 'fx', currency: 'AED', every: '1s', volatility: '0.1%' },
  { kind: 'liquidity-shock', bank: 'icbc', at: '3s', payments: 700, to: 'AE', amount: { median: '50000 USD', sigma: 0.5 } },
  // At a whole millisecond, where it ties with the FX updates and the shock.
  { kind: 'liquidity-shock', bank: 'boc', at: '3s', payments: 50, to: 'HK', amount: { median: '10000 USD', sigma: 0.5 } }
]

function mixed(crypto: 'real' | 'modeled', seed = 11): LoadedScenario {
  return loadScenarioFile(join(root, 'configs/scenarios/belt-and-road.yaml'), { duration: '8s', drain: '3s', crypto, seed, workload: mixedWorkload })
}

/** What a submission is, as plain comparable values. */
function describe(timeMs: number, source: number, submission: { envelope: { id: string; signer: string; nonce: bigint; chainId: string; body: unknown; signingBytes: Uint8Array; signature: Uint8Array; publicKey: Uint8Array }; info: unknown; via: string }) {
  const envelope = submission.envelope
  return {
    timeMs,
    source,
    id: envelope.id,
    chainId: envelope.chainId,
    signer: envelope.signer,
    nonce: envelope.nonce,
    body: envelope.body,
    publicKey: bytesToHex(envelope.publicKey),
    signingBytes: bytesToHex(envelope.signingBytes),
    signature: bytesToHex(envelope.signature),
    info: submission.info,
    via: submission.via
  }
}

/** Every submission of a feed, taken in the simulation's order: by time, ties in push order. */
function drain(feed: WorkloadFeed): ReturnType<typeof describe>[] {
  const queue = new EventQueue<number>()
  feed.firsts().forEach((first, index) => {
    if (first !== undefined) queue.push(first, index)
  })
  const out: ReturnType<typeof describe>[] = []
  try {
    for (let event = queue.pop(); event !== undefined; event = queue.pop()) {
      const { submissions, nextMs } = feed.arrive(event.payload, event.timeMs)
      for (const submission of submissions) out.push(describe(event.timeMs, event.payload, submission))
      if (nextMs !== undefined) queue.push(nextMs, event.payload)
    }
  } finally {
    feed.close()
  }
  return out
}

for (const crypto of ['modeled', 'real'] as const) {
  t.test(`the worker's submissions are the inline ones, ${crypto} crypto (fx updates, liquidity shocks, payers shared by several sources)`, async (t) => {
    const loaded = mixed(crypto)
    const world = buildWorld(loaded.scenario, loaded.policies, loaded.policyDocuments)
    const fx = createFxTable(world.document.fx.base, world.document.fx.rates)
    const inline = drain(new InlineWorkloadFeed(createScenarioSources(loaded.scenario, world, fx)))
    // Small chunks and little read-ahead: many chunks, and the worker waits for room often.
    const worker = new WorkloadWorker({ ...loaded, chunkSubmissions: 37, messagesAheadMax: 2 })
    const fed = drain(new WorkerWorkloadFeed(worker, world, loaded.scenario.crypto))
    // The simulation's way: its own sources while the worker starts, then the worker's, skipping what was handled.
    const sources = () => createScenarioSources(loaded.scenario, world, fx)
    const handover = drain(new WorkerWorkloadFeed(new WorkloadWorker({ ...loaded, chunkSubmissions: 50 }), world, loaded.scenario.crypto, { startInline: sources(), inlineArrivalsMax: 333 }))
    const whenReady = drain(new WorkerWorkloadFeed(new WorkloadWorker(loaded), world, loaded.scenario.crypto, { startInline: sources() }))
    t.ok(inline.length > 1500, `a real workload (${inline.length} submissions)`)
    t.ok(inline.some((s) => s.info && (s.info as { kind: string }).kind === 'fxRateUpdate'), 'with FX updates')
    t.ok(inline.filter((s) => s.timeMs === 3000).length >= 750, 'and both shocks')
    const signers = new Set(inline.map((s) => s.signer))
    t.ok(inline.some((s) => s.nonce > 3n) && signers.size < inline.length, 'signers sign several times')
    t.equal(fed.length, inline.length, 'as many submissions')
    const firstDifference = fed.findIndex((s, i) => JSON.stringify(s, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)) !== JSON.stringify(inline[i], (_, v) => (typeof v === 'bigint' ? `${v}n` : v)))
    t.equal(firstDifference, -1, 'the same submissions in the same order: ids, nonces, times, bodies, signatures, infos')
    t.same(fed.slice(0, 50), inline.slice(0, 50))
    t.equal(JSON.stringify(handover, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)), JSON.stringify(inline, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)), 'the same when the worker takes over at the 334th arrival')
    t.equal(JSON.stringify(whenReady, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)), JSON.stringify(inline, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)), 'and when it takes over once ready')
  })
}

t.test('a simulation gives the same trace with the workload on a worker as inline', async (t) => {
  for (const [label, loaded] of [
    ['mixed, modeled', mixed('modeled', 3)],
    ['mixed, real', mixed('real', 4)],
    ['bench, 16 banks, shared mempool', scaleScenario({ banks: 16, ratePerSecond: 2000, durationSeconds: 3, crypto: 'modeled', execution: 'shared', mempool: 'shared' })]
  ] as const) {
    const run = (workloadThread: 'inline' | 'worker', workloadInlineArrivalsMax?: number) =>
      new Simulation({ scenario: loaded.scenario, policies: loaded.policies, policyDocuments: loaded.policyDocuments, workloadThread, ...(workloadInlineArrivalsMax === undefined ? {} : { workloadInlineArrivalsMax }) }).run()
    const inline = run('inline')
    // All on the worker, then the worker from the 500th arrival on.
    const worker = run('worker', 0)
    t.equal(worker.traceHash, inline.traceHash, `${label}: the same trace hash`)
    t.equal(run('worker', 500).traceHash, inline.traceHash, `${label}: the same trace hash when the worker takes over`)
    t.equal(worker.submitted, inline.submitted, `${label}: ${inline.submitted} transfers either way`)
    t.same(worker.admissionRefused, inline.admissionRefused, `${label}: the same refusals`)
    t.same([...worker.tracked.values()].map((x) => [x.id, x.submitMs, x.status, x.reason]), [...inline.tracked.values()].map((x) => [x.id, x.submitMs, x.status, x.reason]), `${label}: the same transfers`)
  }
})

t.test("'auto' takes a worker for large runs only", async (t) => {
  const small = mixed('modeled')
  t.ok(expectedTransfers(small.scenario) > 1000 && expectedTransfers(small.scenario) < 5000, `the mixed scenario expects ${expectedTransfers(small.scenario)}`)
  t.equal(chooseWorkloadThread('auto', small.scenario), 'inline')
  t.equal(chooseWorkloadThread('worker', small.scenario), 'worker')
  const large = scaleScenario({ banks: 4, ratePerSecond: 2000, durationSeconds: 30, crypto: 'modeled', execution: 'shared' })
  t.equal(expectedTransfers(large.scenario), 60_000)
  t.equal(chooseWorkloadThread('inline', large.scenario), 'inline')
})

t.test('a worker that fails says why instead of leaving the simulation waiting', async (t) => {
  const loaded = mixed('modeled')
  const world = buildWorld(loaded.scenario, loaded.policies, loaded.policyDocuments)
  // A policy the worker cannot parse: it fails while building its world.
  const broken = new WorkloadWorker({ ...loaded, policyDocuments: { ...loaded.policyDocuments, CN: { jurisdiction: 'CN', nonsense: true } } })
  const feed = new WorkerWorkloadFeed(broken, world, 'modeled')
  t.throws(() => feed.firsts(), /the workload worker failed: .*CN/)
  feed.close()
  // Likewise when the simulation's own sources run while the worker starts: the failure comes out at the handover.
  const fx = createFxTable(world.document.fx.base, world.document.fx.rates)
  const startInline = createScenarioSources(loaded.scenario, world, fx)
  const brokenToo = new WorkloadWorker({ ...loaded, policyDocuments: { ...loaded.policyDocuments, CN: { jurisdiction: 'CN', nonsense: true } } })
  t.throws(() => drain(new WorkerWorkloadFeed(brokenToo, world, 'modeled', { startInline, inlineArrivalsMax: 10 })), /the workload worker failed: .*CN/)
  // A worker out of step with the simulation (another seed) is caught at the first arrival.
  const other = new WorkerWorkloadFeed(new WorkloadWorker({ ...loaded, scenario: { ...loaded.scenario, seed: 99 } }), world, 'modeled')
  const firsts = new WorkerWorkloadFeed(new WorkloadWorker(loaded), world, 'modeled')
  const expected = firsts.firsts()
  firsts.close()
  other.firsts()
  const source = expected.findIndex((first) => first !== undefined)
  t.throws(() => other.arrive(source, expected[source]!), /out of step/)
  other.close()
})

t.test('the worker thread ends with the run: two runs in one process, then the process exits by itself', async (t) => {
  const dir = t.testdir({})
  const script = join(dir, 'twice.ts')
  writeFileSync(
    script,
    `import { Simulation } from ${JSON.stringify(join(root, 'src/sim/simulation.ts'))}
import { scaleScenario } from ${JSON.stringify(join(root, 'bench/simScenario.ts'))}
const loaded = scaleScenario({ banks: 4, ratePerSecond: 500, durationSeconds: 2, crypto: 'modeled', execution: 'shared' })
// The first on the worker from the first arrival, the second as a simulation runs it (inline while the worker starts).
const hashes = [{ workloadInlineArrivalsMax: 0 }, {}].map((options) => new Simulation({ ...loaded, workloadThread: 'worker', ...options }).run().traceHash)
const inline = new Simulation({ ...loaded, workloadThread: 'inline' }).run().traceHash
// A simulation that fails to build after its worker started leaves no thread behind either.
try {
  new Simulation({ ...loaded, scenario: { ...loaded.scenario, population: [...loaded.scenario.population, { ...loaded.scenario.population[0]!, bank: 'nowhere' }] }, workloadThread: 'worker' })
} catch {}
process.stdout.write(JSON.stringify({ hashes, inline }))
`
  )
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}')
  const child = spawnSync(process.execPath, [join(root, 'bin/run-ts.js'), script], { cwd: root, encoding: 'utf8', timeout: 120_000 })
  t.equal(child.error, undefined, 'exits within the time limit')
  t.equal(child.status, 0, child.stderr)
  const { hashes, inline } = JSON.parse(child.stdout) as { hashes: string[]; inline: string }
  t.same(hashes, [inline, inline], 'both worker runs give the inline trace')
})

t.test('signatures recorded as issued take the fast path; altered, forged or misplaced ones still fail', async (t) => {
  const signer = createModeledSigner(new Uint8Array(32).fill(21))
  const other = createModeledSigner(new Uint8Array(32).fill(22))
  // As the worker sends them: messages and signatures made elsewhere, in one buffer.
  const chunk = new Uint8Array(1024)
  const first = chunk.subarray(0, 120).map((_, i) => i)
  chunk.set(first, 0)
  const second = chunk.subarray(300, 400)
  second.fill(5)
  chunk.set(signer.sign(chunk.slice(0, 120)), 200)
  chunk.set(other.sign(chunk.slice(300, 400)), 500)
  const message = chunk.subarray(0, 120)
  const signature = chunk.subarray(200, 264)
  const otherMessage = chunk.subarray(300, 400)
  const otherSignature = chunk.subarray(500, 564)
  const recorder = recordIssuedChunk(chunk.buffer, 2)
  recorder.add(signature, message, signer.publicKey)
  recorder.add(otherSignature, otherMessage, other.publicKey)
  t.throws(() => recorder.add(otherSignature, otherMessage, other.publicKey), 'no more than announced, in order')
  t.ok(modeledVerifier.verify(signer.publicKey, message, signature), 'a recorded signature verifies')
  t.ok(modeledVerifier.verify(other.publicKey, otherMessage, otherSignature), 'and the other')
  t.notOk(modeledVerifier.verify(signer.publicKey, otherMessage, signature), 'not for another message of the chunk')
  t.notOk(modeledVerifier.verify(signer.publicKey, chunk.subarray(0, 119), signature), 'nor for part of its message')
  t.notOk(modeledVerifier.verify(other.publicKey, message, signature), 'nor under another key')
  const forged = signature.slice()
  forged[0]! ^= 1
  t.notOk(modeledVerifier.verify(signer.publicKey, message, forged), 'a forged copy does not')
  const altered = message.slice()
  altered[5]! ^= 1
  t.notOk(modeledVerifier.verify(signer.publicKey, altered, signature), 'nor altered signing bytes')
  t.notOk(modeledVerifier.verify(signer.publicKey, message, chunk.subarray(201, 265)), 'nor a view next to the signature')
  signature[3]! ^= 1
  t.notOk(modeledVerifier.verify(signer.publicKey, message, signature), 'nor the signature altered in place')
  signature[3]! ^= 1
  t.ok(modeledVerifier.verify(signer.publicKey, message.slice(), signature.slice()), 'copies take the full check, and pass it')
  // The fast path does no hashing: a record is as good as the caller's word (the feed checks the first of every chunk in full).
  const vouched = new Uint8Array(200)
  recordIssuedChunk(vouched.buffer, 1).add(vouched.subarray(100, 164), vouched.subarray(0, 50), signer.publicKey)
  t.ok(modeledVerifier.verify(signer.publicKey, vouched.subarray(0, 50), vouched.subarray(100, 164)), 'a recorded signature is taken without hashing')
  t.notOk(modeledVerifier.verify(signer.publicKey, vouched.slice(0, 50), vouched.slice(100, 164)), 'its copies are checked in full, and fail')
})
