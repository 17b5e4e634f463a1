// Validator sets, messages and their signed bytes, certificates, evidence, WAL records and limits:
// the pure pieces under the engine.
import t from 'tap'
import fc from 'fast-check'
import { encode } from '../../../src/protocol/encoding.ts'
import { bytesToHex } from '../../../src/protocol/bytes.ts'
import { createNativeSigner, createNativeVerifier } from '../../../src/platform/ed25519Native.ts'
import { createValidatorSet } from '../../../src/consensus/validatorSet.ts'
import { blockHash, genesisTip } from '../../../src/consensus/block.ts'
import {
  decodeConsensusMessage,
  encodeConsensusMessage,
  voteSigningBytes,
  proposalSigningBytes,
  type ConsensusMessage
} from '../../../src/consensus/messages.ts'
import { verifyCommitCertificate } from '../../../src/consensus/certificate.ts'
import { EvidencePool, verifyEvidence, encodeEvidence, type Evidence } from '../../../src/consensus/evidence.ts'
import { decodeWalRecord, encodeWalRecord, type WalRecord } from '../../../src/consensus/wal.ts'
import { checkConsensusLimits, defaultConsensusLimits, timeoutDurationMs } from '../../../src/consensus/limits.ts'
import { ConsensusError } from '../../../src/consensus/errors.ts'
import { createCachingVerifier } from '../../../src/consensus/verifierCache.ts'
import { Script } from '../../../src/consensus/testing/script.ts'
import { testSecret } from '../../../src/consensus/testing/keys.ts'

function code(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    if (error instanceof ConsensusError) return error.code
    throw error
  }
  return undefined
}

const key = (i: number) => createNativeSigner(testSecret(i)).publicKey

t.test('validator set: quorum and one-third thresholds are by power; bad sets are refused with BAD_VALIDATOR_SET', async (t) => {
  const set = createValidatorSet([1, 1, 1, 1].map((power, i) => ({ id: `v${i}`, publicKey: key(i), power })))
  t.equal(set.totalPower, 4)
  t.notOk(set.isQuorum(2))
  t.ok(set.isQuorum(3))
  t.notOk(set.isOneThird(1))
  t.ok(set.isOneThird(2))
  const weighted = createValidatorSet([{ id: 'a', publicKey: key(1), power: 10 }, { id: 'b', publicKey: key(2), power: 5 }, { id: 'c', publicKey: key(3), power: 15 }])
  t.notOk(weighted.isQuorum(20), '20 of 30 is exactly 2/3, not more')
  t.ok(weighted.isQuorum(21))
  t.notOk(weighted.isOneThird(10))
  t.ok(weighted.isOneThird(11))
  t.equal(code(() => createValidatorSet([])), 'BAD_VALIDATOR_SET')
  t.equal(code(() => createValidatorSet([{ id: 'a', publicKey: key(1), power: 1 }, { id: 'a', publicKey: key(2), power: 1 }])), 'BAD_VALIDATOR_SET')
  t.equal(code(() => createValidatorSet([{ id: 'a', publicKey: key(1), power: 1 }, { id: 'b', publicKey: key(1), power: 1 }])), 'BAD_VALIDATOR_SET')
  t.equal(code(() => createValidatorSet([{ id: 'a', publicKey: key(1), power: 0 }])), 'BAD_VALIDATOR_SET')
  t.equal(code(() => createValidatorSet([{ id: 'a', publicKey: key(1), power: 1.5 }])), 'BAD_VALIDATOR_SET')
  t.equal(code(() => createValidatorSet([{ id: 'A!', publicKey: key(1), power: 1 }])), 'BAD_VALIDATOR_SET')
  t.equal(code(() => createValidatorSet([{ id: 'a', publicKey: new Uint8Array(31), power: 1 }])), 'BAD_VALIDATOR_SET')
  t.equal(code(() => createValidatorSet([{ id: 'a', publicKey: key(1), power: 65_537 }, { id: 'b', publicKey: key(2), power: 1 }])), 'BAD_VALIDATOR_SET', 'proposer cycle too long')
})

