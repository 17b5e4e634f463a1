/**
 * Property tests over random transaction sequences on a small network: conservation, no negative
 * balance, payments conserve settlement assets, a rejected transaction writes nothing but its
 * nonce, the same block on the same state gives the same root, and executing then dropping a
 * block leaves the state as it was. A failure prints the seed and the shrunk sequence; replay it
 * with `fc.assert(..., { seed, path })`.
 */
import t from 'tap'
import fc from 'fast-check'
import { bytesToHex } from '../../../src/protocol/bytes.ts'
import { TransactionError } from '../../../src/ledger/errors.ts'
import { executeBlock } from '../../../src/ledger/execute.ts'
import { fxRateScale } from '../../../src/ledger/fx.ts'
import { balanceTotals, checkConservation } from '../../../src/ledger/invariants.ts'
import { entriesDigest, fullStateDigest, nextStateRoot } from '../../../src/ledger/state.ts'
import { stateKeys } from '../../../src/ledger/stateKeys.ts'
import type { AdmittedTransaction, TransactionBody } from '../../../src/ledger/transactions.ts'
import { createTestNetwork, type TestNetwork } from '../../../src/ledger/testing/index.ts'

const runs = Number(process.env.CORRIDOR_PROPERTY_RUNS ?? 60)

// One network's entities, kept small so random choices collide often (same payer twice in a
// block, a balance drained, a frozen payee).
const customers = ['icbc-corporate-0', 'icbc-individual-1', 'bochk-corporate-0', 'bochk-individual-1', 'enbd-corporate-0', 'enbd-individual-1', 'dbs-corporate-0', 'dbs-individual-1']
const homeTokens: Record<string, string[]> = {
  icbc: ['icbc.CNY', 'icbc.CNH'],
  bochk: ['bochk.HKD', 'bochk.CNH'],
  enbd: ['enbd.AED'],
  dbs: ['dbs.SGD']
}
const banks = Object.keys(homeTokens)
const settlementTokens = ['cb.CNY', 'cb.CNH', 'cb.HKD', 'cb.AED', 'cb.SGD']
const centralBankOf: Record<string, string> = { 'cb.CNY': 'pboc', 'cb.CNH': 'hkma', 'cb.HKD': 'hkma', 'cb.AED': 'cbuae', 'cb.SGD': 'mas' }
const bankOf = (customer: string): string => customer.slice(0, customer.indexOf('-'))
const currencyOf = (token: string): string => token.slice(token.indexOf('.') + 1)

function makeNetwork(): TestNetwork {
  // 2 customers per bank with small balances and reserves, so funds and liquidity run out.
  return createTestNetwork({ customersPerBank: 2, individualShare: 0.5, customerBalance: '5000', reserve: '20000', spreadBasisPoints: 30 })
}

/** Amounts from dust to far beyond any balance, in minor units. */
const amount = fc.oneof(fc.bigInt({ min: 1n, max: 100n }), fc.bigInt({ min: 1n, max: 1_000_000n }), fc.bigInt({ min: 1n, max: 10n ** 15n }))

type Step =
  | { op: 'payment'; payer: number; payee: number; from: number; to: number; amount: bigint }
  | { op: 'transfer'; holder: number; recipient: number; token: number; amount: bigint }
  | { op: 'issue' | 'redeem'; customer: number; token: number; amount: bigint }
  | { op: 'settlement'; from: number; to: number; token: number; amount: bigint }
  | { op: 'fx'; rate: bigint; currency: number }
  | { op: 'freeze' | 'unfreeze'; customer: number }
  | { op: 'forged'; customer: number; amount: bigint }
  | { op: 'replay'; index: number }
  | { op: 'wrongChain'; customer: number }

const index = fc.nat({ max: 63 })
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('payment' as const), payer: index, payee: index, from: index, to: index, amount }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('transfer' as const), holder: index, recipient: index, token: index, amount }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constantFrom('issue' as const, 'redeem' as const), customer: index, token: index, amount }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('settlement' as const), from: index, to: index, token: index, amount }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('fx' as const), rate: fc.bigInt({ min: fxRateScale / 10n, max: 20n * fxRateScale }), currency: index }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constantFrom('freeze' as const, 'unfreeze' as const), customer: index }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('forged' as const), customer: index, amount }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('replay' as const), index: fc.nat({ max: 1000 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('wrongChain' as const), customer: index }) }
)
const blocks = fc.array(fc.array(step, { minLength: 0, maxLength: 12 }), { minLength: 1, maxLength: 4 })

