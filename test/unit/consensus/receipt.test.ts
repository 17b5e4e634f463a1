// Every message is checked on receipt (size, shape, chain, signer, signature, state window)
// before it touches state; a dropped message carries a code, is counted, and tells the driver
// whether to relay it or blame the peer.
import t from 'tap'
import { encode } from '../../../src/protocol/encoding.ts'
import { encodeConsensusMessage } from '../../../src/consensus/messages.ts'
import { Script, hashOf } from '../../../src/consensus/testing/script.ts'
import { harnessChainId } from '../../../src/consensus/testing/cluster.ts'
import type { SignatureVerifier } from '../../../src/protocol/keys.ts'

function started(options: ConstructorParameters<typeof Script>[0] = {}): Script {
  const s = new Script(options)
  s.start()
  return s
}

function verdict(s: Script): string {
  const v = s.verdictOfLast()
  return `${v?.verdict}:${v?.code ?? 'ok'}`
}

t.test('malformed input is rejected with a code before anything else happens', async (t) => {
  const s = started({ limits: { messageBytesMax: 4096 } })
  s.deliver(new Uint8Array(5000))
  t.equal(verdict(s), 'reject:MESSAGE_OVERSIZED')
  s.deliver(new Uint8Array([0xc1, 0x00]))
  t.equal(verdict(s), 'reject:MESSAGE_MALFORMED')
  s.deliver(encode([2, harnessChainId, 1, 1, 0]))
  t.equal(verdict(s), 'reject:MESSAGE_SHAPE')
  const other = s.vote('v1', 'prevote', 0, null)
  const wrongChain = encode([2, 'corridor-other', 1, 1, 0, null, 'v1', new Uint8Array(64)])
  s.deliver(wrongChain)
  t.equal(verdict(s), 'reject:WRONG_CHAIN')
  s.deliver(encode([2, harnessChainId, 1, 1, 0, null, 'v9', new Uint8Array(64)]))
  t.equal(verdict(s), 'reject:UNKNOWN_VALIDATOR')
  s.deliver(other)
  t.equal(verdict(s), 'accept:ok')
  const dropped = s.engine.metrics().messagesDropped
  t.match(dropped, { MESSAGE_OVERSIZED: 1, MESSAGE_MALFORMED: 1, MESSAGE_SHAPE: 1, WRONG_CHAIN: 1, UNKNOWN_VALIDATOR: 1 })
  t.equal(s.engine.metrics().messagesAccepted, 1)
})

t.test('a bad signature is rejected, counted, and recorded as evidence against the delivering peer', async (t) => {
  const s = started()
  const vote = s.signVote('v2', 'prevote', 0, null)
  s.deliver(encodeConsensusMessage({ kind: 'vote', vote: { ...vote, signature: vote.signature.map((b) => b ^ 1) } }), 'peer-x')
  t.equal(verdict(s), 'reject:BAD_SIGNATURE')
  const evidence = s.of('evidence')
  t.equal(evidence.length, 1)
  t.match(evidence[0]?.evidence, { kind: 'invalidSignature', validator: 'v2', peer: 'peer-x', height: 1, round: 0 })
  t.same(s.engine.evidence().length, 1)
  // The garbage vote did not count: the real one is still accepted.
  s.deliver(encodeConsensusMessage({ kind: 'vote', vote }))
  t.equal(verdict(s), 'accept:ok')
})

t.test('proposals: only from the round proposer, with a block that matches its hashes', async (t) => {
  const s = started()
  const block = s.block(0)
  s.deliver(s.proposal(0, block, { from: 'v2' }))
  t.equal(verdict(s), 'reject:NOT_PROPOSER')
  const tampered = { ...block, payload: ['something else'] }
  s.deliver(s.proposal(0, tampered))
  t.equal(verdict(s), 'reject:BAD_BLOCK', 'payload does not match the header')
  s.deliver(s.proposal(0, block, { validRound: -1, proofOfLock: [] }))
  t.equal(verdict(s), 'accept:ok')
  s.deliver(s.proposal(0, block))
  t.equal(verdict(s), 'ignore:DUPLICATE')
})

