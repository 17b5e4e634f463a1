/**
 * The libp2p transport, for real, over loopback: four validators on random ports (one of them
 * configured with larger limits so it can send what the others must refuse), and an outsider
 * whose key is not in the validator set. Every wait is bounded and says what it waited for.
 */
import t from 'tap'
import { freePort, waitFor } from './loopback.ts'
import {
  createTransport,
  peerIdOf,
  TransportError,
  type GossipTopicName,
  type Transport,
  type TransportLimits,
  type TransportLogger
} from '../../../../src/node/io/transport.ts'
import { keyPairFromSecret } from '../../../../src/protocol/keys.ts'
import { equalBytes } from '../../../../src/protocol/bytes.ts'

const chainId = 'corridor-test'

function secretOf(seed: number): Uint8Array {
  return new Uint8Array(32).fill(seed)
}

async function expectTransportError(promise: Promise<unknown>, codes: readonly string[]): Promise<TransportError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof TransportError && codes.includes(error.code)) return error
    throw new Error(`expected a TransportError with a code in ${codes.join(', ')}, got ${String(error)}`)
  }
  throw new Error(`expected a TransportError with a code in ${codes.join(', ')}, but it resolved`)
}

interface Received {
  topic: GossipTopicName
  bytes: Uint8Array
  from: string
}

interface Node {
  readonly seed: number
  readonly port: number
  readonly peerId: string
  transport: Transport
  gossip: Received[]
  direct: Array<{ bytes: Uint8Array; from: string }>
  warnings: string[]
}

const text = (value: string): Uint8Array => new TextEncoder().encode(value)
const readText = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

const commonLimits: Partial<TransportLimits> = {
  messageBytesMax: 64 * 1024,
  requestBytesMax: 16 * 1024,
  responseBytesMax: 64 * 1024,
  requestTimeoutMs: 1_000,
  dialTimeoutMs: 2_000,
  redialDelayMinMs: 100,
  redialDelayMaxMs: 1_000
}
/** Validator 3 may send what the others refuse, so their receiving side can be tested. */
const largeLimits: Partial<TransportLimits> = {
  ...commonLimits,
  messageBytesMax: 256 * 1024,
  requestBytesMax: 256 * 1024,
  responseBytesMax: 512 * 1024
}

const seeds = [1, 2, 3, 4]
const ports = await Promise.all(seeds.map(() => freePort()))
const validators = seeds.map((seed, index) => ({
  publicKey: keyPairFromSecret(secretOf(seed)).publicKey,
  addresses: [`/ip4/127.0.0.1/tcp/${ports[index]}`]
}))

function makeNode(seed: number, port: number, options: { limits?: Partial<TransportLimits>; dialOthers?: boolean } = {}): Node {
  const peerId = peerIdOf(keyPairFromSecret(secretOf(seed)).publicKey)
  const node: Node = { seed, port, peerId, transport: undefined as unknown as Transport, gossip: [], direct: [], warnings: [] }
  const logger: TransportLogger = {
    debug() {},
    info() {},
    warn(_context, message) {
      node.warnings.push(message)
    },
    error(_context, message) {
      node.warnings.push(message)
    }
  }
  node.transport = createTransport(
    {
      chainId,
      secretKey: secretOf(seed),
      // A node told no addresses of the others does not dial them: it waits to be dialed.
      validators: options.dialOthers === false ? validators.map((validator) => ({ ...validator, addresses: [] })) : validators,
      listenAddresses: [`/ip4/127.0.0.1/tcp/${port}`],
      limits: options.limits ?? commonLimits,
      gossip: { heartbeatIntervalMs: 200 }
    },
    {
      logger,
      handlers: {
        onMessage: (topic, bytes, from) => {
          node.gossip.push({ topic, bytes, from })
        },
        onDirect: (bytes, from) => {
          node.direct.push({ bytes, from })
        },
        onRequest: async (bytes) => {
          switch (bytes[0]) {
            case 0: // echo, marked
              return Uint8Array.of(0x80, ...bytes.subarray(1))
            case 1: // a response of the size asked for, in kibibytes
              return new Uint8Array(bytes[1]! * 1024).fill(7)
            case 2: // never answers
              return new Promise<Uint8Array>(() => {})
            default:
              throw new Error('handler failure')
          }
        }
      }
    }
  )
  return node
}

const nodes: Node[] = seeds.map((seed, index) => makeNode(seed, ports[index]!, { limits: index === 3 ? largeLimits : commonLimits }))
const [a, b, c, d] = nodes as [Node, Node, Node, Node]
const others = (node: Node): Node[] => nodes.filter((other) => other !== node)
let outsider: Node | undefined

t.teardown(async () => {
  await Promise.all([...nodes, ...(outsider === undefined ? [] : [outsider])].map((node) => node.transport.stop()))
})

