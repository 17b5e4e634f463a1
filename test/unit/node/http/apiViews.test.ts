/**
 * The API an external checker reads (status, blocks with certificates, transactions and receipts,
 * block ranges, the ledger summary and paged balances) and the batch submission endpoint, over
 * four in-process nodes on real LevelDB.
 */
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { encodeTransactionBody } from '../../../../src/ledger/transactions.ts'
import { signTransaction, encodeTransaction, type TransactionEnvelope } from '../../../../src/protocol/envelope.ts'
import { bytesToHex } from '../../../../src/protocol/bytes.ts'
import { encode } from '../../../../src/protocol/encoding.ts'
import { buildHttpApi } from '../../../../src/node/http/api.ts'
import { Hub, banks, customerSigners, customersOf, document, startNode, waitFor } from '../helpers/inProcessNetwork.ts'

function payment(payer: string, payee: string, nonce: bigint, amount: bigint): TransactionEnvelope {
  const signer = customerSigners.get(payer)!
  const body = encodeTransactionBody({ kind: 'payment', payee, payerToken: 'icbc.CNH', payeeToken: 'icbc.CNH', amount, purpose: undefined, documentRef: undefined, fxProvider: undefined })
  return signTransaction({ chainId: document.chainId, signer: payer, publicKey: signer.publicKey, nonce, body }, signer)
}

