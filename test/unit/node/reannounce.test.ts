/**
 * Gossip replays nothing: a validator that was down when a transaction was gossiped never gets
 * it from gossip. A node therefore publishes its own clients' pending transactions again when a
 * validator (re)connects. Four in-process nodes on real LevelDB, over the in-memory hub.
 */
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { NodeService } from '../../../src/node/service.ts'
import { Hub, banks, customersOf, peerIdOfBank, startNode, waitFor } from './helpers/inProcessNetwork.ts'

async function reannounced(node: NodeService): Promise<number> {
  const metric = await node.metrics.registry.getSingleMetric('corridor_reannounced_transactions_total')?.get()
  return metric?.values.reduce((sum, value) => sum + value.value, 0) ?? 0
}

t.test('a validator that comes back gets the pending transactions it missed, from the node that accepted them', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'corridor-reannounce-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const hub = new Hub()
  const nodes = new Map<string, NodeService>(banks.map((bank) => [bank, startNode(hub, bank, join(dir, bank))]))
  for (const node of nodes.values()) await node.start()
  t.teardown(async () => {
    for (const node of nodes.values()) await node.stop()
  })
  const icbc = nodes.get('icbc')!
  const [late, absent] = banks.filter((bank) => bank !== 'icbc' && bank !== banks[1]) as [string, string]

  // Two validators down: no quorum, so what icbc accepts now stays pending.
  for (const bank of [late, absent]) await nodes.get(bank)!.stop()
  const [payer, payee] = customersOf('icbc') as [string, string]
  const payment = await icbc.pay({ payer, payee, payerToken: 'icbc.CNH', payeeToken: 'icbc.CNH', amount: 250n })
  t.ok(payment.ok, 'accepted while two validators are down')
  const id = payment.id!
  t.equal((await icbc.transactionStatus(id)).status, 'pending')
  // Gossiped (after the flush interval) to the one validator up.
  await waitFor('bochk to hold the payment', async () => ((await nodes.get(banks[1]!)!.transactionStatus(id)).status === 'pending' ? true : undefined))
  t.equal(await reannounced(icbc), 0, 'nothing re-announced while nobody came back')

  // One comes back, muted for consensus so that the network stays without quorum and the payment
  // pending while we look: it learns the payment only from icbc's re-announce.
  hub.consensusMuted.add(peerIdOfBank(late))
  const restarted = startNode(hub, late, join(dir, late))
  nodes.set(late, restarted)
  await restarted.start()
  t.equal((await restarted.transactionStatus(id)).status, 'unknown', 'restarted without it')
  await waitFor('the restarted validator to hold the payment', async () => ((await restarted.transactionStatus(id)).status === 'pending' ? true : undefined), 10_000)
  t.ok((await reannounced(icbc)) >= 1, 'icbc counted the re-announce')
  t.equal(await reannounced(restarted), 0, 'the restarted node had nothing of its own to announce')

  // Quorum back: the payment is final everywhere, and a later reconnection announces nothing more.
  hub.consensusMuted.delete(peerIdOfBank(late))
  const third = startNode(hub, absent, join(dir, absent))
  nodes.set(absent, third)
  await third.start()
  for (const [bank, node] of nodes) {
    await waitFor(`the payment final on ${bank}`, async () => ((await node.transactionStatus(id)).status === 'final' ? true : undefined), 20_000)
  }
  const count = await reannounced(icbc)
  await third.stop()
  const again = startNode(hub, absent, join(dir, absent))
  nodes.set(absent, again)
  await again.start()
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(await reannounced(icbc), count, 'a committed transaction is not announced again')
})