t.test('proposer rotation: deterministic, proportional to power, interleaved rather than in runs', async (t) => {
  const set = createValidatorSet([{ id: 'a', publicKey: key(1), power: 3 }, { id: 'b', publicKey: key(2), power: 1 }, { id: 'c', publicKey: key(3), power: 2 }])
  const counts: Record<string, number> = { a: 0, b: 0, c: 0 }
  const sequence: string[] = []
  for (let slot = 0; slot < 600; slot++) {
    const id = set.proposer(slot, 0).id
    counts[id]!++
    if (slot < 6) sequence.push(id)
  }
  t.same(counts, { a: 300, b: 100, c: 200 })
  t.same(sequence, ['a', 'c', 'a', 'b', 'c', 'a'], 'smooth weighted round robin: the heaviest is spread over the cycle')
  const again = createValidatorSet([{ id: 'c', publicKey: key(3), power: 2 }, { id: 'a', publicKey: key(1), power: 3 }, { id: 'b', publicKey: key(2), power: 1 }])
  for (let h = 1; h < 50; h++) for (let r = 0; r < 5; r++) t.equal(again.proposer(h, r).id, set.proposer(h, r).id)
  t.equal(set.proposer(5, 1).id, set.proposer(6, 0).id, 'the next round moves to the next slot')
})

t.test('messages: every kind round-trips through the canonical encoding', async (t) => {
  const s = new Script()
  const block = s.block(0)
  const pol = s.proofOfLock(['v1', 'v2', 'v3'], 0, block)
  const messages: Uint8Array[] = [
    s.proposal(1, block, { validRound: 0, proofOfLock: pol }),
    s.vote('v2', 'prevote', 0, block),
    s.vote('v3', 'precommit', 5, null),
    encodeConsensusMessage({ kind: 'blockRequest', chainId: s.config.chainId, fromHeight: 3, count: 4 }),
    encodeConsensusMessage({ kind: 'blockResponse', chainId: s.config.chainId, blocks: [{ block, certificate: s.certificate(['v1', 'v2', 'v3'], 0, block) }] })
  ]
  const limits = checkConsensusLimits()
  for (const bytes of messages) {
    const decoded = decodeConsensusMessage(bytes, limits)
    t.same(bytesToHex(encodeConsensusMessage(decoded)), bytesToHex(bytes), decoded.kind)
  }
  const proposal = decodeConsensusMessage(messages[0]!, limits)
  t.ok(proposal.kind === 'proposal' && bytesToHex(proposal.proposal.blockHash) === bytesToHex(blockHash(block.header)), 'the block hash is computed from the block')
})

t.test('messages: decoding checks the size bound first, then canonical form, then shape', async (t) => {
  const limits = checkConsensusLimits({ messageBytesMax: 2048 })
  const s = new Script()
  t.equal(code(() => decodeConsensusMessage(new Uint8Array(2049), limits)), 'MESSAGE_OVERSIZED')
  t.equal(code(() => decodeConsensusMessage(new Uint8Array([0xc1]), limits)), 'MESSAGE_MALFORMED')
  t.equal(code(() => decodeConsensusMessage(encode([9, 'x']), limits)), 'MESSAGE_SHAPE')
  t.equal(code(() => decodeConsensusMessage(encode([2, s.config.chainId, 3, 1, 0, null, 'v1', new Uint8Array(64)]), limits)), 'MESSAGE_SHAPE', 'vote type 3')
  t.equal(code(() => decodeConsensusMessage(encode([2, s.config.chainId, 1, 0, 0, null, 'v1', new Uint8Array(64)]), limits)), 'MESSAGE_SHAPE', 'height 0')
  t.equal(code(() => decodeConsensusMessage(encode([2, s.config.chainId, 1, 1, 0, new Uint8Array(31), 'v1', new Uint8Array(64)]), limits)), 'MESSAGE_SHAPE', 'short hash')
  t.equal(code(() => decodeConsensusMessage(encode([2, s.config.chainId, 1, 1, 0, null, 'v1', new Uint8Array(63)]), limits)), 'MESSAGE_SHAPE', 'short signature')
  t.equal(code(() => decodeConsensusMessage(encode([3, s.config.chainId, 1, 10_000]), limits)), 'MESSAGE_SHAPE', 'block request count above the limit')
  // Arbitrary bytes never throw anything but a ConsensusError.
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const result = code(() => decodeConsensusMessage(bytes, limits))
      return result === undefined || result.startsWith('MESSAGE_')
    }),
    { numRuns: 500 }
  )
})

