/**
 * Block execution, kind by kind and reason by reason. Each rejection is checked to change
 * nothing but the signer's nonce (or nothing at all, for BAD_SIGNATURE, REPLAY, WRONG_CHAIN and
 * an unknown signer).
 */
import t from 'tap'
import type { Test } from 'tap'
import { amountMax } from '../../../src/ledger/currency.ts'
import { convertWithSpread, fxRateScale } from '../../../src/ledger/fx.ts'
import { ledgerReasonCodes, reasonCodes } from '../../../src/ledger/reasons.ts'
import { accountOf, balanceOf, lastNonceOf, tokenTotalsOf } from '../../../src/ledger/state.ts'
import { buildGenesis } from '../../../src/ledger/genesis.ts'
import { checkConservation } from '../../../src/ledger/invariants.ts'
import { stateKeys } from '../../../src/ledger/stateKeys.ts'
import type { ExecutedBlock, Receipt } from '../../../src/ledger/execute.ts'
import type { AdmittedTransaction } from '../../../src/ledger/transactions.ts'
import { createTestNetwork, standardGenesisDocument, TestNetwork, deriveSigners, type CreateTestNetworkOptions } from '../../../src/ledger/testing/index.ts'
import { loadDataFile } from '../../../src/config/files.ts'
import { policyReasonCodes } from '../../../src/ledger/policy/types.ts'

const cn = 'icbc-corporate-0'
const cn2 = 'icbc-corporate-1'
const hk = 'bochk-corporate-0'
const ae = 'enbd-corporate-0'
const sg = 'dbs-corporate-0'

const reasonsSeen = new Set<string>()

function settled(t: Test, receipt: Receipt | undefined): void {
  t.equal(receipt?.status, 'settled', receipt?.message ?? 'no receipt')
  t.equal(receipt?.reason, undefined)
}

function rejected(t: Test, receipt: Receipt | undefined, reason: string): void {
  t.equal(receipt?.status, 'rejected')
  t.equal(receipt?.reason, reason, receipt?.message ?? 'no receipt')
  t.ok((receipt?.message.length ?? 0) > 10, `the message says what is wrong: ${receipt?.message}`)
  reasonsSeen.add(reason)
}

/** Executes one transaction alone and checks it is rejected with `reason`, writing only its nonce. */
function rejectsAlone(t: Test, network: TestNetwork, tx: AdmittedTransaction, reason: string, writesNonce = true): ExecutedBlock {
  const executed = network.execute([tx])
  rejected(t, executed.receipts[0], reason)
  const written = [...executed.pending.writes.keys()]
  t.same(written, writesNonce ? [stateKeys.nonce(tx.signer)] : [], writesNonce ? 'only the nonce is written' : 'nothing is written')
  t.same(executed.events, [])
  return executed
}

function network(options: CreateTestNetworkOptions = {}): TestNetwork {
  return createTestNetwork(options)
}

t.test('issue mints a bank deposit token against a deposit', async (t) => {
  const net = network()
  const before = tokenTotalsOf(net.state, 'icbc.CNY')
  const { receipts } = net.apply([net.admit('icbc', { kind: 'issue', token: 'icbc.CNY', account: cn, amount: 5_000n })])
  settled(t, receipts[0])
  t.equal(balanceOf(net.state, cn, 'icbc.CNY'), 100_000_000n + 5_000n)
  const after = tokenTotalsOf(net.state, 'icbc.CNY')
  t.equal(after.supply, before.supply + 5_000n)
  t.equal(after.issued, before.issued + 5_000n)
  t.equal(after.redeemed, before.redeemed)
  t.same(checkConservation(net.state), [])
})

