/**
 * Genesis: documents build into a sound height-0 state; every bad document is a ConfigError that
 * names the file, the path of the bad field and what was expected; large networks build fast.
 */
import t from 'tap'
import { createHash } from 'node:crypto'
import { ConfigError } from '../../../src/config/errors.ts'
import { loadGenesisFile } from '../../../src/config/genesis.ts'
import { buildGenesis, genesisValidators, parseGenesisDocument, type GenesisDocument } from '../../../src/ledger/genesis.ts'
import { checkConservation } from '../../../src/ledger/invariants.ts'
import { accountOf, balanceOf, tokenIdsOf, tokenTotalsOf } from '../../../src/ledger/state.ts'
import { stateKeys } from '../../../src/ledger/stateKeys.ts'
import { deriveSigners, standardGenesisDocument, TestNetwork } from '../../../src/ledger/testing/index.ts'
import { bytesToHex } from '../../../src/protocol/bytes.ts'

const base = standardGenesisDocument()

function configIssues(fn: () => unknown): Array<{ path: string; message: string }> {
  try {
    fn()
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((issue) => ({ ...issue }))
    throw error
  }
  return []
}

function buildIssues(change: (document: GenesisDocument) => GenesisDocument): Array<{ path: string; message: string }> {
  return configIssues(() => buildGenesis(change(structuredClone(base))))
}

t.test('the standard network builds a sound state at height 0', async (t) => {
  const state = buildGenesis(base)
  t.equal(state.height, 0)
  t.equal(state.chainId, 'corridor-test')
  t.same(checkConservation(state), [])
  t.same(tokenIdsOf(state), [
    'bochk.CNH', 'bochk.HKD', 'cb.AED', 'cb.CNH', 'cb.CNY', 'cb.HKD', 'cb.SGD', 'dbs.SGD', 'enbd.AED', 'icbc.CNH', 'icbc.CNY'
  ])
  t.equal(state.get(stateKeys.token('cb.CNH')), 'hkma', 'the settlement asset names its central bank')
  t.equal(balanceOf(state, 'icbc-corporate-0', 'icbc.CNH'), 100_000_000n, '1,000,000.00 CNH in minor units')
  const totals = tokenTotalsOf(state, 'icbc.CNY')
  t.equal(totals.issued, totals.supply, 'opening balances are issued')
  t.equal(totals.redeemed, 0n)
  t.equal(accountOf(state, 'icbc-individual-3')?.kind, 'individual')
  t.equal(accountOf(state, 'fxhub')?.spreadBasisPoints, 20)
  t.equal(state.fx.base, 'USD')
  t.equal(state.fx.rates.get('AED'), 3_672_500_000n)
  t.same(genesisValidators(base).map((validator) => [validator.id, validator.votingPower]), [['icbc', 1], ['bochk', 1], ['enbd', 1], ['dbs', 1]])
})

t.test('the demo genesis loads with its policy files and its keys derive from its seed', async (t) => {
  const loaded = loadGenesisFile('configs/genesis/demo.yaml')
  t.same(checkConservation(loaded.state), [])
  t.same([...loaded.state.policies.keys()].sort(), ['AE', 'CN', 'HK', 'SG'])
  t.match(loaded.policySources.CN!, /configs\/policies\/cn\.yaml$/)
  t.same(loaded.document.banks.map((bank) => [bank.id, bank.jurisdiction, bank.currencies]), [
    ['icbc', 'CN', ['CNY', 'CNH']],
    ['bochk', 'HK', ['HKD', 'CNH']],
    ['enbd', 'AE', ['AED']],
    ['dbs', 'SG', ['SGD']]
  ])
  const signers = deriveSigners(loaded.document)
  t.equal(bytesToHex(signers.get('pboc')!.publicKey), loaded.document.centralBanks[0]!.publicKey)
  const network = TestNetwork.fromGenesis(loaded.document, loaded.state)
  const { receipts } = network.apply([network.pay('dubai-retail', 'shenzhen-electronics', 'enbd.AED', 'icbc.CNY', 5_000_000n, { purpose: 'GDDS', documentRef: 'PO-1' })])
  t.equal(receipts[0]?.status, 'settled', receipts[0]?.message ?? 'no receipt')
})

