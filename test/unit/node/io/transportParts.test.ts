/**
 * The transport's parts on their own, without a network: the gater's answers per hook, the
 * gossip check, the redial backoff, the log throttle and the options' rules.
 */
import t from 'tap'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { TopicValidatorResult, type Message } from '@libp2p/gossipsub'
import type { Ed25519PeerId, MultiaddrConnection } from '@libp2p/interface'
import { createValidatorGater, type RefusalStage } from '../../../../src/node/io/gater.ts'
import { createGossipValidator } from '../../../../src/node/io/gossip.ts'
import { Redialer } from '../../../../src/node/io/redial.ts'
import { LogThrottle } from '../../../../src/node/io/transportLogger.ts'
import { peerIdOf, publicKeyOfPeerId, ValidatorSet } from '../../../../src/node/io/peerIdentity.ts'
import { defaultTransportLimits, resolveTransportOptions } from '../../../../src/node/io/transportOptions.ts'
import { keyPairFromSecret } from '../../../../src/protocol/keys.ts'
import { protocolLimits } from '../../../../src/protocol/limits.ts'
import { equalBytes } from '../../../../src/protocol/bytes.ts'

const keyOf = (seed: number): Uint8Array => keyPairFromSecret(new Uint8Array(32).fill(seed)).publicKey
const validatorSet = new ValidatorSet([1, 2, 3, 4].map((seed) => ({ publicKey: keyOf(seed), addresses: [] })))
const validator = peerIdFromString(peerIdOf(keyOf(1))) as Ed25519PeerId
const stranger = peerIdFromString(peerIdOf(keyOf(9))) as Ed25519PeerId
const connection = { remoteAddr: multiaddr('/ip4/10.0.0.9/tcp/4001') } as MultiaddrConnection

t.test('peer ids and validator public keys map onto each other exactly', async (t) => {
  const key = keyOf(1)
  t.ok(equalBytes(publicKeyOfPeerId(peerIdOf(key))!, key))
  t.equal(publicKeyOfPeerId('not a peer id'), undefined)
  t.equal(validatorSet.size, 4)
  t.ok(validatorSet.has(validator) && validatorSet.has(validator.toString()))
  t.notOk(validatorSet.has(stranger))
})

t.test('the gater admits validators and refuses strangers at every hook, counting each refusal', async (t) => {
  const refusals: Array<[RefusalStage, string | undefined]> = []
  const gater = createValidatorGater({
    isValidator: (peerId) => validatorSet.has(peerId),
    onRefused: (stage, peerId) => refusals.push([stage, peerId?.toString()])
  })
  for (const peer of [validator, stranger]) {
    const deny = peer === stranger
    t.equal(await gater.denyDialPeer!(peer), deny, `denyDialPeer ${deny}`)
    t.equal(await gater.denyDialMultiaddr!(multiaddr(`/ip4/127.0.0.1/tcp/1/p2p/${peer.toString()}`)), deny, `denyDialMultiaddr ${deny}`)
    t.equal(await gater.denyOutboundConnection!(peer, connection), deny)
    t.equal(await gater.denyInboundEncryptedConnection!(peer, connection), deny, `denyInboundEncryptedConnection ${deny}`)
    t.equal(await gater.denyOutboundEncryptedConnection!(peer, connection), deny)
    t.equal(await gater.denyInboundUpgradedConnection!(peer, connection), deny)
    t.equal(await gater.denyOutboundUpgradedConnection!(peer, connection), deny)
    t.equal(await gater.filterMultiaddrForPeer!(peer, multiaddr('/ip4/127.0.0.1/tcp/1')), !deny, 'addresses kept for validators only')
  }
  t.equal(await gater.denyDialMultiaddr!(multiaddr('/ip4/127.0.0.1/tcp/1')), false, 'an address without a peer id is checked after the handshake')
  t.equal(await gater.denyInboundConnection!(connection), false, 'identity is unknown before the handshake')
  t.equal(await gater.denyInboundRelayReservation!(validator), true, 'no relays')
  t.equal(await gater.denyInboundRelayedConnection!(validator, validator), true, 'no relayed connections')
  t.same(refusals.map(([stage]) => stage), ['dial', 'dial', 'outbound', 'inbound', 'outbound', 'inbound', 'outbound', 'relay', 'relay'])
  t.ok(refusals.slice(0, 7).every(([stage, peer]) => stage === 'dial' || peer === stranger.toString()))
})

