/**
 * Four real node processes on loopback (`corridor node start` through LocalCluster), real LevelDB
 * and libp2p, treated as a black box through the HTTP API:
 *  - 2,000 payments across banks become final, and every node reports the same state root, the
 *    same ledger digest and the same balances;
 *  - a node killed with SIGKILL under load restarts from its LevelDB and catches up; nothing final
 *    is lost on any node, and the other three kept finalizing meanwhile.
 * Every wait is bounded and says what it waited for; every process is killed at teardown.
 */
import t from 'tap'
import { allBalances, blockHashes, notFinal, roundRobinPayment, sameState, startCluster, submitPayments, waitFor } from './helpers.ts'

const paymentsTotal = 2_000

t.test('four node processes: 2,000 payments final everywhere with the same state; kill -9 under load, restart, catch-up', async (t) => {
  const cluster = await startCluster(t)
  const banks = cluster.nodes.map((node) => node.bank)

  const started = Date.now()
  const ids = await submitPayments(cluster, Array.from({ length: paymentsTotal }, (_, i) => roundRobinPayment(banks, i)))
  t.equal(new Set(ids).size, paymentsTotal, `${paymentsTotal} payments admitted with distinct ids`)
  await waitFor(`all ${paymentsTotal} payments final on ${banks[0]}`, async () => ((await notFinal(cluster, banks[0]!, ids)).length === 0 ? true : undefined), 120_000, 500)
  t.comment(`${paymentsTotal} payments submitted and final in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  for (const bank of banks.slice(1)) t.same(await notFinal(cluster, bank, ids), [], `every payment final on ${bank}`)
  const receipts = await Promise.all(ids.slice(0, 40).map((id) => cluster.client(banks[2]!).get<{ receipt: { status: string } }>(`/v1/transactions/${id}`)))
  t.ok(receipts.every((r) => r.receipt.status === 'settled'), 'payments settle (funded, no policy in force)')

  const state = await sameState(cluster, banks)
  t.pass(`every node at height ${state.height} with state root ${state.stateRoot.slice(0, 16)}… and the same ledger digest`)
  const balances = await Promise.all(banks.map((bank) => allBalances(cluster, bank)))
  t.equal(new Set(balances).size, 1, 'every balance is the same on every node')
  t.ok(JSON.parse(balances[0]!).length >= 32, 'the balance dump covers every customer')

  // kill -9 one node while payments are being submitted to the other three.
  const victim = banks[3]!
  const others = banks.slice(0, 3)
  const finalBefore = ids.slice(0, 200)
  const heightBefore = (await cluster.client(victim).status()).height
  const load = submitPayments(cluster, Array.from({ length: 300 }, (_, i) => roundRobinPayment(others, i)), 8)
  await new Promise((resolve) => setTimeout(resolve, 300))
  await cluster.kill(victim)
  const othersAtKill = (await cluster.client(others[0]!).status()).height
  const underLoad = await load
  await waitFor('the other three to keep finalizing', async () => ((await cluster.client(others[0]!).status()).height >= othersAtKill + 3 ? true : undefined), 30_000)
  await waitFor('the payments made during the outage to be final on the other three', async () => ((await notFinal(cluster, others[0]!, underLoad)).length === 0 ? true : undefined), 60_000, 500)

  cluster.start(victim)
  const recovered = await waitFor(`${victim} to answer again`, async () => cluster.client(victim).status(), 30_000)
  t.ok(recovered.height >= heightBefore, `${victim} recovered height ${recovered.height} from LevelDB (had ${heightBefore} before the kill)`)
  await cluster.waitFinalizing(60_000)
  t.same(await notFinal(cluster, victim, [...finalBefore, ...underLoad]), [], `${victim}: what was final before the kill and what became final while it was down is final`)
  const after = await sameState(cluster, banks)
  const chains = await Promise.all(banks.map((bank) => blockHashes(cluster, bank, after.height)))
  t.ok(chains.every((chain) => chain.length === after.height && chain.every((hash, i) => hash === chains[0]![i])), `the same ${after.height} blocks on every node`)
  const balancesAfter = await Promise.all(banks.map((bank) => allBalances(cluster, bank)))
  t.equal(new Set(balancesAfter).size, 1, 'the same balances on every node after the restart')

  const outcomes = await cluster.stopAll()
  t.same(Object.values(outcomes), ['stopped', 'stopped', 'stopped', 'stopped'], 'every node shut down cleanly on SIGTERM')
})