t.test('batch submission and the checker API over four in-process nodes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'corridor-views-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const hub = new Hub()
  const nodes = banks.map((bank) => startNode(hub, bank, join(dir, bank)))
  for (const node of nodes) await node.start()
  const apps = nodes.map((node) => buildHttpApi(node, pino({ level: 'silent' }), { blocksPerPageMax: 3, balancesPerPageMax: 50, batchBodyBytesMax: 256 * 1024, transactionsPerRequestMax: 100 }))
  t.teardown(async () => {
    for (const app of apps) await app.close()
    for (const node of nodes) await node.stop()
  })
  const app = apps[0]!
  const get = async (url: string, on = app) => {
    const response = await on.inject({ method: 'GET', url })
    return { status: response.statusCode, body: response.json() }
  }
  const [, , payer, payee] = customersOf('icbc') as [string, string, string, string]

  // The batch: 30 payments as hex wire bytes and JSON, one malformed item, one forged signature.
  const envelopes = Array.from({ length: 30 }, (_, i) => payment(payer, payee, BigInt(i + 1), BigInt(100 + i)))
  const forged = { ...payment(payee, payer, 1n, 5n), signature: new Uint8Array(64).fill(9) }
  const items: unknown[] = envelopes.map((envelope, i) =>
    i % 2 === 0
      ? bytesToHex(encodeTransaction(envelope))
      : { chainId: envelope.chainId, signer: envelope.signer, publicKey: bytesToHex(envelope.publicKey), nonce: envelope.nonce.toString(), body: bytesToHex(encode(envelope.body)), signature: bytesToHex(envelope.signature) }
  )
  items.splice(5, 0, { chainId: document.chainId, signer: payer, nonce: 'x' })
  items.push(bytesToHex(encodeTransaction(forged)))
  const batch = await app.inject({ method: 'POST', url: '/v1/transactions/batch', payload: items as object })
  t.equal(batch.statusCode, 200, batch.body)
  const { accepted, results } = batch.json()
  t.equal(results.length, 32, 'one result per item')
  t.equal(accepted, 30)
  t.equal(results[5].ok, false)
  t.equal(results[5].code, 'MALFORMED_TRANSACTION')
  t.match(results[5].message, /^\[5\]\.(publicKey|nonce)/, 'the message names the item and its field')
  t.same(results[0], { ok: true, id: envelopes[0]!.id })
  t.same(results[6], { ok: true, id: envelopes[5]!.id }, 'the items after the bad one still go in')
  t.equal(results[31].code, 'BAD_SIGNATURE')

  const batchErrors: Array<[unknown, number, string, RegExp]> = [
    [{ transactions: [] }, 400, 'BAD_REQUEST', /body/],
    [[], 400, 'BAD_REQUEST', /at least one/],
    [Array.from({ length: 101 }, () => '00'), 400, 'BAD_REQUEST', /at most 100/],
    [['00'.repeat(200_000)], 413, 'BODY_TOO_LARGE', /bytes/]
  ]
  for (const [payload, status, code, message] of batchErrors) {
    const response = await app.inject({ method: 'POST', url: '/v1/transactions/batch', payload: payload as object })
    t.equal(response.statusCode, status, response.body.slice(0, 200))
    t.equal(response.json().code, code)
    t.match(response.json().message, message)
  }

  await waitFor('the batch to be final on every node', async () => {
    for (const node of nodes) for (const envelope of envelopes) if ((await node.transactionStatus(envelope.id)).status !== 'final') return undefined
    return true
  }, 30_000)

  // Status.
  const status = (await get('/v1/status')).body
  t.equal(status.bankId, 'icbc')
  t.ok(status.height >= 1)
  t.match(status.lastBlockHash, /^[0-9a-f]{64}$/)
  t.match(status.stateRoot, /^[0-9a-f]{64}$/)
  t.equal(typeof status.round, 'number')
  t.equal(typeof status.mempoolSize, 'number')
  t.same(status.peers, banks.filter((b) => b !== 'icbc').sort(), 'peers by bank id')

  // A block with its certificate, decoded transactions and receipts.
  const receipt = (await nodes[0]!.transactionStatus(envelopes[0]!.id))
  t.equal(receipt.status, 'final')
  const height = receipt.status === 'final' ? receipt.receipt.height : 0
  const block = (await get(`/v1/blocks/${height}`)).body
  t.equal(block.height, height)
  t.equal(block.certificate.blockHash, block.hash, 'the certificate is for this block')
  t.ok(block.certificate.signatures.length >= 3, 'a quorum of precommits')
  const index = block.transactions.findIndex((tx: { id: string }) => tx.id === envelopes[0]!.id)
  t.ok(index >= 0, 'the transaction is in its block')
  const tx = block.transactions[index]
  t.equal(tx.signer, payer)
  t.equal(tx.nonce, '1', 'nonces as strings')
  t.same(tx.body, { kind: 'payment', payee, payerToken: 'icbc.CNH', payeeToken: 'icbc.CNH', amount: '100' }, 'the body decoded, amounts as strings')
  t.equal(block.receipts.length, block.transactions.length, 'one receipt per transaction')
  t.equal(block.receipts[index].transactionId, tx.id)
  t.equal(block.receipts[index].status, 'settled')
  t.equal(block.receipts[index].height, height)
  const elsewhere = (await get(`/v1/blocks/${height}`, apps[2])).body
  t.equal(elsewhere.hash, block.hash, 'the same block on another node')
  t.same(elsewhere.receipts, block.receipts, 'and the same receipts')

  // Block ranges, paged.
  // The store's tip (status.height is the ledger's, which may be one block ahead while it is written).
  const page = (await get('/v1/blocks?from=1')).body
  const tip = page.tip as number
  t.same(page.blocks.map((b: { height: number }) => b.height), [1, 2, 3].filter((h) => h <= tip), 'at most a page of blocks')
  t.equal(page.next, tip > 3 ? 4 : null)
  const all: number[] = []
  for (let from: number | null = 1; from !== null;) {
    const next: { blocks: Array<{ height: number; certificate: unknown }>; next: number | null } = (await get(`/v1/blocks?from=${from}&to=${tip}`)).body
    for (const b of next.blocks) all.push(b.height)
    from = next.next
  }
  t.same(all, Array.from({ length: tip }, (_, i) => i + 1), 'following next walks every block once')
  for (const [url, field] of [['/v1/blocks?from=x', 'from'], ['/v1/blocks?from=0', 'from'], ['/v1/blocks?from=5&to=2', 'to'], ['/v1/blocks?to=-1', 'to']] as const) {
    const response = await get(url)
    t.equal(response.status, 400, url)
    t.equal(response.body.code, 'BAD_REQUEST')
    t.match(response.body.message, new RegExp(`^${field}:`), `${url} names ${field}`)
  }
  t.same((await get(`/v1/blocks?from=${tip + 1000}`)).body.blocks, [], 'above the tip: an empty page')

  // The ledger summary: conservation holds, nothing negative, and the same digest on every node at one height.
  const summary = (await get('/v1/ledger/summary')).body
  t.equal(summary.conservation.ok, true, JSON.stringify(summary.conservation.violations))
  t.equal(summary.negativeBalances, 0)
  t.match(summary.stateDigest, /^[0-9a-f]{64}$/)
  const cnh = summary.tokens.find((token: { token: string }) => token.token === 'icbc.CNH')
  t.equal(cnh.supply, cnh.balancesTotal, 'supply = sum of balances')
  t.equal(BigInt(cnh.supply), BigInt(cnh.issued) - BigInt(cnh.redeemed), 'supply = issued - redeemed')
  t.ok(Object.keys(summary.settlementAssets).length >= 1, 'settlement assets by currency')
  for (const asset of Object.values(summary.settlementAssets) as Array<{ token: string; supply: string; balancesTotal: string }>) {
    t.match(asset.token, /^cb\./)
    t.equal(asset.supply, asset.balancesTotal)
  }
  const digests = await waitFor('all four nodes at one height', async () => {
    const all = await Promise.all(apps.map(async (a) => (await get('/v1/ledger/summary', a)).body))
    return new Set(all.map((s) => s.height)).size === 1 ? all : undefined
  })
  t.equal(new Set(digests.map((s) => s.stateDigest)).size, 1, 'the same whole-state digest at one height')
  t.equal(new Set(digests.map((s) => s.stateRoot)).size, 1, 'and the same state root')

  // Every balance, paged; the pages add up to the summary's totals.
  const seen: Array<{ account: string; token: string; amount: string }> = []
  let cursor: string | null = null
  let pages = 0
  do {
    const url: string = `/v1/ledger/balances?limit=7${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`
    const next: { balances: typeof seen; nextCursor: string | null } = (await get(url)).body
    seen.push(...next.balances)
    cursor = next.nextCursor
    pages++
  } while (cursor !== null && pages < 1000)
  t.ok(pages >= 2, 'more than one page')
  t.equal(new Set(seen.map((b) => `${b.account}/${b.token}`)).size, seen.length, 'no balance twice')
  const later = (await get('/v1/ledger/summary')).body
  t.equal(seen.length, later.balances, 'every balance once')
  const cnhTotal = seen.filter((b) => b.token === 'icbc.CNH').reduce((sum, b) => sum + BigInt(b.amount), 0n)
  t.equal(cnhTotal.toString(), later.tokens.find((token: { token: string }) => token.token === 'icbc.CNH').balancesTotal, 'pages sum to the total')
  for (const [url, field] of [['/v1/ledger/balances?limit=0', 'limit'], ['/v1/ledger/balances?limit=51', 'limit'], ['/v1/ledger/balances?cursor=%2F%2F', 'cursor']] as const) {
    const response = await get(url)
    t.equal(response.status, 400, url)
    t.match(response.body.message, new RegExp(`^${field}:`))
  }
})
