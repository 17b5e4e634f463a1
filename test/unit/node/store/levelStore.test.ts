/**
 * The LevelDB store, on a real LevelDB in a temp directory: blocks produced by real replicas are
 * committed, the store is closed and reopened, and what it recovers is compared with what the
 * replicas hold. Crashes are modelled as a close at the wrong moment (LevelDB's own guarantee is
 * that a synced batch is all or nothing; what is checked here is that the store relies on it
 * correctly), and a torn WAL tail is made by overwriting the last frame with half of itself.
 */
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { ReplicaCluster } from '../replica/cluster.ts'
import { generatePayments } from '../../../../src/ledger/testing/index.ts'
import { fullStateDigest, balanceOf } from '../../../../src/ledger/state.ts'
import { bytesToHex } from '../../../../src/protocol/bytes.ts'
import {
  createCachingVerifier,
  createValidatorSet,
  defaultConsensusLimits,
  encodeWalRecord,
  verifyCommitCertificate,
  type WalRecord
} from '../../../../src/consensus/index.ts'
import { genesisValidators } from '../../../../src/ledger/genesis.ts'
import { createNativeVerifier } from '../../../../src/platform/ed25519Native.ts'
import { LevelStore, StoreError, encodeWalFrame, decodeWalFrame, stateSnapshotBlocks } from '../../../../src/node/store/index.ts'
import { encode } from '../../../../src/protocol/encoding.ts'
import { Replica, type CommittedBlock } from '../../../../src/node/replica/replica.ts'
import { AdmissionCache } from '../../../../src/node/replica/admission.ts'

/** One cluster run shared by the tests: blocks 1.. with payments, as the icbc replica committed them. */
const cluster = new ReplicaCluster()
const payments = generatePayments(cluster.network, { count: 200, seed: 7 })
cluster.ids.forEach((id, index) => cluster.submit(id, payments.filter((_, i) => i % 4 === index)))
const ids = new Set(payments.map((p) => p.id))
const committedIds = (): number => cluster.stores.get('icbc')!.blocks.reduce((sum, block) => sum + block.transactions.filter((tx) => ids.has(tx.id)).length, 0)
cluster.run(() => committedIds() === payments.length && cluster.stores.get('icbc')!.blocks.length >= 4)
const blocks: CommittedBlock[] = cluster.stores.get('icbc')!.blocks
const genesis = cluster.network.state
const limits = defaultConsensusLimits

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'corridor-store-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return join(dir, 'db')
}

function decision(block: CommittedBlock): { record: WalRecord; bytes: Uint8Array } {
  const record: WalRecord = { kind: 'decision', block: block.block, certificate: block.certificate }
  return { record, bytes: encodeWalRecord(record) }
}

async function storeErrorCode(promise: Promise<LevelStore>): Promise<string> {
  try {
    const store = await promise
    await store.close()
    return 'opened'
  } catch (error) {
    return error instanceof StoreError ? error.code : String(error)
  }
}

async function open(path: string): Promise<LevelStore> {
  return LevelStore.open({ path, genesis, consensusLimits: limits })
}

t.test('a new store starts at genesis; committed blocks survive a reopen with state, receipts and certificates', async (t) => {
  const path = tempDir(t)
  let store = await open(path)
  t.equal(store.recovered.tip.height, 0)
  t.equal(bytesToHex(fullStateDigest(store.recovered.ledger)), bytesToHex(fullStateDigest(genesis)), 'genesis state written')
  for (const block of blocks) await store.commitBlock(block)
  await store.close()

  store = await open(path)
  t.teardown(() => store.close())
  const last = blocks[blocks.length - 1]!
  const { ledger, tip, wal } = store.recovered
  t.equal(tip.height, last.height, 'tip recovered')
  t.equal(bytesToHex(tip.blockHash), bytesToHex(last.blockHash))
  t.equal(bytesToHex(ledger.stateRoot), bytesToHex(last.stateRoot), 'state root recovered')
  const replicaLedger = cluster.replicas.get('icbc')!.ledgerState
  if (replicaLedger.height === last.height) {
    t.equal(bytesToHex(fullStateDigest(ledger)), bytesToHex(fullStateDigest(replicaLedger)), 'the same entries as the replica in memory')
  }
  t.same(wal, [], 'no WAL above the tip')

  const receipt = last.receipts[0]
  if (receipt !== undefined) {
    const stored = await store.loadReceipt(receipt.transactionId)
    t.equal(stored?.height, last.height)
    t.equal(stored?.status, receipt.status)
    t.equal(stored?.received ?? undefined, receipt.received)
  }
  t.equal(await store.loadReceipt('0'.repeat(64)), undefined, 'unknown transaction')

  const loaded = await store.loadBlocks(1, 100)
  t.equal(loaded.length, blocks.length, 'every block loads')
  const validatorSet = createValidatorSet(genesisValidators(cluster.network.document).map((v) => ({ id: v.id, publicKey: v.publicKey, power: v.votingPower })))
  const verifier = createCachingVerifier(createNativeVerifier())
  for (const stored of loaded) {
    t.equal(bytesToHex(stored.blockHash), bytesToHex(blocks[stored.height - 1]!.blockHash), `block ${stored.height} hash`)
    verifyCommitCertificate(validatorSet, cluster.network.chainId, stored.blockHash, stored.certificate, verifier)
  }
  t.pass('every stored certificate verifies')
  t.equal((await store.loadBlocks(2, 1)).length, 1, 'a range is bounded by count')
  t.equal(await store.loadBlock(last.height + 1), undefined, 'no block above the tip')
  const payer = payments[0]!.signer
  t.ok(balanceOf(ledger, payer, 'icbc.CNH') >= 0n, 'balances readable from the recovered ledger')
})

