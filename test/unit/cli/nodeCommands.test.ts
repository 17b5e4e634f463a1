/**
 * `corridor node ...`: key files (mode 0600, never overwritten) and the arguments of `node start`,
 * including the testing-only fault flags; each refusal names its flag. The argument checks run
 * in-process; a few runs of the real command check the exit codes.
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseStartArguments, writeKeyFile } from '../../../src/cli/nodeCommands.ts'
import { keyPairFromSecret } from '../../../src/protocol/keys.ts'
import { bytesToHex, hexToBytes } from '../../../src/protocol/bytes.ts'

function corridor(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['bin/corridor.js', ...args], { encoding: 'utf8', timeout: 120_000 })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

t.test('keygen writes a 0600 key file with a matching public key and never overwrites', async (t) => {
  const dir = t.testdir({})
  const path = join(dir, 'validator.key.json')
  const { publicKey } = writeKeyFile(path)
  t.equal(statSync(path).mode & 0o777, 0o600, 'mode 0600')
  const file = JSON.parse(readFileSync(path, 'utf8'))
  t.equal(file.publicKey, publicKey)
  t.equal(bytesToHex(keyPairFromSecret(hexToBytes(file.secretKey)).publicKey), publicKey, 'the public key is the secret key\'s')
  t.throws(() => writeKeyFile(path), { code: 'KEY_FILE_EXISTS' }, 'refuses to overwrite')
  t.equal(readFileSync(path, 'utf8'), JSON.stringify(file, null, 2) + '\n', 'the first key is untouched')

  const again = corridor('node', 'keygen', '--out', path)
  t.equal(again.status, 1, 'the command fails on an existing file')
  t.match(again.stderr, /KEY_FILE_EXISTS: .* exists; refusing to overwrite/)
  const missing = corridor('node', 'keygen')
  t.equal(missing.status, 2)
  t.match(missing.stderr, /--out FILE is required/)
})

t.test('node start arguments: each refusal names its flag', async (t) => {
  const dir = t.testdir({})
  const token = join(dir, 'admin.token')
  writeFileSync(token, 'secret-token-1\n', { mode: 0o600 })
  const open = join(dir, 'open.token')
  writeFileSync(open, 'secret-token-2\n', { mode: 0o644 })
  chmodSync(open, 0o644)
  const empty = join(dir, 'empty.token')
  writeFileSync(empty, ' \n', { mode: 0o600 })

  const refused: Array<[string[], RegExp]> = [
    [[], /--config FILE is required/],
    [['--config', 'n.json', '--admin-token-file', token], /--admin-token-file needs --fault-injection/],
    [['--config', 'n.json', '--byzantine-allowed'], /--byzantine-allowed needs --fault-injection/],
    [['--config', 'n.json', '--byzantine', 'equivocate'], /--byzantine needs --fault-injection/],
    [['--config', 'n.json', '--fault-seed', '3'], /--fault-seed needs --fault-injection/],
    [['--config', 'n.json', '--fault-injection'], /--fault-injection requires --admin-token-file/],
    [['--config', 'n.json', '--fault-injection', '--admin-token-file', join(dir, 'nope')], /--admin-token-file .*nope: no such file/],
    [['--config', 'n.json', '--fault-injection', '--admin-token-file', open], /--admin-token-file .*: mode 644; it must not be readable by group or others/],
    [['--config', 'n.json', '--fault-injection', '--admin-token-file', empty], /--admin-token-file .*: the file is empty/],
    [['--config', 'n.json', '--fault-injection', '--admin-token-file', token, '--byzantine', 'equivocate,fly'], /--byzantine expects .*; unknown: fly/],
    [['--config', 'n.json', '--fault-injection', '--admin-token-file', token, '--byzantine', ''], /--byzantine expects/],
    [['--config', 'n.json', '--fault-injection', '--admin-token-file', token, '--fault-seed', '1.5'], /--fault-seed must be an integer/]
  ]
  for (const [args, message] of refused) {
    const parsed = parseStartArguments(args)
    t.equal(parsed.ok, false, args.join(' '))
    if (!parsed.ok) t.match(parsed.message, message, args.join(' '))
  }
  t.throws(() => parseStartArguments(['--config', 'n.json', '--bogus']), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' })

  t.same(parseStartArguments(['--config', 'n.json', '--log-level', 'debug']), { ok: true, config: 'n.json', logLevel: 'debug', faultInjection: undefined, byzantine: undefined, adminToken: undefined }, 'no fault flags: no fault layer')
  t.same(parseStartArguments(['--config', 'n.json', '--fault-injection', '--admin-token-file', token, '--fault-seed', '42']), { ok: true, config: 'n.json', logLevel: undefined, faultInjection: { seed: 42 }, byzantine: undefined, adminToken: 'secret-token-1' })
  const allowed = parseStartArguments(['--config', 'n.json', '--fault-injection', '--admin-token-file', token, '--byzantine-allowed'])
  t.same(allowed.ok && allowed.byzantine, { initial: [] }, '--byzantine-allowed: switchable, off at start')
  const on = parseStartArguments(['--config', 'n.json', '--fault-injection', '--admin-token-file', token, '--byzantine', 'equivocate, censor'])
  t.same(on.ok && on.byzantine, { initial: ['equivocate', 'censor'] }, '--byzantine implies allowed and starts with them on')
})

t.test('node start: argument errors exit 2 with the flag named, before anything starts', async (t) => {
  const none = corridor('node', 'start')
  t.equal(none.status, 2)
  t.match(none.stderr, /corridor node start: --config FILE is required/)
  const byzantine = corridor('node', 'start', '--config', 'nowhere.json', '--byzantine', 'equivocate')
  t.equal(byzantine.status, 2)
  t.match(byzantine.stderr, /--byzantine needs --fault-injection/)
  const unknown = corridor('node', 'start', '--config', 'nowhere.json', '--fault')
  t.equal(unknown.status, 2)
  t.match(unknown.stderr, /Unknown option '--fault'/)
  t.notMatch(unknown.stderr, /\n\s+at /, 'no stack trace')
})
