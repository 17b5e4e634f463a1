// One test per rule of the Tendermint algorithm (Buchman, Kwon, Milosevic 2018, Algorithm 1),
// named after the paper's line numbers. The validator under test is v0 of four equal validators
// (quorum 3, f + 1 = 2); the proposers of height 1 are v1, v2, v3, v0 for rounds 0-3.
import t from 'tap'
import { Script, hashOf } from '../../../src/consensus/testing/script.ts'
import { verifyCommitCertificate } from '../../../src/consensus/certificate.ts'
import { blockHash } from '../../../src/consensus/block.ts'
import { hashValue } from '../../../src/protocol/hash.ts'
import type { ConsensusAction } from '../../../src/consensus/types.ts'

function started(options: ConstructorParameters<typeof Script>[0] = {}): Script {
  const s = new Script(options)
  s.start()
  return s
}

function timeouts(actions: readonly ConsensusAction[]): string[] {
  return actions.flatMap((a) => (a.kind === 'scheduleTimeout' ? [`${a.timeout.step}/h${a.timeout.height}/r${a.timeout.round}/${a.durationMs}ms`] : []))
}

/** v0 accepts v1's proposal B of round 0 and prevotes it. */
function prevotedFresh(s: Script) {
  const block = s.block(0)
  s.deliver(s.proposal(0, block), 'v1')
  s.verdict(block, true)
  return block
}

/** v0 locks on B in round 0: proposal, own prevote, prevotes of v1 and v2. */
function lockedInRoundZero(s: Script) {
  const block = prevotedFresh(s)
  s.votes(['v1', 'v2'], 'prevote', 0, block)
  return block
}

t.test('line 11-21 StartRound: a validator that is not the proposer schedules timeoutPropose(round) and waits', async (t) => {
  const s = new Script()
  const actions = s.start()
  t.same(timeouts(actions).filter((x) => x.startsWith('propose')), ['propose/h1/r0/300ms'])
  t.equal(s.of('requestProposal', actions).length, 0, 'does not ask for a value')
  t.equal(s.sent(actions).length, 0, 'sends nothing')
  t.equal(s.engine.status().step, 'propose')
})

t.test('line 14-19 StartRound: the proposer without a validValue asks for a value (getValue) and proposes it with validRound -1', async (t) => {
  const s = new Script({ self: 'v1' })
  const requests = s.of('requestProposal', s.start())
  t.equal(requests.length, 1)
  t.match(requests[0], { height: 1, round: 0 })
  const actions = s.value(0)
  const kinds = actions.map((a) => a.kind)
  t.ok(kinds.indexOf('persist') < kinds.indexOf('broadcast'), 'the proposal is persisted before it is broadcast')
  const proposal = s.sent(actions).find((m) => m.kind === 'proposal')
  t.ok(proposal !== undefined && proposal.kind === 'proposal' && proposal.proposal.validRound === -1 && proposal.proofOfLock.length === 0)
  // The proposer's own proposal satisfies line 22 for itself.
  t.equal(hashOf(s.lastVote('prevote')?.blockHash), proposal?.kind === 'proposal' ? hashOf(proposal.proposal.blockHash) : '')
})

t.test('line 15-16 StartRound: a proposer with a validValue proposes it with validRound and the prevotes that justify it', async (t) => {
  const s = started()
  const block = lockedInRoundZero(s)
  t.equal(s.engine.status().validRound, 0)
  // f + 1 messages of round 3 (where v0 proposes) take v0 there (line 55).
  s.votes(['v2', 'v3'], 'prevote', 3, null)
  t.equal(s.engine.status().round, 3)
  const proposal = s.sent(s.last).find((m) => m.kind === 'proposal')
  t.ok(proposal?.kind === 'proposal')
  if (proposal?.kind !== 'proposal') return
  t.equal(hashOf(proposal.proposal.blockHash), hashOf(block), 're-proposes the valid value')
  t.equal(proposal.proposal.validRound, 0)
  t.same(proposal.proofOfLock.map((p) => p.validator), ['v0', 'v1', 'v2'], 'with a quorum of prevotes of round 0')
  t.equal(s.of('requestProposal').length, 0, 'does not ask the application for a new value')
})