t.test('the same document gives the same state root; another chain id another', async (t) => {
  t.same(buildGenesis(base).stateRoot, buildGenesis(structuredClone(base)).stateRoot)
  t.not(bytesToHex(buildGenesis({ ...base, chainId: 'corridor-other' }).stateRoot), bytesToHex(buildGenesis(base).stateRoot))
})

t.test('shape errors name the path and what was expected', async (t) => {
  const issues = configIssues(() =>
    parseGenesisDocument({ ...structuredClone(base), banks: [{ ...base.banks[0], currencies: ['XYZ'], publicKey: 'abc', extra: 1 }] }, 'genesis.yaml')
  )
  const paths = issues.map((issue) => issue.path)
  t.ok(paths.includes('banks[0].currencies[0]'), 'unknown currency')
  t.ok(paths.includes('banks[0].publicKey'), 'bad key')
  t.ok(paths.includes('banks[0]'), 'unknown field')
  try {
    parseGenesisDocument({ chainId: 'Bad Chain' }, 'genesis.yaml')
    t.fail('accepted')
  } catch (error) {
    t.ok(error instanceof ConfigError)
    t.match((error as Error).message, /^genesis\.yaml: invalid\n/)
    t.match((error as Error).message, /chainId/)
  }
})

t.test('relations between entities are checked, each with its path', async (t) => {
  const cases: Array<[string, (document: GenesisDocument) => GenesisDocument, string, RegExp]> = [
    ['duplicate id across kinds', (d) => ({ ...d, customers: [{ ...d.customers[0]!, id: 'icbc' }, ...d.customers.slice(1)] }), 'customers[0].id', /already the id of a bank/],
    ['the reserved id cb', (d) => ({ ...d, regulators: [{ ...d.regulators[0]!, id: 'cb' }] }), 'regulators[0].id', /reserved/],
    ['customer of an unknown bank', (d) => ({ ...d, customers: [{ ...d.customers[0]!, bank: 'hsbc' }] }), 'customers[0].bank', /no bank hsbc/],
    ['a currency no central bank issues', (d) => ({ ...d, banks: [{ ...d.banks[0]!, currencies: ['CNY', 'EUR'], balances: [] }, ...d.banks.slice(1)] }), 'banks[0].currencies[1]', /no central bank issues EUR/],
    ['two central banks for one currency', (d) => ({ ...d, centralBanks: [...d.centralBanks, { ...d.centralBanks[0]!, id: 'pboc2' }] }), 'centralBanks[4].currencies[0]', /already issued by pboc/],
    ['a balance in a currency the bank does not hold', (d) => ({ ...d, customers: [{ ...d.customers[0]!, balances: ['100 AED'] }] }), 'customers[0].balances[0]', /holds deposits in CNY, CNH, not AED/],
    ['a balance that is not an amount', (d) => ({ ...d, customers: [{ ...d.customers[0]!, balances: ['lots of CNY'] }] }), 'customers[0].balances[0]', /expected an amount/],
    ['more decimals than the currency has', (d) => ({ ...d, customers: [{ ...d.customers[0]!, balances: ['1.234 CNY'] }] }), 'customers[0].balances[0]', /2 decimal places/],
    ['a zero balance', (d) => ({ ...d, customers: [{ ...d.customers[0]!, balances: ['0 CNY'] }] }), 'customers[0].balances[0]', /above zero/],
    ['one currency twice', (d) => ({ ...d, customers: [{ ...d.customers[0]!, balances: ['1 CNY', '2 CNY'] }] }), 'customers[0].balances[1]', /already has an opening balance/],
    ['a central bank holding its own asset', (d) => ({ ...d, centralBanks: [{ ...d.centralBanks[0]!, balances: ['5 CNY'] }, ...d.centralBanks.slice(1)] }), 'centralBanks[0].balances[0]', /does not hold its own/],
    ['a bad FX rate', (d) => ({ ...d, fx: { base: 'USD', rates: { ...d.fx.rates, AED: '-3' } } }), 'fx', /positive decimal/],
    ['an institution key off the curve', (d) => ({ ...d, regulators: [{ ...d.regulators[0]!, publicKey: '02' + '00'.repeat(31) }] }), 'regulators[0].publicKey', /not a valid Ed25519 public key/],
    ['an unresolved policy file', (d) => ({ ...d, policies: { CN: 'policies/cn.yaml' } }), 'policies.CN', /loadGenesisFile/],
    ['a policy under the wrong jurisdiction', (d) => ({ ...d, policies: { HK: { jurisdiction: 'CN', referenceCurrency: 'CNY', utcOffset: 'Z' } } }), 'policies.HK', /policy of CN, listed under HK/],
    ['a policy with a fraction', (d) => ({ ...d, policies: { CN: { jurisdiction: 'CN', referenceCurrency: 'CNY', utcOffset: 'Z', extra: 0.5 } } }), 'policies.CN', /extra: 0\.5 is not a safe integer/],
    ['an invalid policy', (d) => ({ ...d, policies: { CN: { jurisdiction: 'CN' } } }), 'policies.CN', /referenceCurrency/]
  ]
  for (const [what, change, path, message] of cases) {
    const issues = buildIssues(change)
    const issue = issues.find((candidate) => candidate.path === path)
    t.ok(issue, `${what}: an issue at ${path} (got ${JSON.stringify(issues)})`)
    if (issue) t.match(issue.message, message, what)
  }
})

