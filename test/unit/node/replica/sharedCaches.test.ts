// Per-process caches the simulator shares between replicas: they must change the cost, never the result.
import t from 'tap'
import { generatePayments, createTestNetwork } from '../../../../src/ledger/testing/index.ts'
import { transactionToTuple } from '../../../../src/protocol/envelope.ts'
import { encodeTransactionBody } from '../../../../src/ledger/transactions.ts'
import { createNativeVerifier } from '../../../../src/platform/ed25519Native.ts'
import { AdmissionCache } from '../../../../src/node/replica/admission.ts'
import { ExecutionCache } from '../../../../src/node/replica/executionCache.ts'
import { cloneLedgerState, fullStateDigest } from '../../../../src/ledger/state.ts'
import { commitBlock, executeBlock } from '../../../../src/ledger/execute.ts'
import { bytesToHex } from '../../../../src/protocol/bytes.ts'
import type { Encodable } from '../../../../src/protocol/encoding.ts'

t.test('a copy of a known transaction tuple is recognized; an altered copy is checked afresh and refused', async (t) => {
  const network = createTestNetwork({ customersPerBank: 4 })
  const admission = new AdmissionCache({ chainId: network.chainId, verifier: createNativeVerifier() })
  const [payment] = generatePayments(network, { count: 1, seed: 3 })
  const first = admission.admitTuple(transactionToTuple(payment!))
  t.ok(first.ok)
  t.equal(admission.verifications, 1)
  const copy = structuredClone(transactionToTuple(payment!)) as Encodable[]
  t.equal(admission.admitTuple(copy), first, 'a field-for-field copy is the same admission')
  t.equal(admission.verifications, 1, 'without another signature check')
  const tuple = transactionToTuple(payment!) as Encodable[]
  const altered = [...tuple]
  altered[3] = (tuple[3] as bigint) + 1n
  const refused = admission.admitTuple(altered)
  t.equal(refused.ok, false)
  t.equal(!refused.ok && refused.code, 'BAD_SIGNATURE', 'same signature, other nonce: verified and refused')
  const otherBody = structuredClone(tuple) as Encodable[]
  otherBody[4] = encodeTransactionBody({ kind: 'payment', payee: 'x', payerToken: 'a.CNY', payeeToken: 'b.CNY', amount: 1n, purpose: 'GDDS', documentRef: undefined, fxProvider: undefined })
  t.equal(admission.admitTuple(otherBody).ok, false, 'same signature, other body: refused')
})

t.test('replicas at the same state share one execution of a block, with the same receipts, writes and root', async (t) => {
  const network = createTestNetwork({ customersPerBank: 6 })
  const admission = new AdmissionCache({ chainId: network.chainId, verifier: createNativeVerifier() })
  const payments = generatePayments(network, { count: 200, seed: 4 })
  const transactions = payments.map((payment) => {
    const admitted = admission.admitEnvelope(payment)
    if (!admitted.ok) throw new Error(admitted.message)
    return admitted.tx
  })
  const signatureCheck = (): boolean => true
  const block = { height: 1, timeMs: network.state.timeMs + 1000, transactions }
  const hash = new Uint8Array(32).fill(7)
  const cache = new ExecutionCache()
  const a = cloneLedgerState(network.state)
  const b = cloneLedgerState(network.state)
  const reference = cloneLedgerState(network.state)
  const fromA = cache.execute(a, block, hash, signatureCheck)
  const fromB = cache.execute(b, block, hash, signatureCheck)
  t.equal(cache.executions, 1)
  t.equal(cache.hits, 1)
  t.equal(fromB.receipts, fromA.receipts)
  t.equal(fromB.pending.base, b, 'the shared writes are rebased on the second ledger')
  const alone = executeBlock(reference, block, signatureCheck)
  t.same(fromA.receipts, alone.receipts)
  t.equal(bytesToHex(fromB.stateRoot), bytesToHex(alone.stateRoot))
  const [afterA, afterB, afterReference] = [commitBlock(a, fromA.pending), commitBlock(b, fromB.pending), commitBlock(reference, alone.pending)]
  const digests = [afterA, afterB, afterReference].map((state) => bytesToHex(fullStateDigest(state)))
  t.equal(new Set(digests).size, 1, 'three ledgers with identical entries')
  const other = cache.execute(afterA, { ...block, height: 2, timeMs: block.timeMs + 1000 }, hash, signatureCheck)
  t.equal(cache.executions, 2, 'another state (height, root): executed again')
  t.ok(other.receipts.every((receipt) => receipt.status === 'rejected'), 'the same payments again are replays')
})