await Promise.all(nodes.map((node) => node.transport.start()))

t.test('the validators connect and the gossip mesh forms on both topics', async (t) => {
  await waitFor('every validator connected to the 3 others', () => nodes.every((node) => node.transport.peers().length === 3))
  await waitFor('every validator sees the 3 others subscribed to both topics', () =>
    nodes.every((node) => node.transport.gossipPeers('transactions').length === 3 && node.transport.gossipPeers('consensus').length === 3))
  for (const node of nodes) {
    t.same(new Set(node.transport.peers()), new Set(others(node).map((other) => other.peerId)), `${node.seed} is connected to exactly the others`)
    t.match(node.transport.listenAddresses()[0], new RegExp(`/tcp/${node.port}/p2p/${node.peerId}$`))
  }
})

t.test('gossip on both topics reaches every other validator, authored by the sender, not echoed to it', async (t) => {
  for (const node of nodes) {
    for (const topic of ['transactions', 'consensus'] as const) {
      const recipients = await node.transport.publish(topic, text(`${topic} from ${node.seed}`))
      t.equal(recipients, 3, `${node.seed} published ${topic} to 3 peers`)
    }
  }
  await waitFor('6 gossip messages (3 senders x 2 topics) at every validator', () => nodes.every((node) => node.gossip.length >= 6), 5_000)
  for (const node of nodes) {
    const expected = others(node).flatMap((other) => [`transactions from ${other.seed}`, `consensus from ${other.seed}`]).sort()
    t.same(node.gossip.map((message) => readText(message.bytes)).sort(), expected, `${node.seed} got each other's messages once, its own not at all`)
    for (const message of node.gossip) {
      t.ok(readText(message.bytes).startsWith(message.topic), 'delivered on the topic it was published on')
      t.equal(message.from, others(node).find((other) => readText(message.bytes).endsWith(` ${other.seed}`))?.peerId, 'from the author')
    }
    t.equal(node.transport.counters.channels.transactions.messagesOut, 1)
    t.equal(node.transport.counters.channels.consensus.messagesIn, 3)
  }
})

t.test('the same bytes published twice arrive twice (gossip ids are per publish, not per content)', async (t) => {
  for (const node of nodes) node.gossip = []
  for (let i = 0; i < 2; i++) t.equal(await a.transport.publish('consensus', text('the same vote')), 3)
  await waitFor('b, c and d received both copies', () => [b, c, d].every((node) => node.gossip.length >= 2), 5_000)
  for (const node of [b, c, d]) {
    t.same(node.gossip.map((message) => readText(message.bytes)), ['the same vote', 'the same vote'], `${node.seed} got both`)
  }
})

t.test('request-response round-trips between validators', async (t) => {
  const response = await a.transport.request(b.peerId, Uint8Array.of(0, 1, 2, 3))
  t.same([...response], [0x80, 1, 2, 3])
  const many = await Promise.all(nodes.flatMap((from) => others(from).map((to) => from.transport.request(to.peerId, Uint8Array.of(0, from.seed, to.seed)))))
  t.ok(many.every((bytes) => bytes.length === 3 && bytes[0] === 0x80), '12 concurrent requests answered')
  const big = await d.transport.request(a.peerId, Uint8Array.of(1, 60))
  t.equal(big.length, 60 * 1024, 'a response near the limit arrives whole')
  t.ok(b.transport.counters.channels.sync.messagesIn >= 1)
})

t.test('the sync protocol enforces its size bounds on both sides', async (t) => {
  const tooLarge = new Uint8Array(20 * 1024)
  await expectTransportError(a.transport.request(b.peerId, tooLarge), ['MESSAGE_OVERSIZED'])
  t.equal(a.transport.counters.channels.sync.oversizedOut, 1, 'refused before sending and counted')

  // d may send 20 KiB; a accepts 16 KiB: a refuses on the length prefix and counts it.
  const refusedBefore = a.transport.counters.channels.sync.oversizedIn
  await expectTransportError(d.transport.request(a.peerId, Uint8Array.of(0, ...tooLarge)), ['REMOTE_ERROR', 'STREAM_FAILED'])
  t.equal(a.transport.counters.channels.sync.oversizedIn, refusedBefore + 1, 'the server counted the oversized request')

  // d answers 100 KiB; a accepts responses of 64 KiB at most.
  const error = await expectTransportError(a.transport.request(d.peerId, Uint8Array.of(1, 100)), ['RESPONSE_OVERSIZED'])
  t.equal(error.code, 'RESPONSE_OVERSIZED')
  t.equal(a.transport.counters.channels.sync.oversizedIn, refusedBefore + 2, 'the client counted the oversized response')

  // b's handler would answer 100 KiB, beyond b's own response limit: b answers with an error status.
  const remote = await expectTransportError(d.transport.request(b.peerId, Uint8Array.of(1, 100)), ['REMOTE_ERROR'])
  t.equal(remote.details?.remoteCode, 'RESPONSE_OVERSIZED')
  const failed = await expectTransportError(a.transport.request(c.peerId, Uint8Array.of(9)), ['REMOTE_ERROR'])
  t.equal(failed.details?.remoteCode, 'HANDLER_FAILED', 'a failing handler is reported by code, not by its message')
})