const pick = <T>(items: readonly T[], at: number): T => items[at % items.length]!

/** Turns a step into an admitted transaction, or undefined when admission refuses it (not under test here). */
function toTransaction(network: TestNetwork, s: Step, history: AdmittedTransaction[]): AdmittedTransaction | undefined {
  const admit = (signer: string, body: TransactionBody, options = {}) => {
    try {
      return network.admit(signer, body, options)
    } catch (error) {
      if (error instanceof TransactionError) return undefined
      throw error
    }
  }
  switch (s.op) {
    case 'payment': {
      const payer = pick(customers, s.payer)
      const payee = pick(customers, s.payee)
      const payerToken = pick(homeTokens[bankOf(payer)]!, s.from)
      const payeeToken = pick(homeTokens[bankOf(payee)]!, s.to)
      const fxProvider = currencyOf(payerToken) === currencyOf(payeeToken) ? undefined : 'fxhub'
      return admit(payer, { kind: 'payment', payee, payerToken, payeeToken, amount: s.amount, purpose: 'GDDS', documentRef: undefined, fxProvider })
    }
    case 'transfer': {
      const holder = pick(customers, s.holder)
      return admit(holder, { kind: 'transfer', token: pick(homeTokens[bankOf(holder)]!, s.token), recipient: pick(customers, s.recipient), amount: s.amount })
    }
    case 'issue':
    case 'redeem': {
      const customer = pick(customers, s.customer)
      return admit(bankOf(customer), { kind: s.op, token: pick(homeTokens[bankOf(customer)]!, s.token), account: customer, amount: s.amount })
    }
    case 'settlement': {
      const token = pick(settlementTokens, s.token)
      return admit(pick(banks, s.from), { kind: 'transfer', token, recipient: pick([...banks, 'fxhub'], s.to), amount: s.amount })
    }
    case 'fx': {
      const currency = pick(['AED', 'CNH', 'CNY', 'HKD', 'SGD'], s.currency)
      return admit('fxhub', { kind: 'fxRateUpdate', rates: [[currency, s.rate]] })
    }
    case 'freeze':
    case 'unfreeze': {
      const customer = pick(customers, s.customer)
      return admit(bankOf(customer), { kind: s.op, account: customer })
    }
    case 'forged': {
      const customer = pick(customers, s.customer)
      const tx = admit(customer, { kind: 'transfer', token: pick(homeTokens[bankOf(customer)]!, 0), recipient: customer.endsWith('0') ? customer.replace('corporate-0', 'individual-1') : customer.replace('individual-1', 'corporate-0'), amount: s.amount })
      return tx === undefined ? undefined : { ...tx, envelope: { ...tx.envelope, signature: new Uint8Array(64).fill(9) } }
    }
    case 'replay':
      return history.length === 0 ? undefined : pick(history, s.index)
    case 'wrongChain': {
      const customer = pick(customers, s.customer)
      return admit(customer, { kind: 'freeze', account: customer }, { chainId: 'corridor-elsewhere' })
    }
  }
}

function buildBlocks(network: TestNetwork, steps: Step[][]): AdmittedTransaction[][] {
  const history: AdmittedTransaction[] = []
  return steps.map((list) => {
    const txs: AdmittedTransaction[] = []
    for (const s of list) {
      const tx = toTransaction(network, s, history)
      if (tx !== undefined) {
        txs.push(tx)
        history.push(tx)
      }
    }
    return txs
  })
}

const hex = bytesToHex

t.test('conservation and no negative balance after every block', async (t) => {
  const outcomes = new Map<string, number>()
  fc.assert(
    fc.property(blocks, (steps) => {
      const network = makeNetwork()
      for (const txs of buildBlocks(network, steps)) {
        const { receipts } = network.apply(txs)
        for (const receipt of receipts) outcomes.set(receipt.reason ?? 'settled', (outcomes.get(receipt.reason ?? 'settled') ?? 0) + 1)
        const violations = checkConservation(network.state)
        if (violations.length > 0) throw new Error(`after height ${network.state.height}: ${JSON.stringify(violations)}`)
      }
    }),
    { numRuns: runs }
  )
  t.comment(`outcomes: ${[...outcomes].map(([reason, count]) => `${reason} ${count}`).join(', ')}`)
  // The generator must reach both outcomes and the common rejections, or the properties say little.
  for (const reason of ['settled', 'INSUFFICIENT_FUNDS', 'INELIGIBLE_HOLDER', 'BAD_SIGNATURE', 'REPLAY', 'WRONG_CHAIN']) {
    t.ok((outcomes.get(reason) ?? 0) > 0, `sequences reach ${reason}`)
  }
})

