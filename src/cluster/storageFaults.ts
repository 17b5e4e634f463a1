/**
 * Storage faults at a crash, for real: after the node process is killed (SIGKILL) and before it
 * is started again, the cluster runner opens the killed node's LevelDB (its data directory) and
 * does to the stored consensus WAL what the simulator's model does to its modelled store
 * (src/sim/simulation.ts, `crash`):
 *
 *   lose-unsynced   the WAL records not yet synced are dropped
 *   torn-wal        the first unsynced WAL record is torn (its first half only is kept) and the
 *                   records after it are dropped; recovery must detect the torn record by its frame
 *                   and discard it, never decode or apply it
 *
 * The on-disk layout is src/node/store/levelStore.ts's: sublevel `wal`, keys the record's sequence
 * zero-padded to 16 digits (so key order is append order), values a frame
 * `[length u32 BE][crc32 u32 BE][record]` (src/node/store/walFrame.ts). Every record above the tip
 * stays in `wal/` until the block at its height is committed, and records at or below the tip are
 * deleted in the commit's batch, so the tail of `wal/` is what the node appended last.
 *
 * Which records are "not yet synced" on a real node: the simulator marks as synced every record
 * followed by an effect (a message sent, a block committed). The real node syncs each append
 * (`sync: true`) before its message leaves, so the only writes a crash can lose are those of the
 * append the kill interrupted: the last one. That is the record dropped or torn here. On a real
 * node the kill may instead have fallen after that record's message left; dropping it then models
 * a disk that acknowledged a write it had not made durable. The node must still recover (a torn
 * record is discarded), and if it then signs a vote conflicting with the lost one, the evidence
 * names it: it is one faulty validator of the f the network tolerates.
 */
import { Level } from 'level'
import { decodeWalFrame } from '../node/store/walFrame.ts'

export type StorageFault = 'lose-unsynced' | 'torn-wal'

export interface StorageFaultResult {
  readonly fault: StorageFault
  /** WAL records in the store before the fault. */
  readonly records: number
  /** Keys (sequences) of the records removed. */
  readonly dropped: readonly string[]
  /** With torn-wal: the key of the torn record, its frame length before and after. */
  readonly torn: { readonly key: string; readonly bytes: number; readonly keptBytes: number } | undefined
}

/** How many records at the tail of the WAL count as unsynced at a crash (see the file comment). */
export const unsyncedRecords = 1

/**
 * Applies `fault` to the WAL of the (stopped) node whose LevelDB is at `dataDir`. Refuses a store
 * another process holds open (LevelDB's lock): the node must be dead first. With no WAL record
 * above the tip, nothing was unsynced and nothing changes, as in the simulator.
 */
/** classic-level honours `sync` on a batch (the store's own writes use it); abstract-level's types do not name it. */
const synced = { sync: true } as object

export async function applyStorageFault(dataDir: string, fault: StorageFault): Promise<StorageFaultResult> {
  const db = new Level<string, Uint8Array>(dataDir, { keyEncoding: 'utf8', valueEncoding: 'view', createIfMissing: false })
  await db.open()
  try {
    const wal = db.sublevel<string, Uint8Array>('wal', { keyEncoding: 'utf8', valueEncoding: 'view' })
    const entries: Array<[string, Uint8Array]> = []
    for await (const entry of wal.iterator()) entries.push(entry)
    const first = Math.max(0, entries.length - unsyncedRecords)
    const unsynced = entries.slice(first)
    if (unsynced.length === 0) return { fault, records: entries.length, dropped: [], torn: undefined }
    if (fault === 'lose-unsynced') {
      await wal.batch(unsynced.map(([key]) => ({ type: 'del' as const, key })), synced)
      return { fault, records: entries.length, dropped: unsynced.map(([key]) => key), torn: undefined }
    }
    const [key, frame] = unsynced[0]!
    // As the simulator tears a record: its first half, at least one byte. Half a frame never
    // passes the frame check (its length field names more bytes than are there).
    const kept = frame.slice(0, Math.max(1, Math.floor(frame.length / 2)))
    const after = unsynced.slice(1)
    await wal.batch([{ type: 'put' as const, key, value: kept }, ...after.map(([k]) => ({ type: 'del' as const, key: k }))], synced)
    return { fault, records: entries.length, dropped: after.map(([k]) => k), torn: { key, bytes: frame.length, keptBytes: kept.length } }
  } finally {
    await db.close()
  }
}

/** The WAL of a stopped node as stored: each record's key and whether its frame is whole (for tests and diagnostics). */
export async function readWal(dataDir: string): Promise<Array<{ key: string; bytes: number; whole: boolean }>> {
  const db = new Level<string, Uint8Array>(dataDir, { keyEncoding: 'utf8', valueEncoding: 'view', createIfMissing: false })
  await db.open()
  try {
    const wal = db.sublevel<string, Uint8Array>('wal', { keyEncoding: 'utf8', valueEncoding: 'view' })
    const out: Array<{ key: string; bytes: number; whole: boolean }> = []
    for await (const [key, frame] of wal.iterator()) out.push({ key, bytes: frame.length, whole: decodeWalFrame(frame) !== undefined })
    return out
  } finally {
    await db.close()
  }
}