t.test('a central bank issues and redeems its settlement asset to banks', async (t) => {
  const net = network()
  const { receipts } = net.apply([
    net.admit('pboc', { kind: 'issue', token: 'cb.CNY', account: 'icbc', amount: 1_000n }),
    net.admit('pboc', { kind: 'redeem', token: 'cb.CNY', account: 'icbc', amount: 400n })
  ])
  settled(t, receipts[0])
  settled(t, receipts[1])
  t.equal(balanceOf(net.state, 'icbc', 'cb.CNY'), 100_000_000_000n + 600n)
  t.equal(tokenTotalsOf(net.state, 'cb.CNY').redeemed, 400n)
  t.same(checkConservation(net.state), [])
})

t.test('redeem burns a deposit token on withdrawal', async (t) => {
  const net = network()
  const { receipts } = net.apply([net.admit('icbc', { kind: 'redeem', token: 'icbc.CNH', account: cn, amount: 250n })])
  settled(t, receipts[0])
  t.equal(balanceOf(net.state, cn, 'icbc.CNH'), 100_000_000n - 250n)
  const totals = tokenTotalsOf(net.state, 'icbc.CNH')
  t.equal(totals.redeemed, 250n)
  t.equal(totals.supply, totals.issued - 250n)
  t.same(checkConservation(net.state), [])
})

t.test('transfer moves one token between holders', async (t) => {
  const net = network()
  const { receipts } = net.apply([
    net.admit(cn, { kind: 'transfer', token: 'icbc.CNY', recipient: cn2, amount: 700n }),
    net.admit('icbc', { kind: 'transfer', token: 'cb.CNH', recipient: 'bochk', amount: 9_000n }),
    net.admit('fxhub', { kind: 'transfer', token: 'cb.SGD', recipient: 'hkma', amount: 1n })
  ])
  for (const receipt of receipts) settled(t, receipt)
  t.equal(balanceOf(net.state, cn, 'icbc.CNY'), 100_000_000n - 700n)
  t.equal(balanceOf(net.state, cn2, 'icbc.CNY'), 100_000_000n + 700n)
  t.equal(balanceOf(net.state, 'bochk', 'cb.CNH'), 100_000_000_000n + 9_000n)
  t.equal(balanceOf(net.state, 'hkma', 'cb.SGD'), 1n, 'a central bank may hold another currency settlement asset')
  t.same(tokenTotalsOf(net.state, 'icbc.CNY'), tokenTotalsOf(createTestNetwork().state, 'icbc.CNY'), 'a transfer mints and burns nothing')
  t.same(checkConservation(net.state), [])
})

t.test('a cross-currency payment settles all legs atomically at the rate minus the spread', async (t) => {
  const net = network({ spreadBasisPoints: 25 })
  const amount = 1_234_567n // 12,345.67 CNY
  const expected = convertWithSpread(net.state.fx, amount, 'CNY', 'AED', 25)!
  t.equal(expected, (amount * 3_672_500_000n * 9_975n) / (7_100_000_000n * 10_000n))
  const before = net.state
  const balances = (state = net.state) => ({
    payer: balanceOf(state, cn, 'icbc.CNY'),
    payee: balanceOf(state, ae, 'enbd.AED'),
    payerBank: balanceOf(state, 'icbc', 'cb.CNY'),
    payeeBank: balanceOf(state, 'enbd', 'cb.AED'),
    fxIn: balanceOf(state, 'fxhub', 'cb.CNY'),
    fxOut: balanceOf(state, 'fxhub', 'cb.AED'),
    payerSupply: tokenTotalsOf(state, 'icbc.CNY').supply,
    payeeSupply: tokenTotalsOf(state, 'enbd.AED').supply
  })
  const start = balances(before)
  const { receipts } = net.apply([net.pay(cn, ae, 'icbc.CNY', 'enbd.AED', amount, { purpose: 'GDDS', documentRef: 'INV-1' })])
  settled(t, receipts[0])
  t.equal(receipts[0]!.received, expected, 'the receipt says what reached the payee')
  const end = balances()
  t.equal(end.payer, start.payer - amount, 'burnt at the payer bank')
  t.equal(end.payerSupply, start.payerSupply - amount)
  t.equal(end.payerBank, start.payerBank - amount, 'payer bank pays settlement asset')
  t.equal(end.fxIn, start.fxIn + amount, 'FX provider takes the payer currency')
  t.equal(end.fxOut, start.fxOut - expected, 'FX provider delivers the payee currency')
  t.equal(end.payeeBank, start.payeeBank + expected, 'payee bank receives settlement asset')
  t.equal(end.payee, start.payee + expected, 'minted at the payee bank')
  t.equal(end.payeeSupply, start.payeeSupply + expected)
  t.equal(lastNonceOf(net.state, cn), 1n)
  t.same(checkConservation(net.state), [])
})