t.test('signed bytes bind the domain tag, chain id, type, height, round and value', async (t) => {
  const hash = new Uint8Array(32).fill(7)
  const base = bytesToHex(voteSigningBytes('chain-a', 'prevote', 5, 2, hash))
  const variants = [
    voteSigningBytes('chain-b', 'prevote', 5, 2, hash),
    voteSigningBytes('chain-a', 'precommit', 5, 2, hash),
    voteSigningBytes('chain-a', 'prevote', 6, 2, hash),
    voteSigningBytes('chain-a', 'prevote', 5, 3, hash),
    voteSigningBytes('chain-a', 'prevote', 5, 2, null),
    proposalSigningBytes('chain-a', 5, 2, -1, hash)
  ]
  for (const variant of variants) t.not(bytesToHex(variant), base)
  t.match(new TextDecoder().decode(voteSigningBytes('chain-a', 'prevote', 5, 2, hash)), /corridor\.consensus\.vote\.v1/)
})

t.test('commit certificates verify standalone, with real Ed25519 signatures', async (t) => {
  const signers = [0, 1, 2, 3].map((i) => createNativeSigner(testSecret(100 + i)))
  const set = createValidatorSet(signers.map((signer, i) => ({ id: `v${i}`, publicKey: signer.publicKey, power: i === 3 ? 2 : 1 })))
  const verifier = createNativeVerifier()
  const chainId = 'corridor-cert'
  const hash = new Uint8Array(32).fill(3)
  const sign = (i: number, round = 1, h = hash) => ({ validator: `v${i}`, signature: signers[i]!.sign(voteSigningBytes(chainId, 'precommit', 9, round, h)) })
  const good = { height: 9, round: 1, blockHash: hash, signatures: [sign(0), sign(1), sign(3)] }
  t.equal(verifyCommitCertificate(set, chainId, hash, good, verifier), 4)
  const cases: Record<string, () => unknown> = {
    'not more than 2/3 of the power': () => verifyCommitCertificate(set, chainId, hash, { ...good, signatures: [sign(0), sign(3)] }, verifier),
    'another block': () => verifyCommitCertificate(set, chainId, new Uint8Array(32), good, verifier),
    'another chain': () => verifyCommitCertificate(set, 'corridor-other', hash, good, verifier),
    'a signature for another round': () => verifyCommitCertificate(set, chainId, hash, { ...good, signatures: [sign(0), sign(1, 2), sign(3)] }, verifier),
    'a signer twice': () => verifyCommitCertificate(set, chainId, hash, { ...good, signatures: [sign(0), sign(0), sign(3)] }, verifier),
    'out of order': () => verifyCommitCertificate(set, chainId, hash, { ...good, signatures: [sign(3), sign(0), sign(1)] }, verifier),
    'a stranger': () =>
      verifyCommitCertificate(set, chainId, hash, { ...good, signatures: [sign(0), sign(1), sign(3), { validator: 'v9', signature: new Uint8Array(64) }] }, verifier),
    'a forged signature': () => verifyCommitCertificate(set, chainId, hash, { ...good, signatures: [sign(0), { validator: 'v1', signature: new Uint8Array(64) }, sign(3)] }, verifier)
  }
  for (const [name, check] of Object.entries(cases)) t.equal(code(check), 'BAD_CERTIFICATE', name)
})

t.test('evidence: conflicting votes and proposals verify as proofs; the pool is bounded and de-duplicated', async (t) => {
  const s = new Script()
  const a = s.block(0)
  const b = s.block(0, { timeMs: s.tip.timeMs + 2000 })
  const first = s.signVote('v2', 'prevote', 0, a)
  const second = s.signVote('v2', 'prevote', 0, b)
  const votes: Evidence = { kind: 'conflictingVotes', validator: 'v2', first, second }
  verifyEvidence(s.validatorSet, votes, s.keyring.verifier)
  t.ok(encodeEvidence(votes).length > 0)
  t.equal(code(() => verifyEvidence(s.validatorSet, { ...votes, second: first }, s.keyring.verifier)), 'BAD_EVIDENCE', 'the same vote twice')
  t.equal(code(() => verifyEvidence(s.validatorSet, { ...votes, second: s.signVote('v2', 'prevote', 1, b) }, s.keyring.verifier)), 'BAD_EVIDENCE', 'another round')
  t.equal(code(() => verifyEvidence(s.validatorSet, { ...votes, second: { ...second, signature: first.signature } }, s.keyring.verifier)), 'BAD_EVIDENCE', 'bad signature')
  t.equal(code(() => verifyEvidence(s.validatorSet, { ...votes, validator: 'v3' }, s.keyring.verifier)), 'BAD_EVIDENCE', 'another accused')
  const pool = new EvidencePool(2)
  t.ok(pool.add(votes))
  t.notOk(pool.add({ ...votes }), 'the same misbehaviour once')
  t.ok(pool.add({ kind: 'invalidSignature', validator: 'v1', peer: 'p', height: 1, round: 0 }))
  t.ok(pool.add({ kind: 'invalidSignature', validator: 'v1', peer: 'q', height: 1, round: 0 }))
  t.equal(pool.size, 2)
  t.equal(pool.evicted, 1, 'the oldest is evicted')
})

