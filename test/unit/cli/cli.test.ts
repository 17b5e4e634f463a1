import t from 'tap'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

function corridor(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['bin/corridor.js', ...args], { encoding: 'utf8', timeout: 120_000 })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

t.test('usage: no group prints the groups and exits 2; an unknown group is named', async (t) => {
  const none = corridor()
  t.equal(none.status, 2)
  t.match(none.stdout, /groups:[\s\S]*ledger[\s\S]*sim[\s\S]*consensus/)
  const unknown = corridor('frobnicate')
  t.equal(unknown.status, 2)
  t.match(unknown.stderr, /unknown group 'frobnicate'/)
})

t.test('bad options are usage errors with exit 2, not stack traces', async (t) => {
  for (const args of [['sim', 'run', '--bogus'], ['sim', 'run', '--seed', 'x1'], ['ledger', 'demo', '--payments', '0']]) {
    const result = corridor(...args)
    t.equal(result.status, 2, args.join(' '))
    t.notMatch(result.stderr, /\n\s+at /, 'no stack trace')
  }
})

t.test('a bad scenario file is refused with the file, the field and what was expected', async (t) => {
  const dir = t.testdir({})
  const path = join(dir, 'bad.yaml')
  writeFileSync(path, 'name: bad\nduration: ten minutes\nbanks: []\n')
  const result = corridor('sim', 'run', path)
  t.equal(result.status, 1)
  t.match(result.stderr, /CONFIG_INVALID: .*bad\.yaml: invalid/)
  t.match(result.stderr, /duration: expected a duration/)
  t.match(result.stderr, /banks: Too small/)
  const missing = corridor('sim', 'run', join(dir, 'nope.yaml'))
  t.equal(missing.status, 1)
  t.match(missing.stderr, /nope\.yaml: cannot be read\n\s+\(root\): no such file/)
})

t.test('ledger demo prints receipts by reason code and holds the invariants', async (t) => {
  const result = corridor('ledger', 'demo', '--payments', '400', '--block-size', '100')
  t.equal(result.status, 0, result.stderr)
  t.match(result.stdout, /receipts by reason code/)
  t.match(result.stdout, /SETTLED\s+\d+/)
  t.match(result.stdout, /conservation and non-negative balances: hold/)
})

t.test('sim run writes its outputs and prints where the report is', async (t) => {
  const dir = t.testdir({})
  const scenario = join(dir, 'tiny.yaml')
  writeFileSync(
    scenario,
    [
      'name: tiny',
      'duration: 3s',
      'drain: 3s',
      'banks:',
      '  - { id: a, jurisdiction: CN, currencies: [CNY] }',
      '  - { id: b, jurisdiction: AE, currencies: [AED] }',
      '  - { id: c, jurisdiction: SG, currencies: [SGD] }',
      '  - { id: d, jurisdiction: HK, currencies: [HKD] }',
      'fx: { base: USD, rates: { CNY: 7.1, AED: 3.6725, SGD: 1.34, HKD: 7.8 } }',
      'population:',
      '  - { bank: a, kind: corporate, count: 10, balance: "1000000 CNY" }',
      '  - { bank: b, kind: corporate, count: 10, balance: "1000000 AED" }',
      'workload:',
      '  - { kind: trade, from: CN, to: AE, rate: 20/s, amount: { median: "1000 USD" } }',
      'expect: { finalized: ">= 0.99" }'
    ].join('\n')
  )
  const out = join(dir, 'out')
  const result = corridor('sim', 'run', scenario, '--out', out, '--seed', '3')
  t.equal(result.status, 0, result.stderr)
  t.match(result.stdout, /tiny \(seed 3\): PASS/)
  t.match(result.stdout, new RegExp(`report: ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/report\\.html`))
})

t.test('a reader that goes away early (corridor ... | head) ends the command quietly, not with EPIPE', async (t) => {
  const { spawn } = await import('node:child_process')
  const out = t.testdir({})
  const child = spawn(process.execPath, ['bin/corridor.js', 'sim', 'run', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  // Like `| true`: the reader closes its end before the command has written its summary.
  child.stdout.destroy()
  const status = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  t.equal(status, 0, 'exit status 0')
  t.notMatch(stderr, /EPIPE|\n\s+at /, 'no EPIPE error or stack trace')
})
