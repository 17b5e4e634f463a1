// The PRNG keeps its state in 32-bit halves for speed; this checks it against xoshiro256** written
// plainly on bigint (the reference algorithm, seeded by splitmix64), draw for draw.
import t from 'tap'
import { Random } from '../../../src/sim/random.ts'

const mask64 = (1n << 64n) - 1n
const rotl = (x: bigint, k: bigint): bigint => ((x << k) | (x >> (64n - k))) & mask64

class ReferenceXoshiro {
  private s: bigint[]
  constructor(seed: bigint) {
    let state = BigInt.asUintN(64, seed)
    const splitmix = (): bigint => {
      state = (state + 0x9e3779b97f4a7c15n) & mask64
      let z = state
      z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & mask64
      z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & mask64
      return z ^ (z >> 31n)
    }
    this.s = [splitmix(), splitmix(), splitmix(), splitmix()]
  }
  next(): bigint {
    const s = this.s
    const result = (rotl((s[1]! * 5n) & mask64, 7n) * 9n) & mask64
    const t = (s[1]! << 17n) & mask64
    s[2]! ^= s[0]!
    s[3]! ^= s[1]!
    s[1]! ^= s[2]!
    s[0]! ^= s[3]!
    s[2]! ^= t
    s[3] = rotl(s[3]!, 45n)
    return result
  }
}

t.test('the 32-bit-halves generator gives the reference output, bits and doubles', async (t) => {
  for (const seed of [0n, 1n, 42n, 2n ** 32n - 1n, 0xdeadbeefcafef00dn]) {
    const fast = new Random(seed)
    const reference = new ReferenceXoshiro(seed)
    let mismatches = 0
    for (let i = 0; i < 20_000; i++) {
      const expected = reference.next()
      if (i % 2 === 0) {
        if (fast.nextBits() !== expected) mismatches++
      } else if (fast.next() !== Number(expected >> 11n) / 2 ** 53) mismatches++
    }
    t.equal(mismatches, 0, `seed ${seed}`)
  }
})
