/**
 * A transaction a node accepted from its client, then superseded by a later nonce of the same
 * signer committed first, is reported `dropped` (STALE_NONCE) with what to do, not `unknown`.
 * Four in-process nodes on real LevelDB; icbc, cut off from what its peers send, accepts nonce 1
 * after the others committed nonce 2 (past the proposer's nonce-gap wait), then catches up.
 */
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { buildHttpApi } from '../../../src/node/http/api.ts'
import { encodeTransactionBody } from '../../../src/ledger/transactions.ts'
import { signTransaction } from '../../../src/protocol/envelope.ts'
import { Hub, banks, customerSigners, customersOf, document, peerIdOfBank, startNode, waitFor } from './helpers/inProcessNetwork.ts'

t.test('an accepted transaction whose nonce a later one spent is reported dropped', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'corridor-dropped-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const hub = new Hub()
  const nodes = new Map(banks.map((bank) => [bank, startNode(hub, bank, join(dir, bank), { replicaLimits: { nonceGapGraceMs: 200 } })]))
  for (const node of nodes.values()) await node.start()
  t.teardown(async () => {
    for (const node of nodes.values()) await node.stop()
  })
  const icbc = nodes.get('icbc')!
  const other = nodes.get(banks.find((bank) => bank !== 'icbc')!)!
  const [payer, payee] = customersOf('icbc') as [string, string]
  const signer = customerSigners.get(payer)!
  const body = encodeTransactionBody({ kind: 'payment', payee, payerToken: 'icbc.CNH', payeeToken: 'icbc.CNH', amount: 7n, purpose: undefined, documentRef: undefined, fxProvider: undefined })
  const sign = (nonce: bigint) => signTransaction({ chainId: document.chainId, signer: payer, publicKey: signer.publicKey, nonce, body }, signer)
  const first = sign(1n)
  const second = sign(2n)

  // icbc hears nothing; the others take nonce 2 and, after the gap wait, commit it.
  hub.deaf.add(peerIdOfBank('icbc'))
  const [secondResult] = await other.submit([second])
  t.ok(secondResult!.ok, 'nonce 2 accepted by another bank')
  await waitFor('nonce 2 final on the others', async () => ((await other.transactionStatus(second.id)).status === 'final' ? true : undefined))

  // icbc, behind, accepts nonce 1 from its client: for all it knows, the nonce is free.
  const [firstResult] = await icbc.submit([first])
  t.ok(firstResult!.ok, 'icbc accepts nonce 1')
  t.equal((await icbc.transactionStatus(first.id)).status, 'pending')

  hub.deaf.delete(peerIdOfBank('icbc'))
  const status = await waitFor('icbc to learn nonce 2 and drop nonce 1', async () => {
    const seen = await icbc.transactionStatus(first.id)
    return seen.status === 'dropped' ? seen : undefined
  })
  t.equal(status.code, 'STALE_NONCE')
  t.match(status.message, /nonce 2 was committed before this transaction's 1/)
  await waitFor('icbc to store nonce 2 final', async () => ((await icbc.transactionStatus(second.id)).status === 'final' ? true : undefined))
  t.equal((await other.transactionStatus(first.id)).status, 'unknown', 'a bank that never accepted it does not know it')

  const app = buildHttpApi(icbc, pino({ level: 'silent' }))
  t.teardown(() => app.close())
  const answer = await app.inject({ method: 'GET', url: `/v1/transactions/${first.id}` })
  t.equal(answer.statusCode, 200)
  t.same(answer.json(), { id: first.id, status: 'dropped', code: 'STALE_NONCE', message: status.message })
})
