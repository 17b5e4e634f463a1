import t from 'tap'
import { FaultLayer, type FaultKind } from '../../../../src/node/io/faultLayer.ts'
import type { TransportHandlers } from '../../../../src/node/io/transport.ts'

const peers: Record<string, string> = { 'peer-b': 'bochk', 'peer-c': 'enbd' }
const peerOfBank = (bank: string): string | undefined => Object.keys(peers).find((peer) => peers[peer] === bank)

function setup() {
  const faults: FaultKind[] = []
  const layer = new FaultLayer({ bankOf: (peer) => peers[peer], peerOf: peerOfBank, onFault: (kind) => faults.push(kind), seed: 7 })
  const delivered: string[] = []
  const connected: string[] = []
  const handlers: TransportHandlers = {
    onMessage: (_topic, bytes, from) => delivered.push(`${from}:${bytes[0]}`),
    onDirect: (bytes, from) => delivered.push(`direct ${from}:${bytes[0]}`),
    onRequest: async (bytes) => bytes,
    onPeerConnected: (peer) => connected.push(peer)
  }
  return { layer, wrapped: layer.wrapHandlers(handlers), delivered, connected, faults }
}

t.test('a blocked peer is cut off both ways, and reported connected again when unblocked', async (t) => {
  const { layer, wrapped, delivered, connected, faults } = setup()
  layer.set({ peers: { bochk: { blocked: true } } })
  wrapped.onMessage('transactions', Uint8Array.of(1), 'peer-b')
  wrapped.onMessage('transactions', Uint8Array.of(2), 'peer-c')
  t.same(delivered, ['peer-c:2'], 'only the unblocked peer is heard')
  t.same(faults, ['blocked'])
  // A connection event is not a message: reported even for a blocked peer.
  wrapped.onPeerConnected!('peer-b')
  t.same(connected, ['peer-b'])

  layer.set({ peers: { bochk: { blocked: true }, enbd: { delayMs: 5 } } })
  t.same(connected, ['peer-b'], 'still blocked: no reconnection')
  layer.set({ peers: { enbd: { delayMs: 5 } } })
  t.same(connected, ['peer-b', 'peer-b'], 'unblocked: the node hears of it as a link that came back')
  wrapped.onMessage('consensus', Uint8Array.of(3), 'peer-b')
  t.same(delivered, ['peer-c:2', 'peer-b:3'])

  layer.set({ peers: { bochk: { blocked: true }, enbd: { blocked: true } } })
  layer.clear()
  t.same(connected.slice(2).sort(), ['peer-b', 'peer-c'], 'clearing unblocks everyone blocked')
})
