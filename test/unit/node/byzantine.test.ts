/**
 * The node's Byzantine behaviour mapping is a copy of the simulator's (node/ does not import sim/):
 * the same names, and for each name the same hooks.
 */
import t from 'tap'
import { byzantineBehaviourNames, byzantineHooksFor } from '../../../src/node/byzantine.ts'
import { byzantineBehaviours } from '../../../src/sim/scenario/schema.ts'
import { byzantineFor } from '../../../src/sim/simulation.ts'

const nodes = ['icbc', 'bochk', 'enbd', 'dbs', 'hsbc']

t.test('the same names as the scenario format', async (t) => {
  t.same([...byzantineBehaviourNames].sort(), [...byzantineBehaviours].sort())
})

t.test('each behaviour maps to the simulator hooks', async (t) => {
  for (const name of byzantineBehaviourNames) {
    const node = byzantineHooksFor([name], 'enbd', nodes)
    const sim = byzantineFor(name, 'enbd', nodes)
    t.same(node.consensus, sim.consensus, `${name}: consensus hooks`)
    t.equal(node.replayTransactions, sim.replayTransactions, `${name}: replay`)
    t.equal(node.censorSigner === undefined, sim.censorSigner === undefined, `${name}: censor`)
    for (const signer of ['enbd-corporate-1', 'icbc-corporate-1', 'fxhub']) t.equal(node.censorSigner?.(signer), sim.censorSigner?.(signer), `${name}: censors ${signer} alike`)
  }
  t.same(byzantineHooksFor([], 'enbd', nodes), {}, 'none: honest')
  const both = byzantineHooksFor(['equivocate', 'withhold-votes', 'replay-transactions'], 'enbd', nodes)
  t.same(both.consensus, { equivocate: true, withholdVotes: true }, 'behaviours combine')
  t.equal(both.replayTransactions, true)
})
