/**
 * Transaction bodies and admission: every kind round-trips through its canonical tuple and the
 * wire; every malformed body is a TransactionError with a code from the closed set, before any
 * block sees it.
 */
import t from 'tap'
import { decode, encode } from '../../../src/protocol/encoding.ts'
import type { Encodable } from '../../../src/protocol/encoding.ts'
import { decodeTransaction, encodeTransaction, signTransaction } from '../../../src/protocol/envelope.ts'
import { createPortableSigner } from '../../../src/protocol/keys.ts'
import { amountMax } from '../../../src/ledger/currency.ts'
import { TransactionError, transactionErrorCodes } from '../../../src/ledger/errors.ts'
import { fxRateScale } from '../../../src/ledger/fx.ts'
import { stateKeys } from '../../../src/ledger/stateKeys.ts'
import {
  admitTransaction,
  decodeTransactionBody,
  describeTransactionBody,
  encodeTransactionBody,
  fxRateMax,
  type TransactionBody
} from '../../../src/ledger/transactions.ts'
import { tokenRef } from '../../../src/ledger/tokens.ts'
import { loadDataFile } from '../../../src/config/files.ts'

const signer = createPortableSigner(new Uint8Array(32).fill(7))

function envelope(body: Encodable, signerId = 'icbc-corporate-0') {
  return signTransaction({ chainId: 'corridor-test', signer: signerId, publicKey: signer.publicKey, nonce: 1n, body }, signer)
}

function admissionCode(body: Encodable, signerId?: string): string | undefined {
  try {
    admitTransaction(envelope(body, signerId))
  } catch (error) {
    if (error instanceof TransactionError) {
      if (!transactionErrorCodes.includes(error.code)) return `code outside the closed set: ${error.code}`
      if (error.message.length === 0) return 'empty message'
      return error.code
    }
    return `untyped error: ${String(error)}`
  }
  return undefined
}

const cnPolicy = loadDataFile('configs/policies/cn.yaml')

const bodies: TransactionBody[] = [
  { kind: 'issue', token: 'icbc.CNY', account: 'icbc-corporate-0', amount: 100n },
  { kind: 'redeem', token: 'cb.CNY', account: 'icbc', amount: 5n },
  { kind: 'transfer', token: 'cb.AED', recipient: 'enbd', amount: amountMax },
  { kind: 'payment', payee: 'enbd-corporate-0', payerToken: 'icbc.CNY', payeeToken: 'enbd.AED', amount: 1n, purpose: 'GDDS', documentRef: 'INV-2025-001', fxProvider: 'fxhub' },
  { kind: 'payment', payee: 'icbc-corporate-1', payerToken: 'icbc.CNY', payeeToken: 'icbc.CNY', amount: 10n, purpose: undefined, documentRef: undefined, fxProvider: undefined },
  { kind: 'fxRateUpdate', rates: [['AED', 3_672_500_000n], ['CNY', 7_100_000_000n]] },
  { kind: 'policyUpdate', jurisdiction: 'CN', document: { jurisdiction: 'CN', referenceCurrency: 'CNY', utcOffset: '+08:00' } },
  { kind: 'freeze', account: 'icbc-corporate-2' },
  { kind: 'unfreeze', account: 'icbc-corporate-2' }
]

t.test('every kind round-trips through its tuple, the signed envelope and the wire', async (t) => {
  for (const body of bodies) {
    const tuple = encodeTransactionBody(body)
    t.equal((tuple as Encodable[])[0], body.kind, `${body.kind}: the tuple leads with its kind`)
    t.same(decodeTransactionBody(tuple), body, `${body.kind}: decode(encode(body)) = body`)
    const tx = envelope(tuple)
    const received = decodeTransaction(encodeTransaction(tx))
    const admitted = admitTransaction(received)
    t.equal(admitted.kind, body.kind)
    t.same(admitted.body, body, `${body.kind}: the body survives the wire`)
    t.equal(admitted.id, tx.id)
    t.ok(describeTransactionBody(body).length > 0)
  }
})

