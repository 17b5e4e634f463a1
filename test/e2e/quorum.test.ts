/**
 * Losing the quorum: with two of four validators killed (kill -9), fewer than two thirds of the
 * voting power remain, so finality must stop, and nothing unsafe may happen meanwhile (no two
 * nodes with different blocks at a height, nothing final undone). Restarting one restores the
 * quorum: finality resumes, a payment accepted during the outage becomes final, and every node,
 * the last one restarted included, ends with the same chain.
 */
import t from 'tap'
import { blockHashes, notFinal, roundRobinPayment, sameState, startCluster, submitPayments, waitFor } from './helpers.ts'

t.test('kill -9 two of four: finality stops and nothing unsafe happens; one restarted: finality resumes', async (t) => {
  const cluster = await startCluster(t)
  const banks = cluster.nodes.map((node) => node.bank)
  const [a, b, c, d] = banks as [string, string, string, string]
  const before = await submitPayments(cluster, Array.from({ length: 40 }, (_, i) => roundRobinPayment(banks, i)))
  await waitFor('the first payments to be final', async () => ((await notFinal(cluster, a, before)).length === 0 ? true : undefined), 30_000)

  await Promise.all([cluster.kill(c), cluster.kill(d)])
  // A block whose precommits were already on their way may still complete; after that, nothing.
  await new Promise((resolve) => setTimeout(resolve, 1_500))
  const stalled = await Promise.all([a, b].map(async (bank) => (await cluster.client(bank).status()).height))
  const during = await submitPayments(cluster, [roundRobinPayment([a, b], 0), roundRobinPayment([a, b], 1)])
  await new Promise((resolve) => setTimeout(resolve, 5_000))
  const later = await Promise.all([a, b].map(async (bank) => (await cluster.client(bank).status()).height))
  t.same(later, stalled, `no block finalized in 5 s without a quorum (heights ${later.join(', ')})`)
  t.same(await notFinal(cluster, a, during), during, 'a payment accepted during the outage is not final')
  t.same(await notFinal(cluster, a, before), [], 'what was final stays final')
  const common = Math.min(...later)
  const [chainA, chainB] = await Promise.all([a, b].map((bank) => blockHashes(cluster, bank, common)))
  t.same(chainA, chainB, `the two survivors hold the same ${common} blocks`)

  cluster.start(c)
  await cluster.waitFinalizing(60_000, [a, b, c])
  t.pass('finality resumed with three of four')
  await waitFor('the payments accepted during the outage to become final', async () => ((await notFinal(cluster, a, during)).length === 0 ? true : undefined), 30_000, 300)
  t.same(await notFinal(cluster, c, [...before, ...during]), [], `${c} restarted and holds every final payment`)

  cluster.start(d)
  await cluster.waitFinalizing(60_000)
  const state = await sameState(cluster, banks)
  const chains = await Promise.all(banks.map((bank) => blockHashes(cluster, bank, state.height)))
  t.ok(chains.every((chain) => chain.length === state.height && chain.every((hash, i) => hash === chains[0]![i])), `all four hold the same ${state.height} blocks`)
})
