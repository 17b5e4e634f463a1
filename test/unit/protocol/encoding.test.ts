import t from 'tap'
import fc from 'fast-check'
import { decode, encode, type Encodable } from '../../../src/protocol/encoding.ts'
import { ProtocolError } from '../../../src/protocol/errors.ts'
import { hexToBytes, concatBytes } from '../../../src/protocol/bytes.ts'

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    return error instanceof ProtocolError ? error.code : `not a ProtocolError: ${String(error)}`
  }
  return undefined
}

const encodable: fc.Arbitrary<Encodable> = fc.letrec<{ value: Encodable }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    fc.string(),
    fc.uint8Array({ maxLength: 40 }),
    fc.array(tie('value'), { maxLength: 5 })
  )
})).value

t.test('round trip: decode(encode(v)) equals v and re-encodes to the same bytes', async (t) => {
  fc.assert(
    fc.property(encodable, (value) => {
      const bytes = encode(value)
      const back = decode(bytes)
      t.same(back, value)
      return Buffer.from(encode(back)).equals(Buffer.from(bytes))
    }),
    { numRuns: 500 }
  )
})

t.test('same value, same bytes; bigint and number never alias', async (t) => {
  t.same(encode([1, 'a', 5n]), encode([1, 'a', 5n]))
  t.not(Buffer.from(encode(5)).toString('hex'), Buffer.from(encode(5n)).toString('hex'))
  t.equal(typeof decode(encode(5n)), 'bigint')
  t.equal(typeof decode(encode(5)), 'number')
})

t.test('malformed input is refused with a typed error', async (t) => {
  const good = encode(['x', 1n, new Uint8Array([1, 2])])
  t.equal(codeOf(() => decode(new Uint8Array())), 'DECODE_MALFORMED', 'empty')
  t.equal(codeOf(() => decode(good.subarray(0, good.length - 1))), 'DECODE_MALFORMED', 'truncated')
  t.equal(codeOf(() => decode(concatBytes(good, new Uint8Array([0])))), 'DECODE_TRAILING_BYTES', 'trailing garbage')
  t.equal(codeOf(() => decode(good, { bytesMax: good.length - 1 })), 'DECODE_OVERSIZED', 'oversized')
  t.equal(codeOf(() => decode(hexToBytes('c1'))), 'DECODE_MALFORMED', 'reserved byte 0xc1')
  t.equal(codeOf(() => decode(hexToBytes('d6ff00000001'))), 'DECODE_MALFORMED', 'timestamp extension')
  t.equal(codeOf(() => decode(hexToBytes('c7010001'))), 'DECODE_MALFORMED', 'undefined extension')
})

t.test('non-canonical input is refused', async (t) => {
  // 5 as uint8 (0xcc 05) instead of a positive fixint.
  t.equal(codeOf(() => decode(hexToBytes('cc05'))), 'DECODE_NON_CANONICAL', 'long integer form')
  // 1.5 as float64.
  t.equal(codeOf(() => decode(hexToBytes('cb3ff8000000000000'))), 'DECODE_NON_CANONICAL', 'float')
  // map {b:1, a:2}: keys out of order.
  t.equal(codeOf(() => decode(hexToBytes('82a16201a16102'))), 'DECODE_NON_CANONICAL', 'unsorted map keys')
  // 'a' as str8 (0xd9 01 61) instead of fixstr.
  t.equal(codeOf(() => decode(hexToBytes('d90161'))), 'DECODE_NON_CANONICAL', 'long string form')
  // deeply nested arrays.
  const deep = new Uint8Array(40).fill(0x91)
  t.equal(codeOf(() => decode(concatBytes(deep, new Uint8Array([0])))), 'DECODE_MALFORMED', 'nesting')
})

t.test('fuzzed bytes never throw anything but a ProtocolError', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      try {
        decode(bytes)
      } catch (error) {
        return error instanceof ProtocolError
      }
      return true
    }),
    { numRuns: 2000 }
  )
  t.pass('2000 random inputs')
})
