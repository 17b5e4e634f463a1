// Byzantine behaviours are hooks in the one real engine: each does what it says at the point where
// the engine signs and sends, and each one, injected into a cluster, leaves evidence (or, where
// misbehaviour is an absence, a counter) against the culprit on the honest validators.
import t from 'tap'
import { bytesToHex } from '../../../src/protocol/bytes.ts'
import { proposalBytesOf, voteBytesOf } from '../../../src/consensus/messages.ts'
import { Script, hashOf } from '../../../src/consensus/testing/script.ts'
import { culpritOf } from '../../../src/consensus/evidence.ts'
import type { ByzantineKind, ClusterResult, ClusterSpec } from '../../../src/consensus/testing/cluster.ts'
import { runSeeds, seedsFrom } from './clusterRuns.ts'

t.test('equivocate: the proposer signs two proposals and sends one to each half of its peers', async (t) => {
  const s = new Script({ self: 'v1', byzantine: { equivocate: true } })
  s.start()
  const actions = s.value(0)
  const persisted = actions.flatMap((a) => (a.kind === 'persist' && a.record.kind === 'proposal' ? [a.record.message.proposal] : []))
  t.equal(persisted.length, 2)
  t.not(hashOf(persisted[0]!.blockHash), hashOf(persisted[1]!.blockHash))
  const sends = s.of('send', actions).filter((a) => a.message.kind === 'proposal')
  t.same(
    sends.map((a) => `${a.to}:${a.message.kind === 'proposal' ? hashOf(a.message.proposal.blockHash).slice(0, 8) : ''}`),
    [`v0:${hashOf(persisted[0]!.blockHash).slice(0, 8)}`, `v2:${hashOf(persisted[0]!.blockHash).slice(0, 8)}`, `v3:${hashOf(persisted[1]!.blockHash).slice(0, 8)}`]
  )
})

t.test('equivocate: every vote is signed twice, for the value and for another, split across the peers', async (t) => {
  const s = new Script({ byzantine: { equivocate: true } })
  s.start()
  const actions = s.timeout('propose', 0)
  const votes = s.signedVotes('prevote')
  t.equal(votes.length, 2)
  t.equal(hashOf(votes[0]!.blockHash), 'nil')
  t.not(hashOf(votes[1]!.blockHash), 'nil')
  t.same(s.of('send', actions).map((a) => a.to), ['v1', 'v2', 'v3'])
})

t.test('withholdVotes: votes are signed and persisted but never sent', async (t) => {
  const s = new Script({ byzantine: { withholdVotes: true } })
  s.start()
  const actions = s.timeout('propose', 0)
  t.equal(s.signedVotes().length, 1)
  t.equal(s.sent(actions).length, 0)
  t.equal(s.sent(s.timeout('resend', 0)).length, 0, 'not even when resending')
})

t.test('signGarbage: what is sent carries a signature that does not verify, and honest validators reject it', async (t) => {
  const s = new Script({ self: 'v1', byzantine: { signGarbage: true } })
  s.start()
  const actions = s.value(0)
  const set = s.validatorSet
  const key = set.get('v1')!.publicKey
  for (const message of s.sent(actions)) {
    if (message.kind === 'proposal') t.notOk(s.keyring.verifier.verify(key, proposalBytesOf(message.proposal), message.proposal.signature))
    if (message.kind === 'vote') t.notOk(s.keyring.verifier.verify(key, voteBytesOf(message.vote), message.vote.signature))
  }
  const honest = new Script({ self: 'v0' })
  honest.start()
  const broadcast = s.of('broadcast', actions)[0]!
  honest.deliver(broadcast.bytes, 'v1')
  t.equal(honest.verdictOfLast()?.code, 'BAD_SIGNATURE')
  t.match(honest.engine.evidence(), [{ kind: 'invalidSignature', peer: 'v1' }])
})

t.test('proposeTo: proposals go only to the listed validators; an empty list makes a silent proposer', async (t) => {
  const partial = new Script({ self: 'v1', byzantine: { proposeTo: ['v2'] } })
  partial.start()
  const actions = partial.value(0)
  t.same(partial.of('send', actions).filter((a) => a.message.kind === 'proposal').map((a) => a.to), ['v2'])
  t.equal(partial.of('broadcast', actions).filter((a) => a.message.kind === 'proposal').length, 0)
  const silent = new Script({ self: 'v1', byzantine: { proposeTo: [] } })
  silent.start()
  const quiet = silent.value(0)
  t.equal(silent.sent(quiet).filter((m) => m.kind === 'proposal').length, 0)
  t.equal(silent.signedVotes('prevote').length, 1, 'it still votes')
})