t.test('payments conserve every settlement asset', async (t) => {
  const payments = fc.array(step.filter((s) => s.op === 'payment'), { minLength: 1, maxLength: 20 })
  fc.assert(
    fc.property(payments, (steps) => {
      const network = makeNetwork()
      const before = balanceTotals(network.state)
      const [txs] = buildBlocks(network, [steps])
      network.apply(txs!)
      const after = balanceTotals(network.state)
      for (const token of settlementTokens) {
        if (before.get(token) !== after.get(token)) throw new Error(`${token}: ${before.get(token)} before, ${after.get(token)} after`)
      }
    }),
    { numRuns: runs }
  )
  t.pass(`${runs} random payment blocks`)
})

t.test('a rejected transaction writes nothing but its nonce, so balances and the root move only by that', async (t) => {
  fc.assert(
    fc.property(blocks, (steps) => {
      const network = makeNetwork()
      for (const txs of buildBlocks(network, steps)) {
        // Each transaction alone on the current state: a rejection's whole effect is visible.
        for (const tx of txs) {
          const block = network.block([tx])
          const executed = executeBlock(network.state, block, network.signatureCheck)
          const receipt = executed.receipts[0]!
          if (receipt.status === 'settled') continue
          const nonceOnly = receipt.reason !== 'BAD_SIGNATURE' && receipt.reason !== 'REPLAY' && receipt.reason !== 'WRONG_CHAIN' && receipt.reason !== 'UNKNOWN_ACCOUNT'
          const expectedWrites = nonceOnly ? new Map([[stateKeys.nonce(tx.signer), tx.envelope.nonce]]) : new Map()
          const written = [...executed.pending.writes]
          if (JSON.stringify(written, (_, v) => (typeof v === 'bigint' ? `${v}` : v)) !== JSON.stringify([...expectedWrites], (_, v) => (typeof v === 'bigint' ? `${v}` : v))) {
            throw new Error(`${receipt.reason} wrote ${written.map(([key]) => key).join(', ')}`)
          }
          const expectedRoot = nextStateRoot(network.state.sha256, network.state.stateRoot, block.height, block.timeMs, entriesDigest(expectedWrites))
          if (hex(expectedRoot) !== hex(executed.stateRoot)) throw new Error(`${receipt.reason}: the root moved by more than the nonce`)
          if (executed.events.length > 0 || receipt.reports.length > 0) throw new Error(`${receipt.reason} emitted events`)
        }
        network.apply(txs)
      }
    }),
    { numRuns: Math.ceil(runs / 2) }
  )
  t.pass('every rejection checked alone')
})

t.test('the same block on the same state gives the same root; executing then dropping changes nothing', async (t) => {
  fc.assert(
    fc.property(blocks, (steps) => {
      const network = makeNetwork()
      const twin = makeNetwork()
      for (const txs of buildBlocks(network, steps)) {
        const digest = hex(fullStateDigest(network.state))
        const root = hex(network.state.stateRoot)
        const block = network.block(txs)
        const first = executeBlock(network.state, block, network.signatureCheck)
        const second = executeBlock(network.state, block, network.signatureCheck)
        if (hex(fullStateDigest(network.state)) !== digest || hex(network.state.stateRoot) !== root) throw new Error('execution changed the committed state')
        if (hex(first.stateRoot) !== hex(second.stateRoot)) throw new Error('two executions, two roots')
        const applied = network.apply(txs)
        const appliedOnTwin = twin.apply(txs, block.timeMs)
        if (hex(applied.stateRoot) !== hex(first.stateRoot) || hex(appliedOnTwin.stateRoot) !== hex(first.stateRoot)) throw new Error('commit or a twin state gave another root')
        if (JSON.stringify(applied.receipts, (_, v) => (typeof v === 'bigint' ? `${v}` : v)) !== JSON.stringify(appliedOnTwin.receipts, (_, v) => (typeof v === 'bigint' ? `${v}` : v))) {
          throw new Error('receipts differ between twins')
        }
      }
      if (hex(fullStateDigest(network.state)) !== hex(fullStateDigest(twin.state))) throw new Error('twins diverged')
    }),
    { numRuns: Math.ceil(runs / 2) }
  )
  t.pass('deterministic and side-effect free')
})
