/**
 * Four node services in one process on real LevelDB (temp directories), joined by an in-memory
 * hub instead of libp2p: what one publishes reaches the others' handlers a millisecond later, as
 * libp2p would deliver it. Shared by the API, payment and fault-injection tests.
 */
import { pino } from 'pino'
import { standardGenesisDocument, deriveSecretKey } from '../../../../src/ledger/testing/index.ts'
import { buildGenesis, genesisValidators, parseGenesisDocument } from '../../../../src/ledger/genesis.ts'
import { createNativeSigner } from '../../../../src/platform/ed25519Native.ts'
import { createTransportCounters } from '../../../../src/node/io/transportMetrics.ts'
import { createNodeService, type NodeService, type NodeServiceOptions } from '../../../../src/node/service.ts'
import { nativeSha256 } from '../../../../src/node/store/index.ts'
import { peerIdOf, type Transport, type TransportHandlers } from '../../../../src/node/io/transport.ts'
import { keyPairFromSecret } from '../../../../src/protocol/keys.ts'

export const keySeed = 'api-test'
const standard = standardGenesisDocument({ keySeed, customersPerBank: 4, chainId: 'corridor-api-test' })
export const document = parseGenesisDocument(standard, 'api test genesis')
export const genesis = buildGenesis(document, { sha256: nativeSha256, checkInstitutionKeys: false })
export const banks = document.banks.map((b) => b.id)
export const customerSigners = new Map(document.customers.map((c) => c.id).map((id) => [id, createNativeSigner(deriveSecretKey(keySeed, id))]))
export const customersOf = (bank: string): string[] => document.customers.filter((c) => c.bank === bank).map((c) => c.id)
export const peerIdOfBank = (bank: string): string => peerIdOf(keyPairFromSecret(deriveSecretKey(keySeed, bank)).publicKey)

/**
 * The in-memory network. `deaf` peers receive nothing (a test's way to hold one node back);
 * `consensusMuted` peers exchange transactions but no consensus messages. A node that starts is
 * reported connected to the running ones, and they to it, as libp2p's peer:connect does.
 */
export class Hub {
  readonly handlers = new Map<string, TransportHandlers>()
  readonly deaf = new Set<string>()
  readonly consensusMuted = new Set<string>()
  /** Messages delivered, by receiving peer id. */
  readonly delivered = new Map<string, number>()

  transport(secretKey: Uint8Array, handlers: TransportHandlers): Transport {
    const peerId = peerIdOf(keyPairFromSecret(secretKey).publicKey)
    const counters = createTransportCounters()
    let running = false
    const deliver = (to: string, call: (h: TransportHandlers) => void): void => {
      setTimeout(() => {
        const target = this.handlers.get(to)
        if (target === undefined || !running || this.deaf.has(to)) return
        this.delivered.set(to, (this.delivered.get(to) ?? 0) + 1)
        call(target)
      }, 1)
    }
    return {
      peerId,
      options: {} as Transport['options'],
      counters,
      start: async () => {
        running = true
        const others = [...this.handlers.entries()]
        this.handlers.set(peerId, handlers)
        for (const [other, otherHandlers] of others) {
          setTimeout(() => {
            otherHandlers.onPeerConnected?.(peerId)
            handlers.onPeerConnected?.(other)
          }, 1)
        }
      },
      stop: async () => {
        running = false
        this.handlers.delete(peerId)
      },
      isRunning: () => running,
      listenAddresses: () => [],
      peers: () => [...this.handlers.keys()].filter((p) => p !== peerId),
      gossipPeers: () => [...this.handlers.keys()].filter((p) => p !== peerId),
      publish: async (topic, bytes) => {
        counters.channels[topic].messagesOut++
        counters.channels[topic].bytesOut += bytes.length
        for (const other of this.handlers.keys()) {
          if (other === peerId || (topic === 'consensus' && (this.consensusMuted.has(peerId) || this.consensusMuted.has(other)))) continue
          deliver(other, (h) => h.onMessage(topic, bytes, peerId))
        }
        return this.handlers.size - 1
      },
      request: async (to, bytes) => {
        const target = this.handlers.get(to)
        if (target === undefined) throw new Error('no such peer')
        return target.onRequest(bytes, peerId)
      },
      send: async (to, bytes) => {
        if (!this.consensusMuted.has(peerId) && !this.consensusMuted.has(to)) deliver(to, (h) => h.onDirect(bytes, peerId))
      },
      isValidator: () => true,
      publicKeyOf: () => undefined
    }
  }
}

export function startNode(hub: Hub, bank: string, dataDir: string, extra: Partial<NodeServiceOptions> = {}): NodeService {
  return createNodeService(
    {
      validatorId: bank,
      secretKey: deriveSecretKey(keySeed, bank),
      genesisDocument: document,
      genesis,
      validators: genesisValidators(document).map((v) => ({ id: v.id, publicKey: v.publicKey, power: v.votingPower, address: '/ip4/127.0.0.1/tcp/1', api: undefined })),
      dataDir,
      listen: '/ip4/127.0.0.1/tcp/0',
      customerSigners: new Map([...customerSigners].filter(([id]) => document.customers.find((c) => c.id === id)?.bank === bank)),
      ...extra
    },
    { logger: pino({ level: 'silent' }), createTransport: (options, components) => hub.transport(options.secretKey, components.handlers) }
  )
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