t.test('a same-currency payment across banks moves the settlement asset directly', async (t) => {
  const net = network()
  const { receipts } = net.apply([net.pay(cn, hk, 'icbc.CNH', 'bochk.CNH', 10_000n, { purpose: 'GDDS' })])
  settled(t, receipts[0])
  t.equal(receipts[0]!.received, 10_000n)
  t.equal(balanceOf(net.state, 'icbc', 'cb.CNH'), 100_000_000_000n - 10_000n)
  t.equal(balanceOf(net.state, 'bochk', 'cb.CNH'), 100_000_000_000n + 10_000n)
  t.equal(balanceOf(net.state, 'fxhub', 'cb.CNH'), 100_000_000_000n, 'no FX provider involved')
  t.equal(balanceOf(net.state, hk, 'bochk.CNH'), 100_000_000n + 10_000n)
  t.same(checkConservation(net.state), [])
})

t.test('a payment within one bank and currency is a transfer: nothing minted or burnt', async (t) => {
  const net = network()
  const totals = tokenTotalsOf(net.state, 'icbc.CNY')
  const { receipts } = net.apply([net.pay(cn, cn2, 'icbc.CNY', 'icbc.CNY', 3_000n)])
  settled(t, receipts[0])
  t.equal(balanceOf(net.state, cn2, 'icbc.CNY'), 100_000_000n + 3_000n)
  t.same(tokenTotalsOf(net.state, 'icbc.CNY'), totals)
  t.equal(balanceOf(net.state, 'icbc', 'cb.CNY'), 100_000_000_000n)
})

t.test('a payment within one bank across currencies converts through the FX provider', async (t) => {
  const net = network()
  const { receipts } = net.apply([net.pay(cn, cn2, 'icbc.CNY', 'icbc.CNH', 71_000n)])
  settled(t, receipts[0])
  t.equal(balanceOf(net.state, 'icbc', 'cb.CNY'), 100_000_000_000n - 71_000n)
  t.equal(balanceOf(net.state, 'icbc', 'cb.CNH'), 100_000_000_000n + receipts[0]!.received!)
  t.same(checkConservation(net.state), [])
})

t.test('FX rate updates: signed by a provider, used by the next payment in the block', async (t) => {
  const net = network({ spreadBasisPoints: 0 })
  const { receipts } = net.apply([
    net.admit('fxhub', { kind: 'fxRateUpdate', rates: [['AED', 4n * fxRateScale], ['CNY', 8n * fxRateScale]] }),
    net.pay(cn, ae, 'icbc.CNY', 'enbd.AED', 800n)
  ])
  settled(t, receipts[0])
  settled(t, receipts[1])
  t.equal(receipts[1]!.received, 400n, '8.00 CNY = 1 USD = 4.00 AED')
  t.equal(net.state.fx.rates.get('AED'), 4n * fxRateScale, 'the committed state carries the new table')
  t.equal(net.state.get(stateKeys.fxRate('CNY')), 8n * fxRateScale)
})