t.test('a store refuses another chain or another genesis', async (t) => {
  const path = tempDir(t)
  await (await open(path)).close()
  const other = new ReplicaCluster(3).network.state
  t.equal(await storeErrorCode(LevelStore.open({ path, genesis: other, consensusLimits: limits })), 'STORE_GENESIS_MISMATCH')
  const locked = await open(path)
  t.teardown(() => locked.close())
  t.equal(await storeErrorCode(open(path)), 'STORE_LOCKED', 'a second opener is refused')
})

t.test('crash between a WAL write and the commit: the record is recovered and the replica finishes the block', async (t) => {
  const path = tempDir(t)
  let store = await open(path)
  await store.commitBlock(blocks[0]!)
  await store.commitBlock(blocks[1]!)
  await store.appendWal([decision(blocks[2]!)])
  // The crash: the commit of block 3 never happens.
  await store.close()

  store = await open(path)
  t.teardown(() => store.close())
  const { ledger, tip, wal } = store.recovered
  t.equal(tip.height, 2)
  t.equal(wal.length, 1, 'the decision record is back')
  t.equal(wal[0]!.kind, 'decision')

  const replica = new Replica({
    chainId: cluster.network.chainId,
    validatorId: 'icbc',
    signer: cluster.network.signer('icbc'),
    validatorSet: createValidatorSet(genesisValidators(cluster.network.document).map((v) => ({ id: v.id, publicKey: v.publicKey, power: v.votingPower }))),
    consensusVerifier: createCachingVerifier(createNativeVerifier()),
    admission: new AdmissionCache({ chainId: cluster.network.chainId, verifier: createNativeVerifier() }),
    ledger,
    tip,
    wal
  })
  const actions = replica.step({ kind: 'start', nowMs: tip.timeMs + 1 })
  const commit = actions.find((action) => action.kind === 'commit')
  t.ok(commit !== undefined, 'the restored replica commits the decided block')
  if (commit?.kind === 'commit') {
    t.equal(bytesToHex(commit.committed.stateRoot), bytesToHex(blocks[2]!.stateRoot), 'to the same state root')
    await store.commitBlock(commit.committed)
  }
  t.equal(store.tip.height, 3)
  t.equal(store.walRecords, 0, 'the commit pruned the WAL')
})

