/**
 * The HTTP API over a real node service (real LevelDB in a temp directory, real replica) on a
 * four-validator network whose transport is an in-memory hub, so no sockets are needed; requests
 * go through fastify's `inject`.
 */
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { encodeTransactionBody } from '../../../../src/ledger/transactions.ts'
import { signTransaction, encodeTransaction } from '../../../../src/protocol/envelope.ts'
import { bytesToHex } from '../../../../src/protocol/bytes.ts'
import { encode } from '../../../../src/protocol/encoding.ts'
import { buildHttpApi } from '../../../../src/node/http/api.ts'
import { Hub, banks, customerSigners, customersOf, document, startNode as startHubNode, waitFor } from '../helpers/inProcessNetwork.ts'
import type { NodeService } from '../../../../src/node/service.ts'

const hub = new Hub()
const customers = customersOf('icbc')
const startNode = (bank: string, dataDir: string): NodeService => startHubNode(hub, bank, dataDir)

t.test('the API of one node of four (in-process network, real LevelDB)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'corridor-api-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const dataDir = join(dir, 'icbc')
  const others = banks.filter((b) => b !== 'icbc').map((bank) => startNode(bank, join(dir, bank)))
  let node = startNode('icbc', dataDir)
  for (const other of others) await other.start()
  await node.start()
  let app = buildHttpApi(node, pino({ level: 'silent' }), { bodyBytesMax: 64 * 1024 })
  t.teardown(async () => {
    await app.close()
    await node.stop()
    for (const other of others) await other.stop()
  })
  const [payer, payee] = customers as [string, string]

  const health = await app.inject({ method: 'GET', url: '/v1/health' })
  t.equal(health.statusCode, 200)
  t.equal(health.json().validatorId, 'icbc')

  // The convenience endpoint: the bank signs for its customer.
  const before = (await app.inject({ method: 'GET', url: `/v1/accounts/${payee}/balances` })).json()
  t.equal(typeof before.balances['icbc.CNH'], 'string', 'amounts are strings')
  const paid = await app.inject({ method: 'POST', url: '/v1/payments', payload: { payer, payee, payerToken: 'icbc.CNH', payeeToken: 'icbc.CNH', amount: '12345' } })
  t.equal(paid.statusCode, 202, paid.body)
  const id = paid.json().id as string
  const final = await waitFor('the payment to be final', async () => {
    const response = await app.inject({ method: 'GET', url: `/v1/transactions/${id}` })
    const body = response.json()
    t.ok(response.statusCode === 200, 'pending or final while waiting')
    return body.status === 'final' ? body : undefined
  })
  t.equal(final.receipt.status, 'settled', final.receipt.message)
  t.ok(final.height >= 1)
  const after = (await app.inject({ method: 'GET', url: `/v1/accounts/${payee}/balances` })).json()
  t.equal(BigInt(after.balances['icbc.CNH']) - BigInt(before.balances['icbc.CNH']), 12345n, 'the payee received it')

  // A signed transaction as wire bytes, and one with a forged signature.
  const signer = customerSigners.get(payee)!
  const body = encodeTransactionBody({ kind: 'payment', payee: payer, payerToken: 'icbc.CNY', payeeToken: 'icbc.CNY', amount: 5n, purpose: undefined, documentRef: undefined, fxProvider: undefined })
  const envelope = signTransaction({ chainId: document.chainId, signer: payee, publicKey: signer.publicKey, nonce: 1_000n, body }, signer)
  const forged = { ...signTransaction({ chainId: document.chainId, signer: payee, publicKey: signer.publicKey, nonce: 1_001n, body }, signer), signature: new Uint8Array(64).fill(7) }
  const submitted = await app.inject({
    method: 'POST',
    url: '/v1/transactions',
    payload: { transactions: [bytesToHex(encodeTransaction(envelope)), { chainId: document.chainId, signer: payee, publicKey: bytesToHex(signer.publicKey), nonce: '1001', body: bytesToHex(encode(body)), signature: bytesToHex(forged.signature) }] }
  })
  t.equal(submitted.statusCode, 200, submitted.body)
  const results = submitted.json().results
  t.same(results[0], { ok: true, id: envelope.id })
  t.equal(results[1].ok, false)
  t.equal(results[1].code, 'BAD_SIGNATURE', 'a forged signature is refused at admission')
  await waitFor('the wire transaction to be final', async () => ((await node.transactionStatus(envelope.id)).status === 'final' ? true : undefined))

  // Blocks with certificates.
  const latest = await app.inject({ method: 'GET', url: '/v1/blocks/latest' })
  t.equal(latest.statusCode, 200)
  t.ok(latest.json().certificate.signatures.length >= 1, 'the certificate comes with the block')
  const first = (await app.inject({ method: 'GET', url: '/v1/blocks/1' })).json()
  t.equal(first.height, 1)
  const missing = await app.inject({ method: 'GET', url: '/v1/blocks/99999999' })
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().code, 'NOT_FOUND')
  const validators = (await app.inject({ method: 'GET', url: '/v1/validators' })).json()
  t.same(validators.validators.map((v: { id: string }) => v.id), banks)

  // Bad input on every field: 400 naming it, nothing applied.
  const cases: Array<[string, unknown, number, string, string?]> = [
    ['/v1/transactions', { transactions: 'x' }, 400, 'BAD_REQUEST', 'transactions'],
    ['/v1/transactions', {}, 400, 'BAD_REQUEST', 'transactions'],
    ['/v1/transactions', { transactions: ['zz'] }, 400, 'MALFORMED_TRANSACTION', 'transactions[0]'],
    ['/v1/transactions', { transactions: ['9100'] }, 400, 'MALFORMED_TRANSACTION'],
    ['/v1/payments', { payer, payee, payerToken: 'icbc.CNH', payeeToken: 'icbc.CNH' }, 400, 'BAD_REQUEST', 'amount'],
    ['/v1/payments', { payer, payee, payerToken: 'icbc.CNH', payeeToken: 'icbc.CNH', amount: 5 }, 400, 'BAD_REQUEST', 'amount'],
    ['/v1/payments', { payer, payee, payerToken: 'icbc.CNH', payeeToken: 'icbc.CNH', amount: '1', extra: 1 }, 400, 'BAD_REQUEST'],
    ['/v1/payments', { payer: 'mas', payee, payerToken: 'icbc.CNH', payeeToken: 'icbc.CNH', amount: '1' }, 403, 'UNKNOWN_CUSTOMER']
  ]
  for (const [url, payload, status, code, field] of cases) {
    const response = await app.inject({ method: 'POST', url, payload: payload as Record<string, unknown> })
    t.equal(response.statusCode, status, `${url} ${JSON.stringify(payload).slice(0, 60)} -> ${response.body}`)
    t.equal(response.json().code, code)
    if (field !== undefined) t.match(response.json().message, field, 'the message names the field')
  }
  const notJson = await app.inject({ method: 'POST', url: '/v1/payments', headers: { 'content-type': 'application/json' }, payload: '{"payer":' })
  t.equal(notJson.statusCode, 400)
  t.equal(notJson.json().code, 'BAD_REQUEST')
  const large = await app.inject({ method: 'POST', url: '/v1/transactions', payload: { transactions: ['00'.repeat(40_000)] } })
  t.equal(large.statusCode, 413)
  t.equal(large.json().code, 'BODY_TOO_LARGE')
  t.equal((await app.inject({ method: 'GET', url: '/v1/transactions/nope' })).statusCode, 400)
  const unknown = await app.inject({ method: 'GET', url: `/v1/transactions/${'ab'.repeat(32)}` })
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().code, 'UNKNOWN_TRANSACTION')
  t.equal((await app.inject({ method: 'GET', url: '/v1/accounts/nobody/balances' })).statusCode, 404)
  t.equal((await app.inject({ method: 'GET', url: '/v1/nothing' })).json().code, 'NOT_FOUND')

  const metrics = await app.inject({ method: 'GET', url: '/metrics' })
  t.equal(metrics.statusCode, 200)
  const text = metrics.body
  for (const name of ['corridor_height_blocks', 'corridor_round', 'corridor_block_interval_seconds_bucket', 'corridor_finality_latency_seconds_count', 'corridor_mempool_transactions', 'corridor_peers', 'corridor_messages_in_total', 'corridor_message_out_bytes_total']) {
    t.ok(text.includes(name), `metrics has ${name}`)
  }
  t.match(text, /corridor_rejections_total\{edge="http",reason="BAD_REQUEST",bank="icbc"\} [1-9]/, 'HTTP rejections counted')
  t.match(text, /corridor_rejections_total\{edge="admission",reason="BAD_SIGNATURE",bank="icbc"\} 1/, 'bad signatures counted')
  t.match(text, /corridor_finality_latency_seconds_count\{bank="icbc"\} [1-9]/, 'finality latency observed')

  // Restart on the same data directory: everything final is still there.
  const height = node.ledger().height
  const root = bytesToHex(node.ledger().stateRoot)
  await app.close()
  await node.stop()
  node = startNode('icbc', dataDir)
  await node.start()
  app = buildHttpApi(node, pino({ level: 'silent' }))
  t.ok(node.ledger().height >= height, 'height recovered')
  const recovered = (await app.inject({ method: 'GET', url: `/v1/transactions/${id}` })).json()
  t.equal(recovered.status, 'final', 'the receipt survived the restart')
  if (node.ledger().height === height) t.equal(bytesToHex(node.ledger().stateRoot), root, 'same state root')
  const again = (await app.inject({ method: 'GET', url: `/v1/accounts/${payee}/balances` })).json()
  t.equal(again.balances['icbc.CNH'], after.balances['icbc.CNH'])
})
