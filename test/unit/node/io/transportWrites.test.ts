/**
 * Each gossip message costs two socket writes, not four: Noise's length prefix and ciphertext go
 * out as one buffer (noiseSingleWrite.ts), for the message and for the yamux window update the
 * receiver answers it with. Two real validators over loopback, every socket write of this process
 * counted while one publishes; then messages larger than yamux's window still arrive whole.
 */
import t from 'tap'
import { freePort, waitFor } from './loopback.ts'
import { Socket } from 'node:net'
import { createTransport, type Transport } from '../../../../src/node/io/transport.ts'
import { singleWritePatches } from '../../../../src/node/io/noiseSingleWrite.ts'
import { keyPairFromSecret } from '../../../../src/protocol/keys.ts'

t.test('a published message costs two socket writes (it and its window update), not four, and arrives intact', async (t) => {
  const seeds = [21, 22]
  const ports = await Promise.all(seeds.map(() => freePort()))
  const secretOf = (seed: number): Uint8Array => new Uint8Array(32).fill(seed)
  const validators = seeds.map((seed, index) => ({ publicKey: keyPairFromSecret(secretOf(seed)).publicKey, addresses: [`/ip4/127.0.0.1/tcp/${ports[index]}`] }))
  const received: Uint8Array[][] = [[], []]
  const quiet = { debug() {}, info() {}, warn() {}, error() {} }
  const transports: Transport[] = seeds.map((seed, index) =>
    createTransport(
      { chainId: 'corridor-writes', secretKey: secretOf(seed), validators, listenAddresses: [`/ip4/127.0.0.1/tcp/${ports[index]}`], limits: { messageBytesMax: 1024 * 1024 }, gossip: { heartbeatIntervalMs: 1_000 } },
      { logger: quiet, handlers: { onMessage: (_topic, bytes) => void received[index]!.push(bytes), onDirect() {}, onRequest: async () => new Uint8Array(0) } }
    )
  )
  t.teardown(() => Promise.all(transports.map((transport) => transport.stop())))
  await Promise.all(transports.map((transport) => transport.start()))
  const [sender, receiver] = transports as [Transport, Transport]
  await waitFor('the two validators subscribed to each other', () => sender.gossipPeers('transactions').length === 1 && receiver.gossipPeers('transactions').length === 1)
  t.ok(singleWritePatches() >= 1, 'noise was patched')

  const writes = { count: 0, sizes: [] as number[] }
  const write = Socket.prototype.write
  Socket.prototype.write = function counted(this: Socket, ...args: unknown[]) {
    writes.count++
    writes.sizes.push((args[0] as Uint8Array).byteLength)
    return (write as (...a: unknown[]) => boolean).apply(this, args)
  } as typeof Socket.prototype.write
  t.teardown(() => {
    Socket.prototype.write = write
  })
  const messages = 40
  for (let i = 0; i < messages; i++) {
    await sender.publish('transactions', new Uint8Array(200 + i).fill(i))
    // One at a time, so no two messages share a write by queueing behind each other.
    await waitFor(`message ${i} delivered`, () => received[1]!.length === i + 1)
  }
  Socket.prototype.write = write
  t.equal(received[1]!.length, messages)
  for (let i = 0; i < messages; i++) t.ok(received[1]![i]!.length === 200 + i && received[1]![i]!.every((byte) => byte === i), `message ${i} intact`)
  // Four per message before (a length prefix and the ciphertext, for the message and for the
  // receiver's window update); a little room for gossipsub's own control traffic.
  t.ok(writes.count <= 2 * messages + 4, `${writes.count} socket writes for ${messages} messages: ${writes.sizes.slice(0, 12).join(' ')}`)

  // Messages of 600 KiB, over twice the 256 KiB window: the sender stalls until updates come.
  const large = 3
  for (let i = 0; i < large; i++) await sender.publish('transactions', new Uint8Array(600 * 1024).fill(100 + i))
  await waitFor('the large messages delivered', () => received[1]!.length === messages + large)
  for (let i = 0; i < large; i++) {
    const message = received[1]![messages + i]!
    t.ok(message.length === 600 * 1024 && message.every((byte) => byte === 100 + i), `large message ${i} intact`)
  }
})
