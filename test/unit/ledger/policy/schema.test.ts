import t from 'tap'
import { mkdtempSync, writeFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parsePolicyDocument } from '../../../../src/ledger/policy/schema.ts'
import { policyCurrencies } from '../../../../src/ledger/policy/compile.ts'
import { ConfigError } from '../../../../src/config/errors.ts'
import { loadPolicyDirectory, loadPolicyFile, loadPolicyFiles } from '../../../../src/config/policies.ts'

const examples = join(import.meta.dirname, '../../../../configs/policies')

const base = { jurisdiction: 'CN', referenceCurrency: 'CNY', utcOffset: '+08:00' }

function issuesOf(value: unknown, source = 'policies/test.yaml'): ConfigError {
  try {
    parsePolicyDocument(value, source)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected the document to be refused')
}

t.test('the example policies load, one per jurisdiction', async (t) => {
  const files = readdirSync(examples).filter((name) => name.endsWith('.yaml'))
  t.ok(files.length >= 4)
  const set = loadPolicyDirectory(examples)
  t.same([...set.keys()].sort(), ['AE', 'CN', 'HK', 'SG'])
  const cn = set.get('CN')!
  t.equal(cn.referenceCurrency, 'CNY')
  t.equal(cn.utcOffsetMinutes, 480)
  t.equal(set.get('AE')!.utcOffsetMinutes, 240)
  t.equal(cn.source, join(examples, 'cn.yaml'))
  t.same(policyCurrencies(cn), ['CNY', 'USD'])
  // The SAFE quota, parsed as written.
  t.same(cn.compiled.thresholds.find((money) => money.currency === 'USD' && money.amount === 50_000_00n), { amount: 50_000_00n, currency: 'USD' })
  for (const name of files) t.equal(loadPolicyFile(join(examples, name)).jurisdiction, name.slice(0, 2).toUpperCase(), name)
})

t.test('a minimal policy: jurisdiction, reference currency and UTC offset', async (t) => {
  const policy = parsePolicyDocument({ ...base, version: 3, effective: 'from genesis' }, 'inline')
  t.equal(policy.jurisdiction, 'CN')
  t.equal(policy.version, '3')
  t.equal(policy.effective, 'from genesis')
  t.equal(policy.compiled.outbound, undefined)
  t.equal(parsePolicyDocument({ ...base, utcOffset: 'Z' }, 'inline').utcOffsetMinutes, 0)
  t.equal(parsePolicyDocument({ ...base, utcOffset: '-05:30' }, 'inline').utcOffsetMinutes, -330)
})

t.test('errors name the source, the path of the bad field and what was expected', async (t) => {
  const cases: Array<[string, unknown, string, RegExp]> = [
    ['wrong type', { ...base, outbound: { quotas: [{ parties: ['individual'], perYear: 50000 }] } }, 'outbound.quotas[0].perYear', /expected an amount with its currency, like "50000 USD", got the number 50000/],
    ['unknown key', { ...base, outbound: { quotas: [{ parties: ['individual'], perYaer: '50000 USD' }] } }, 'outbound.quotas[0]', /unknown field "perYaer": expected only parties, kycTiers, perTransaction, perDay, perYear/],
    ['unknown top-level key', { ...base, outbond: {} }, '', /unknown field "outbond"/],
    ['negative amount', { ...base, outbound: { quotas: [{ parties: ['individual'], perDay: '-5 USD' }] } }, 'outbound.quotas[0].perDay', /expected an amount of zero or more, got "-5 USD"/],
    ['unknown currency', { ...base, outbound: { largeValueReports: [{ atLeast: '10000 XYZ' }] } }, 'outbound.largeValueReports[0].atLeast', /expected an amount in a currency Corridor knows \(ISO 4217\), got "10000 XYZ"/],
    ['too many decimals', { ...base, inbound: { documents: [{ atLeast: '1.001 USD' }] } }, 'inbound.documents[0].atLeast', /USD has 2 decimal places/],
    ['daily above yearly', { ...base, outbound: { quotas: [{ parties: ['individual'], perDay: '60000 USD', perYear: '50000 USD' }] } }, 'outbound.quotas[0].perDay', /expected perDay to be at most perYear/],
    ['per transaction above daily', { ...base, domestic: { quotas: [{ parties: ['individual'], perTransaction: '6000 CNY', perDay: '5000 CNY' }] } }, 'domestic.quotas[0].perTransaction', /expected perTransaction to be at most perDay/],
    ['quota currencies differ', { ...base, outbound: { quotas: [{ parties: ['individual'], perDay: '100 CNY', perYear: '50000 USD' }] } }, 'outbound.quotas[0].perYear', /expected the same currency as perDay \(CNY\), got USD/],
    ['quota without a limit', { ...base, outbound: { quotas: [{ parties: ['individual'] }] } }, 'outbound.quotas[0]', /expected at least one of perTransaction, perDay, perYear/],
    ['quota without parties', { ...base, outbound: { quotas: [{ perYear: '50000 USD' }] } }, 'outbound.quotas[0].parties', /expected a list, got nothing/],
    ['unknown reference currency', { ...base, referenceCurrency: 'RMB' }, 'referenceCurrency', /expected an ISO 4217 currency code Corridor knows/],
    ['invalid jurisdiction', { ...base, jurisdiction: 'UK' }, 'jurisdiction', /expected an ISO 3166-1 alpha-2 jurisdiction code/],
    ['invalid corridor jurisdiction', { ...base, outbound: { corridors: { deny: ['XX'] } } }, 'outbound.corridors.deny[0]', /expected an ISO 3166-1 alpha-2/],
    ['allow and deny name one jurisdiction', { ...base, outbound: { corridors: { allow: ['HK', 'AE'], deny: ['AE'] } } }, 'outbound.corridors.deny[0]', /expected allow and deny not both to name AE/],
    ['corridor names the jurisdiction itself', { ...base, inbound: { corridors: { allow: ['CN', 'HK'] } } }, 'inbound.corridors.allow[0]', /expected counterparty jurisdictions only, not CN itself/],
    ['corridors in domestic rules', { ...base, domestic: { corridors: { deny: ['KP'] } } }, 'domestic', /unknown field "corridors"/],
    ['empty allow list', { ...base, outbound: { corridors: { allow: [] } } }, 'outbound.corridors.allow', /expected at least one entry/],
    ['window of zero days', { ...base, outbound: { structuring: { senders: ['individual'], distinctSendersMin: 5, windowDays: 0, action: 'report' } } }, 'outbound.structuring.windowDays', /expected a window in days of at least 1/],
    ['window too long', { ...base, outbound: { structuring: { senders: ['individual'], distinctSendersMin: 5, windowDays: 400, action: 'report' } } }, 'outbound.structuring.windowDays', /at most 31/],
    ['fractional sender count', { ...base, outbound: { structuring: { senders: ['individual'], distinctSendersMin: 4.5, windowDays: 2, action: 'report' } } }, 'outbound.structuring.distinctSendersMin', /whole number/],
    ['unknown action', { ...base, outbound: { structuring: { senders: ['individual'], distinctSendersMin: 5, windowDays: 2, action: 'flag' } } }, 'outbound.structuring.action', /expected report or refuse, got the text "flag"/],
    ['unknown party kind', { ...base, outbound: { largeValueReports: [{ parties: ['person'], atLeast: '1 USD' }] } }, 'outbound.largeValueReports[0].parties[0]', /expected one of individual, corporate, bank, central-bank, fx-provider/],
    ['KYC tier out of range', { ...base, holdingLimits: [{ kycTiers: [0], max: '1 CNY' }] }, 'holdingLimits[0].kycTiers[0]', /expected a KYC tier of at least 1/],
    ['bad purpose code', { ...base, outbound: { purposes: [{ required: true, allowed: ['goods'] }] } }, 'outbound.purposes[0].allowed[0]', /expected a purpose code of 1-35 upper-case letters and digits/],
    ['purpose rule that asks nothing', { ...base, outbound: { purposes: [{ required: false }] } }, 'outbound.purposes[0]', /expected required: true, an allowed list, or both/],
    ['duplicate in a list', { ...base, sanctions: { entities: ['a', 'b', 'a'] } }, 'sanctions.entities[2]', /expected no duplicates, "a" appears twice/],
    ['sanctioning oneself', { ...base, sanctions: { jurisdictions: ['KP', 'CN'] } }, 'sanctions.jurisdictions[1]', /expected foreign jurisdictions only, not CN itself/],
    ['bad entity id', { ...base, sanctions: { entities: ['Bad Id'] } }, 'sanctions.entities[0]', /expected an entity id/],
    ['bad token pattern', { ...base, crossBorderOnlyTokens: ['CNH'] }, 'crossBorderOnlyTokens[0]', /expected a token pattern "<issuer>.<CUR>"/],
    ['token pattern for everything', { ...base, crossBorderOnlyTokens: ['*.*'] }, 'crossBorderOnlyTokens[0]', /narrower than "\*\.\*"/],
    ['token pattern with an unknown currency', { ...base, holdingLimits: [{ kycTiers: [1], tokens: ['*.XYZ'], max: '1 CNY' }] }, 'holdingLimits[0].tokens[0]', /expected a known ISO 4217 currency after the dot/],
    ['bank limit without a limit', { ...base, bankLimits: [{ bank: 'icbc' }] }, 'bankLimits[0]', /expected transactionMax, supplyMax, or both/],
    ['two limits for one bank', { ...base, bankLimits: [{ bank: 'icbc', transactionMax: '1 CNY' }, { bank: 'icbc', supplyMax: '1 CNY' }] }, 'bankLimits[1].bank', /expected one entry per bank, icbc appears twice/],
    ['bad UTC offset', { ...base, utcOffset: '+8' }, 'utcOffset', /expected a UTC offset from "-12:00" to "\+14:00"/],
    ['UTC offset out of range', { ...base, utcOffset: '+15:00' }, 'utcOffset', /expected a UTC offset/],
    ['a list where an object belongs', { ...base, outbound: [] }, 'outbound', /expected an object with corridors, purposes/],
    ['not an object at all', 'CN', '', /expected an object with jurisdiction, referenceCurrency/]
  ]
  for (const [name, document, path, message] of cases) {
    const error = issuesOf(document)
    t.equal(error.code, 'CONFIG_INVALID', name)
    t.equal(error.file, 'policies/test.yaml', name)
    const issue = error.issues.find((entry) => entry.path === path)
    t.ok(issue, `${name}: an issue at "${path}", got ${JSON.stringify(error.issues)}`)
    if (issue) t.match(issue.message, message, name)
    t.match(error.message, /^policies\/test\.yaml: invalid\n/, name)
  }
})

t.test('a missing required field is named', async (t) => {
  const error = issuesOf({ jurisdiction: 'CN', utcOffset: '+08:00' })
  t.same(error.issues.map((issue) => issue.path), ['referenceCurrency'])
  t.match(error.message, /referenceCurrency: expected a currency code, got nothing/)
})

t.test('bad policy files are refused with the file, the path and the expectation; nothing is loaded', async (t) => {
  const directory = mkdtempSync(join(tmpdir(), 'corridor-policies-'))
  const good = join(directory, 'a-good.yaml')
  writeFileSync(good, 'jurisdiction: HK\nreferenceCurrency: HKD\nutcOffset: "+08:00"\n')
  const bad = join(directory, 'b-bad.yaml')
  writeFileSync(bad, 'jurisdiction: CN\nreferenceCurrency: CNY\nutcOffset: "+08:00"\noutbound:\n  quotas:\n    - parties: [individual]\n      perDay: "60000 USD"\n      perYear: "50000 USD"\n')
  const error = t.throws(() => loadPolicyDirectory(directory)) as unknown as ConfigError
  t.ok(error instanceof ConfigError)
  t.equal(error.file, bad)
  t.match(error.message, `${bad}: invalid`)
  t.match(error.message, 'outbound.quotas[0].perDay: expected perDay to be at most perYear')

  const json = join(directory, 'c.json')
  writeFileSync(json, JSON.stringify({ ...base, outbound: { quotas: [{ parties: ['individual'], perYear: '-1 USD' }] } }))
  const jsonError = t.throws(() => loadPolicyFile(json)) as unknown as ConfigError
  t.equal(jsonError.file, json)
  t.match(jsonError.message, 'outbound.quotas[0].perYear: expected an amount of zero or more')

  const syntax = join(directory, 'd.yaml')
  writeFileSync(syntax, 'jurisdiction: [CN\n')
  t.equal((t.throws(() => loadPolicyFile(syntax)) as unknown as ConfigError).code, 'CONFIG_SYNTAX')
  t.equal((t.throws(() => loadPolicyFile(join(directory, 'missing.yaml'))) as unknown as ConfigError).code, 'CONFIG_UNREADABLE')
  t.equal((t.throws(() => loadPolicyDirectory(join(directory, 'nowhere'))) as unknown as ConfigError).code, 'CONFIG_UNREADABLE')
})

t.test('two files for one jurisdiction are refused', async (t) => {
  const directory = mkdtempSync(join(tmpdir(), 'corridor-policies-'))
  const first = join(directory, 'first.yaml')
  const second = join(directory, 'second.json')
  writeFileSync(first, 'jurisdiction: SG\nreferenceCurrency: SGD\nutcOffset: "+08:00"\n')
  writeFileSync(second, JSON.stringify({ jurisdiction: 'SG', referenceCurrency: 'SGD', utcOffset: '+08:00' }))
  const error = t.throws(() => loadPolicyFiles([first, second])) as unknown as ConfigError
  t.equal(error.file, second)
  t.match(error.message, `jurisdiction: expected one policy per jurisdiction, SG is already defined by ${first}`)
})

t.test('the document is kept as given, and parsing does not change it', async (t) => {
  const document = { ...base, outbound: { quotas: [{ parties: ['individual'], perYear: '50000 USD' }] } }
  const copy = structuredClone(document)
  const policy = parsePolicyDocument(document, 'inline')
  t.same(document, copy)
  t.equal(policy.document, document)
})