t.test('censor: the hook rewrites the prepared payload before the block is built', async (t) => {
  const s = new Script({ self: 'v1', byzantine: { censor: () => ['censored'] } })
  s.start()
  s.value(0, ['tx-a', 'tx-b'])
  const proposal = s.sent().find((m) => m.kind === 'proposal')
  t.ok(proposal?.kind === 'proposal')
  t.same(proposal?.kind === 'proposal' ? proposal.block.payload : null, ['censored'])
})

// In a cluster: each behaviour on v1 of four (f = 1), on a clean network; the run must stay safe
// and live, and the honest validators must hold evidence or counters against v1.

function spec(seed: number, behaviours: readonly ByzantineKind[], relay = true): ClusterSpec {
  return {
    seed,
    validators: 4,
    byzantine: [{ validator: 1, behaviours }],
    network: { latencyMinMs: 5, latencyMaxMs: 30, dropProbability: 0, duplicateProbability: 0, relay },
    healAtMs: 2500,
    heightsAfterHeal: 2
  }
}

function honest(result: ClusterResult) {
  return result.nodes.filter((n) => n.honest && !n.crashed)
}

const seeds = seedsFrom(1, 8)

t.test('equivocation in a cluster yields verifiable evidence against the equivocator', async (t) => {
  runSeeds(t, seeds, (seed) => spec(seed, ['equivocate']), {}, (result) => {
    const evidence = honest(result).flatMap((n) => n.evidence)
    if (!evidence.some((e) => (e.kind === 'conflictingVotes' || e.kind === 'conflictingProposals') && e.validator === 'v1')) return 'no evidence of equivocation against v1'
    if (evidence.some((e) => culpritOf(e) !== 'v1')) return 'evidence against someone else'
    return null
  })
})

t.test('twins (two engines under one key) yield evidence of conflicting votes against that key', async (t) => {
  runSeeds(
    t,
    seeds,
    (seed) => ({ ...spec(seed, []), byzantine: [], twins: [1] }),
    {},
    (result) => (honest(result).some((n) => n.evidence.some((e) => e.kind === 'conflictingVotes' && e.validator === 'v1')) ? null : 'no evidence against the twinned v1')
  )
})

t.test('garbage signatures yield invalid-signature evidence against the peer that sent them', async (t) => {
  runSeeds(t, seeds, (seed) => spec(seed, ['signGarbage']), {}, (result) =>
    honest(result).every((n) => n.evidence.some((e) => e.kind === 'invalidSignature' && e.peer === 'v1')) ? null : 'an honest validator has no evidence against v1'
  )
})

t.test('withheld votes show in the missed-votes counter of every honest validator', async (t) => {
  runSeeds(t, seeds, (seed) => spec(seed, ['withholdVotes']), {}, (result) => {
    for (const node of honest(result)) {
      const missed = node.metrics?.missedVotes ?? {}
      if ((missed['v1'] ?? 0) === 0) return `${node.nodeId} counted no missed votes for v1`
      const decided = node.metrics?.decisions ?? 0
      const byConsensus = decided - (node.metrics?.decisionsByCatchUp ?? 0)
      if (missed['v1'] !== byConsensus) return `${node.nodeId} counted ${missed['v1']} missed votes for v1 over ${byConsensus} decisions`
    }
    return null
  })
})

t.test('a silent proposer shows in the missed-proposals counter of the honest validators', async (t) => {
  runSeeds(t, seeds, (seed) => spec(seed, ['silentProposer']), {}, (result) =>
    honest(result).every((n) => (n.metrics?.missedProposals['v1'] ?? 0) > 0) ? null : 'missed proposals of v1 not counted'
  )
})

t.test('a proposer that proposes to some peers only shows in the missed-proposals counter of the others', async (t) => {
  // Without relay, v3 (outside the half that gets proposals) never sees them; v0 and v2 do.
  runSeeds(t, seeds, (seed) => spec(seed, ['proposeToSome'], false), {}, (result) => {
    const v3 = result.nodes.find((n) => n.nodeId === 'v3')!
    return (v3.metrics?.missedProposals['v1'] ?? 0) > 0 ? null : 'v3 did not count missed proposals of v1'
  })
})

t.test('a censoring proposer stays within the protocol: safety and liveness hold', async (t) => {
  runSeeds(t, seeds, (seed) => spec(seed, ['censor']))
  t.ok(bytesToHex(new Uint8Array([1])) === '01')
})