t.test('a torn WAL tail is dropped, never misread; records before it are kept', async (t) => {
  const path = tempDir(t)
  let store = await open(path)
  await store.commitBlock(blocks[0]!)
  await store.appendWal([decision(blocks[1]!)])
  await store.appendWal([decision(blocks[1]!)])
  await store.appendWal([decision(blocks[1]!)])
  await store.close()

  // Tear the last record: half of its frame reached the disk.
  const db = new Level<string, Uint8Array>(path, { keyEncoding: 'utf8', valueEncoding: 'view' })
  const wal = db.sublevel<string, Uint8Array>('wal', { keyEncoding: 'utf8', valueEncoding: 'view' })
  const keys: string[] = []
  for await (const key of wal.keys()) keys.push(key)
  t.equal(keys.length, 3)
  const lastFrame = (await wal.get(keys[2]!))!
  await wal.put(keys[2]!, lastFrame.subarray(0, Math.floor(lastFrame.length / 2)))
  await db.close()

  store = await open(path)
  t.equal(store.recovered.wal.length, 2, 'the two whole records recovered')
  t.equal(store.recovered.walDropped, 1, 'the torn one dropped')
  await store.close()

  // A flipped bit in the middle: that record and everything after it go.
  const db2 = new Level<string, Uint8Array>(path, { keyEncoding: 'utf8', valueEncoding: 'view' })
  const wal2 = db2.sublevel<string, Uint8Array>('wal', { keyEncoding: 'utf8', valueEncoding: 'view' })
  const firstKey = (await wal2.keys().all())[0]!
  const frame = new Uint8Array((await wal2.get(firstKey))!)
  frame[frame.length - 3]! ^= 0x10
  await wal2.put(firstKey, frame)
  await db2.close()
  store = await open(path)
  t.teardown(() => store.close())
  t.equal(store.recovered.wal.length, 0, 'a corrupt first record drops the whole tail')
  t.equal(store.recovered.walDropped, 2)
  t.equal(store.recovered.tip.height, 1, 'committed blocks untouched')
})

t.test('frames: length and CRC checked', async (t) => {
  const record = new Uint8Array([1, 2, 3, 4, 5])
  const frame = encodeWalFrame(record)
  t.same(decodeWalFrame(frame), record)
  t.equal(decodeWalFrame(frame.subarray(0, 7)), undefined, 'shorter than a header')
  t.equal(decodeWalFrame(frame.subarray(0, frame.length - 1)), undefined, 'truncated')
  const flipped = new Uint8Array(frame)
  flipped[9]! ^= 1
  t.equal(decodeWalFrame(flipped), undefined, 'bit flip')
})

t.test('a commit is all or nothing: a batch that fails to build writes nothing', async (t) => {
  const path = tempDir(t)
  let store = await open(path)
  await store.commitBlock(blocks[0]!)
  await store.appendWal([decision(blocks[1]!)])
  const bad: CommittedBlock = { ...blocks[1]!, writes: new Map([...blocks[1]!.writes, ['zz/unencodable', 2n ** 80n]]) }
  await t.rejects(store.commitBlock(bad), 'an unencodable value fails the commit')
  t.equal(store.tip.height, 1, 'tip unchanged in memory')
  await store.close()

  store = await open(path)
  t.teardown(() => store.close())
  t.equal(store.recovered.tip.height, 1, 'tip unchanged on disk')
  t.equal(await store.loadBlock(2), undefined, 'no block 2')
  const receipt = blocks[1]!.receipts[0]
  if (receipt !== undefined) t.equal(await store.loadReceipt(receipt.transactionId), undefined, 'no receipt of block 2')
  t.equal(store.recovered.wal.length, 1, 'the WAL record of height 2 is still there')
  t.equal(store.recovered.ledger.get('zz/unencodable'), undefined, 'no stray state entry')
  t.equal(bytesToHex(store.recovered.ledger.stateRoot), bytesToHex(blocks[0]!.stateRoot))
  await store.commitBlock(blocks[1]!)
  t.equal(store.tip.height, 2, 'the good commit goes through afterwards')
  t.equal(store.walRecords, 0)
})

t.test('receipts are put-if-absent: a later block replaying a final transaction never overwrites its receipt', async (t) => {
  const path = tempDir(t)
  const store = await open(path)
  t.teardown(() => store.close())
  const first = blocks.find((block) => block.receipts.length > 0)!
  for (const block of blocks) {
    await store.commitBlock(block)
    if (block === first) break
  }
  const original = first.receipts[0]!
  const before = await store.loadReceipt(original.transactionId)
  t.equal(before?.height, first.height)
  // The next block carries the same transaction id again (twice), refused this time as a replay.
  const next = blocks[first.height]!
  const replayed = { ...original, status: 'rejected' as const, reason: 'REPLAY' as const, message: 'nonce already used' }
  await store.commitBlock({ ...next, receipts: [replayed, ...next.receipts, replayed] })
  const after = await store.loadReceipt(original.transactionId)
  t.equal(after?.height, first.height, 'the receipt still names the block that finalized it')
  t.equal(after?.status, original.status, 'and its status')
  t.equal(after?.reason, before?.reason ?? null)
  const fresh = next.receipts[0]
  if (fresh !== undefined) t.equal((await store.loadReceipt(fresh.transactionId))?.height, next.height, 'new receipts of that block are written')
})

