/**
 * Fault injection on the real node (testing only): the admin endpoints, their authentication and
 * body checks, and a partition made by blocking one validator on both sides over four in-process
 * nodes on real LevelDB: the other three keep finalizing, and after the faults are cleared the
 * blocked one catches up.
 */
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { buildHttpApi } from '../../../../src/node/http/api.ts'
import { Hub, banks, customersOf, startNode, waitFor } from '../helpers/inProcessNetwork.ts'

const token = 'test-admin-token-0123456789'
const auth = { authorization: `Bearer ${token}` }

t.test('without the flags the admin endpoints do not exist', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'corridor-faults-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const node = startNode(new Hub(), 'icbc', join(dir, 'icbc'))
  const app = buildHttpApi(node, pino({ level: 'silent' }), { adminToken: token })
  t.teardown(() => app.close())
  for (const url of ['/v1/admin/faults', '/v1/admin/byzantine']) {
    for (const method of ['GET', 'PUT', 'DELETE'] as const) {
      const response = await app.inject({ method, url, headers: auth, ...(method === 'PUT' ? { payload: { peers: {} } } : {}) })
      t.equal(response.statusCode, 404, `${method} ${url}`)
      t.equal(response.json().code, 'NOT_FOUND')
    }
  }
})

t.test('a blocked validator is cut off, the other three finalize, and it catches up once cleared', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'corridor-faults-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const hub = new Hub()
  const nodes = banks.map((bank, i) => startNode(hub, bank, join(dir, bank), { faultInjection: { seed: 11 + i }, byzantine: { initial: [] } }))
  for (const node of nodes) await node.start()
  const apps = nodes.map((node) => buildHttpApi(node, pino({ level: 'silent' }), { adminToken: token }))
  t.teardown(async () => {
    for (const app of apps) await app.close()
    for (const node of nodes) await node.stop()
  })
  const [icbc] = apps as [ReturnType<typeof buildHttpApi>]
  const victim = banks.indexOf('dbs')
  t.ok(victim > 0, 'dbs is a validator of the test network')

  // Authentication: 401 without the token or with another one; nothing changes.
  for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: token }]) {
    const response = await icbc.inject({ method: 'PUT', url: '/v1/admin/faults', headers, payload: { peers: { dbs: { blocked: true } } } })
    t.equal(response.statusCode, 401, JSON.stringify(headers))
    t.equal(response.json().code, 'UNAUTHORIZED')
  }
  t.equal((await icbc.inject({ method: 'GET', url: '/v1/admin/byzantine' })).statusCode, 401)
  t.same((await icbc.inject({ method: 'GET', url: '/v1/admin/faults', headers: auth })).json(), { peers: {} }, 'no faults yet')

  // Bodies out of shape: 400 naming the field.
  const badBodies: Array<[string, unknown, string]> = [
    ['/v1/admin/faults', { peers: { dbs: { drop: 2 } } }, 'peers.dbs.drop'],
    ['/v1/admin/faults', { peers: { dbs: { delayMs: -1 } } }, 'peers.dbs.delayMs'],
    ['/v1/admin/faults', { peers: { dbs: { blocked: 'yes' } } }, 'peers.dbs.blocked'],
    ['/v1/admin/faults', { peers: { dbs: { lag: 1 } } }, 'peers.dbs'],
    ['/v1/admin/faults', { peers: { nobody: { blocked: true } } }, 'peers.nobody'],
    ['/v1/admin/faults', { peers: { icbc: { blocked: true } } }, 'peers.icbc'],
    ['/v1/admin/faults', { peers: {}, default: { blocked: true } }, 'default'],
    ['/v1/admin/faults', { default: {} }, 'peers'],
    ['/v1/admin/byzantine', { behaviours: ['fly'] }, 'behaviours[0]'],
    ['/v1/admin/byzantine', { behaviours: 'equivocate' }, 'behaviours']
  ]
  for (const [url, payload, field] of badBodies) {
    const response = await icbc.inject({ method: 'PUT', url, headers: auth, payload: payload as object })
    t.equal(response.statusCode, 400, `${JSON.stringify(payload)} -> ${response.body}`)
    t.equal(response.json().code, 'BAD_REQUEST')
    t.ok(response.json().message.startsWith(field), `the message names ${field}: ${response.json().message}`)
  }

  // Byzantine switches: set, read back, clear.
  const set = await icbc.inject({ method: 'PUT', url: '/v1/admin/byzantine', headers: auth, payload: { behaviours: ['withhold-votes', 'censor'] } })
  t.same(set.json(), { behaviours: ['withhold-votes', 'censor'] })
  t.same((await icbc.inject({ method: 'GET', url: '/v1/admin/byzantine', headers: auth })).json(), { behaviours: ['withhold-votes', 'censor'] })
  t.same((await icbc.inject({ method: 'DELETE', url: '/v1/admin/byzantine', headers: auth })).json(), { behaviours: [] })

  // The partition: dbs blocks the other three, and each of them blocks dbs.
  const before = nodes[victim]!.ledger().height
  for (const [i, app] of apps.entries()) {
    const peers = i === victim ? Object.fromEntries(banks.filter((b) => b !== 'dbs').map((b) => [b, { blocked: true }])) : { dbs: { blocked: true } }
    const response = await app.inject({ method: 'PUT', url: '/v1/admin/faults', headers: auth, payload: { peers } })
    t.equal(response.statusCode, 200, response.body)
    t.same(response.json(), { peers })
  }
  const cutAt = Math.max(...nodes.map((n) => n.ledger().height))
  const [payer, payee] = customersOf('icbc') as [string, string]
  const ids: string[] = []
  for (let i = 0; i < 5; i++) {
    const result = await nodes[0]!.pay({ payer, payee, payerToken: 'icbc.CNH', payeeToken: 'icbc.CNH', amount: BigInt(10 + i) })
    t.ok(result.ok)
    ids.push(result.id!)
  }
  const honest = nodes.filter((_, i) => i !== victim)
  await waitFor('three of four to finalize the payments', async () => {
    for (const node of honest) for (const id of ids) if ((await node.transactionStatus(id)).status !== 'final') return undefined
    return true
  }, 30_000)
  await waitFor('three of four to finalize more blocks', () => (honest.every((n) => n.ledger().height >= cutAt + 3) ? true : undefined), 30_000)
  t.ok(nodes[victim]!.ledger().height <= Math.max(before, cutAt) + 1, `dbs stayed behind (${nodes[victim]!.ledger().height}, the others at ${honest.map((n) => n.ledger().height).join(', ')})`)
  for (const id of ids) t.not((await nodes[victim]!.transactionStatus(id)).status, 'final', 'dbs has not finalized a payment made during the partition')
  const metrics = (await icbc.inject({ method: 'GET', url: '/metrics' })).body
  t.match(metrics, /corridor_injected_faults_total\{kind="blocked",bank="icbc"\} [1-9]/, 'blocked messages counted at icbc')
  const victimMetrics = (await apps[victim]!.inject({ method: 'GET', url: '/metrics' })).body
  t.match(victimMetrics, /corridor_injected_faults_total\{kind="blocked",bank="dbs"\} [1-9]/, 'and at dbs')

  // Heal: every node clears its faults; dbs catches up on the blocks it missed and the payments.
  for (const app of apps) t.same((await app.inject({ method: 'DELETE', url: '/v1/admin/faults', headers: auth })).json(), { peers: {} })
  const target = Math.max(...honest.map((n) => n.ledger().height))
  await waitFor('dbs to catch up', () => (nodes[victim]!.ledger().height >= target ? true : undefined), 30_000)
  await waitFor('dbs to have the payments final', async () => {
    for (const id of ids) if ((await nodes[victim]!.transactionStatus(id)).status !== 'final') return undefined
    return true
  }, 30_000)
  t.pass('dbs has the payments final after the heal')

  // Delay, drop and duplicate at the receiver: the network still finalizes under a lossy, slow, noisy link.
  for (const app of apps) {
    const response = await app.inject({ method: 'PUT', url: '/v1/admin/faults', headers: auth, payload: { peers: {}, default: { delayMs: 5, jitterMs: 10, drop: 0.05, duplicate: 0.2 } } })
    t.equal(response.statusCode, 200)
  }
  const lossy = await nodes[0]!.pay({ payer, payee, payerToken: 'icbc.CNH', payeeToken: 'icbc.CNH', amount: 99n })
  await waitFor('a payment final on every node over faulty links', async () => {
    for (const node of nodes) if ((await node.transactionStatus(lossy.id!)).status !== 'final') return undefined
    return true
  }, 30_000)
  const noisy = (await icbc.inject({ method: 'GET', url: '/metrics' })).body
  t.match(noisy, /corridor_injected_faults_total\{kind="delay",bank="icbc"\} [1-9]/, 'delays counted')
  t.match(noisy, /corridor_injected_faults_total\{kind="duplicate",bank="icbc"\} [1-9]/, 'duplicates counted')
})