t.test('a re-proposal must carry a quorum of valid prevotes of its validRound', async (t) => {
  const s = started()
  s.votes(['v2', 'v3'], 'precommit', 1, null) // move to round 1 (proposer v2)
  const block = s.block(1)
  s.deliver(s.proposal(1, block, { validRound: 0, proofOfLock: s.proofOfLock(['v1', 'v2'], 0, block) }))
  t.equal(verdict(s), 'reject:BAD_PROOF_OF_LOCK', 'two of four is not a quorum')
  const forged = s.proofOfLock(['v1', 'v2', 'v3'], 0, block).map((p, i) => (i === 0 ? { ...p, signature: new Uint8Array(64) } : p))
  s.deliver(s.proposal(1, block, { validRound: 0, proofOfLock: forged }))
  t.equal(verdict(s), 'reject:BAD_PROOF_OF_LOCK', 'a forged signature')
  s.deliver(s.proposal(1, block, { validRound: 0, proofOfLock: s.proofOfLock(['v1', 'v2', 'v3'], 0, block) }))
  t.equal(verdict(s), 'accept:ok')
})

t.test('duplicates are ignored; a conflicting vote or proposal becomes evidence and is relayed, not counted', async (t) => {
  const s = started()
  const a = s.block(0)
  const b = s.block(0, { timeMs: s.tip.timeMs + 5 })
  s.deliver(s.vote('v2', 'prevote', 0, a))
  s.deliver(s.vote('v2', 'prevote', 0, a))
  t.equal(verdict(s), 'ignore:DUPLICATE')
  s.deliver(s.vote('v2', 'prevote', 0, b))
  t.equal(verdict(s), 'accept:CONFLICTING_VOTE')
  t.match(s.of('evidence')[0]?.evidence, { kind: 'conflictingVotes', validator: 'v2' })
  s.deliver(s.proposal(0, a))
  s.deliver(s.proposal(0, b))
  t.equal(verdict(s), 'accept:CONFLICTING_PROPOSAL')
  t.match(s.of('evidence')[0]?.evidence, { kind: 'conflictingProposals', validator: 'v1' })
  t.equal(s.engine.evidence().length, 2)
  const c = s.block(0, { timeMs: s.tip.timeMs + 9 })
  s.deliver(s.proposal(0, c))
  t.equal(verdict(s), 'accept:CONFLICTING_PROPOSAL', 'beyond proposalsPerRoundMax the proposal is evidence only')
  t.equal(s.of('processProposal').length, 0, 'and is not processed')
})

t.test('windows: past heights and rounds too far ahead are ignored; the next height is buffered up to its bound', async (t) => {
  const s = started({ limits: { roundsAheadMax: 3, futureMessagesMax: 32 * 3 } })
  s.deliver(s.vote('v1', 'prevote', 4, null))
  t.equal(verdict(s), 'ignore:ROUND_TOO_FAR')
  s.deliver(s.vote('v1', 'prevote', 3, null))
  t.equal(verdict(s), 'accept:ok')
  s.deliver(s.vote('v1', 'prevote', 0, null, 2))
  t.equal(verdict(s), 'accept:ok', 'next height: verified and buffered')
  s.deliver(s.vote('v1', 'prevote', 0, null, 2))
  t.equal(verdict(s), 'ignore:DUPLICATE')
  s.deliver(s.vote('v1', 'prevote', 0, null, 3))
  t.equal(verdict(s), 'ignore:HEIGHT_FUTURE', 'two heights ahead: not buffered')
  s.deliver(s.vote('v1', 'prevote', 9, null, 2))
  t.equal(verdict(s), 'ignore:HEIGHT_FUTURE', 'next height but beyond the rounds kept ahead')
})

t.test('the future buffer is bounded and replayed when the height starts', async (t) => {
  const s = started({ validators: 4, limits: { validatorsMax: 4, votesPerRoundMax: 4, futureMessagesMax: 12 } })
  let accepted = 0
  for (let round = 0; round < 5; round++) {
    for (const v of ['v1', 'v2', 'v3']) {
      for (const type of ['prevote', 'precommit'] as const) {
        s.deliver(s.vote(v, type, round, null, 2))
        if (s.verdictOfLast()?.verdict === 'accept') accepted++
      }
    }
  }
  t.equal(accepted, 12)
  t.equal(s.engine.metrics().messagesDropped.FUTURE_BUFFER_FULL, 30 - 12)
  // Decide height 1, then the buffered votes of height 2 apply: f+1 nil votes of round 1 skip to it.
  const block = s.block(0)
  s.deliver(s.proposal(0, block))
  s.verdict(block, true)
  s.votes(['v1', 'v2', 'v3'], 'precommit', 0, block)
  s.committed()
  const status = s.engine.status()
  t.equal(status.height, 2)
  t.equal(status.round, 1, 'rounds 0 and 1 of height 2 were buffered; f+1 senders at round 1 move it there')
})

