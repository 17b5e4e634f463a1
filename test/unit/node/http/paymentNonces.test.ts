/**
 * POST /v1/payments after a restart: the node signs for its customer with a nonce above every one
 * it signed before, even when its ledger is behind and a peer still holds (or already committed)
 * the earlier payment. Four in-process nodes on real LevelDB.
 */
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { buildHttpApi } from '../../../../src/node/http/api.ts'
import type { NodeService } from '../../../../src/node/service.ts'
import { Hub, banks, customersOf, peerIdOfBank, startNode, waitFor } from '../helpers/inProcessNetwork.ts'

t.test('a restarted node pays again for the same customer: accepted and final, no nonce reused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'corridor-nonce-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const hub = new Hub()
  const others = banks.filter((b) => b !== 'icbc').map((bank) => startNode(hub, bank, join(dir, bank)))
  let node: NodeService = startNode(hub, 'icbc', join(dir, 'icbc'))
  for (const other of others) await other.start()
  await node.start()
  t.teardown(async () => {
    await node.stop()
    for (const other of others) await other.stop()
  })
  const [payer, payee] = customersOf('icbc') as [string, string]
  const payment = { payer, payee, payerToken: 'icbc.CNH', payeeToken: 'icbc.CNH', amount: 100n }
  const finalEverywhere = (id: string) => waitFor(`${id.slice(0, 8)} final on the others`, async () => {
    for (const other of others) if ((await other.transactionStatus(id)).status !== 'final') return undefined
    return true
  })

  // One payment final everywhere first, so the customer's committed nonce is above zero.
  const first = await node.pay(payment)
  t.ok(first.ok)
  await finalEverywhere(first.id!)
  await waitFor('icbc to commit it', async () => ((await node.transactionStatus(first.id!)).status === 'final' ? true : undefined))

  // icbc stops hearing its peers, pays, and its transaction reaches them: they finalize it without
  // icbc, whose ledger stays behind. Then icbc restarts on the same data directory.
  hub.deaf.add(peerIdOfBank('icbc'))
  const second = await node.pay(payment)
  t.ok(second.ok, 'accepted before the restart')
  await finalEverywhere(second.id!)
  const behind = node.ledger().height
  await node.stop()
  hub.deaf.delete(peerIdOfBank('icbc'))
  node = startNode(hub, 'icbc', join(dir, 'icbc'))
  await node.start()
  const app = buildHttpApi(node, pino({ level: 'silent' }))
  t.teardown(() => app.close())

  // Paid at once, before catch-up: the committed ledger alone would hand out the same nonce again.
  const response = await app.inject({ method: 'POST', url: '/v1/payments', payload: { ...payment, amount: '101' } })
  t.equal(response.statusCode, 202, response.body)
  const third = response.json().id as string
  t.not(third, second.id, 'a different transaction')
  t.ok(behind >= 1)
  await finalEverywhere(third)
  const final = await waitFor('the payment to be final at icbc', async () => {
    const body = (await app.inject({ method: 'GET', url: `/v1/transactions/${third}` })).json()
    return body.status === 'final' ? body : undefined
  })
  t.equal(final.receipt.status, 'settled', final.receipt.message)
  const status = await others[0]!.transactionStatus(second.id!)
  t.equal(status.status === 'final' && status.receipt.status, 'settled', 'the payment made before the restart settled too')
})