t.test('policy updates: the regulator replaces its jurisdiction rules, in force from the next transaction', async (t) => {
  const net = network()
  const document = { jurisdiction: 'CN', referenceCurrency: 'CNY', utcOffset: '+08:00', outbound: { corridors: { deny: ['AE'] } } }
  const { receipts } = net.apply([
    net.pay(cn, ae, 'icbc.CNY', 'enbd.AED', 500n),
    net.admit('regulator-cn', { kind: 'policyUpdate', jurisdiction: 'CN', document }),
    net.pay(cn, ae, 'icbc.CNY', 'enbd.AED', 500n),
    net.pay(cn, sg, 'icbc.CNY', 'dbs.SGD', 500n)
  ])
  settled(t, receipts[0])
  settled(t, receipts[1])
  t.equal(receipts[2]!.reason, 'CC_CORRIDOR_BLOCKED')
  t.match(receipts[2]!.rule, /^CN\.outbound\.corridors/)
  settled(t, receipts[3])
  t.equal(net.state.policies.get('CN')?.jurisdiction, 'CN')
  t.ok(net.state.get(stateKeys.policy('CN')) !== undefined, 'the document is in the state')
})

t.test('freeze and unfreeze: by the home bank or the regulator', async (t) => {
  const net = network()
  let result = net.apply([
    net.admit('icbc', { kind: 'freeze', account: cn }),
    net.pay(cn, ae, 'icbc.CNY', 'enbd.AED', 500n),
    net.pay(ae, cn, 'enbd.AED', 'icbc.CNY', 500n),
    net.admit('icbc', { kind: 'freeze', account: cn })
  ])
  settled(t, result.receipts[0])
  rejected(t, result.receipts[1], 'FROZEN')
  rejected(t, result.receipts[2], 'FROZEN')
  settled(t, result.receipts[3])
  t.equal(accountOf(net.state, cn)?.frozen, true)
  result = net.apply([net.admit('regulator-cn', { kind: 'unfreeze', account: cn }), net.pay(cn, ae, 'icbc.CNY', 'enbd.AED', 500n)])
  settled(t, result.receipts[0])
  settled(t, result.receipts[1])
  t.equal(accountOf(net.state, cn)?.frozen, false)
  result = net.apply([net.admit('regulator-ae', { kind: 'freeze', account: 'enbd' }), net.pay(cn, ae, 'icbc.CNY', 'enbd.AED', 500n)])
  settled(t, result.receipts[0])
  rejected(t, result.receipts[1], 'FROZEN')
})

t.test('INSUFFICIENT_FUNDS', async (t) => {
  const net = network()
  rejectsAlone(t, net, net.pay(cn, ae, 'icbc.CNY', 'enbd.AED', 100_000_001n), 'INSUFFICIENT_FUNDS')
  rejectsAlone(t, net, net.admit(cn, { kind: 'transfer', token: 'icbc.CNY', recipient: cn2, amount: 100_000_001n }), 'INSUFFICIENT_FUNDS')
  rejectsAlone(t, net, net.admit('icbc', { kind: 'redeem', token: 'icbc.CNY', account: cn, amount: 100_000_001n }), 'INSUFFICIENT_FUNDS')
})

t.test('INSUFFICIENT_LIQUIDITY: the payer bank or the FX provider lacks settlement asset', async (t) => {
  const net = network({ reserve: '100', customerBalance: '1000000' })
  rejectsAlone(t, net, net.pay(cn, ae, 'icbc.CNY', 'enbd.AED', 10_001n), 'INSUFFICIENT_LIQUIDITY')
  const rich = network()
  rich.apply([rich.admit('fxhub', { kind: 'transfer', token: 'cb.AED', recipient: 'enbd', amount: 100_000_000_000n })])
  rejectsAlone(t, rich, rich.pay(cn, ae, 'icbc.CNY', 'enbd.AED', 10_000n), 'INSUFFICIENT_LIQUIDITY')
})

