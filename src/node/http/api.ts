/**
 * The node's HTTP API on fastify. JSON in and out; amounts and nonces are decimal strings (bigint
 * never goes through a JSON number); bytes are hex. Errors are `{ code, message }` with a 4xx or
 * 5xx status; bodies are size-limited and validated with zod, and a body out of shape gets a 400
 * naming the field. Every refusal is counted in `corridor_rejections_total{edge="http"}`.
 *
 *   POST /v1/transactions        { transactions: [hex wire bytes | { chainId, signer, publicKey, nonce, body, signature }] }
 *   POST /v1/transactions/batch  [hex wire bytes | {...}, ...]: up to 1,000, one result per item, a bad item fails alone
 *   POST /v1/payments            { payer, payee, payerToken, payeeToken, amount, purpose?, documentRef?, fxProvider? }
 *   GET  /v1/transactions/:id    pending | final (receipt, height) | dropped (code, message) | unknown (404)
 *   GET  /v1/accounts/:id/balances
 *   GET  /v1/blocks/:height      block with its commit certificate, decoded transactions and receipts; also /v1/blocks/latest
 *   GET  /v1/blocks?from=&to=    the same for a range, at most 100 blocks per page
 *   GET  /v1/status              bank id, height, last block hash, state root, round, mempool, peers
 *   GET  /v1/ledger/summary      per-token totals, settlement assets, negative balances, conservation check, whole-state digest
 *   GET  /v1/ledger/balances     every balance, paged (?cursor=&limit=)
 *   GET  /v1/validators
 *   GET  /v1/health
 *   GET|PUT|DELETE /v1/admin/faults     testing only (--fault-injection), bearer token
 *   GET|PUT|DELETE /v1/admin/byzantine  testing only (--byzantine-allowed), bearer token
 *   GET  /metrics                Prometheus text format
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { Logger } from 'pino'
import { bytesToHex, hexToBytes } from '../../protocol/bytes.ts'
import { decode, type Encodable } from '../../protocol/encoding.ts'
import { CorridorError } from '../../protocol/errors.ts'
import { decodeTransaction, transactionFromTuple, type TransactionEnvelope } from '../../protocol/envelope.ts'
import { protocolLimits } from '../../protocol/limits.ts'
import { isValidId } from '../../protocol/ids.ts'
import { accountOf, balanceOf, lastNonceOf, tokenIdsOf } from '../../ledger/state.ts'
import { peerIdOf } from '../io/peerIdentity.ts'
import { formatPath } from '../../config/errors.ts'
import type { NodeService } from '../service.ts'
import type { StoredBlock, StoredReceipt } from '../store/index.ts'
import { decodeTransactionBody } from '../../ledger/transactions.ts'
import { toJsonValue, type JsonValue } from './jsonView.ts'
import { balancePage, ledgerSummary } from './ledgerViews.ts'
import { faultStateSchema } from '../io/faultLayer.ts'
import { byzantineBehaviourNames } from '../byzantine.ts'
import { assert } from '../../protocol/assert.ts'

export interface HttpApiOptions {
  /** Largest request body. @default 2 MiB */
  readonly bodyBytesMax?: number
  /** Transactions in one POST /v1/transactions or /v1/transactions/batch at most. @default 1000 */
  readonly transactionsPerRequestMax?: number
  /** Largest POST /v1/transactions/batch body (1,000 payments as hex take about 1 MiB). @default 8 MiB */
  readonly batchBodyBytesMax?: number
  /** Blocks in one GET /v1/blocks page at most. @default 100 */
  readonly blocksPerPageMax?: number
  /** Balances in one GET /v1/ledger/balances page at most. @default 10_000 */
  readonly balancesPerPageMax?: number
  /**
   * The bearer token of the admin endpoints. Required when the node has a fault layer or allows
   * Byzantine behaviours (the only admin endpoints); without those the endpoints do not exist (404).
   */
  readonly adminToken?: string
}