t.test('requests time out on both sides', async (t) => {
  const started = Date.now()
  await expectTransportError(a.transport.request(b.peerId, Uint8Array.of(2), { timeoutMs: 300 }), ['REQUEST_TIMEOUT'])
  t.ok(Date.now() - started < 2_000, 'the requester gave up after its timeout')
  t.equal(a.transport.counters.requestTimeouts, 1)
  // The server gives its handler requestTimeoutMs (1 s) and then answers with an error status.
  const remote = await expectTransportError(d.transport.request(b.peerId, Uint8Array.of(2), { timeoutMs: 5_000 }), ['REMOTE_ERROR'])
  t.equal(remote.details?.remoteCode, 'HANDLER_TIMEOUT')
  // The connection is still good afterwards.
  t.same([...(await a.transport.request(b.peerId, Uint8Array.of(0, 5)))], [0x80, 5])
})

t.test('send delivers a one-way message to one validator', async (t) => {
  await a.transport.send(c.peerId, text('vote for c'))
  await waitFor('c received the direct message', () => c.direct.length === 1, 5_000)
  t.equal(readText(c.direct[0]!.bytes), 'vote for c')
  t.equal(c.direct[0]!.from, a.peerId)
  t.equal(b.direct.length, 0, 'nobody else got it')
  await expectTransportError(a.transport.send(c.peerId, new Uint8Array(65 * 1024)), ['MESSAGE_OVERSIZED'])
  await d.transport.send(c.peerId, new Uint8Array(100 * 1024))
  await waitFor('c counted the oversized direct message', () => c.transport.counters.channels.direct.oversizedIn === 1, 5_000)
  t.equal(c.direct.length, 1, 'the oversized direct message was not delivered')
  await expectTransportError(a.transport.send(peerIdOf(keyPairFromSecret(secretOf(77)).publicKey), text('x')), ['NOT_VALIDATOR'])
})

t.test('an oversized gossip message is dropped and counted by every receiver', async (t) => {
  await expectTransportError(a.transport.publish('transactions', new Uint8Array(64 * 1024 + 1)), ['MESSAGE_OVERSIZED'])
  t.equal(a.transport.counters.channels.transactions.oversizedOut, 1, 'refused on publish and counted')

  for (const node of nodes) node.gossip = []
  // d's own limit is 256 KiB, so it publishes 100 KiB; the others' limit is 64 KiB.
  t.equal(await d.transport.publish('transactions', new Uint8Array(100 * 1024).fill(1)), 3)
  await waitFor('a, b and c counted the oversized message', () =>
    [a, b, c].every((node) => node.transport.counters.channels.transactions.oversizedIn >= 1), 5_000)
  // Gossip between the same peers keeps flowing, and the big message was never delivered.
  await d.transport.publish('transactions', text('after the big one'))
  await waitFor('a, b and c received the next message', () => [a, b, c].every((node) => node.gossip.length >= 1), 5_000)
  for (const node of [a, b, c]) {
    t.same(node.gossip.map((message) => readText(message.bytes)), ['after the big one'], `${node.seed} got only the small message`)
    t.ok(node.warnings.includes('oversized gossip message dropped'), `${node.seed} logged the drop`)
  }
})

t.test('a node whose key is not in the validator set cannot connect or inject gossip', async (t) => {
  const refusedBefore = nodes.map((node) => node.transport.counters.connectionsRefusedInbound)
  outsider = makeNode(99, await freePort())
  await outsider.transport.start()
  const intruder = outsider
  await waitFor('each validator refused the outsider at least once', () =>
    nodes.every((node, index) => node.transport.counters.connectionsRefusedInbound > refusedBefore[index]!), 10_000)
  // On the outsider's side a dial may complete (Noise negotiates the muxer inside its handshake)
  // before the validator, which refused it right after that handshake, closes the socket.
  await waitFor('the outsider holds no connection', () => intruder.transport.peers().length === 0, 5_000)
  for (const node of nodes) {
    t.notOk(node.transport.peers().includes(intruder.peerId), `${node.seed} is not connected to the outsider`)
    t.ok(node.warnings.includes('connection refused: not a validator'), `${node.seed} logged the refusal`)
  }
  for (const node of nodes) node.gossip = []
  t.equal(await intruder.transport.publish('consensus', text('forged vote')), 0, 'the outsider reaches nobody')
  await expectTransportError(intruder.transport.request(a.peerId, Uint8Array.of(0, 1)), ['STREAM_FAILED', 'REQUEST_TIMEOUT'])
  // A validator refuses to dial the outsider too (it is not in the set).
  await expectTransportError(a.transport.request(intruder.peerId, Uint8Array.of(0)), ['NOT_VALIDATOR'])
  // Ordering check without sleeping: a validator's message sent after the forgery arrives, the forgery never does.
  await b.transport.publish('consensus', text('honest vote'))
  await waitFor('the others received the honest vote', () => [a, c, d].every((node) => node.gossip.length >= 1), 5_000)
  for (const node of nodes) t.notOk(node.gossip.some((message) => readText(message.bytes) === 'forged vote'), `${node.seed} never got the forgery`)
  await intruder.transport.stop()
})

