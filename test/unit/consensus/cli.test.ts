// `corridor consensus fuzz`: usage, exit codes, and what a failing seed prints.
import t from 'tap'
import { spawnSync } from 'node:child_process'

function corridor(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['bin/corridor.js', 'consensus', ...args], { encoding: 'utf8', timeout: 120_000 })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

t.test('--help prints the usage and exits 0; bad arguments exit 2 with the usage', async (t) => {
  const help = corridor('fuzz', '--help')
  t.equal(help.status, 0)
  t.match(help.stdout, /--seeds N/)
  t.match(help.stdout, /--byzantine k/)
  t.equal(corridor('fuzz').status, 2, '--seeds is required')
  const bad = corridor('fuzz', '--seeds', 'many')
  t.equal(bad.status, 2)
  t.match(bad.stderr, /--seeds must be an integer/)
  t.equal(corridor('fuzz', '--seeds', '1', '--bogus').status, 2)
  t.equal(corridor('nothing').status, 2)
  t.equal(corridor('--help').status, 0)
})

t.test('a clean run exits 0 and says so', async (t) => {
  const run = corridor('fuzz', '--seeds', '6', '--signatures', 'fast')
  t.equal(run.status, 0, run.stderr)
  t.match(run.stdout, /fuzz: 6 seeds from 1: all invariants held/)
  t.match(run.stderr, /fuzz: 6\/6 seeds, 0 failing/, 'progress lines when not on a terminal')
})

t.test('a failing seed exits 1 and prints the seed, how to replay it, and the shortest failing trace', async (t) => {
  // Two faulty validators of four is beyond f = 1: seed 4 withholds votes twice and stalls.
  const run = corridor('fuzz', '--seeds', '1', '--seed-start', '4', '--validators', '4', '--byzantine', '2', '--signatures', 'fast', '--trace-lines', '10')
  t.equal(run.status, 1)
  t.match(run.stderr, /more than f = 1/)
  t.match(run.stdout, /seed 4: liveness:/)
  t.match(run.stdout, /replay: +node bin\/corridor\.js consensus fuzz --seeds 1 --seed-start 4 --validators 4 --byzantine 2 --signatures fast/)
  t.match(run.stdout, /shortest failing run for seed 4 \(shrunk in \d+ runs\)/)
  t.match(run.stdout, /--replay '\{"seed":4/)
  t.match(run.stdout, /trace \(last 10 of \d+ lines/)
  const replay = /--replay '([^']+)'/.exec(run.stdout)?.[1]
  t.ok(replay !== undefined)
  if (replay === undefined) return
  const again = corridor('fuzz', '--replay', replay, '--signatures', 'fast', '--trace-lines', '3')
  t.equal(again.status, 1, 'the replay fails the same way')
  t.match(again.stdout, /VIOLATION liveness/)
})
