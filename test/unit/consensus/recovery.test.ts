// Crash recovery from the WAL: a restarted validator resumes where it was and never signs a vote or
// proposal that conflicts with one it signed before the crash.
import t from 'tap'
import fc from 'fast-check'
import { bytesToHex } from '../../../src/protocol/bytes.ts'
import { Script, hashOf } from '../../../src/consensus/testing/script.ts'
import { ConsensusError } from '../../../src/consensus/errors.ts'
import { blockHash, type Block } from '../../../src/consensus/block.ts'
import type { ConsensusInput } from '../../../src/consensus/types.ts'
import type { WalRecord } from '../../../src/consensus/wal.ts'

function lockedAndPrecommitted(self = 'v0') {
  const s = new Script({ self })
  s.start()
  const block = s.block(0)
  s.deliver(s.proposal(0, block))
  s.verdict(block, true)
  s.votes(['v1', 'v2'], 'prevote', 0, block)
  return { s, block }
}

t.test('restart after a precommit: same round, step and lock; the same votes are re-sent; nothing conflicting is signed', async (t) => {
  const { s, block } = lockedAndPrecommitted()
  const before = s.signedVotes().map((v) => bytesToHex(v.signature))
  const r = new Script({ wal: s.wal })
  const actions = r.start()
  t.match(r.engine.status(), { height: 1, round: 0, step: 'precommit', lockedRound: 0, validRound: 0 })
  const resent = r.sent(actions).flatMap((m) => (m.kind === 'vote' ? [bytesToHex(m.vote.signature)] : []))
  t.same(resent, before, 'the signed prevote and precommit go out again, byte for byte')
  t.equal(r.wal.filter((w) => w.kind === 'vote').length, 0, 'nothing new is signed on start')
  // Events that would make a fresh validator vote differently in round 0.
  r.votes(['v1', 'v2', 'v3'], 'prevote', 0, null)
  r.timeout('prevote', 0)
  r.timeout('propose', 0)
  t.equal(r.signedVotes().length, 0, 'no second vote in round 0')
  // Round 1: still locked on B, so a fresh proposal of another value gets nil.
  r.timeout('precommit', 0)
  const other = r.block(1)
  r.deliver(r.proposal(1, other))
  r.verdict(other, true)
  t.equal(hashOf(r.lastVote('prevote')?.blockHash), 'nil')
  t.not(hashOf(other), hashOf(block))
})

t.test('restart of a proposer mid-round: it re-sends its proposal and never proposes another value for that round', async (t) => {
  const s = new Script({ self: 'v1' })
  s.start()
  s.value(0)
  const proposal = s.wal.find((w) => w.kind === 'proposal')
  t.ok(proposal !== undefined)
  const r = new Script({ self: 'v1', wal: s.wal })
  const actions = r.start()
  t.equal(r.of('requestProposal', actions).length, 0, 'does not ask for a new value')
  const resent = r.sent(actions).find((m) => m.kind === 'proposal')
  t.ok(resent?.kind === 'proposal' && proposal?.kind === 'proposal' && bytesToHex(resent.proposal.signature) === bytesToHex(proposal.message.proposal.signature))
  r.value(0)
  t.equal(r.wal.filter((w) => w.kind === 'proposal').length, 0, 'a late value for the round is not proposed')
})

t.test('restart between decide and commit: the decision is delivered again', async (t) => {
  const { s, block } = lockedAndPrecommitted()
  s.votes(['v1', 'v2'], 'precommit', 0, block)
  t.equal(s.of('decide', s.actions).length, 1)
  const r = new Script({ wal: s.wal })
  const actions = r.start()
  const decide = r.of('decide', actions)
  t.equal(decide.length, 1)
  t.equal(hashOf(decide[0]?.blockHash), hashOf(block))
  r.committed()
  t.equal(r.engine.status().height, 2)
})

t.test('restart after commit: records of committed heights are ignored; a record beyond the next height is refused', async (t) => {
  const { s, block } = lockedAndPrecommitted()
  s.votes(['v1', 'v2'], 'precommit', 0, block)
  s.committed()
  const tip = s.tip
  const r = new Script({ wal: s.wal, tip })
  r.start()
  t.match(r.engine.status(), { height: 2, round: 0, lockedRound: -1 })
  const future: WalRecord = { kind: 'vote', vote: s.signVote('v0', 'prevote', 0, null, 3) }
  try {
    new Script({ wal: [future], tip })
    t.fail('accepted a record two heights ahead')
  } catch (error) {
    t.ok(error instanceof ConsensusError && error.code === 'BAD_WAL_RECORD')
  }
})