t.test('line 22-27: upon a fresh proposal from the proposer, an unlocked validator prevotes id(v) once the application accepts v', async (t) => {
  const s = started()
  const block = s.block(0)
  const actions = s.deliver(s.proposal(0, block), 'v1')
  const asks = s.of('processProposal', actions)
  t.equal(asks.length, 1, 'asks the application to process the proposal')
  t.equal(s.signedVotes().length, 0, 'line 22 waits for the verdict: valid(v) is not known yet')
  s.verdict(block, true)
  t.equal(hashOf(s.lastVote('prevote')?.blockHash), hashOf(block))
  t.equal(s.engine.status().step, 'prevote')
})

t.test('line 23, 26: prevote nil when the application rejects v', async (t) => {
  const s = started()
  const block = s.block(0)
  s.deliver(s.proposal(0, block), 'v1')
  s.verdict(block, false)
  t.equal(hashOf(s.lastVote('prevote')?.blockHash), 'nil')
})

t.test('line 23, 26: prevote nil when v does not extend the chain', async (t) => {
  const cases = {
    'time not after the parent': (s: Script) => s.block(0, { timeMs: s.tip.timeMs }),
    'another app hash': (s: Script) => s.block(0, { appHash: hashValue('x', ['other']) }),
    'a proposer that is not a validator': (s: Script) => s.block(0, { proposer: 'nobody' })
  }
  for (const [name, make] of Object.entries(cases)) {
    const s = started()
    const block = make(s)
    const actions = s.deliver(s.proposal(0, block), 'v1')
    t.equal(s.of('processProposal', actions).length, 0, `${name}: the application is not asked`)
    t.equal(hashOf(s.lastVote('prevote')?.blockHash), 'nil', name)
  }
})

t.test('line 23, 26: a validator locked on another value prevotes nil on a fresh proposal', async (t) => {
  const s = started()
  lockedInRoundZero(s)
  t.equal(s.engine.status().lockedRound, 0)
  s.votes(['v2', 'v3'], 'prevote', 1, null)
  t.equal(s.engine.status().round, 1)
  const other = s.block(1)
  s.deliver(s.proposal(1, other), 'v2')
  s.verdict(other, true)
  t.equal(hashOf(s.lastVote('prevote')?.blockHash), 'nil')
})

t.test('line 28-33: upon a re-proposal with validRound vr and a quorum of prevotes of vr, prevote id(v) when lockedRound <= vr', async (t) => {
  const s = started()
  const block = s.block(0)
  // v0 saw nothing of round 0; v2 re-proposes B in round 1 with the prevotes of round 0.
  s.votes(['v2', 'v3'], 'prevote', 1, null)
  const pol = s.proofOfLock(['v1', 'v2', 'v3'], 0, block)
  s.deliver(s.proposal(1, block, { validRound: 0, proofOfLock: pol }), 'v2')
  s.verdict(block, true)
  t.equal(hashOf(s.lastVote('prevote')?.blockHash), hashOf(block))
})

t.test('line 28-33: a validator locked at a round at or below vr prevotes the re-proposed value', async (t) => {
  const s = started()
  const locked = lockedInRoundZero(s)
  // Round 1: a quorum prevotes C, which v0 does not see in time.
  s.votes(['v2', 'v3'], 'precommit', 1, null)
  s.timeout('propose', 1)
  const other = s.block(1)
  const pol = s.proofOfLock(['v1', 'v2', 'v3'], 1, other)
  // Round 2: v3 re-proposes C with validRound 1; v0 is locked on B at round 0 <= 1.
  s.votes(['v1', 'v3'], 'prevote', 2, null)
  t.equal(s.engine.status().round, 2)
  s.deliver(s.proposal(2, other, { validRound: 1, proofOfLock: pol }), 'v3')
  s.verdict(other, true)
  t.not(hashOf(locked), hashOf(other))
  t.equal(hashOf(s.lastVote('prevote')?.blockHash), hashOf(other))
})