t.test('BAD_SIGNATURE: another key, or a signature that does not verify; nothing written', async (t) => {
  const net = network()
  rejectsAlone(t, net, net.admit(cn, { kind: 'transfer', token: 'icbc.CNY', recipient: cn2, amount: 1n }, { signWith: cn2 }), 'BAD_SIGNATURE', false)
  const good = net.admit(cn, { kind: 'transfer', token: 'icbc.CNY', recipient: cn2, amount: 1n })
  const forged = { ...good, envelope: { ...good.envelope, signature: new Uint8Array(64) } }
  rejectsAlone(t, net, forged, 'BAD_SIGNATURE', false)
  t.equal(lastNonceOf(net.state, cn), 0n)
  const refusingCheck = new TestNetwork(net.document, net.state, net.signers, { signatureCheck: () => false })
  rejectsAlone(t, refusingCheck, good, 'BAD_SIGNATURE', false)
})

t.test('REPLAY: the same transaction twice, or an old nonce; nothing written', async (t) => {
  const net = network()
  const tx = net.admit(cn, { kind: 'transfer', token: 'icbc.CNY', recipient: cn2, amount: 1n })
  const executed = net.execute([tx, tx])
  settled(t, executed.receipts[0])
  rejected(t, executed.receipts[1], 'REPLAY')
  net.apply([tx])
  rejectsAlone(t, net, tx, 'REPLAY', false)
  rejectsAlone(t, net, net.admit(cn, { kind: 'transfer', token: 'icbc.CNY', recipient: cn2, amount: 1n }, { nonce: 1n }), 'REPLAY', false)
  const gap = net.apply([net.admit(cn, { kind: 'transfer', token: 'icbc.CNY', recipient: cn2, amount: 1n }, { nonce: 10n })])
  settled(t, gap.receipts[0])
  t.equal(lastNonceOf(net.state, cn), 10n, 'gaps are allowed')
  rejectsAlone(t, net, net.admit(cn, { kind: 'transfer', token: 'icbc.CNY', recipient: cn2, amount: 1n }, { nonce: 9n }), 'REPLAY', false)
})

t.test('WRONG_CHAIN: signed for another network; nothing written', async (t) => {
  const net = network()
  rejectsAlone(t, net, net.admit(cn, { kind: 'transfer', token: 'icbc.CNY', recipient: cn2, amount: 1n }, { chainId: 'corridor-other' }), 'WRONG_CHAIN', false)
})

t.test('UNKNOWN_ACCOUNT', async (t) => {
  const net = network()
  const document = standardGenesisDocument({ customersPerBank: 5 })
  const stranger = new TestNetwork(document, net.state, deriveSigners(document))
  rejectsAlone(t, stranger, stranger.admit('icbc-corporate-4', { kind: 'transfer', token: 'icbc.CNY', recipient: cn2, amount: 1n }), 'UNKNOWN_ACCOUNT', false)
  rejectsAlone(t, net, net.pay(cn, 'nobody', 'icbc.CNY', 'enbd.AED', 100n), 'UNKNOWN_ACCOUNT')
  rejectsAlone(t, net, net.pay(cn, ae, 'icbc.CNY', 'enbd.AED', 100n, { fxProvider: 'no-such-fx' }), 'UNKNOWN_ACCOUNT')
  rejectsAlone(t, net, net.admit(cn, { kind: 'transfer', token: 'icbc.CNY', recipient: 'nobody', amount: 1n }), 'UNKNOWN_ACCOUNT')
  rejectsAlone(t, net, net.admit('icbc', { kind: 'issue', token: 'icbc.CNY', account: 'nobody', amount: 1n }), 'UNKNOWN_ACCOUNT')
  rejectsAlone(t, net, net.admit('icbc', { kind: 'redeem', token: 'icbc.CNY', account: 'nobody', amount: 1n }), 'UNKNOWN_ACCOUNT')
  rejectsAlone(t, net, net.admit('regulator-cn', { kind: 'freeze', account: 'nobody' }), 'UNKNOWN_ACCOUNT')
})