function unsignedMessage(data: Uint8Array): Message {
  return { type: 'unsigned', topic: 't', data }
}

t.test('the gossip check drops oversized, signed, headerless and non-validator messages', async (t) => {
  const seen: string[] = []
  const check = createGossipValidator({
    topicName: 'consensus',
    messageBytesMax: 10,
    headerBytes: 8,
    isValidator: (peerId) => validatorSet.has(peerId),
    onOversized: (topic, bytes) => seen.push(`oversized ${topic} ${bytes}`),
    onForeignAuthor: (topic) => seen.push(`foreign ${topic}`)
  })
  t.equal(await check(validator, unsignedMessage(new Uint8Array(18))), TopicValidatorResult.Accept, '10 bytes of data after the header')
  t.equal(await check(validator, unsignedMessage(new Uint8Array(8))), TopicValidatorResult.Accept, 'a header and no data')
  t.equal(await check(validator, unsignedMessage(new Uint8Array(19))), TopicValidatorResult.Reject, 'one byte over')
  t.equal(await check(validator, unsignedMessage(new Uint8Array(7))), TopicValidatorResult.Reject, 'shorter than the header')
  // Delivered by a stranger (a gater bug would be needed to get here).
  t.equal(await check(stranger, unsignedMessage(new Uint8Array(9))), TopicValidatorResult.Reject)
  // Signed by gossipsub: not one of ours, whoever signed it.
  const signed: Message = { type: 'signed', from: validator, topic: 't', data: new Uint8Array(9), sequenceNumber: 1n, signature: new Uint8Array(64), key: validator.publicKey }
  t.equal(await check(validator, signed), TopicValidatorResult.Reject)
  t.same(seen, ['oversized consensus 19', 'foreign consensus', 'foreign consensus', 'foreign consensus'])
})

t.test('redial delays double from the minimum to the cap, with bounded jitter', async (t) => {
  const limits = { redialDelayMinMs: 100, redialDelayMaxMs: 1_000, dialTimeoutMs: 1_000 }
  const fixed = (value: number) =>
    new Redialer([], limits, { dial: async () => {}, isConnected: () => false, random: () => value, now: () => 0, onDialFailed() {} })
  t.same([1, 2, 3, 4, 5, 6, 40].map((failures) => fixed(0.5).delayMs(failures)), [100, 200, 400, 800, 1_000, 1_000, 1_000])
  t.same([1, 3].map((failures) => fixed(0).delayMs(failures)), [100, 320], 'jitter never goes below the minimum')
  t.same([1, 5].map((failures) => fixed(0.999).delayMs(failures)), [120, 1_000], 'nor above the cap')
  t.throws(() => new Redialer([], { ...limits, redialDelayMinMs: 0 }, { dial: async () => {}, isConnected: () => false, random: Math.random, now: Date.now, onDialFailed() {} }))
})