export const httpErrorCodes = [
  'BAD_REQUEST',
  'BODY_TOO_LARGE',
  'MALFORMED_TRANSACTION',
  'NOT_FOUND',
  'UNKNOWN_TRANSACTION',
  'UNKNOWN_ACCOUNT',
  'UNKNOWN_CUSTOMER',
  'BAD_PAYMENT',
  'QUEUE_FULL',
  'NOT_RUNNING',
  'UNAUTHORIZED',
  'INTERNAL'
] as const
export type HttpErrorCode = (typeof httpErrorCodes)[number]

const hex = (bytes: number): z.ZodString => z.string().regex(new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`), `expected ${bytes * 2} hex digits`)
const decimal = z.string().regex(/^[0-9]{1,20}$/, 'expected a non-negative integer as a decimal string')
const idString = z.string().refine(isValidId, { message: "expected an id of 1-64 characters a-z, 0-9, '-', '_' or ':'" })
const tokenString = z.string().regex(/^[a-z0-9][a-z0-9_:-]{0,63}\.[A-Z]{3}$/, 'expected a token id such as icbc.CNH')

const jsonEnvelope = z.strictObject({
  chainId: z.string().min(1).max(64),
  signer: idString,
  publicKey: hex(32),
  nonce: decimal,
  /** The canonical MessagePack bytes of the transaction body, hex. */
  body: z.string().regex(/^([0-9a-fA-F]{2})+$/, 'expected the encoded body as hex').max(protocolLimits.transactionBytesMax * 2),
  signature: hex(64)
})

const paymentSchema = z.strictObject({
  payer: idString,
  payee: idString,
  payerToken: tokenString,
  payeeToken: tokenString,
  amount: decimal.refine((value) => BigInt(value) > 0n, { message: 'expected an amount above zero' }),
  purpose: z.string().min(1).max(protocolLimits.textLengthMax).optional(),
  documentRef: z.string().min(1).max(protocolLimits.textLengthMax).optional(),
  fxProvider: idString.optional()
})

class HttpError extends CorridorError<HttpErrorCode> {
  readonly status: number
  constructor(status: number, code: HttpErrorCode, message: string) {
    super(code, message)
    this.status = status
  }
}

function parseBody<Schema extends z.ZodType>(schema: Schema, value: unknown): z.output<Schema> {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const issue = result.error.issues[0]!
  const path = formatPath(issue.path)
  throw new HttpError(400, 'BAD_REQUEST', `${path === '' ? 'body' : path}: ${issue.message}`)
}

function envelopeFromJson(value: z.output<typeof jsonEnvelope>): TransactionEnvelope {
  const body: Encodable = decode(hexToBytes(value.body), { bytesMax: protocolLimits.transactionBytesMax })
  return transactionFromTuple([value.chainId, value.signer, hexToBytes(value.publicKey), BigInt(value.nonce), body, hexToBytes(value.signature)])
}

/** Builds the API over a node (not listening: call `listen`, or `inject` in tests). */
export function buildHttpApi(node: NodeService, logger: Logger, options: HttpApiOptions = {}): FastifyInstance {
  const bodyBytesMax = options.bodyBytesMax ?? 2 * 1024 * 1024
  const transactionsMax = options.transactionsPerRequestMax ?? 1000
  const log = logger.child({ module: 'http' })
  const app = Fastify({ logger: false, bodyLimit: bodyBytesMax })
  const batchBodyBytesMax = options.batchBodyBytesMax ?? 8 * 1024 * 1024
  const blocksPerPageMax = options.blocksPerPageMax ?? 100
  const balancesPerPageMax = options.balancesPerPageMax ?? 10_000
  const transactionEntry = z.union([z.string().max(protocolLimits.transactionBytesMax * 2), jsonEnvelope])
  const submitSchema = z.strictObject({ transactions: z.array(transactionEntry).min(1).max(transactionsMax) })
  const batchSchema = z.array(z.unknown()).min(1, 'expected at least one transaction').max(transactionsMax, `expected at most ${transactionsMax} transactions`)

  const fail = (reply: FastifyReply, status: number, code: HttpErrorCode, message: string): FastifyReply => {
    node.metrics.reject('http', code)
    return reply.code(status).send({ code, message })
  }

  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof HttpError) return fail(reply, error.status, error.code, error.message)
    if (error instanceof CorridorError) {
      const status = error.code === 'QUEUE_FULL' || error.code === 'NOT_RUNNING' ? 503 : error.code === 'UNKNOWN_CUSTOMER' ? 403 : 422
      return fail(reply, status, (httpErrorCodes as readonly string[]).includes(error.code) ? (error.code as HttpErrorCode) : 'BAD_REQUEST', error.message)
    }
    const fastifyError = error as { statusCode?: number; code?: string; message?: string }
    if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return fail(reply, 413, 'BODY_TOO_LARGE', `request body exceeds ${bodyBytesMax} bytes`)
    if (fastifyError.statusCode !== undefined && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
      return fail(reply, fastifyError.statusCode, 'BAD_REQUEST', fastifyError.message ?? 'bad request')
    }
    log.error({ err: error }, 'request failed')
    return fail(reply, 500, 'INTERNAL', 'internal error')
  })
  app.setNotFoundHandler((request, reply) => fail(reply, 404, 'NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`))

  app.post('/v1/transactions', async (request) => {
    const { transactions } = parseBody(submitSchema, request.body)
    const envelopes: TransactionEnvelope[] = []
    transactions.forEach((entry, index) => {
      try {
        envelopes.push(typeof entry === 'string' ? decodeTransaction(hexToBytes(entry)) : envelopeFromJson(entry))
      } catch (error) {
        throw new HttpError(400, 'MALFORMED_TRANSACTION', `transactions[${index}]: ${error instanceof Error ? error.message : String(error)}`)
      }
    })
    const results = await node.submit(envelopes)
    return { results: results.map((result) => (result.ok ? { ok: true, id: result.id } : { ok: false, id: result.id ?? null, code: result.code, message: result.message })) }
  })

  // For load generators: many transactions per request, each judged alone. An item out of shape
  // gets its own error result and the others still go in, so one bad transaction does not cost a
  // client the whole batch (POST /v1/transactions refuses the request instead).
  app.post('/v1/transactions/batch', { bodyLimit: batchBodyBytesMax }, async (request) => {
    const items = parseBody(batchSchema, request.body)
    const results: Array<Record<string, unknown> | undefined> = new Array(items.length)
    const envelopes: TransactionEnvelope[] = []
    const positions: number[] = []
    items.forEach((item, index) => {
      try {
        if (typeof item === 'string') {
          if (item.length > protocolLimits.transactionBytesMax * 2) throw new Error(`[${index}]: expected at most ${protocolLimits.transactionBytesMax} bytes of transaction`)
          envelopes.push(decodeTransaction(hexToBytes(item)))
        } else {
          const entry = jsonEnvelope.safeParse(item)
          if (!entry.success) {
            const issue = entry.error.issues[0]!
            throw new Error(`${formatPath([index, ...issue.path])}: ${issue.message}`)
          }
          envelopes.push(envelopeFromJson(entry.data))
        }
        positions.push(index)
      } catch (error) {
        node.metrics.reject('http', 'MALFORMED_TRANSACTION')
        const message = error instanceof Error ? error.message : String(error)
        results[index] = { ok: false, id: null, code: 'MALFORMED_TRANSACTION', message: message.startsWith(`[${index}]`) ? message : `[${index}]: ${message}` }
      }
    })
    const submitted = envelopes.length === 0 ? [] : await node.submit(envelopes)
    submitted.forEach((result, i) => {
      results[positions[i]!] = result.ok ? { ok: true, id: result.id } : { ok: false, id: result.id ?? null, code: result.code, message: result.message }
    })
    return { accepted: submitted.filter((result) => result.ok).length, results }
  })

  app.post('/v1/payments', async (request, reply) => {
    const body = parseBody(paymentSchema, request.body)
    const result = await node.pay({ ...body, amount: BigInt(body.amount) })
    if (!result.ok) return fail(reply, 422, 'BAD_PAYMENT', `${result.code}: ${result.message}`)
    return reply.code(202).send({ id: result.id, status: 'pending' })
  })

  app.get<{ Params: { id: string } }>('/v1/transactions/:id', async (request, reply) => {
    const id = request.params.id
    if (!/^[0-9a-f]{64}$/.test(id)) return fail(reply, 400, 'BAD_REQUEST', 'id: expected a transaction id of 64 lowercase hex digits')
    const status = await node.transactionStatus(id)
    if (status.status === 'unknown') return fail(reply, 404, 'UNKNOWN_TRANSACTION', `no transaction ${id} is pending or final here`)
    if (status.status === 'pending') return { id, status: 'pending' }
    if (status.status === 'dropped') return { id, status: 'dropped', code: status.code, message: status.message }
    const receipt = status.receipt
    return {
      id,
      status: 'final',
      height: receipt.height,
      receipt: {
        status: receipt.status,
        reason: receipt.reason,
        message: receipt.message,
        rule: receipt.rule,
        received: receipt.received === null ? null : receipt.received.toString(),
        index: receipt.index,
        reports: receipt.reports
      }
    }
  })

  app.get<{ Params: { id: string } }>('/v1/accounts/:id/balances', async (request, reply) => {
    const id = request.params.id
    if (!isValidId(id)) return fail(reply, 400, 'BAD_REQUEST', 'id: expected an account id')
    const ledger = node.ledger()
    const account = accountOf(ledger, id)
    if (account === undefined) return fail(reply, 404, 'UNKNOWN_ACCOUNT', `no account ${id}`)
    const balances: Record<string, string> = {}
    for (const token of tokenIdsOf(ledger)) {
      const amount = balanceOf(ledger, id, token)
      if (amount !== 0n) balances[token] = amount.toString()
    }
    return { account: id, kind: account.kind, height: ledger.height, nonce: lastNonceOf(ledger, id).toString(), balances }
  })

  const receiptView = (receipt: StoredReceipt): Record<string, JsonValue> => ({
    transactionId: receipt.transactionId,
    height: receipt.height,
    index: receipt.index,
    status: receipt.status,
    reason: receipt.reason,
    message: receipt.message,
    rule: receipt.rule,
    received: receipt.received === null ? null : receipt.received.toString(),
    reports: receipt.reports.map((report) => ({ ...report }))
  })

  const transactionView = (tuple: Encodable): JsonValue => {
    try {
      const envelope = transactionFromTuple(tuple)
      let body: JsonValue
      try {
        body = toJsonValue(decodeTransactionBody(envelope.body))
      } catch {
        // Certified blocks may carry a body the ledger refused as malformed: show it raw.
        body = { kind: 'undecodable', value: toJsonValue(envelope.body) }
      }
      return { id: envelope.id, signer: envelope.signer, publicKey: bytesToHex(envelope.publicKey), nonce: envelope.nonce.toString(), body, signature: bytesToHex(envelope.signature) }
    } catch {
      return { id: null, raw: toJsonValue(tuple) }
    }
  }

  const blockView = (stored: StoredBlock, receipts: readonly StoredReceipt[] | undefined): Record<string, unknown> => {
    const header = stored.block.header
    const payload = Array.isArray(stored.block.payload) ? (stored.block.payload as readonly Encodable[]) : []
    return {
      height: stored.height,
      hash: bytesToHex(stored.blockHash),
      header: {
        chainId: header.chainId,
        height: header.height,
        timeMs: header.timeMs,
        previousBlockHash: bytesToHex(header.previousBlockHash),
        proposer: header.proposer,
        payloadHash: bytesToHex(header.payloadHash),
        appHash: bytesToHex(header.appHash)
      },
      transactions: payload.map(transactionView),
      // Null for a block stored before receipts were kept per block.
      receipts: receipts === undefined ? null : receipts.map(receiptView),
      certificate: {
        height: stored.certificate.height,
        round: stored.certificate.round,
        blockHash: bytesToHex(stored.certificate.blockHash),
        signatures: stored.certificate.signatures.map((s) => ({ validator: s.validator, signature: bytesToHex(s.signature) }))
      }
    }
  }

  const heightParameter = (text: string | undefined, name: string): number => {
    if (text === undefined || !/^[0-9]{1,15}$/.test(text)) throw new HttpError(400, 'BAD_REQUEST', `${name}: expected a block height (a non-negative integer)`)
    return Number(text)
  }

  app.get<{ Querystring: { from?: string; to?: string } }>('/v1/blocks', async (request) => {
    const tipHeight = node.storedHeight()
    const from = heightParameter(request.query.from ?? '1', 'from')
    const to = request.query.to === undefined ? Math.max(tipHeight, from) : heightParameter(request.query.to, 'to')
    if (from < 1) throw new HttpError(400, 'BAD_REQUEST', 'from: expected a height of at least 1')
    if (to < from) throw new HttpError(400, 'BAD_REQUEST', `to: expected a height of at least from (${from})`)
    const last = Math.min(to, tipHeight, from + blocksPerPageMax - 1)
    const stored = last >= from ? await node.loadBlocks(from, last - from + 1) : []
    const blocks = []
    for (const block of stored) blocks.push(blockView(block, await node.loadBlockReceipts(block.height)))
    const next = last < Math.min(to, tipHeight) ? last + 1 : null
    return { from, to: last >= from ? last : null, tip: tipHeight, blocks, next }
  })

  app.get<{ Params: { height: string } }>('/v1/blocks/:height', async (request, reply) => {
    const text = request.params.height
    const tipHeight = node.storedHeight()
    const height = text === 'latest' ? tipHeight : /^[0-9]{1,15}$/.test(text) ? Number(text) : NaN
    if (!Number.isSafeInteger(height)) return fail(reply, 400, 'BAD_REQUEST', "height: expected a block height or 'latest'")
    const stored = height >= 1 ? await node.loadBlock(height) : undefined
    if (stored === undefined) return fail(reply, 404, 'NOT_FOUND', height === 0 ? 'no block has been committed yet' : `no block at height ${height} (tip ${tipHeight})`)
    return blockView(stored, await node.loadBlockReceipts(height))
  })

  app.get('/v1/status', async () => {
    const ledger = node.ledger()
    const consensus = node.consensusStatus()
    const health = node.health()
    return {
      bankId: node.validatorId,
      chainId: node.chainId,
      running: node.isRunning(),
      height: ledger.height,
      lastBlockHash: bytesToHex(node.lastBlockHash()),
      stateRoot: bytesToHex(ledger.stateRoot),
      // The state root is the app hash the next block's header carries.
      appHash: bytesToHex(ledger.stateRoot),
      lastBlockTimeMs: ledger.timeMs,
      round: consensus.round,
      step: consensus.step,
      mempoolSize: health.mempoolTransactions,
      inputQueue: health.inputQueueInputs,
      peers: node.connectedPeers(),
      validators: health.validators
    }
  })

  app.get('/v1/ledger/summary', async () => ledgerSummary(node.ledger()))

  app.get<{ Querystring: { cursor?: string; limit?: string } }>('/v1/ledger/balances', async (request) => {
    const { cursor, limit: limitText } = request.query
    if (cursor !== undefined && !/^[a-z0-9_:-]{1,64}\/[A-Za-z0-9_:.-]{1,80}$/.test(cursor)) {
      throw new HttpError(400, 'BAD_REQUEST', 'cursor: expected the nextCursor of the previous page (account/token)')
    }
    let limit = 1000
    if (limitText !== undefined) {
      if (!/^[0-9]{1,6}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > balancesPerPageMax) {
        throw new HttpError(400, 'BAD_REQUEST', `limit: expected an integer from 1 to ${balancesPerPageMax}`)
      }
      limit = Number(limitText)
    }
    return balancePage(node.ledger(), cursor, limit)
  })

  app.get('/v1/validators', async () => ({
    chainId: node.chainId,
    validators: node.validatorList().map((v) => ({ id: v.id, publicKey: bytesToHex(v.publicKey), votingPower: v.power, peerId: peerIdOf(v.publicKey), address: v.address, api: v.api ?? null }))
  }))

  app.get('/v1/health', async () => {
    const health = node.health()
    return { ...health, running: node.isRunning(), stateRoot: bytesToHex(node.ledger().stateRoot) }
  })

  registerAdminRoutes(app, node, options.adminToken, fail)

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', node.metrics.registry.contentType)
    return node.metrics.text()
  })

  return app
}