t.test('admission precomputes the state keys execution uses', async (t) => {
  const admitted = admitTransaction(envelope(encodeTransactionBody(bodies[3]!)))
  t.equal(admitted.kind, 'payment')
  if (admitted.kind !== 'payment') return
  t.equal(admitted.nonceKey, stateKeys.nonce('icbc-corporate-0'))
  t.equal(admitted.payerBalanceKey, 'b/icbc-corporate-0/icbc.CNY')
  t.equal(admitted.payeeBalanceKey, 'b/enbd-corporate-0/enbd.AED')
  t.equal(admitted.payerBankSettlementKey, 'b/icbc/cb.CNY')
  t.equal(admitted.payeeBankSettlementKey, 'b/enbd/cb.AED')
  t.equal(admitted.fxPayerSettlementKey, 'b/fxhub/cb.CNY')
  t.equal(admitted.fxPayeeSettlementKey, 'b/fxhub/cb.AED')
  t.equal(admitted.payerToken, tokenRef('icbc.CNY'), 'token references are interned')
})

t.test('a real policy document is admitted with its parse', async (t) => {
  const admitted = admitTransaction(envelope(['policyUpdate', 'CN', cnPolicy as Encodable]))
  t.equal(admitted.kind, 'policyUpdate')
  if (admitted.kind === 'policyUpdate') t.equal(admitted.policy.jurisdiction, 'CN')
})

t.test('malformed bodies are typed errors', async (t) => {
  const cases: Array<[string, Encodable, string]> = [
    ['not a tuple', { kind: 'issue' }, 'MALFORMED_BODY'],
    ['empty tuple', [], 'MALFORMED_BODY'],
    ['a string', 'payment', 'MALFORMED_BODY'],
    ['nil', null, 'MALFORMED_BODY'],
    ['unknown kind', ['mint', 'icbc.CNY', 'x', 1n], 'UNKNOWN_KIND'],
    ['kind not a string', [7, 'icbc.CNY', 'x', 1n], 'UNKNOWN_KIND'],
    ['issue too short', ['issue', 'icbc.CNY', 'icbc-corporate-0'], 'MALFORMED_BODY'],
    ['issue too long', ['issue', 'icbc.CNY', 'icbc-corporate-0', 1n, 'extra'], 'MALFORMED_BODY'],
    ['payment without an FX provider across currencies', ['payment', 'enbd-corporate-0', 'icbc.CNY', 'enbd.AED', 1n, null, null, null], 'MALFORMED_BODY'],
    ['payment with an FX provider in one currency', ['payment', 'bochk-corporate-0', 'icbc.CNH', 'bochk.CNH', 1n, null, null, 'fxhub'], 'MALFORMED_BODY'],
    ['payment of a settlement asset', ['payment', 'enbd', 'cb.CNY', 'cb.AED', 1n, null, null, 'fxhub'], 'MALFORMED_BODY'],
    ['document reference not text', ['payment', 'x', 'icbc.CNY', 'icbc.CNY', 1n, null, 5, null], 'MALFORMED_BODY'],
    ['FX update without rates', ['fxRateUpdate', []], 'MALFORMED_BODY'],
    ['FX rate not a pair', ['fxRateUpdate', [['CNY']]], 'MALFORMED_BODY'],
    ['freeze without account', ['freeze'], 'MALFORMED_BODY']
  ]
  for (const [what, body, code] of cases) t.equal(admissionCode(body), code, what)
})