t.test('UNKNOWN_TOKEN', async (t) => {
  const net = network()
  rejectsAlone(t, net, net.admit('icbc', { kind: 'issue', token: 'icbc.AED', account: cn, amount: 1n }), 'UNKNOWN_TOKEN')
  rejectsAlone(t, net, net.admit('icbc', { kind: 'redeem', token: 'icbc.SGD', account: cn, amount: 1n }), 'UNKNOWN_TOKEN')
  rejectsAlone(t, net, net.admit(cn, { kind: 'transfer', token: 'nobank.CNY', recipient: cn2, amount: 1n }), 'UNKNOWN_TOKEN')
  rejectsAlone(t, net, net.admit('icbc', { kind: 'transfer', token: 'cb.USD', recipient: 'bochk', amount: 1n }), 'UNKNOWN_TOKEN')
  rejectsAlone(t, net, net.pay(cn, ae, 'icbc.AED', 'enbd.AED', 100n), 'UNKNOWN_TOKEN')
  rejectsAlone(t, net, net.pay(cn, cn2, 'icbc.CNY', 'icbc.USD', 100n), 'UNKNOWN_TOKEN')
})

t.test('FROZEN: payer, payee, banks, FX provider, holders and issuers', async (t) => {
  const net = network()
  net.apply([
    net.admit('regulator-sg', { kind: 'freeze', account: 'fxhub' }),
    net.admit('regulator-hk', { kind: 'freeze', account: hk }),
    net.admit('icbc', { kind: 'freeze', account: cn2 }),
    net.admit('regulator-sg', { kind: 'freeze', account: 'dbs' })
  ])
  rejectsAlone(t, net, net.pay(cn, ae, 'icbc.CNY', 'enbd.AED', 100n), 'FROZEN') // FX provider
  rejectsAlone(t, net, net.pay(cn, hk, 'icbc.CNH', 'bochk.CNH', 100n), 'FROZEN') // payee
  rejectsAlone(t, net, net.pay(cn2, 'bochk-corporate-1', 'icbc.CNH', 'bochk.CNH', 100n), 'FROZEN') // payer
  rejectsAlone(t, net, net.pay('dbs-corporate-1', ae, 'dbs.SGD', 'enbd.AED', 100n), 'FROZEN') // payer bank
  rejectsAlone(t, net, net.admit(cn, { kind: 'transfer', token: 'icbc.CNY', recipient: cn2, amount: 1n }), 'FROZEN') // recipient
  rejectsAlone(t, net, net.admit('icbc', { kind: 'issue', token: 'icbc.CNY', account: cn2, amount: 1n }), 'FROZEN') // holder
  rejectsAlone(t, net, net.admit('dbs', { kind: 'issue', token: 'dbs.SGD', account: sg, amount: 1n }), 'FROZEN') // issuer
  rejectsAlone(t, net, net.admit('fxhub', { kind: 'fxRateUpdate', rates: [['CNY', 7n * fxRateScale]] }), 'FROZEN')
})

