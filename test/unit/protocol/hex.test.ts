import t from 'tap'
import fc from 'fast-check'
import { bytesToHex, hexToBytes } from '../../../src/protocol/bytes.ts'
import { ProtocolError } from '../../../src/protocol/errors.ts'

t.test('hex round-trips any bytes, in either case, longer than the 128-byte scratch too', async (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
    const hex = bytesToHex(bytes)
    t.equal(hex, Buffer.from(bytes).toString('hex'))
    t.same(hexToBytes(hex), bytes)
    t.same(hexToBytes(hex.toUpperCase()), bytes)
  }), { numRuns: 200 })
})

t.test('hex that is not hex is refused with BAD_HEX, naming the input', async (t) => {
  // Odd length; every non-hex character at either position of a pair, including ones whose code
  // is above 127 or whose low bits would pass a careless table; and a wrong expected length.
  for (const bad of ['a', 'abc', 'g0', '0g', 'zz', '0x', ' 00', '00 ', '\u00e90', '0\u0100', ':0', '0@', '/0', '0`', 'G0']) {
    const error = catchError(() => hexToBytes(bad))
    t.ok(error instanceof ProtocolError && error.code === 'BAD_HEX', `${JSON.stringify(bad)} refused with BAD_HEX`)
    t.match((error as Error).message, JSON.stringify(bad), 'the message quotes the input')
  }
  t.throws(() => hexToBytes(42 as unknown as string), /BAD_HEX|expected an even-length hex string/)
  t.throws(() => hexToBytes('00', 2), /expected 2 bytes of hex, got 1/)
  t.same(hexToBytes(''), new Uint8Array(0))
})

function catchError(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  return undefined
}
