import t from 'tap'
import { SimulatedNetwork } from '../../../src/sim/network.ts'
import { Random } from '../../../src/sim/random.ts'

const jurisdictions = new Map([
  ['icbc', 'CN'],
  ['bochk', 'HK'],
  ['enbd', 'AE'],
  ['dbs', 'SG']
])

/** The delays of one message's deliveries (none if lost, two if duplicated). */
function route(n: SimulatedNetwork, from: string, to: string): number[] {
  return n.delays.slice(0, n.routeInto(from, to))
}

function network(overrides: Partial<ConstructorParameters<typeof SimulatedNetwork>[0]> = {}, seed = 1): SimulatedNetwork {
  return new SimulatedNetwork(
    { latencyMs: { default: 40, 'CN-AE': 90 }, jitter: 0, dropProbability: 0, duplicateProbability: 0, ...overrides },
    jurisdictions,
    new Random(seed)
  )
}

t.test('latency by jurisdiction pair, in either order, with a default', async (t) => {
  const n = network()
  t.same(route(n, 'icbc', 'enbd'), [90])
  t.same(route(n, 'enbd', 'icbc'), [90])
  t.same(route(n, 'icbc', 'dbs'), [40])
})

t.test('jitter stays within its band and is reproducible by seed', async (t) => {
  const a = network({ jitter: 0.1 }, 5)
  const b = network({ jitter: 0.1 }, 5)
  for (let i = 0; i < 1000; i++) {
    const delay = route(a, 'icbc', 'enbd')[0]!
    if (delay < 81 || delay > 99) t.fail(`delay ${delay} outside 90 +/- 10%`)
    t.equal(delay, route(b, 'icbc', 'enbd')[0]!)
  }
})

t.test('drop and duplicate rates match their probabilities', async (t) => {
  const n = network({ dropProbability: 0.2, duplicateProbability: 0.1 }, 9)
  let sent = 0
  let delivered = 0
  for (let i = 0; i < 20_000; i++) {
    sent++
    delivered += route(n, 'icbc', 'dbs').length
  }
  // Expected deliveries per message: 0.8 * 1.1 = 0.88.
  t.ok(Math.abs(delivered / sent - 0.88) < 0.02, `delivery ratio ${delivered / sent}`)
})

t.test('partitions cut traffic between groups until healed; unnamed nodes form their own group', async (t) => {
  const n = network()
  n.partition([['icbc', 'bochk'], ['enbd']])
  t.equal(route(n, 'icbc', 'bochk').length, 1)
  t.equal(route(n, 'icbc', 'enbd').length, 0)
  t.equal(route(n, 'dbs', 'enbd').length, 0, 'dbs was not named: it is alone')
  n.healPartition()
  t.equal(route(n, 'icbc', 'enbd').length, 1)
})

t.test('link rules add delay and loss on one link only, and can be removed', async (t) => {
  const n = network()
  const rule = n.addRule({ link: ['icbc', 'enbd'], extraLatencyMs: 500 })
  t.same(route(n, 'enbd', 'icbc'), [590])
  t.same(route(n, 'icbc', 'dbs'), [40])
  n.removeRule(rule)
  t.same(route(n, 'enbd', 'icbc'), [90])
  n.addRule({ dropProbability: 1 })
  t.same(route(n, 'icbc', 'dbs'), [])
  n.healAll()
  t.equal(route(n, 'icbc', 'dbs').length, 1)
})

t.test('a down node neither sends nor receives', async (t) => {
  const n = network()
  n.setDown('enbd', true)
  t.same(route(n, 'icbc', 'enbd'), [])
  t.same(route(n, 'enbd', 'icbc'), [])
  n.setDown('enbd', false)
  t.equal(route(n, 'enbd', 'icbc').length, 1)
})