t.test('UNAUTHORIZED', async (t) => {
  const net = network()
  rejectsAlone(t, net, net.admit('bochk', { kind: 'issue', token: 'icbc.CNH', account: cn, amount: 1n }), 'UNAUTHORIZED')
  rejectsAlone(t, net, net.admit('hkma', { kind: 'issue', token: 'cb.CNY', account: 'icbc', amount: 1n }), 'UNAUTHORIZED')
  rejectsAlone(t, net, net.admit(cn, { kind: 'issue', token: 'icbc.CNY', account: cn2, amount: 1n }), 'UNAUTHORIZED')
  rejectsAlone(t, net, net.admit('enbd', { kind: 'redeem', token: 'icbc.CNY', account: cn, amount: 1n }), 'UNAUTHORIZED')
  rejectsAlone(t, net, net.admit('icbc', { kind: 'fxRateUpdate', rates: [['CNY', 7n * fxRateScale]] }), 'UNAUTHORIZED')
  rejectsAlone(t, net, net.admit('fxhub', { kind: 'fxRateUpdate', rates: [['USD', 2n * fxRateScale]] }), 'UNAUTHORIZED')
  rejectsAlone(t, net, net.admit('fxhub', { kind: 'fxRateUpdate', rates: [['EUR', fxRateScale]] }), 'UNAUTHORIZED')
  const document = { jurisdiction: 'CN', referenceCurrency: 'CNY', utcOffset: '+08:00' }
  rejectsAlone(t, net, net.admit('regulator-hk', { kind: 'policyUpdate', jurisdiction: 'CN', document }), 'UNAUTHORIZED')
  rejectsAlone(t, net, net.admit('icbc', { kind: 'policyUpdate', jurisdiction: 'CN', document }), 'UNAUTHORIZED')
  rejectsAlone(t, net, net.admit('bochk', { kind: 'freeze', account: cn }), 'UNAUTHORIZED')
  rejectsAlone(t, net, net.admit('regulator-hk', { kind: 'freeze', account: cn }), 'UNAUTHORIZED')
  rejectsAlone(t, net, net.admit('icbc', { kind: 'freeze', account: 'bochk' }), 'UNAUTHORIZED')
  rejectsAlone(t, net, net.admit('regulator-cn', { kind: 'freeze', account: 'regulator-cn' }), 'UNAUTHORIZED')
  rejectsAlone(t, net, net.pay(cn, ae, 'icbc.CNY', 'enbd.AED', 100n, { fxProvider: 'dbs' }), 'UNAUTHORIZED')
  const bankPays = net.admit('icbc', { kind: 'payment', payee: ae, payerToken: 'icbc.CNY', payeeToken: 'enbd.AED', amount: 1n, purpose: undefined, documentRef: undefined, fxProvider: 'fxhub' })
  rejectsAlone(t, net, bankPays, 'UNAUTHORIZED')
})

t.test('INELIGIBLE_HOLDER: deposit tokens stay with their bank customers, settlement assets with institutions', async (t) => {
  const net = network()
  rejectsAlone(t, net, net.admit(cn, { kind: 'transfer', token: 'icbc.CNH', recipient: hk, amount: 1n }), 'INELIGIBLE_HOLDER')
  rejectsAlone(t, net, net.admit(cn, { kind: 'transfer', token: 'icbc.CNY', recipient: 'icbc', amount: 1n }), 'INELIGIBLE_HOLDER')
  rejectsAlone(t, net, net.admit('icbc', { kind: 'transfer', token: 'cb.CNY', recipient: cn, amount: 1n }), 'INELIGIBLE_HOLDER')
  rejectsAlone(t, net, net.admit('icbc', { kind: 'transfer', token: 'cb.CNY', recipient: 'pboc', amount: 1n }), 'INELIGIBLE_HOLDER')
  rejectsAlone(t, net, net.admit('icbc', { kind: 'issue', token: 'icbc.CNY', account: 'bochk', amount: 1n }), 'INELIGIBLE_HOLDER')
  rejectsAlone(t, net, net.admit('pboc', { kind: 'issue', token: 'cb.CNY', account: cn, amount: 1n }), 'INELIGIBLE_HOLDER')
  rejectsAlone(t, net, net.admit(cn, { kind: 'transfer', token: 'bochk.CNH', recipient: cn2, amount: 1n }), 'INELIGIBLE_HOLDER')
  rejectsAlone(t, net, net.pay(cn, ae, 'bochk.CNH', 'enbd.AED', 100n), 'INELIGIBLE_HOLDER')
  rejectsAlone(t, net, net.pay(cn, ae, 'icbc.CNY', 'dbs.SGD', 100n), 'INELIGIBLE_HOLDER')
  rejectsAlone(t, net, net.pay(cn, 'enbd', 'icbc.CNY', 'enbd.AED', 100n), 'INELIGIBLE_HOLDER')
})