t.test('past-height messages are ignored, and the lagging sender is pushed the committed blocks', async (t) => {
  const s = started()
  const block = s.block(0)
  s.deliver(s.proposal(0, block))
  s.verdict(block, true)
  s.votes(['v1', 'v2', 'v3'], 'precommit', 0, block)
  s.committed()
  // One height behind: most likely only slower to decide; noted, not pushed yet.
  const actions = s.deliver(s.vote('v3', 'precommit', 0, null, 1), 'v3')
  t.equal(verdict(s), 'ignore:HEIGHT_PAST')
  t.equal(s.of('loadBlocks', actions).length, 0, 'a peer one height behind is not pushed blocks at once')
  // Still there at this validator's next timeout of its round: pushed, once per peer and height until a timeout.
  t.match(s.of('loadBlocks', s.timeout('resend', 0)), [{ to: 'v3', fromHeight: 1, count: 1 }])
  s.deliver(s.vote('v3', 'prevote', 0, null, 1), 'v3')
  t.equal(s.of('loadBlocks', s.timeout('resend', 0, 1)).length, 0, 'a stale timeout does not push')
  s.deliver(s.vote('v3', 'prevote', 0, null, 1), 'v3')
  t.equal(s.of('loadBlocks', s.timeout('propose', 0)).length, 1, 'pushed again after a timeout')
})

t.test('a peer one height behind that moves on is not pushed blocks', async (t) => {
  const s = started()
  const block = s.block(0)
  s.deliver(s.proposal(0, block))
  s.verdict(block, true)
  s.votes(['v1', 'v2', 'v3'], 'precommit', 0, block)
  s.committed()
  s.deliver(s.vote('v3', 'precommit', 0, null, 1), 'v3')
  s.deliver(s.vote('v3', 'prevote', 0, null, 2), 'v3')
  t.equal(verdict(s), 'accept:ok')
  s.deliver(s.vote('v1', 'precommit', 0, null, 1), 'v3')
  t.equal(verdict(s), 'ignore:HEIGHT_PAST', 'an old message it relays later does not make it lagging again')
  t.equal(s.of('loadBlocks', s.timeout('propose', 0)).length, 0, 'its message of this height cleared the note')
})

t.test('a peer two heights behind is pushed the committed blocks at once', async (t) => {
  const s = started()
  for (let height = 1; height <= 2; height++) {
    // Decided without v3, which sent nothing since height 1.
    const block = s.block(0)
    s.deliver(s.proposal(0, block))
    s.verdict(block, true)
    s.votes(['v1', 'v2'], 'prevote', 0, block)
    s.votes(['v1', 'v2'], 'precommit', 0, block)
    s.committed()
  }
  const actions = s.deliver(s.vote('v3', 'precommit', 0, null, 1), 'v3')
  t.equal(verdict(s), 'ignore:HEIGHT_PAST')
  t.match(s.of('loadBlocks', actions), [{ to: 'v3', fromHeight: 1, count: 2 }])
})

t.test('a peer noted one height behind is pushed the blocks when this validator decides the next height', async (t) => {
  const s = started()
  const first = s.block(0)
  s.deliver(s.proposal(0, first))
  s.verdict(first, true)
  s.votes(['v1', 'v2', 'v3'], 'precommit', 0, first)
  s.committed()
  s.deliver(s.vote('v3', 'precommit', 0, null, 1), 'v3')
  const second = s.block(0)
  s.deliver(s.proposal(0, second))
  s.verdict(second, true)
  s.votes(['v1', 'v2'], 'prevote', 0, second)
  s.votes(['v1', 'v2'], 'precommit', 0, second)
  t.match(s.of('loadBlocks', s.committed()), [{ to: 'v3', fromHeight: 1, count: 2 }])
})

t.test('a peer in an earlier round of the height gets this validator\'s messages of that round', async (t) => {
  const s = started()
  s.timeout('propose', 0) // prevote nil in round 0
  s.votes(['v2', 'v3'], 'precommit', 2, null) // move on to round 2
  const actions = s.deliver(s.vote('v1', 'prevote', 0, null), 'v1')
  const sent = actions.filter((a) => a.kind === 'send')
  t.equal(sent.length, 1)
  t.ok(sent[0]?.kind === 'send' && sent[0].to === 'v1' && sent[0].message.kind === 'vote' && sent[0].message.vote.round === 0)
})

t.test('each signature is verified at most once per process with the caching verifier', async (t) => {
  let verifications = 0
  const s0 = new Script()
  const counting: SignatureVerifier = { verify: (k, m, sig) => (verifications++, s0.keyring.verifier.verify(k, m, sig)) }
  const s = started({ verifier: counting })
  const vote = s.vote('v2', 'prevote', 0, null)
  s.deliver(vote)
  s.deliver(vote)
  t.equal(verifications, 1, 'a duplicate is recognised before its signature is checked')
  t.equal(hashOf(null), 'nil')
})
