// The memoized encodings that let one process (a simulation) encode and decode a block once rather
// than once per validator: they must give exactly the bytes and values of the plain path.
import t from 'tap'
import fc from 'fast-check'
import { encode, encodeTuple, Preencoded, type Encodable } from '../../../src/protocol/encoding.ts'
import { hashValue } from '../../../src/protocol/hash.ts'
import { encodePayload, payloadHash, payloadHashTag, type Block } from '../../../src/consensus/block.ts'
import {
  decodeConsensusMessage,
  encodeConsensusMessage,
  messageToTuple,
  type CertifiedBlock,
  type ConsensusMessage
} from '../../../src/consensus/messages.ts'
import { encodeWalRecord, walRecordToTuple, type WalRecord } from '../../../src/consensus/wal.ts'
import { checkConsensusLimits, defaultConsensusLimits } from '../../../src/consensus/limits.ts'

const encodable: fc.Arbitrary<Encodable> = fc.letrec<{ value: Encodable }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -1_000_000, max: 2 ** 40 }),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
    fc.string({ maxLength: 300 }),
    fc.uint8Array({ maxLength: 300 }),
    fc.array(tie('value'), { maxLength: 20 })
  )
})).value

t.test('encodeTuple with pre-encoded elements gives the bytes of encode, at every array header size', async (t) => {
  fc.assert(
    fc.property(fc.array(encodable, { maxLength: 40 }), fc.array(fc.boolean(), { maxLength: 40 }), (items, splice) => {
      const mixed = items.map((item, i) => (splice[i] === true ? new Preencoded(encode(item)) : item))
      return Buffer.from(encodeTuple(mixed)).equals(Buffer.from(encode(items)))
    }),
    { numRuns: 300 }
  )
  for (const length of [0, 15, 16, 65_535, 65_536, 70_000]) {
    const items = Array.from({ length }, (_, i) => i % 7)
    t.ok(Buffer.from(encodeTuple(items.map((item, i) => (i % 2 === 0 ? new Preencoded(encode(item)) : item)))).equals(Buffer.from(encode(items))), `${length} elements`)
  }
})

const header = (height: number, payload: Encodable): Block['header'] => ({
  chainId: 'chain-a',
  height,
  timeMs: 1_000 + height,
  previousBlockHash: new Uint8Array(32).fill(height),
  proposer: 'v1',
  payloadHash: payloadHash(payload),
  appHash: new Uint8Array(32).fill(9)
})

const signature = (i: number): Uint8Array => new Uint8Array(64).fill(i)

t.test('messages and WAL records with memoized payloads encode as their tuples do', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.array(fc.uint8Array({ maxLength: 120 }), { maxLength: 6 }), { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 1000 }), (payload, height) => {
      const block: Block = { header: header(height, payload), payload }
      const certified: CertifiedBlock = { block, certificate: { height, round: 0, blockHash: new Uint8Array(32).fill(1), signatures: [{ validator: 'v1', signature: signature(1) }] } }
      const messages: ConsensusMessage[] = [
        {
          kind: 'proposal',
          proposal: { chainId: 'chain-a', height, round: 2, validRound: 1, blockHash: new Uint8Array(32).fill(3), proposer: 'v1', signature: signature(2) },
          block,
          proofOfLock: [{ validator: 'v2', signature: signature(3) }]
        },
        { kind: 'blockResponse', chainId: 'chain-a', blocks: [certified, certified] },
        { kind: 'vote', vote: { chainId: 'chain-a', type: 'prevote', height, round: 0, blockHash: null, validator: 'v3', signature: signature(4) } },
        { kind: 'blockRequest', chainId: 'chain-a', fromHeight: height, count: 3 }
      ]
      const records: WalRecord[] = [
        { kind: 'proposal', message: messages[0] as Extract<ConsensusMessage, { kind: 'proposal' }> },
        { kind: 'lock', height, round: 1, block },
        { kind: 'valid', height, round: 1, block, proofOfLock: [{ validator: 'v2', signature: signature(5) }] },
        { kind: 'decision', block, certificate: certified.certificate }
      ]
      for (let pass = 0; pass < 2; pass++) {
        for (const message of messages) if (!Buffer.from(encodeConsensusMessage(message)).equals(Buffer.from(encode(messageToTuple(message))))) return false
        for (const record of records) if (!Buffer.from(encodeWalRecord(record)).equals(Buffer.from(encode(walRecordToTuple(record))))) return false
      }
      return Buffer.from(encodePayload(payload)).equals(Buffer.from(encode(payload))) && Buffer.from(payloadHash(payload)).equals(Buffer.from(hashValue(payloadHashTag, payload)))
    }),
    { numRuns: 100 }
  )
  t.pass('proposals, block responses, votes, block requests and every WAL record kind')
})

t.test('a bytes object is decoded once per process and limits; failures are not remembered', async (t) => {
  const payload = [new Uint8Array([1, 2, 3])]
  const block: Block = { header: header(5, payload), payload }
  const bytes = encodeConsensusMessage({
    kind: 'proposal',
    proposal: { chainId: 'chain-a', height: 5, round: 0, validRound: -1, blockHash: new Uint8Array(32), proposer: 'v1', signature: signature(1) },
    block,
    proofOfLock: []
  })
  const limits = checkConsensusLimits()
  const first = decodeConsensusMessage(bytes, limits)
  t.equal(decodeConsensusMessage(bytes, checkConsensusLimits()), first, 'equal limits in another object: the same decoded message')
  t.not(decodeConsensusMessage(bytes.slice(), limits), first, 'other bytes with the same content: decoded again')
  t.same(decodeConsensusMessage(bytes.slice(), limits), first)
  const strict = checkConsensusLimits({ messageBytesMax: 1024, appHashBytesMax: 16 })
  t.throws(() => decodeConsensusMessage(bytes, strict), { code: 'MESSAGE_SHAPE' }, 'other limits: checked again, and refused')
  t.equal(decodeConsensusMessage(bytes, defaultConsensusLimits), first)
  const garbage = new Uint8Array([0xc1])
  t.throws(() => decodeConsensusMessage(garbage, limits), { code: 'MESSAGE_MALFORMED' })
  t.throws(() => decodeConsensusMessage(garbage, limits), { code: 'MESSAGE_MALFORMED' })
})