t.test('zero, negative, non-bigint and over-range amounts are INVALID_AMOUNT', async (t) => {
  const amounts: Array<[string, Encodable]> = [
    ['zero', 0n],
    ['negative', -5n],
    ['above the maximum', amountMax + 1n],
    ['2^64 - 1', 2n ** 64n - 1n],
    ['a small number instead of a bigint', 100],
    ['text', '100'],
    ['nil', null]
  ]
  for (const [what, amount] of amounts) {
    t.equal(admissionCode(['issue', 'icbc.CNY', 'icbc-corporate-0', amount]), 'INVALID_AMOUNT', `issue: ${what}`)
    t.equal(admissionCode(['redeem', 'icbc.CNY', 'icbc-corporate-0', amount]), 'INVALID_AMOUNT', `redeem: ${what}`)
    t.equal(admissionCode(['transfer', 'icbc.CNY', 'icbc-corporate-1', amount]), 'INVALID_AMOUNT', `transfer: ${what}`)
    t.equal(admissionCode(['payment', 'enbd-corporate-0', 'icbc.CNY', 'enbd.AED', amount, null, null, 'fxhub']), 'INVALID_AMOUNT', `payment: ${what}`)
  }
  t.equal(admissionCode(['issue', 'icbc.CNY', 'icbc-corporate-0', amountMax]), undefined, 'the maximum itself is allowed')
})

t.test('unknown currencies, bad tokens and bad ids', async (t) => {
  t.equal(admissionCode(['issue', 'icbc.XYZ', 'icbc-corporate-0', 1n]), 'UNKNOWN_CURRENCY', 'token in an unknown currency')
  t.equal(admissionCode(['issue', 'icbc.cny', 'icbc-corporate-0', 1n]), 'UNKNOWN_CURRENCY', 'currency codes are upper case')
  t.equal(admissionCode(['fxRateUpdate', [['XYZ', fxRateScale]]]), 'UNKNOWN_CURRENCY', 'FX rate for an unknown currency')
  t.equal(admissionCode(['issue', 'CNY', 'icbc-corporate-0', 1n]), 'BAD_ID', 'token without issuer')
  t.equal(admissionCode(['issue', '.CNY', 'icbc-corporate-0', 1n]), 'BAD_ID', 'empty issuer')
  t.equal(admissionCode(['issue', 'ICBC.CNY', 'icbc-corporate-0', 1n]), 'BAD_ID', 'upper-case issuer')
  t.equal(admissionCode(['issue', 42, 'icbc-corporate-0', 1n]), 'BAD_ID', 'token not a string')
  t.equal(admissionCode(['issue', 'icbc.CNY', 'Bad Account', 1n]), 'BAD_ID', 'account with spaces')
  t.equal(admissionCode(['issue', 'icbc.CNY', 'a'.repeat(65), 1n]), 'BAD_ID', 'account id too long')
  t.equal(admissionCode(['transfer', 'icbc.CNY', 'x/y', 1n]), 'BAD_ID', "a '/' would break the key space")
  t.equal(admissionCode(['transfer', 'icbc.CNY', 'x.y', 1n]), 'BAD_ID', "a '.' is reserved for tokens")
  t.equal(admissionCode(['payment', 'enbd-corporate-0', 'icbc.CNY', 'enbd.AED', 1n, 'gdds', null, 'fxhub']), 'BAD_ID', 'lower-case purpose code')
  t.equal(admissionCode(['payment', 'enbd-corporate-0', 'icbc.CNY', 'enbd.AED', 1n, 'G'.repeat(36), null, 'fxhub']), 'BAD_ID', 'purpose code too long')
  t.equal(admissionCode(['payment', 'enbd-corporate-0', 'icbc.CNY', 'enbd.AED', 1n, null, null, 'FX Hub']), 'BAD_ID', 'bad FX provider id')
  t.equal(admissionCode(['policyUpdate', 'China', {}]), 'BAD_ID', 'jurisdiction not a two-letter code')
  t.equal(admissionCode(['freeze', '']), 'BAD_ID', 'empty account')
})