type Fail = (reply: FastifyReply, status: number, code: HttpErrorCode, message: string) => FastifyReply

/** Equal tokens, compared in constant time (hashes first, so lengths do not leak either). */
function tokenMatches(presented: string, expected: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest()
  return timingSafeEqual(digest(presented), digest(expected))
}

/**
 * Testing-only admin endpoints (docs/operations.md, "Fault injection (testing only)"). Registered
 * only on a node started with the matching flag, so elsewhere they answer 404 like any unknown
 * route; every request needs `Authorization: Bearer <token>`.
 */
function registerAdminRoutes(app: FastifyInstance, node: NodeService, adminToken: string | undefined, fail: Fail): void {
  const faults = node.faults()
  const byzantineAllowed = node.byzantineBehaviours() !== undefined
  if (faults === undefined && !byzantineAllowed) return
  assert(adminToken !== undefined && adminToken.length > 0, 'admin endpoints have a token')
  const authorize = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const header = request.headers.authorization
    const presented = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined
    if (presented === undefined || !tokenMatches(presented, adminToken)) {
      return fail(reply, 401, 'UNAUTHORIZED', 'admin endpoints need Authorization: Bearer <token> (the node\'s --admin-token-file)')
    }
    return undefined
  }
  const others = new Set(node.validatorList().map((v) => v.id).filter((id) => id !== node.validatorId))

  if (faults !== undefined) {
    app.get('/v1/admin/faults', { preHandler: authorize }, async () => faults.state)
    app.put('/v1/admin/faults', { preHandler: authorize }, async (request) => {
      const state = parseBody(faultStateSchema, request.body)
      for (const bank of Object.keys(state.peers)) {
        if (!others.has(bank)) throw new HttpError(400, 'BAD_REQUEST', `peers.${bank}: not another validator of this network (expected one of ${[...others].join(', ')})`)
      }
      faults.set(state)
      return faults.state
    })
    app.delete('/v1/admin/faults', { preHandler: authorize }, async () => {
      faults.clear()
      return faults.state
    })
  }

  if (byzantineAllowed) {
    const byzantineSchema = z.strictObject({ behaviours: z.array(z.enum(byzantineBehaviourNames)).max(byzantineBehaviourNames.length) })
    app.get('/v1/admin/byzantine', { preHandler: authorize }, async () => ({ behaviours: node.byzantineBehaviours() ?? [] }))
    app.put('/v1/admin/byzantine', { preHandler: authorize }, async (request) => {
      const { behaviours } = parseBody(byzantineSchema, request.body)
      node.setByzantine(behaviours)
      return { behaviours: node.byzantineBehaviours() ?? [] }
    })
    app.delete('/v1/admin/byzantine', { preHandler: authorize }, async () => {
      node.setByzantine([])
      return { behaviours: [] }
    })
  }
}