t.test('start fails, and releases what it opened, when the port is taken', async (t) => {
  const clash = makeNode(50, a.port)
  await t.rejects(clash.transport.start())
  t.notOk(clash.transport.isRunning())
  t.ok(clash.warnings.includes('transport failed to start'))
})

t.test('a validator that restarts is redialed and rejoins the gossip', async (t) => {
  await c.transport.stop()
  await waitFor('the others noticed c left', () => [a, b, d].every((node) => node.transport.peers().length === 2), 5_000)
  await waitFor('the others failed at least one redial of c', () => [a, b, d].every((node) => node.transport.counters.dialFailures >= 1), 5_000)
  // The restarted c knows no addresses, so it dials nobody: the others' redials must find it.
  const restarted = makeNode(c.seed, c.port, { dialOthers: false })
  nodes[2] = restarted
  await restarted.transport.start()
  await waitFor('the others redialed c', () => restarted.transport.peers().length === 3, 10_000)
  await waitFor('c is back in the mesh', () => [a, b, d].every((node) => node.transport.gossipPeers('consensus').includes(restarted.peerId)), 10_000)
  await a.transport.publish('consensus', text('welcome back'))
  await waitFor('c received gossip again', () => restarted.gossip.some((message) => readText(message.bytes) === 'welcome back'), 5_000)
  t.pass('c rejoined')
})

t.test('stop closes everything: no sockets are left and the transport refuses work', async (t) => {
  await Promise.all(nodes.map((node) => node.transport.stop()))
  for (const node of nodes) t.notOk(node.transport.isRunning())
  await expectTransportError(a.transport.publish('consensus', text('late')), ['NOT_RUNNING'])
  await expectTransportError(a.transport.request(b.peerId, Uint8Array.of(0)), ['NOT_RUNNING'])
  await waitFor('no TCP handles remain', () => !process.getActiveResourcesInfo().some((name) => name.startsWith('TCP')), 5_000)
  t.pass('no TCP handles remain')
})

t.test('options are checked at creation, naming the field', async (t) => {
  t.throws(() => createTransport({ chainId: 'Bad/Chain', secretKey: secretOf(1), validators }, { handlers: { onMessage() {}, onDirect() {}, onRequest: async () => new Uint8Array() } }), /chainId/)
  t.throws(() => createTransport({ chainId, secretKey: new Uint8Array(31), validators: [] }, { handlers: { onMessage() {}, onDirect() {}, onRequest: async () => new Uint8Array() } }), /secretKey[\s\S]*validators/)
  t.throws(() => createTransport({ chainId, secretKey: secretOf(1), validators, limits: { redialDelayMinMs: 1 } }, { handlers: { onMessage() {}, onDirect() {}, onRequest: async () => new Uint8Array() } }), /redialDelayMinMs/)
  t.throws(() => createTransport({ chainId, secretKey: secretOf(1), validators: [{ publicKey: new Uint8Array(32), addresses: ['/ip4/127.0.0.1/udp/1'] }] }, { handlers: { onMessage() {}, onDirect() {}, onRequest: async () => new Uint8Array() } }), /tcp/)
})

t.test('peer ids derive from validator public keys and back', async (t) => {
  const { publicKey } = keyPairFromSecret(secretOf(5))
  const peerId = peerIdOf(publicKey)
  t.match(peerId, /^12D3KooW/)
  t.ok(equalBytes(createTransport({ chainId, secretKey: secretOf(5), validators }, { handlers: { onMessage() {}, onDirect() {}, onRequest: async () => new Uint8Array() } }).publicKeyOf(peerId)!, publicKey))
  t.equal(createTransport({ chainId, secretKey: secretOf(5), validators }, { handlers: { onMessage() {}, onDirect() {}, onRequest: async () => new Uint8Array() } }).peerId, peerId)
})