t.test('property: crash at any point, restore from the WAL, continue: never two different votes or proposals for one slot', async (t) => {
  // The validator under test is v2, proposer of height 1 round 1.
  const template = new Script({ self: 'v2' })
  const blocks: Block[] = []
  for (let round = 0; round < 3; round++) {
    blocks.push(template.block(round))
    blocks.push(template.block(round, { timeMs: template.tip.timeMs + 7 }))
  }
  // Messages and verdicts are frequent, timeouts rare, so that runs reach locks and decisions.
  const frequent: ConsensusInput[] = []
  const rare: ConsensusInput[] = []
  for (let round = 0; round < 3; round++) {
    const candidates = [blocks[2 * round]!, blocks[2 * round + 1]!]
    const proposer = template.validatorSet.proposer(1, round).id
    for (const block of candidates) {
      if (proposer !== 'v2') frequent.push({ kind: 'message', from: proposer, bytes: template.proposal(round, block) })
      frequent.push({ kind: 'proposalVerdict', height: 1, blockHash: blockHash(block.header), accept: true })
    }
    for (const v of ['v0', 'v1', 'v3']) {
      // Prevotes mostly for the first candidate, so quorums form and v2 locks; precommits (which
      // would decide before v2 gets to vote), other values and nil are rarer.
      frequent.push({ kind: 'message', from: v, bytes: template.vote(v, 'prevote', round, candidates[0]!) })
      for (const value of [candidates[0]!, candidates[1]!, null]) {
        rare.push({ kind: 'message', from: v, bytes: template.vote(v, 'precommit', round, value) })
        if (value !== candidates[0]) rare.push({ kind: 'message', from: v, bytes: template.vote(v, 'prevote', round, value) })
      }
    }
    for (const step of ['propose', 'prevote', 'precommit', 'resend'] as const) rare.push({ kind: 'timeout', timeout: { height: 1, round, step } })
    rare.push({ kind: 'proposalValue', height: 1, round, payload: ['test-block', 1, round, 'v2', 9], timeMs: template.tip.timeMs + 50 })
  }
  const input = fc.oneof({ arbitrary: fc.constantFrom(...frequent), weight: 3 }, { arbitrary: fc.constantFrom(...rare), weight: 1 })
  let runs = 0
  let signedOnBothSides = 0
  let lockedBeforeCrash = 0
  fc.assert(
    fc.property(fc.array(input, { minLength: 20, maxLength: 120 }), fc.nat(120), fc.array(input, { minLength: 20, maxLength: 120 }), (first, crashAt, second) => {
      runs++
      const s = new Script({ self: 'v2' })
      s.start()
      for (const i of first.slice(0, crashAt)) s.step(i)
      const r = new Script({ self: 'v2', wal: s.wal })
      r.start()
      for (const i of second) r.step(i)
      if (s.signedVotes().length > 0 && r.signedVotes().length > 0) signedOnBothSides++
      if (s.wal.some((w) => w.kind === 'lock')) lockedBeforeCrash++
      const signed = new Map<string, string>()
      for (const record of [...s.wal, ...r.wal]) {
        let slot: string
        let value: string
        if (record.kind === 'vote') {
          slot = `${record.vote.height}/${record.vote.round}/${record.vote.type}`
          value = hashOf(record.vote.blockHash)
        } else if (record.kind === 'proposal') {
          slot = `${record.message.proposal.height}/${record.message.proposal.round}/proposal`
          value = `${hashOf(record.message.proposal.blockHash)}/${record.message.proposal.validRound}`
        } else continue
        const previous = signed.get(slot)
        if (previous !== undefined && previous !== value) return false
        signed.set(slot, value)
      }
      return true
    }),
    { numRuns: 500, seed: 20240601 }
  )
  t.equal(runs, 500)
  t.ok(signedOnBothSides > 20, `${signedOnBothSides} runs signed votes both before the crash and after the restart`)
  t.ok(lockedBeforeCrash > 30, `${lockedBeforeCrash} runs were locked when they crashed`)
})