t.test('the redialer retries a failing peer with growing delays, one dial at a time, and stops', async (t) => {
  const dialTimes: number[] = []
  const failures: number[] = []
  let connected = false
  let inFlight = 0
  let maxInFlight = 0
  const redialer = new Redialer(['peer'], { redialDelayMinMs: 50, redialDelayMaxMs: 200, dialTimeoutMs: 1_000 }, {
    dial: async () => {
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      dialTimes.push(Date.now())
      await new Promise((resolve) => setTimeout(resolve, 5))
      inFlight--
      if (dialTimes.length < 5) throw new Error('refused')
      connected = true
    },
    isConnected: () => connected,
    random: () => 0.5,
    now: Date.now,
    onDialFailed: (_peer, count) => failures.push(count)
  })
  redialer.start()
  const deadline = Date.now() + 5_000
  while (dialTimes.length < 5 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
  t.equal(dialTimes.length, 5, 'dialed five times: four failures, then success')
  t.same(failures, [1, 2, 3, 4])
  const gaps = dialTimes.slice(1).map((time, index) => time - dialTimes[index]!)
  // 50, 100, 200, 200 ms of delay plus the 5 ms dial; 2 ms of slack for clock rounding.
  for (const [index, expected] of [50, 100, 200, 200].entries()) {
    t.ok(gaps[index]! >= expected - 2, `gap ${index} of ${gaps[index]} ms is at least ${expected} ms`)
  }
  t.equal(maxInFlight, 1, 'never two dials of one peer at once')
  redialer.connected('peer')
  // A connection that drops at once counts as a failure: the next delay keeps growing.
  connected = false
  redialer.disconnected('peer')
  t.equal(redialer.failures('peer'), 5)
  redialer.stop()
  const dialsAtStop = dialTimes.length
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(dialTimes.length, dialsAtStop, 'nothing dials after stop')
})

t.test('the log throttle writes one line per key per interval and counts the rest', async (t) => {
  let now = 0
  const lines: string[] = []
  const throttle = new LogThrottle(1_000, () => now)
  for (let i = 0; i < 5; i++) throttle.maybeLog('a', (suppressed) => lines.push(`a ${suppressed}`))
  throttle.maybeLog('b', (suppressed) => lines.push(`b ${suppressed}`))
  now = 1_000
  throttle.maybeLog('a', (suppressed) => lines.push(`a ${suppressed}`))
  t.same(lines, ['a 0', 'b 0', 'a 4'])
})

t.test('limits default from the wire limits and keep their relations', async (t) => {
  t.equal(defaultTransportLimits.messageBytesMax, protocolLimits.messageBytesMax)
  t.ok(defaultTransportLimits.gossipFrameBytesMax > defaultTransportLimits.messageBytesMax)
  t.ok(defaultTransportLimits.responseBytesMax >= defaultTransportLimits.messageBytesMax)
  const base = { chainId: 'c1', secretKey: new Uint8Array(32).fill(1), validators: [{ publicKey: keyOf(1), addresses: ['/ip4/127.0.0.1/tcp/7001'] }] }
  const resolved = resolveTransportOptions({ ...base, limits: { messageBytesMax: 1_000 } })
  t.equal(resolved.limits.gossipFrameBytesMax, 4 * 1_000 + 64 * 1024, 'the frame bound follows the message bound')
  t.same(resolved.listenAddresses, ['/ip4/127.0.0.1/tcp/0'])
  t.throws(() => resolveTransportOptions({ ...base, limits: { messageBytesMax: 1_000, responseBytesMax: 999 } }), /limits\.responseBytesMax/)
  t.throws(() => resolveTransportOptions({ ...base, limits: { redialDelayMinMs: 500, redialDelayMaxMs: 100 } }), /limits\.redialDelayMaxMs/)
  t.throws(() => resolveTransportOptions({ ...base, validators: [...base.validators, ...base.validators] }), /validators\[1\]\.publicKey: is listed twice/)
  t.throws(() => resolveTransportOptions({ ...base, gossip: { meshDegreeLow: 5, meshDegree: 4, meshDegreeHigh: 8 } }), /gossip\.meshDegree/)
  t.same(resolved.gossip, { ...resolved.gossip, meshDegree: 0, meshDegreeLow: 0, meshDegreeHigh: 0, lazyDegree: 0 }, 'no relaying by default')
  t.throws(() => resolveTransportOptions({ ...base, gossip: { meshDegree: 3 } }), /must be 0 with meshDegreeLow and meshDegreeHigh 0/, 'a mesh needs its bounds')
  t.equal(resolveTransportOptions({ ...base, gossip: { meshDegree: 4, meshDegreeLow: 3, meshDegreeHigh: 8, lazyDegree: 2 } }).gossip.meshDegree, 4, 'a relaying mesh')
  t.throws(() => resolveTransportOptions({ ...base, listenAddresses: ['not-an-address'] }), /listenAddresses\[0\]/)
})