t.test('WAL records round-trip; anything else is BAD_WAL_RECORD', async (t) => {
  const s = new Script()
  const block = s.block(0)
  const pol = s.proofOfLock(['v0', 'v1', 'v2'], 0, block)
  const proposal = decodeConsensusMessage(s.proposal(1, block, { validRound: 0, proofOfLock: pol }), checkConsensusLimits()) as Extract<ConsensusMessage, { kind: 'proposal' }>
  const records: WalRecord[] = [
    { kind: 'proposal', message: proposal },
    { kind: 'vote', vote: s.signVote('v0', 'precommit', 1, block) },
    { kind: 'vote', vote: s.signVote('v0', 'prevote', 2, null) },
    { kind: 'lock', height: 1, round: 1, block },
    { kind: 'valid', height: 1, round: 1, block, proofOfLock: pol },
    { kind: 'decision', block, certificate: s.certificate(['v0', 'v1', 'v2'], 1, block) }
  ]
  const limits = checkConsensusLimits()
  for (const record of records) {
    const bytes = encodeWalRecord(record)
    t.equal(bytesToHex(encodeWalRecord(decodeWalRecord(bytes, limits))), bytesToHex(bytes), record.kind)
  }
  t.equal(code(() => decodeWalRecord(new Uint8Array([1, 2, 3]), limits)), 'BAD_WAL_RECORD')
  t.equal(code(() => decodeWalRecord(encode([7, 1]), limits)), 'BAD_WAL_RECORD')
  t.equal(code(() => decodeWalRecord(encode([2, [2, 'x']]), limits)), 'BAD_WAL_RECORD')
  t.ok(genesisTip('c', 0, new Uint8Array()).height === 0)
})

t.test('limits: defaults hold their relations; a broken relation names the rule', async (t) => {
  t.same(checkConsensusLimits(), defaultConsensusLimits)
  const cases: Record<string, object> = {
    'votesPerRoundMax >= validatorsMax': { validatorsMax: 64, votesPerRoundMax: 32 },
    'roundsKeptMax > roundsAheadMax': { roundsKeptMax: 8, roundsAheadMax: 8 },
    'futureMessagesMax >= 3 * validatorsMax': { futureMessagesMax: 10 },
    'timeoutProposeBaseMs <= timeoutMaxMs': { timeoutProposeBaseMs: 5000, timeoutMaxMs: 1000 },
    'proposalsPerRoundMax >= 2': { proposalsPerRoundMax: 1 },
    'messageBytesMax <= protocolLimits.messageBytesMax': { messageBytesMax: 64 * 1024 * 1024 }
  }
  for (const [rule, overrides] of Object.entries(cases)) {
    try {
      checkConsensusLimits(overrides)
      t.fail(`${rule} accepted`)
    } catch (error) {
      t.ok(error instanceof ConsensusError && error.code === 'BAD_LIMITS' && error.message.includes(rule), rule)
    }
  }
  t.equal(code(() => checkConsensusLimits({ evidenceMax: 0 })), 'BAD_LIMITS')
  t.equal(code(() => checkConsensusLimits({ timeoutPrevoteDeltaMs: -1 })), 'BAD_LIMITS')
  t.equal(timeoutDurationMs(defaultConsensusLimits, 'resend', 0), defaultConsensusLimits.timeoutPrevoteBaseMs + defaultConsensusLimits.timeoutPrecommitBaseMs)
})

t.test('caching verifier: each signature reaches the inner verifier once; failures are never cached', async (t) => {
  let calls = 0
  const inner = { verify: (_k: Uint8Array, m: Uint8Array, _s: Uint8Array) => (calls++, m[0] === 1) }
  const cache = createCachingVerifier(inner, 2)
  const k = new Uint8Array(32)
  const sig = new Uint8Array(64)
  t.ok(cache.verify(k, new Uint8Array([1]), sig))
  t.ok(cache.verify(k, new Uint8Array([1]), sig))
  t.equal(calls, 1)
  t.notOk(cache.verify(k, new Uint8Array([2]), sig))
  t.notOk(cache.verify(k, new Uint8Array([2]), sig))
  t.equal(calls, 3)
  t.equal(cache.hits, 1)
})
