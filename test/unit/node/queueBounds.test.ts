/**
 * The node's input bounds: client submissions are refused once their 1/n share of the input queue
 * is used (n validators, here four), and the rest stays for peers, whose messages are dropped only
 * when the queue is full (a dropped peer batch is never sent again). In-process node on real LevelDB.
 */
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Hub, customersOf, peerIdOfBank, startNode } from './helpers/inProcessNetwork.ts'

async function rejections(node: ReturnType<typeof startNode>, edge: string): Promise<number> {
  const metric = await node.metrics.registry.getSingleMetric('corridor_rejections_total')?.get()
  return metric?.values.filter((value) => value.labels['edge'] === edge && value.labels['reason'] === 'QUEUE_FULL').reduce((sum, value) => sum + value.value, 0) ?? 0
}

t.test('clients get QUEUE_FULL at their quarter of the input queue; peers fill the rest before anything of theirs is dropped', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'corridor-queue-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const hub = new Hub()
  const node = startNode(hub, 'icbc', join(dir, 'icbc'), { inputQueueMax: 10 })
  await node.start()
  t.teardown(() => node.stop())
  const [payer, payee] = customersOf('icbc') as [string, string]

  // All in one tick: eight payments from the bank's own client, then nine messages from a peer.
  // The clients are refused once two inputs wait (a quarter of ten, rounded down; one more may
  // already be taken off the queue); the peer's messages fill the other eight places, and only the
  // ninth is dropped.
  const pay = (amount: number) =>
    node.pay({ payer, payee, payerToken: 'icbc.CNH', payeeToken: 'icbc.CNH', amount: BigInt(amount) }).then(
      (result) => (result.ok ? 'accepted' : result.code),
      (error: { code?: string }) => error.code ?? 'error'
    )
  const payments = Array.from({ length: 8 }, (_, i) => pay(100 + i))
  const handlers = hub.handlers.get(peerIdOfBank('icbc'))!
  for (let i = 0; i < 9; i++) handlers.onMessage('consensus', Uint8Array.of(0xc0), peerIdOfBank('bochk'))
  const late = pay(200)
  const outcomes = await Promise.all(payments)
  const accepted = outcomes.filter((outcome) => outcome === 'accepted').length
  t.ok(accepted === 2 || accepted === 3, `${accepted} accepted: two waiting, and maybe one already taken`)
  t.same(outcomes.slice(accepted), Array(8 - accepted).fill('QUEUE_FULL'), 'the rest refused at once')
  t.equal(await late, 'QUEUE_FULL', 'a client is refused while peers fill the queue')
  t.equal(await rejections(node, 'queue'), 8 - accepted + 1, 'client refusals counted under queue')
  t.equal(await rejections(node, 'consensus'), 1, 'one peer message dropped, when the queue was full')
})