t.test('issued nonces survive a reopen', async (t) => {
  const path = tempDir(t)
  let store = await open(path)
  await store.saveIssuedNonce('icbc-corporate-0', 7n)
  await store.saveIssuedNonce('icbc-corporate-0', 9n)
  await store.saveIssuedNonce('icbc-individual-1', 1n)
  await store.close()
  store = await open(path)
  t.teardown(() => store.close())
  t.same([...(await store.loadIssuedNonces())].sort(), [['icbc-corporate-0', 9n], ['icbc-individual-1', 1n]])
})

t.test('ledger writes go to a per-block log, folded into state/ every stateSnapshotBlocks blocks; recovery replays the log', async (t) => {
  // A longer run than the shared one: payments in three waves over more than two snapshot periods.
  const long = new ReplicaCluster()
  const wave = generatePayments(long.network, { count: 180, seed: 11 })
  const icbcBlocks = (): CommittedBlock[] => long.stores.get('icbc')!.blocks
  for (const [index, target] of [stateSnapshotBlocks - 10, stateSnapshotBlocks + 30, 2 * stateSnapshotBlocks + 20].entries()) {
    long.ids.forEach((id, i) => long.submit(id, wave.slice(index * 60, (index + 1) * 60).filter((_, j) => j % 4 === i)))
    long.run(() => icbcBlocks().length >= target)
  }
  const all = icbcBlocks()
  t.ok(all.length >= 2 * stateSnapshotBlocks + 20, `${all.length} blocks`)

  /** The ledger entries after `height` blocks, folded by hand from genesis and the blocks' writes. */
  const truthAt = (height: number): Map<string, string> => {
    const entries = new Map<string, string>()
    for (const [key, value] of long.network.state.entries) entries.set(key, bytesToHex(encode(value)))
    for (const block of all.slice(0, height)) for (const [key, value] of block.writes) entries.set(key, bytesToHex(encode(value)))
    return entries
  }
  const recoveredEntries = (store: LevelStore): Map<string, string> =>
    new Map([...store.recovered.ledger.entries].map(([key, value]) => [key, bytesToHex(encode(value))]))
  const logHeights = async (path: string): Promise<number[]> => {
    const db = new Level<string, Uint8Array>(path, { keyEncoding: 'utf8', valueEncoding: 'view' })
    const heights = (await db.sublevel<string, Uint8Array>('stateLog', { keyEncoding: 'utf8', valueEncoding: 'view' }).keys().all()).map(Number)
    await db.close()
    return heights
  }

  const path = tempDir(t)
  const openLong = (): Promise<LevelStore> => LevelStore.open({ path, genesis: long.network.state, consensusLimits: limits })
  let store = await openLong()
  // Stop at several points around the snapshots, as a crash would, and recover each time.
  for (const stop of [5, stateSnapshotBlocks - 1, stateSnapshotBlocks, stateSnapshotBlocks + 7, 2 * stateSnapshotBlocks + 3, all.length]) {
    for (const block of all.slice(store.tip.height, stop)) await store.commitBlock(block)
    await store.close()
    const snapshotAt = Math.floor(stop / stateSnapshotBlocks) * stateSnapshotBlocks
    const expectedLog = Array.from({ length: stop - snapshotAt }, (_, i) => snapshotAt + 1 + i)
    t.same(await logHeights(path), expectedLog, `at ${stop}: the log holds the blocks above the snapshot at ${snapshotAt}`)
    store = await openLong()
    t.equal(store.recovered.tip.height, stop)
    t.same(recoveredEntries(store), truthAt(stop), `at ${stop}: the recovered entries are genesis plus every block's writes`)
    t.equal(bytesToHex(store.recovered.ledger.stateRoot), bytesToHex(all[stop - 1]!.stateRoot))
  }
  await store.close()

  // A log record missing above the snapshot is corruption, named, never a silently older ledger.
  const db = new Level<string, Uint8Array>(path, { keyEncoding: 'utf8', valueEncoding: 'view' })
  const logKeys = await db.sublevel<string, Uint8Array>('stateLog', { keyEncoding: 'utf8', valueEncoding: 'view' }).keys().all()
  t.ok(logKeys.length >= 2)
  await db.sublevel<string, Uint8Array>('stateLog', { keyEncoding: 'utf8', valueEncoding: 'view' }).del(logKeys[1]!)
  await db.close()
  t.equal(await storeErrorCode(openLong()), 'STORE_CORRUPT')
})
