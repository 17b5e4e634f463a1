/**
 * The proposer's payload encoding spliced from signing bytes (encodePayloadOf) is exactly what
 * packing the transaction tuples gives, for any count of transactions.
 */
import t from 'tap'
import { encode } from '../../../../src/protocol/encoding.ts'
import { transactionToTuple } from '../../../../src/protocol/envelope.ts'
import { bytesToHex } from '../../../../src/protocol/bytes.ts'
import { encodePayloadOf } from '../../../../src/node/replica/replica.ts'
import { createTestNetwork, generatePayments } from '../../../../src/ledger/testing/index.ts'

t.test('encodePayloadOf gives encode(tuples) byte for byte', async (t) => {
  const net = createTestNetwork()
  const envelopes = generatePayments(net, { count: 40, seed: 7 })
  for (const count of [0, 1, 15, 16, 40]) {
    const some = envelopes.slice(0, count)
    t.equal(bytesToHex(encodePayloadOf(some)), bytesToHex(encode(some.map(transactionToTuple))), `${count} transactions`)
  }
})