t.test('FX_RATE_UNAVAILABLE: no rate, or a provider that does not quote the pair', async (t) => {
  const document = standardGenesisDocument()
  const { SGD: _dropped, ...rates } = document.fx.rates
  const withoutSgd = { ...document, fx: { ...document.fx, rates } }
  const net = TestNetwork.fromGenesis(withoutSgd, buildGenesis(withoutSgd))
  rejectsAlone(t, net, net.pay(cn, sg, 'icbc.CNY', 'dbs.SGD', 100_000n), 'FX_RATE_UNAVAILABLE')
  const narrow = { ...document, fxProviders: document.fxProviders.map((provider) => ({ ...provider, currencies: ['CNY', 'HKD'] })) }
  const narrowNet = TestNetwork.fromGenesis(narrow, buildGenesis(narrow))
  rejectsAlone(t, narrowNet, narrowNet.pay(cn, ae, 'icbc.CNY', 'enbd.AED', 100_000n), 'FX_RATE_UNAVAILABLE')
})

t.test('INVALID_AMOUNT: a conversion to nothing, a supply beyond the maximum', async (t) => {
  const net = network()
  const dust = net.pay(cn, ae, 'icbc.CNY', 'enbd.AED', 1n)
  const executed = net.execute([dust])
  t.comment(executed.receipts[0]!.message)
  rejectsAlone(t, net, dust, 'INVALID_AMOUNT')
  // Every balance is at most the supply, so bounding the supply bounds every balance.
  rejectsAlone(t, net, net.admit('icbc', { kind: 'issue', token: 'icbc.CNY', account: cn2, amount: amountMax }), 'INVALID_AMOUNT')
  const supply = tokenTotalsOf(net.state, 'icbc.CNY').supply
  const filled = net.apply([net.admit('icbc', { kind: 'issue', token: 'icbc.CNY', account: cn2, amount: amountMax - supply })])
  settled(t, filled.receipts[0])
  t.equal(tokenTotalsOf(net.state, 'icbc.CNY').supply, amountMax, 'the maximum itself is reachable')
  rejectsAlone(t, net, net.pay(hk, cn, 'bochk.CNH', 'icbc.CNY', 1_000_000n, { purpose: 'GDDS' }), 'INVALID_AMOUNT')
})

t.test('policy refusals pass through with their rule; reports reach receipts and events', async (t) => {
  const policies = Object.fromEntries(['cn', 'hk', 'ae', 'sg'].map((code) => [code.toUpperCase(), loadDataFile(`configs/policies/${code}.yaml`)]))
  const net = network({ policies })
  const individual = 'icbc-individual-3'
  rejectsAlone(t, net, net.pay(cn, ae, 'icbc.CNY', 'enbd.AED', 100_000n), 'CC_PURPOSE_REQUIRED')
  rejectsAlone(t, net, net.pay(cn, cn2, 'icbc.CNH', 'icbc.CNH', 100_000n), 'CC_DOMESTIC_USE_PROHIBITED')
  rejectsAlone(t, net, net.pay(individual, ae, 'icbc.CNY', 'enbd.AED', 40_000_000n, { purpose: 'STDY' }), 'CC_QUOTA_EXCEEDED')
  const large = net.apply([net.pay(cn, ae, 'icbc.CNY', 'enbd.AED', 90_000_000n, { purpose: 'GDDS', documentRef: 'INV-9' })])
  settled(t, large.receipts[0])
  t.ok(large.receipts[0]!.reports.some((report) => report.kind === 'LARGE_VALUE'), 'a large-value report')
  t.same(
    large.events.map((event) => [event.kind, event.height, event.transactionId]),
    large.receipts[0]!.reports.map(() => ['policy-report', 1, large.receipts[0]!.transactionId])
  )
  t.same(checkConservation(net.state), [])
})

t.test('every ledger reason code is exercised above; the set includes every policy reason', async (t) => {
  for (const code of ledgerReasonCodes) t.ok(reasonsSeen.has(code), `${code} has a test`)
  for (const code of policyReasonCodes) t.ok((reasonCodes as readonly string[]).includes(code), `${code} is a receipt reason`)
})