t.test('the file loader resolves policy references relative to the genesis file and names bad files', async (t) => {
  const document = structuredClone(base) as Record<string, unknown>
  const dir = t.testdir({
    genesis: {
      'good.json': JSON.stringify({ ...document, policies: { CN: '../policies/cn.json' } }),
      'bad-policy.json': JSON.stringify({ ...document, policies: { CN: '../policies/broken.json' } }),
      'missing.json': JSON.stringify({ ...document, policies: { CN: '../policies/none.json' } }),
      'broken.yaml': 'chainId: [unclosed'
    },
    policies: {
      'cn.json': JSON.stringify({ jurisdiction: 'CN', referenceCurrency: 'CNY', utcOffset: '+08:00' }),
      'broken.json': JSON.stringify({ jurisdiction: 'CN', referenceCurrency: 'CNY', utcOffset: '+08:00', outbound: { quotas: [{ parties: ['individual'], perYear: 'lots' }] } })
    }
  })
  const loaded = loadGenesisFile(`${dir}/genesis/good.json`)
  t.equal(loaded.state.policies.get('CN')?.referenceCurrency, 'CNY')
  t.match(loaded.policySources.CN, /policies\/cn\.json$/)
  const badPolicy = configIssues(() => loadGenesisFile(`${dir}/genesis/bad-policy.json`))
  t.match(badPolicy[0]?.message ?? '', /broken\.json/, 'the policy file is named')
  t.match(badPolicy[0]?.message ?? '', /outbound\.quotas\[0\]\.perYear/, 'with the path of the bad rule')
  t.throws(() => loadGenesisFile(`${dir}/genesis/missing.json`), { code: 'CONFIG_UNREADABLE' })
  t.throws(() => loadGenesisFile(`${dir}/genesis/broken.yaml`), { code: 'CONFIG_SYNTAX' })
})

t.test('a genesis of 12,000 customers builds quickly', async (t) => {
  // Customer keys are stand-ins (hashes, not derived keys): deriving 12,000 Ed25519 keys takes
  // seconds here and is not what is measured; customer keys are not checked at genesis.
  const customers = Array.from({ length: 12_000 }, (_, index) => {
    const bank = base.banks[index % base.banks.length]!
    const id = `customer-${index}`
    return {
      id,
      kind: index % 4 === 3 ? ('individual' as const) : ('corporate' as const),
      jurisdiction: bank.jurisdiction,
      bank: bank.id,
      publicKey: createHash('sha256').update(id).digest('hex'),
      kycTier: 2,
      balances: bank.currencies.map((code) => `${1000 + index} ${code}`)
    }
  })
  const document = { ...base, customers }
  const started = performance.now()
  const state = buildGenesis(document)
  const elapsedMs = performance.now() - started
  t.comment(`built ${customers.length} customers, ${state.entries.size} entries in ${elapsedMs.toFixed(0)} ms`)
  t.ok(elapsedMs < 3_000, `well under the limit (${elapsedMs.toFixed(0)} ms)`)
  t.same(checkConservation(state), [])
})
