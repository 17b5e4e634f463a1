import t from 'tap'
import { BoundedCache } from '../../../src/protocol/boundedCache.ts'

t.test('a bounded cache keeps at most its bound and always the most recent half', async (t) => {
  const cache = new BoundedCache<number, string>(10)
  for (let i = 0; i < 1000; i++) {
    cache.set(i, `v${i}`)
    if (cache.size > 10) t.fail(`size ${cache.size} after ${i + 1} entries`)
    for (let back = 0; back < 5 && back <= i; back++) if (cache.get(i - back) !== `v${i - back}`) t.fail(`entry ${i - back} lost after ${i + 1} entries`)
  }
  t.equal(cache.get(0), undefined, 'the oldest are forgotten')
  t.ok(cache.has(999))
  t.notOk(cache.has(0))
  cache.set(999, 'again')
  t.equal(cache.get(999), 'again', 'a key set again reads its newest value')
  t.throws(() => new BoundedCache(1))
})

t.test('eviction stays cheap when the cache is full (no FIFO Map scanning deleted slots)', async (t) => {
  const cache = new BoundedCache<string, number>(100_000)
  const started = performance.now()
  for (let i = 0; i < 400_000; i++) cache.set(`key-${i}`, i)
  const elapsedMs = performance.now() - started
  t.ok(elapsedMs < 5_000, `400,000 insertions into a full cache of 100,000 in ${elapsedMs.toFixed(0)} ms`)
  t.ok(cache.size <= 100_000)
})
