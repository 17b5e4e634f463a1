// Catch-up: a validator that is behind asks for committed blocks with their certificates and
// verifies them against the validator set before it delivers them; a validator that is ahead
// serves them from the driver's block store.
import t from 'tap'
import { blockHash, payloadHash, type Block } from '../../../src/consensus/block.ts'
import { encodeConsensusMessage, type CertifiedBlock } from '../../../src/consensus/messages.ts'
import { hashValue } from '../../../src/protocol/hash.ts'
import { Script, hashOf } from '../../../src/consensus/testing/script.ts'
import { harnessChainId } from '../../../src/consensus/testing/cluster.ts'

function started(options: ConstructorParameters<typeof Script>[0] = {}): Script {
  const s = new Script(options)
  s.start()
  return s
}

/** A block following `parent`, as another validator would have built it. */
function child(parent: Block, appHash: Uint8Array): Block {
  const payload = ['test-block', parent.header.height + 1, 0, 'v2', 0]
  return {
    header: {
      chainId: harnessChainId,
      height: parent.header.height + 1,
      timeMs: parent.header.timeMs + 1000,
      previousBlockHash: blockHash(parent.header),
      proposer: 'v2',
      payloadHash: payloadHash(payload),
      appHash
    },
    payload
  }
}

function response(blocks: readonly CertifiedBlock[]): Uint8Array {
  return encodeConsensusMessage({ kind: 'blockResponse', chainId: harnessChainId, blocks })
}

t.test('a validator that sees more than 1/3 of the power at higher heights asks a peer for blocks from its height', async (t) => {
  const s = started()
  s.deliver(s.vote('v1', 'prevote', 0, null, 4), 'peer-1')
  t.equal(s.sent(s.last).length, 0, 'one validator of four ahead is not enough (it could be lying)')
  s.deliver(s.vote('v2', 'prevote', 0, null, 4), 'peer-2')
  const requests = s.sent(s.last).filter((m) => m.kind === 'blockRequest')
  t.match(requests, [{ kind: 'blockRequest', fromHeight: 1, count: 32 }])
  t.match(s.of('send'), [{ to: 'peer-2' }])
  s.deliver(s.vote('v3', 'prevote', 0, null, 4), 'peer-3')
  t.equal(s.sent(s.last).length, 0, 'one request per timeout')
  s.timeout('resend', 0)
  t.equal(s.sent(s.last).filter((m) => m.kind === 'blockRequest').length, 1, 'asked again after a timeout')
  t.equal(s.engine.metrics().catchUpRequests, 2)
})

t.test('catch-up blocks are verified and decided in height order, each after the previous one is committed', async (t) => {
  const s = started()
  const first = s.block(0)
  const appHashAfterFirst = hashValue('test', ['app after 1'])
  const second = child(first, appHashAfterFirst)
  s.deliver(response([
    { block: first, certificate: s.certificate(['v1', 'v2', 'v3'], 0, first) },
    { block: second, certificate: s.certificate(['v1', 'v2', 'v3'], 2, second) }
  ]))
  t.equal(s.verdictOfLast()?.verdict, 'accept')
  const decided = s.of('decide')
  t.equal(decided.length, 1)
  t.match(decided[0], { height: 1, source: 'catchUp' })
  s.committed(appHashAfterFirst)
  const next = s.of('decide')
  t.equal(next.length, 1)
  t.equal(hashOf(next[0]?.blockHash), hashOf(second))
  t.equal(next[0]?.certificate.round, 2)
  s.committed(hashValue('test', ['app after 2']))
  t.equal(s.engine.status().height, 3)
  t.equal(s.engine.metrics().decisionsByCatchUp, 2)
})

t.test('a catch-up block with a forged or insufficient certificate is rejected and not decided', async (t) => {
  const s = started()
  const block = s.block(0)
  const good = s.certificate(['v1', 'v2', 'v3'], 0, block)
  const forged = { ...good, signatures: good.signatures.map((x, i) => (i === 1 ? { ...x, signature: new Uint8Array(64) } : x)) }
  s.deliver(response([{ block, certificate: forged }]))
  t.equal(s.verdictOfLast()?.code, 'BAD_CERTIFICATE')
  s.deliver(response([{ block, certificate: s.certificate(['v1', 'v2'], 0, block) }]))
  t.equal(s.verdictOfLast()?.code, 'BAD_CERTIFICATE', 'two of four is not a quorum')
  s.deliver(response([{ block: s.block(0, { timeMs: s.tip.timeMs + 3 }), certificate: good }]))
  t.equal(s.verdictOfLast()?.code, 'BAD_CERTIFICATE', 'a certificate for another block')
  t.equal(s.of('decide', s.actions).length, 0)
})

t.test('a certified block that does not extend this validator’s chain is not decided', async (t) => {
  const s = started()
  const stranger = s.block(0)
  const wrongParent: Block = { ...stranger, header: { ...stranger.header, previousBlockHash: new Uint8Array(32).fill(9) } }
  s.deliver(response([{ block: wrongParent, certificate: s.certificate(['v1', 'v2', 'v3'], 0, wrongParent) }]))
  t.equal(s.of('decide', s.actions).length, 0)
})

t.test('serving: a block request becomes loadBlocks; the loaded blocks go back in one response within the size bound', async (t) => {
  const s = started()
  const certified: CertifiedBlock[] = []
  for (let height = 1; height <= 3; height++) {
    const block = s.block(0)
    s.deliver(s.proposal(0, block))
    s.verdict(block, true)
    s.votes(['v1', 'v2', 'v3'], 'precommit', 0, block)
    certified.push({ block, certificate: s.of('decide')[0]!.certificate })
    s.committed()
  }
  const request = encodeConsensusMessage({ kind: 'blockRequest', chainId: harnessChainId, fromHeight: 2, count: 10 })
  s.deliver(request, 'laggard')
  t.match(s.of('loadBlocks'), [{ to: 'laggard', fromHeight: 2, count: 2 }])
  s.deliver(encodeConsensusMessage({ kind: 'blockRequest', chainId: harnessChainId, fromHeight: 4, count: 1 }), 'laggard')
  t.equal(s.verdictOfLast()?.code, 'CATCH_UP_NOTHING_TO_SERVE')
  const actions = s.step({ kind: 'blocksLoaded', to: 'laggard', blocks: certified.slice(1) })
  const sent = s.of('send', actions)
  t.equal(sent.length, 1)
  t.ok(sent[0]?.message.kind === 'blockResponse' && sent[0].message.blocks.length === 2)
  // With a bound that fits one block only, the response carries one.
  // Three blocks take about 1,200 bytes here; with a 1,024-byte bound the response carries two.
  t.ok(response(certified).length > 1024 && response(certified.slice(0, 2)).length <= 1024)
  const small = new Script({ limits: { messageBytesMax: 1024 } })
  small.start()
  const bounded = small.step({ kind: 'blocksLoaded', to: 'laggard', blocks: certified })
  const message = small.of('send', bounded)[0]?.message
  t.ok(message?.kind === 'blockResponse' && message.blocks.length === 2)
})

t.test('a quorum of precommits for a block this validator never received makes it ask for the block', async (t) => {
  const s = started()
  const block = s.block(0)
  s.votes(['v1', 'v2', 'v3'], 'precommit', 0, block)
  t.equal(s.of('decide', s.actions).length, 0)
  const requests = s.sent(s.actions).filter((m) => m.kind === 'blockRequest')
  t.equal(requests.length, 1)
  s.deliver(response([{ block, certificate: s.certificate(['v1', 'v2', 'v3'], 0, block) }]))
  t.equal(s.of('decide').length, 1)
})
