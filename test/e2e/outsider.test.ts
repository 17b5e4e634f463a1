/**
 * A process that is not a validator (a libp2p node with a fresh key, the nodes' own stack) cannot
 * connect to a validator or open a protocol on it, and what it publishes reaches nobody: the
 * validators count the refusals and their chain and mempools are untouched.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { join, resolve } from 'node:path'
import { startCluster } from './helpers.ts'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '../..')

async function metric(api: string, name: string): Promise<number> {
  const text = await (await fetch(`${api}/metrics`, { signal: AbortSignal.timeout(5_000) })).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1))
}

t.test('a non-validator process cannot connect or inject messages', async (t) => {
  const cluster = await startCluster(t)
  const target = cluster.nodes[0]!
  const { chainId, validators } = await cluster.client(target.bank).get<{ chainId: string; validators: Array<{ id: string; peerId: string; address: string }> }>('/v1/validators')
  const validator = validators.find((v) => v.id === target.bank)!
  const refusedBefore = await metric(target.api, 'corridor_connections_refused_total')
  const mempoolBefore = await Promise.all(cluster.nodes.map(async (node) => (await cluster.client(node.bank).health()).mempoolTransactions))

  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--import', './src/polyfill.ts', join('test', 'e2e', 'fixtures', 'outsider.ts'), `${validator.address}/p2p/${validator.peerId}`, chainId], { cwd: root, timeout: 60_000 })
  const outcome = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>
  t.comment(JSON.stringify(outcome))
  t.match(outcome['dial'], /^(refused|closed by the validator)/, 'the validator refuses the connection (at the dial, or right after the handshake that names the caller)')
  t.match(outcome['sync'], /^refused/, 'the catch-up protocol cannot be opened')
  t.equal(outcome['connectionsAfter'], 0, 'no connection remains open')
  t.equal(outcome['topicPeers'], 0, 'no validator is a gossip peer of the outsider')
  t.equal(outcome['publishRecipients'], 0, 'its transaction batch reaches nobody')

  t.ok((await metric(target.api, 'corridor_connections_refused_total')) > refusedBefore, 'the validator counted the refused connections')
  const healths = await Promise.all(cluster.nodes.map((node) => cluster.client(node.bank).health()))
  t.same(healths.map((h) => h.mempoolTransactions), mempoolBefore, 'nothing entered any mempool')
  t.ok(healths.every((h) => h.peers === 3), 'the validators still see each other and only each other')
  await cluster.waitFinalizing(30_000)
  t.pass('the network kept finalizing')
})
