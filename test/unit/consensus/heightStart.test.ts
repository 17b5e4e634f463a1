// When a height starts: at once by default; after timeoutCommitMs (CometBFT's timeout_commit);
// once transactions are available or emptyBlockIntervalMs has passed (create_empty_blocks); and a
// validator that is a quorum alone never decides the next height inside the step that committed one.
import t from 'tap'
import { Script } from '../../../src/consensus/testing/script.ts'
import type { ConsensusAction } from '../../../src/consensus/types.ts'

function timeouts(actions: readonly ConsensusAction[], step: string): number[] {
  return actions.flatMap((a) => (a.kind === 'scheduleTimeout' && a.timeout.step === step ? [a.durationMs] : []))
}

function decideHeight(s: Script): ConsensusAction[] {
  const block = s.block(0)
  s.deliver(s.proposal(0, block))
  s.verdict(block, true)
  s.votes(['v1', 'v2'], 'prevote', 0, block)
  s.votes(['v1', 'v2'], 'precommit', 0, block)
  return s.committed()
}

t.test('by default the next height starts as soon as the previous one is committed', async (t) => {
  const s = new Script()
  s.start()
  const actions = decideHeight(s)
  t.equal(s.engine.status().height, 2)
  t.same(timeouts(actions, 'propose'), [300], 'round 0 of height 2 started in the same step')
  t.same(timeouts(actions, 'commit'), [])
})

t.test('timeoutCommitMs: the next height starts when the commit timeout fires; votes meanwhile are kept, not acted on', async (t) => {
  const s = new Script({ limits: { timeoutCommitMs: 700 } })
  t.same(timeouts(s.start(), 'propose'), [300], 'the first height starts at once')
  const actions = decideHeight(s)
  t.same(timeouts(actions, 'commit'), [700])
  t.same(timeouts(actions, 'propose'), [], 'no round started yet')
  const block = s.block(0)
  s.deliver(s.proposal(0, block))
  s.verdict(block, true)
  t.equal(s.signedVotes('prevote').filter((v) => v.height === 2).length, 0, 'no prevote while waiting')
  const started = s.timeout('commit', 0)
  t.same(timeouts(started, 'propose'), [300], 'round 0 starts when the timeout fires')
  t.equal(s.signedVotes('prevote').filter((v) => v.height === 2).length, 1, 'and the proposal received meanwhile is prevoted')
})

t.test('emptyBlockIntervalMs: a height waits for transactions, a peer that started it, or the interval', async (t) => {
  const waiting = new Script({ limits: { emptyBlockIntervalMs: 5000 } })
  const first = waiting.start()
  t.match(waiting.of('awaitTransactions', first), [{ height: 1 }])
  t.same(timeouts(first, 'emptyBlock'), [5000])
  t.same(timeouts(first, 'propose'), [], 'no propose timeout runs while it waits')
  t.same(timeouts(waiting.step({ kind: 'transactionsAvailable', height: 1 }), 'propose'), [300], 'transactions: the round starts')
  t.same(timeouts(waiting.step({ kind: 'transactionsAvailable', height: 1 }), 'propose'), [], 'once')

  const byPeer = new Script({ limits: { emptyBlockIntervalMs: 5000 } })
  byPeer.start()
  t.same(timeouts(byPeer.deliver(byPeer.vote('v2', 'prevote', 0, null), 'v2'), 'propose'), [300], 'a peer started the height: so does this validator')

  const idle = new Script({ limits: { emptyBlockIntervalMs: 5000 } })
  idle.start()
  t.same(timeouts(idle.timeout('emptyBlock', 0), 'propose'), [300], 'the interval passed: the round starts, for an empty block if need be')
  const next = decideHeight(idle)
  t.match(idle.of('awaitTransactions', next), [{ height: 2 }], 'every height waits again')
})

t.test('a validator that is a quorum alone waits for a (0 ms) timeout between heights instead of deciding without end', async (t) => {
  const s = new Script({ validators: 1 })
  s.start()
  t.equal(s.of('requestProposal').length, 1)
  s.value(0)
  t.equal(s.of('decide').length, 1, 'decided alone')
  const committed = s.committed()
  t.same(timeouts(committed, 'commit'), [0])
  t.equal(s.of('requestProposal', committed).length, 0, 'height 2 not started inside the same step')
  s.timeout('commit', 0)
  t.equal(s.of('requestProposal').length, 1, 'it starts when the timeout fires')
})
