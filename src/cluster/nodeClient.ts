/**
 * A small client for one node's HTTP API (docs/operations.md, section 4): every call has a
 * timeout, and an answer that is not JSON or not 2xx becomes a ClusterError naming the node, the
 * path and the node's own error code.
 */
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http'
import { ClusterError } from './errors.ts'

/**
 * One keep-alive agent for every client of the process: node:http with reused connections costs
 * the caller a fraction of what fetch (undici) did per request, which mattered for the cluster
 * benchmark's load generator, sharing two cores with the nodes it measures. Sockets do not keep
 * the process alive.
 */
const agent = new Agent({ keepAlive: true, maxSockets: 32, maxFreeSockets: 8 })

export interface NodeHealthView {
  readonly validatorId: string
  readonly height: number
  readonly round: number
  readonly peers: number
  readonly validators: number
  readonly mempoolTransactions: number
}

export interface NodeStatusView {
  readonly bankId: string
  readonly chainId: string
  readonly height: number
  readonly lastBlockHash: string
  readonly stateRoot: string
  readonly round: number
}

export interface BlockView {
  readonly height: number
  readonly hash: string
  readonly [field: string]: unknown
}

export class NodeClient {
  readonly bank: string
  readonly api: string
  readonly timeoutMs: number

  constructor(bank: string, api: string, timeoutMs = 5_000) {
    this.bank = bank
    this.api = api.replace(/\/$/, '')
    this.timeoutMs = timeoutMs
  }

  async get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path)
  }

  async post<T>(path: string, body: unknown, headers: Record<string, string> = {}): Promise<T> {
    return this.request<T>('POST', path, body, headers)
  }

  async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    let answer: { status: number; text: string }
    try {
      answer = await this.#send(method, path, body === undefined ? undefined : JSON.stringify(body), headers)
    } catch (error) {
      throw new ClusterError('NODE_API', `${this.bank}: ${method} ${path} failed: ${(error as Error).message}`)
    }
    const { status, text } = answer
    let json: unknown
    try {
      json = text.length === 0 ? undefined : JSON.parse(text)
    } catch {
      throw new ClusterError('NODE_API', `${this.bank}: ${method} ${path} answered ${status} with non-JSON: ${text.slice(0, 200)}`)
    }
    if (status < 200 || status > 299) {
      const error = json as { code?: string; message?: string } | undefined
      throw new ClusterError('NODE_API', `${this.bank}: ${method} ${path} answered ${status} ${error?.code ?? ''}: ${error?.message ?? text.slice(0, 200)}`, { status, code: error?.code })
    }
    return json as T
  }

  #send(method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const url = new URL(`${this.api}${path}`)
      const outgoing = httpRequest(
        url,
        {
          method,
          agent,
          headers: body === undefined ? headers : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers }
        },
        (response: IncomingMessage) => {
          const chunks: Buffer[] = []
          response.on('data', (chunk: Buffer) => chunks.push(chunk))
          response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }))
          response.on('error', reject)
        }
      )
      // The whole exchange, not only the socket's idleness, is bounded.
      const timer = setTimeout(() => outgoing.destroy(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs)
      timer.unref()
      outgoing.on('close', () => clearTimeout(timer))
      outgoing.on('error', (error) => {
        clearTimeout(timer)
        reject(error)
      })
      outgoing.end(body)
    })
  }

  health(): Promise<NodeHealthView> {
    return this.get('/v1/health')
  }

  status(): Promise<NodeStatusView> {
    return this.get('/v1/status')
  }

  block(height: number): Promise<BlockView> {
    return this.get(`/v1/blocks/${height}`)
  }
}

/**
 * Polls `probe` until it returns a value (not undefined), every `intervalMs`, for at most
 * `timeoutMs`; the error says what was awaited and the probe's last error. A probe error is
 * retried (the node may not answer yet), except a ClusterError NODE_EXITED: a process that is gone
 * will not come back by waiting, so that ends the wait at once.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined) return value
    } catch (error) {
      if (error instanceof ClusterError && error.code === 'NODE_EXITED') throw error
      lastError = error
    }
    if (Date.now() > deadline) {
      throw new ClusterError('CLUSTER_TIMEOUT', `timed out after ${timeoutMs} ms waiting for ${what}${lastError === undefined ? '' : ` (last error: ${(lastError as Error).message ?? String(lastError)})`}`)
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
