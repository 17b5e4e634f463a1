/**
 * Storage faults at a crash (src/cluster/storageFaults.ts) against a real LevelDB in a temp
 * directory, written by the node's own store (LevelStore) with blocks and WAL records from real
 * replicas: after the fault the store is opened as a restarted node opens it, and what it
 * recovers is checked. A torn record must be detected and discarded, never decoded or applied;
 * committed blocks are never touched.
 */
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ReplicaCluster } from '../node/replica/cluster.ts'
import { generatePayments } from '../../../src/ledger/testing/index.ts'
import { defaultConsensusLimits, encodeWalRecord, type WalRecord } from '../../../src/consensus/index.ts'
import { LevelStore } from '../../../src/node/store/index.ts'
import type { CommittedBlock } from '../../../src/node/replica/replica.ts'
import { applyStorageFault, readWal } from '../../../src/cluster/storageFaults.ts'

const cluster = new ReplicaCluster()
const payments = generatePayments(cluster.network, { count: 40, seed: 3 })
cluster.ids.forEach((id, index) => cluster.submit(id, payments.filter((_, i) => i % 4 === index)))
cluster.run(() => cluster.stores.get('icbc')!.blocks.length >= 3)
const blocks: CommittedBlock[] = cluster.stores.get('icbc')!.blocks
const genesis = cluster.network.state

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'corridor-storage-fault-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return join(dir, 'data')
}

const open = (path: string): Promise<LevelStore> => LevelStore.open({ path, genesis, consensusLimits: defaultConsensusLimits })

function decision(block: CommittedBlock): { record: WalRecord; bytes: Uint8Array } {
  const record: WalRecord = { kind: 'decision', block: block.block, certificate: block.certificate }
  return { record, bytes: encodeWalRecord(record) }
}

/** A node's store at a crash: block 1 committed, three WAL records above the tip (three appends). */
async function crashedStore(path: string): Promise<void> {
  const store = await open(path)
  await store.commitBlock(blocks[0]!)
  await store.appendWal([decision(blocks[1]!)])
  await store.appendWal([decision(blocks[1]!)])
  await store.appendWal([decision(blocks[2]!)])
  await store.close()
}

t.test('lose-unsynced: the last WAL record is gone; the node recovers the rest and its committed blocks', async (t) => {
  const path = tempDir(t)
  await crashedStore(path)
  const before = await readWal(path)
  t.equal(before.length, 3)
  t.ok(before.every((entry) => entry.whole))
  const result = await applyStorageFault(path, 'lose-unsynced')
  t.equal(result.records, 3)
  t.same(result.dropped, [before[2]!.key], 'the last append dropped')
  t.equal(result.torn, undefined)
  t.same((await readWal(path)).map((entry) => entry.key), before.slice(0, 2).map((entry) => entry.key))

  const store = await open(path)
  t.teardown(() => store.close())
  t.equal(store.recovered.tip.height, 1, 'committed blocks untouched')
  t.equal(store.recovered.wal.length, 2, 'the synced records recovered')
  t.equal(store.recovered.walDropped, 0, 'nothing torn')
})

t.test('torn-wal: the last WAL record keeps half its frame; recovery detects it and discards it, never applies it', async (t) => {
  const path = tempDir(t)
  await crashedStore(path)
  const before = await readWal(path)
  const result = await applyStorageFault(path, 'torn-wal')
  t.equal(result.torn?.key, before[2]!.key, 'the last record torn')
  t.equal(result.torn?.bytes, before[2]!.bytes)
  t.equal(result.torn?.keptBytes, Math.floor(before[2]!.bytes / 2))
  const after = await readWal(path)
  t.equal(after.length, 3, 'still stored')
  t.same(
    after.map((entry) => entry.whole),
    [true, true, false],
    'its frame no longer passes the check'
  )

  const store = await open(path)
  t.equal(store.recovered.tip.height, 1, 'committed blocks untouched')
  t.equal(store.recovered.wal.length, 2, 'the whole records recovered')
  t.equal(store.recovered.walDropped, 1, 'the torn one discarded')
  t.ok(
    store.recovered.wal.every((record) => record.kind === 'decision' && record.block.header.height === 2),
    'the torn record (the decision at height 3) was not decoded'
  )
  // The store deleted the torn record at recovery: a second restart sees a clean WAL.
  await store.close()
  t.same(
    (await readWal(path)).map((entry) => entry.whole),
    [true, true]
  )
  const again = await open(path)
  t.teardown(() => again.close())
  t.equal(again.recovered.walDropped, 0)
  t.equal(again.recovered.wal.length, 2)
})

t.test('a WAL with nothing above the tip: nothing was unsynced, nothing changes', async (t) => {
  const path = tempDir(t)
  const store = await open(path)
  await store.commitBlock(blocks[0]!)
  await store.close()
  for (const fault of ['lose-unsynced', 'torn-wal'] as const) {
    const result = await applyStorageFault(path, fault)
    t.same(result, { fault, records: 0, dropped: [], torn: undefined })
  }
  const reopened = await open(path)
  t.teardown(() => reopened.close())
  t.equal(reopened.recovered.tip.height, 1)
})

t.test('refused while the node holds its store open (it must be killed first), and for a missing directory', async (t) => {
  const path = tempDir(t)
  await crashedStore(path)
  const store = await open(path)
  await t.rejects(applyStorageFault(path, 'lose-unsynced'), 'LevelDB lock held by the running node')
  await store.close()
  t.equal((await readWal(path)).length, 3, 'untouched')
  await t.rejects(applyStorageFault(join(path, 'missing'), 'torn-wal'), 'no store there')
})