t.test('line 29-32: a validator locked at a round above vr on another value prevotes nil on the re-proposal', async (t) => {
  const s = started()
  const first = s.block(0)
  // Round 1: v0 locks on C.
  s.votes(['v2', 'v3'], 'precommit', 1, null)
  const second = s.block(1)
  s.deliver(s.proposal(1, second), 'v2')
  s.verdict(second, true)
  s.votes(['v2', 'v3'], 'prevote', 1, second)
  t.equal(s.engine.status().lockedRound, 1)
  // Round 2: B is re-proposed with validRound 0 < lockedRound 1.
  s.votes(['v1', 'v3'], 'prevote', 2, null)
  s.deliver(s.proposal(2, first, { validRound: 0, proofOfLock: s.proofOfLock(['v1', 'v2', 'v3'], 0, first) }), 'v3')
  s.verdict(first, true)
  t.equal(hashOf(s.lastVote('prevote')?.blockHash), 'nil')
})

t.test('line 34-35: 2f+1 prevotes of any kind schedule timeoutPrevote, once', async (t) => {
  const s = started()
  const block = s.block(0)
  s.timeout('propose', 0)
  t.equal(hashOf(s.lastVote('prevote')?.blockHash), 'nil')
  s.deliver(s.vote('v1', 'prevote', 0, block), 'v1')
  t.same(timeouts(s.last), [], 'two prevotes are not a quorum')
  s.deliver(s.vote('v2', 'prevote', 0, null), 'v2')
  t.same(timeouts(s.last), ['prevote/h1/r0/150ms'])
  s.deliver(s.vote('v3', 'prevote', 0, block), 'v3')
  t.same(timeouts(s.last), [], 'only the first time')
})

t.test('line 36-43: upon the proposal and 2f+1 prevotes for it, lock, precommit id(v) and set validValue; lock and valid value are persisted before the precommit leaves', async (t) => {
  const s = started()
  const block = prevotedFresh(s)
  s.deliver(s.vote('v1', 'prevote', 0, block), 'v1')
  t.equal(s.signedVotes('precommit').length, 0)
  const actions = s.deliver(s.vote('v2', 'prevote', 0, block), 'v2')
  const status = s.engine.status()
  t.equal(status.lockedRound, 0)
  t.equal(status.validRound, 0)
  t.equal(status.step, 'precommit')
  t.equal(hashOf(s.lastVote('precommit')?.blockHash), hashOf(block))
  const order = actions.flatMap((a) => (a.kind === 'persist' ? [a.record.kind] : a.kind === 'broadcast' ? ['broadcast'] : []))
  t.same(order, ['lock', 'valid', 'vote', 'broadcast'])
})

t.test('line 36, 42-43: in the precommit step, a quorum of prevotes for v sets validValue without locking or precommitting again', async (t) => {
  // v4 holds 9 of 13 (quorum > 26/3): its prevote alone is a quorum, after v0 has precommitted nil.
  const s = started({ validators: 5, powers: [1, 1, 1, 1, 9] })
  const block = s.block(0)
  s.deliver(s.proposal(0, block), 'v1')
  s.timeout('propose', 0)
  s.timeout('prevote', 0)
  t.equal(s.engine.status().step, 'precommit')
  t.equal(hashOf(s.lastVote('precommit')?.blockHash), 'nil')
  s.verdict(block, true)
  const actions = s.votes(['v4'], 'prevote', 0, block)
  t.equal(s.engine.status().validRound, 0, 'validValue and validRound are set')
  t.equal(s.engine.status().lockedRound, -1, 'not locked')
  t.equal(s.signedVotes('precommit').length, 1, 'no second precommit')
  t.same(actions.flatMap((a) => (a.kind === 'persist' ? [a.record.kind] : [])), ['valid'], 'the valid value is persisted')
})

t.test('line 44-46: upon 2f+1 nil prevotes, precommit nil', async (t) => {
  const s = started()
  s.timeout('propose', 0)
  s.votes(['v1', 'v2'], 'prevote', 0, null)
  t.equal(hashOf(s.lastVote('precommit')?.blockHash), 'nil')
  t.equal(s.engine.status().step, 'precommit')
})