t.test('free text: length and control characters', async (t) => {
  const pay = (documentRef: Encodable): Encodable => ['payment', 'enbd-corporate-0', 'icbc.CNY', 'enbd.AED', 1n, 'GDDS', documentRef, 'fxhub']
  t.equal(admissionCode(pay('x'.repeat(256))), undefined, '256 characters is the limit')
  t.equal(admissionCode(pay('x'.repeat(257))), 'BAD_TEXT', 'over-long reference')
  t.equal(admissionCode(pay('')), 'BAD_TEXT', 'empty reference')
  t.equal(admissionCode(pay('INV\n1')), 'BAD_TEXT', 'newline')
  t.equal(admissionCode(pay('INV\u0085')), 'BAD_TEXT', 'C1 control')
  t.equal(admissionCode(pay('发票-2025/001')), undefined, 'non-ASCII text is fine')
  t.equal(admissionCode(pay('inv-\ud83d\ude00')), undefined, 'a surrogate pair (an emoji) is fine')
  for (const lone of ['inv-\ud800', '\udc00-inv', 'a\ude00\ud83d']) {
    t.equal(admissionCode(pay(lone)), 'BAD_TEXT', `a lone surrogate (${JSON.stringify(lone)}): no UTF-8 encoding, peers could not decode it`)
    t.throws(() => decode(encode(lone)), { code: 'DECODE_NON_CANONICAL' }, 'what a peer would meet')
  }
})

t.test('FX rates: positive, bounded, ascending, once each', async (t) => {
  t.equal(admissionCode(['fxRateUpdate', [['CNY', 0n]]]), 'INVALID_RATE', 'zero')
  t.equal(admissionCode(['fxRateUpdate', [['CNY', -1n]]]), 'INVALID_RATE', 'negative')
  t.equal(admissionCode(['fxRateUpdate', [['CNY', fxRateMax + 1n]]]), 'INVALID_RATE', 'too large')
  t.equal(admissionCode(['fxRateUpdate', [['CNY', 7]]]), 'INVALID_RATE', 'a number, not a scaled bigint')
  t.equal(admissionCode(['fxRateUpdate', [['CNY', fxRateScale], ['AED', fxRateScale]]]), 'INVALID_RATE', 'out of order')
  t.equal(admissionCode(['fxRateUpdate', [['CNY', fxRateScale], ['CNY', fxRateScale]]]), 'INVALID_RATE', 'repeated')
  const many = Array.from({ length: 65 }, () => ['CNY', fxRateScale] as Encodable)
  t.equal(admissionCode(['fxRateUpdate', many]), 'MALFORMED_BODY', 'too many')
})

t.test('policy documents are checked by the policy schema at admission', async (t) => {
  t.equal(admissionCode(['policyUpdate', 'CN', { jurisdiction: 'CN' }]), 'INVALID_POLICY', 'missing fields')
  t.equal(admissionCode(['policyUpdate', 'HK', cnPolicy as Encodable]), 'INVALID_POLICY', 'document for another jurisdiction')
  t.equal(admissionCode(['policyUpdate', 'CN', 'jurisdiction: CN']), 'INVALID_POLICY', 'text instead of a document')
})

t.test('paying or transferring to oneself is refused', async (t) => {
  t.equal(admissionCode(['transfer', 'icbc.CNY', 'icbc-corporate-0', 1n], 'icbc-corporate-0'), 'SELF_TRANSFER')
  t.equal(admissionCode(['payment', 'icbc-corporate-0', 'icbc.CNY', 'icbc.CNY', 1n, null, null, null], 'icbc-corporate-0'), 'SELF_TRANSFER')
})

t.test('decoding is total: random values give a body or a typed error', async (t) => {
  const values: Encodable[] = [true, 1, 1n, new Uint8Array(3), ['payment', ...Array(7).fill(null)], ['issue', null, null, null], [['issue']], ['fxRateUpdate', 'CNY'], ['policyUpdate', 'CN']]
  for (const value of values) {
    try {
      decodeTransactionBody(value)
      t.fail(`accepted ${String(value)}`)
    } catch (error) {
      t.ok(error instanceof TransactionError, `typed error for ${JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))}`)
    }
  }
})
