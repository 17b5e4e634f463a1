/**
 * Four real node processes on loopback (`corridor node start`), real LevelDB and libp2p, treated
 * as a black box through the HTTP API: payments across banks become final with the same state on
 * every node; a node killed with SIGKILL restarts from its LevelDB and catches up. Every wait is
 * bounded and says what it waited for; every process is killed at teardown.
 */
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, openSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { initNetwork, standardBankSpecs } from '../../src/cli/networkCommands.ts'
import { standardFxRates } from '../../src/ledger/testing/network.ts'

const root = new URL('../..', import.meta.url).pathname
const paymentsTotal = 300

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

/** A block of consecutive free ports (checked one by one). */
async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000)
    let ok = true
    for (let i = 0; i < count && ok; i++) {
      ok = await new Promise<boolean>((resolve) => {
        const server = createServer()
        server.once('error', () => resolve(false))
        server.listen(base + i, '127.0.0.1', () => server.close(() => resolve(true)))
      })
    }
    if (ok) return base
  }
  return freePort()
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined) return value
    } catch (error) {
      lastError = error
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError === undefined ? '' : ` (last error: ${String(lastError)})`}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

async function getJson(url: string): Promise<any> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) })
  return response.json()
}

t.test('four node processes: payments final everywhere, same state; kill -9 and restart catches up', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'corridor-e2e-'))
  const basePort = await freePortRange(4)
  const httpBasePort = await freePortRange(4)
  const nodes = initNetwork({ dir, banks: standardBankSpecs(4), fxRates: standardFxRates, customersPerBank: 8, basePort, httpBasePort, logLevel: 'info' })
  const processes = new Map<string, ChildProcess>()
  t.teardown(() => {
    for (const child of processes.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })
  const start = (bank: string): void => {
    const node = nodes.find((n) => n.bank === bank)!
    const log = openSync(join(dir, `${bank}.log`), 'a')
    const child = spawn(process.execPath, [join(root, 'bin/corridor.js'), 'node', 'start', '--config', node.config], { cwd: root, stdio: ['ignore', log, log] })
    processes.set(bank, child)
  }
  const logTail = (bank: string): string => readFileSync(join(dir, `${bank}.log`), 'utf8').split('\n').slice(-5).join('\n')
  for (const node of nodes) start(node.bank)
  const health = (api: string): Promise<any> => getJson(`${api}/v1/health`)
  await waitFor('every node to be finalizing with three peers', async () => {
    const all = await Promise.all(nodes.map((n) => health(n.api)))
    return all.every((h) => h.peers === 3 && h.height >= 2) ? true : undefined
  }, 60_000).catch((error) => {
    throw new Error(`${(error as Error).message}\n${nodes.map((n) => `${n.bank}:\n${logTail(n.bank)}`).join('\n')}`)
  })

  // Payments across banks: each bank's customers pay customers of the next bank.
  const tokens: Record<string, string> = { icbc: 'icbc.CNH', bochk: 'bochk.CNH', enbd: 'enbd.AED', dbs: 'dbs.SGD' }
  const ids: string[] = []
  const submits: Array<Promise<void>> = []
  for (let i = 0; i < paymentsTotal; i++) {
    const from = nodes[i % 4]!
    const to = nodes[(i + 1) % 4]!
    const body = {
      payer: `${from.bank}-customer-${Math.floor(i / 4) % 8}`,
      payee: `${to.bank}-customer-${i % 8}`,
      payerToken: tokens[from.bank],
      payeeToken: tokens[to.bank],
      amount: String(1000 + i),
      purpose: 'GDDS'
    }
    submits.push(
      fetch(`${from.api}/v1/payments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) }).then(async (response) => {
        const json = (await response.json()) as { id?: string; code?: string; message?: string }
        if (response.status !== 202 || json.id === undefined) throw new Error(`payment refused: ${response.status} ${JSON.stringify(json)}`)
        ids.push(json.id)
      })
    )
  }
  await Promise.all(submits)
  t.equal(ids.length, paymentsTotal, 'every payment admitted')

  const allFinal = async (api: string): Promise<boolean> => {
    for (const id of ids) {
      const status = await getJson(`${api}/v1/transactions/${id}`)
      if (status.status !== 'final') return false
    }
    return true
  }
  await waitFor(`all ${paymentsTotal} payments final on icbc`, async () => ((await allFinal(nodes[0]!.api)) ? true : undefined), 60_000)
  const settled = await Promise.all(ids.slice(0, 20).map((id) => getJson(`${nodes[2]!.api}/v1/transactions/${id}`)))
  t.ok(settled.every((s) => s.status === 'final' && s.receipt.status === 'settled'), 'payments settle')

  // The same state root at the same height on every node: compare block hashes and roots at a height all have.
  const sameState = async (): Promise<true | undefined> => {
    const all = await Promise.all(nodes.map((n) => health(n.api)))
    const height = Math.min(...all.map((h) => h.height))
    const blocks = await Promise.all(nodes.map((n) => getJson(`${n.api}/v1/blocks/${height}`)))
    return new Set(blocks.map((b) => b.hash)).size === 1 ? true : undefined
  }
  t.ok(await waitFor('the same block at a common height', sameState, 20_000), 'every node has the same block at a common height')
  const balancesOf = async (api: string, account: string): Promise<string> => JSON.stringify((await getJson(`${api}/v1/accounts/${account}/balances`)).balances)
  // Balances only change with payments, which are all final: every node reports the same.
  for (const account of ['icbc-customer-0', 'enbd-customer-1', 'dbs-customer-2', 'fxhub']) {
    const views = await Promise.all(nodes.map((n) => balancesOf(n.api, account)))
    t.equal(new Set(views).size, 1, `${account}: same balances on every node`)
  }

  // kill -9 one node; the others keep finalizing; it restarts from LevelDB and catches up.
  const victim = nodes[3]!
  const before = (await health(victim.api)).height as number
  processes.get(victim.bank)!.kill('SIGKILL')
  await new Promise((resolve) => processes.get(victim.bank)!.once('exit', resolve))
  const othersBefore = (await health(nodes[0]!.api)).height as number
  await waitFor('the other three to keep finalizing', async () => ((await health(nodes[0]!.api)).height >= othersBefore + 5 ? true : undefined), 20_000)
  start(victim.bank)
  const recovered = await waitFor(`${victim.bank} to come back`, async () => health(victim.api), 30_000)
  t.ok(recovered.height >= before, `${victim.bank} recovered height ${recovered.height} from LevelDB (was ${before})`)
  await waitFor(`${victim.bank} to catch up`, async () => {
    const [a, b] = await Promise.all([health(nodes[0]!.api), health(victim.api)])
    return b.height >= a.height - 2 && b.peers === 3 ? true : undefined
  }, 60_000).catch((error) => {
    throw new Error(`${(error as Error).message}\n${logTail(victim.bank)}`)
  })
  t.ok(await allFinal(victim.api), 'every payment is final on the restarted node')
  t.equal(await balancesOf(victim.api, 'enbd-customer-1'), await balancesOf(nodes[0]!.api, 'enbd-customer-1'), 'same balances after the restart')
  t.ok(await waitFor('the same block at a common height after the restart', sameState, 20_000))

  for (const child of processes.values()) child.kill('SIGTERM')
  await Promise.all([...processes.values()].map((child) => (child.exitCode !== null ? undefined : new Promise((resolve) => child.once('exit', resolve)))))
  t.ok([...processes.values()].every((child) => child.exitCode === 0), 'every node shut down cleanly on SIGTERM')
})