t.test('line 47-48: 2f+1 precommits of any kind schedule timeoutPrecommit, once', async (t) => {
  const s = started()
  const block = s.block(0)
  s.deliver(s.vote('v1', 'precommit', 0, block), 'v1')
  s.deliver(s.vote('v2', 'precommit', 0, null), 'v2')
  t.same(timeouts(s.last), [])
  s.deliver(s.vote('v3', 'precommit', 0, null), 'v3')
  t.same(timeouts(s.last), ['precommit/h1/r0/150ms'])
  s.timeout('propose', 0)
  t.notOk(timeouts(s.last).some((x) => x.startsWith('precommit')), 'only the first time')
})

t.test('line 49-54: upon the proposal and 2f+1 precommits for it, decide, with a commit certificate that verifies on its own', async (t) => {
  const s = started()
  const block = lockedInRoundZero(s)
  s.deliver(s.vote('v1', 'precommit', 0, block), 'v1')
  t.equal(s.of('decide').length, 0)
  const actions = s.deliver(s.vote('v2', 'precommit', 0, block), 'v2')
  const decide = s.of('decide', actions)[0]
  t.ok(decide !== undefined)
  if (decide === undefined) return
  t.equal(hashOf(decide.blockHash), hashOf(block))
  t.equal(decide.source, 'consensus')
  const power = verifyCommitCertificate(s.validatorSet, s.config.chainId, decide.blockHash, decide.certificate, s.keyring.verifier)
  t.equal(power, 3)
  const kinds = actions.map((a) => (a.kind === 'persist' ? `persist:${a.record.kind}` : a.kind))
  t.ok(kinds.indexOf('persist:decision') < kinds.indexOf('decide'), 'the decision is persisted before it is delivered')
  t.equal(s.engine.status().step, 'decided')
})

t.test('line 49: a decision may come from precommits of an earlier round', async (t) => {
  const s = started()
  const block = s.block(0)
  s.deliver(s.proposal(0, block), 'v1')
  s.votes(['v2', 'v3'], 'prevote', 2, null) // v0 moves on to round 2
  t.equal(s.engine.status().round, 2)
  s.votes(['v1', 'v2', 'v3'], 'precommit', 0, block)
  const decide = s.of('decide', s.actions)[0]
  t.ok(decide !== undefined && decide.certificate.round === 0)
})

t.test('line 52-54: after the block is committed, the next height starts at round 0 with no lock and no valid value', async (t) => {
  const s = started()
  const block = lockedInRoundZero(s)
  s.votes(['v1', 'v2'], 'precommit', 0, block)
  const appHash = hashValue('test', ['after h1'])
  const actions = s.committed(appHash)
  const status = s.engine.status()
  t.match(status, { height: 2, round: 0, step: 'propose', lockedRound: -1, validRound: -1 })
  t.equal(hashOf(status.tip.blockHash), hashOf(block))
  t.same(status.tip.appHash, appHash)
  t.ok(timeouts(actions).includes('propose/h2/r0/300ms'))
})

t.test('line 55-56: f+1 messages of a higher round make the validator start that round', async (t) => {
  const s = started()
  s.deliver(s.vote('v2', 'prevote', 4, null), 'v2')
  t.equal(s.engine.status().round, 0)
  s.deliver(s.vote('v3', 'precommit', 4, null), 'v3')
  t.equal(s.engine.status().round, 4)
  t.ok(timeouts(s.last).includes('propose/h1/r4/700ms'))
})

t.test('line 55: messages of a higher round from validators with f or less of the power do not', async (t) => {
  const s = started()
  s.deliver(s.vote('v2', 'prevote', 4, null), 'v2')
  s.deliver(s.vote('v2', 'precommit', 4, null), 'v2')
  t.equal(s.engine.status().round, 0)
})

