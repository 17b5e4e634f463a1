/**
 * Shared by the end-to-end tests: a LocalCluster of real node processes in a temporary directory
 * (killed and removed at teardown), payments through the API with bounded concurrency, and views
 * of every node's chain and ledger to compare.
 */
import type { Test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalCluster, type CreateClusterOptions } from '../../src/cluster/localCluster.ts'
import { waitFor } from '../../src/cluster/nodeClient.ts'

export { waitFor }

/** The token each standard bank pays in (the customers hold a balance of each bank currency). */
export const bankToken: Readonly<Record<string, string>> = { icbc: 'icbc.CNH', bochk: 'bochk.CNH', enbd: 'enbd.AED', dbs: 'dbs.SGD' }

export async function startCluster(t: Test, options: Partial<CreateClusterOptions> = {}): Promise<LocalCluster> {
  const dir = join(mkdtempSync(join(tmpdir(), 'corridor-e2e-')), 'cluster')
  const cluster = await LocalCluster.create({ dir, banks: 4, customersPerBank: 8, ...options })
  t.teardown(async () => {
    for (const bank of cluster.running()) await cluster.kill(bank).catch(() => undefined)
    rmSync(join(dir, '..'), { recursive: true, force: true })
  })
  cluster.startAll()
  await cluster.waitFinalizing(90_000)
  return cluster
}

export interface PaymentSpec {
  readonly via: string
  readonly payer: string
  readonly payee: string
  readonly payerToken: string
  readonly payeeToken: string
  readonly amount: string
}

/** The i-th payment of a round robin over the banks: a customer of bank i pays a customer of bank i+1. */
export function roundRobinPayment(banks: readonly string[], i: number, customers = 8): PaymentSpec {
  const from = banks[i % banks.length]!
  const to = banks[(i + 1) % banks.length]!
  return {
    via: from,
    payer: `${from}-customer-${Math.floor(i / banks.length) % customers}`,
    payee: `${to}-customer-${i % customers}`,
    payerToken: bankToken[from]!,
    payeeToken: bankToken[to]!,
    amount: String(1000 + (i % 997))
  }
}

/** POST /v1/payments for each, at most `concurrency` in flight; returns the transaction ids in order. */
export async function submitPayments(cluster: LocalCluster, payments: readonly PaymentSpec[], concurrency = 32): Promise<string[]> {
  const ids: string[] = new Array(payments.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < payments.length) {
      const index = next++
      const { via, ...body } = payments[index]!
      const answer = await cluster.client(via, 15_000).post<{ id: string }>('/v1/payments', { ...body, purpose: 'GDDS' })
      ids[index] = answer.id
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return ids
}

/** The ids not yet final on the bank's node, checked `concurrency` at a time. */
export async function notFinal(cluster: LocalCluster, bank: string, ids: readonly string[], concurrency = 32): Promise<string[]> {
  const client = cluster.client(bank, 10_000)
  const pending: string[] = []
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < ids.length) {
      const id = ids[next++]!
      const status = await client.get<{ status: string }>(`/v1/transactions/${id}`).catch(() => ({ status: 'unknown' }))
      if (status.status !== 'final') pending.push(id)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return pending
}

/** Block hashes from 1 to `to` on the bank's node, read in pages. */
export async function blockHashes(cluster: LocalCluster, bank: string, to: number): Promise<string[]> {
  const hashes: string[] = []
  const client = cluster.client(bank, 10_000)
  for (let from = 1; from <= to; from += 100) {
    const page = await client.get<{ blocks: Array<{ height: number; hash: string }> }>(`/v1/blocks?from=${from}&to=${Math.min(to, from + 99)}`)
    for (const block of page.blocks) hashes[block.height - 1] = block.hash
  }
  return hashes
}

/** Every balance on the bank's node, read in pages, as one canonical string. */
export async function allBalances(cluster: LocalCluster, bank: string): Promise<string> {
  const client = cluster.client(bank, 10_000)
  const entries: unknown[] = []
  let cursor: string | undefined
  for (let page = 0; page < 1_000; page++) {
    const answer = await client.get<{ balances: unknown[]; nextCursor?: string | null }>(`/v1/ledger/balances?limit=1000${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)
    entries.push(...answer.balances)
    if (answer.nextCursor === undefined || answer.nextCursor === null) break
    cursor = answer.nextCursor
  }
  return JSON.stringify(entries)
}

/** Waits until the banks' nodes are at one height with one state root and one ledger digest; returns it. */
export async function sameState(cluster: LocalCluster, banks: readonly string[], timeoutMs = 30_000): Promise<{ height: number; stateRoot: string; digest: string }> {
  return waitFor(
    `${banks.join(', ')} at one height with one state root`,
    async () => {
      const statuses = await Promise.all(banks.map((bank) => cluster.client(bank).status()))
      const summaries = await Promise.all(banks.map((bank) => cluster.client(bank).get<{ height: number; stateDigest: string }>('/v1/ledger/summary')))
      const heights = new Set([...statuses.map((s) => s.height), ...summaries.map((s) => s.height)])
      if (heights.size !== 1) return undefined
      const roots = new Set(statuses.map((s) => s.stateRoot))
      const digests = new Set(summaries.map((s) => s.stateDigest))
      if (roots.size !== 1 || digests.size !== 1) throw new Error(`same height ${statuses[0]!.height}, different state: roots ${[...roots].join(' ')}, digests ${[...digests].join(' ')}`)
      return { height: statuses[0]!.height, stateRoot: statuses[0]!.stateRoot, digest: summaries[0]!.stateDigest }
    },
    timeoutMs,
    100
  )
}