t.test('line 57-60 OnTimeoutPropose: prevote nil and move to the prevote step', async (t) => {
  const s = started()
  s.timeout('propose', 0)
  t.equal(hashOf(s.lastVote('prevote')?.blockHash), 'nil')
  t.equal(s.engine.status().step, 'prevote')
  t.equal(s.engine.metrics().missedProposals['v1'], 1, 'the missing proposal is counted against the proposer')
})

t.test('line 61-64 OnTimeoutPrevote: precommit nil and move to the precommit step', async (t) => {
  const s = started()
  s.timeout('propose', 0)
  s.timeout('prevote', 0)
  t.equal(hashOf(s.lastVote('precommit')?.blockHash), 'nil')
  t.equal(s.engine.status().step, 'precommit')
})

t.test('line 65-67 OnTimeoutPrecommit: start the next round', async (t) => {
  const s = started()
  s.timeout('precommit', 0)
  t.equal(s.engine.status().round, 1)
  t.equal(s.engine.status().step, 'propose')
})

t.test('line 57-67: a timeout for another height, round or step is ignored', async (t) => {
  const s = started()
  s.timeout('prevote', 0) // step is propose
  t.equal(s.signedVotes().length, 0)
  s.timeout('propose', 3) // another round
  s.timeout('propose', 0, 7) // another height
  t.equal(s.signedVotes().length, 0)
  t.equal(s.engine.status().round, 0)
  s.timeout('propose', 0)
  s.timeout('propose', 0) // twice
  t.equal(s.signedVotes('prevote').length, 1)
})

t.test('timeouts grow with the round: base + round * delta, capped at timeoutMaxMs', async (t) => {
  const s = new Script({ limits: { timeoutProposeBaseMs: 100, timeoutProposeDeltaMs: 40, timeoutMaxMs: 200 } })
  s.start()
  const durations: number[] = []
  for (let round = 0; round < 5; round++) {
    durations.push(...s.of('scheduleTimeout', s.last).flatMap((a) => (a.timeout.step === 'propose' ? [a.durationMs] : [])))
    s.timeout('precommit', round)
  }
  t.same(durations, [100, 140, 180, 200, 200])
})

t.test('weighted voting power: a quorum is more than 2/3 of the power, not of the validators', async (t) => {
  // v3 alone holds 4 of 7: with v1 (1) it makes 5 > 14/3. The proposer of height 1 round 0 is v0.
  const s = started({ powers: [1, 1, 1, 4], self: 'v1' })
  const block = s.block(0)
  t.equal(block.header.proposer, 'v0')
  s.deliver(s.proposal(0, block), 'v0')
  s.verdict(block, true)
  s.votes(['v0', 'v2'], 'prevote', 0, block)
  t.equal(s.engine.status().lockedRound, -1, 'three validators with 3 of 7 are not a quorum')
  s.votes(['v3'], 'prevote', 0, block)
  t.equal(s.engine.status().lockedRound, 0)
})

t.test('resend (beyond the paper): a validator stuck in a round sends its own messages of the round again', async (t) => {
  const s = started()
  const block = prevotedFresh(s)
  t.ok(timeouts(s.actions).some((x) => x.startsWith('resend/h1/r0')))
  const actions = s.timeout('resend', 0)
  const resent = s.sent(actions)
  t.equal(resent.length, 1)
  t.ok(resent[0]?.kind === 'vote' && hashOf(resent[0].vote.blockHash) === hashOf(block))
  t.equal(s.signedVotes().length, 1, 'nothing new is signed')
  t.ok(timeouts(actions).some((x) => x.startsWith('resend/h1/r0')), 'and schedules the next resend')
})

t.test('block time: the proposer raises a driver time at or before the parent to the parent time + 1', async (t) => {
  const s = new Script({ self: 'v1' })
  s.start()
  s.value(0, ['test-block', 1, 0, 'v1', 1], s.tip.timeMs - 5)
  const proposal = s.sent().find((m) => m.kind === 'proposal')
  t.ok(proposal?.kind === 'proposal' && proposal.block.header.timeMs === s.tip.timeMs + 1)
  t.ok(proposal?.kind === 'proposal' && hashOf(blockHash(proposal.block.header)) === hashOf(proposal.proposal.blockHash))
})
