/**
 * A small seeded PRNG for test fixtures and generated workloads: xoshiro128** (Blackman and
 * Vigna) on 32-bit integer operations, seeded through splitmix32. Integer-only, so the same seed
 * gives the same numbers on every machine and Node version (Math.exp and Math.log are not
 * required to be correctly rounded, so nothing here uses them).
 */
export interface RandomSource {
  /** A uniform double in [0, 1). */
  next(): number
}

function splitmix32(state: { value: number }): number {
  state.value = (state.value + 0x9e3779b9) | 0
  let z = state.value
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return (z ^ (z >>> 16)) >>> 0
}

/** FNV-1a over a string's UTF-16 code units: seeds may be names ("demo", "bench"). */
function hashSeed(seed: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < seed.length; i++) hash = Math.imul(hash ^ seed.charCodeAt(i), 0x01000193)
  return hash >>> 0
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}

export class Prng implements RandomSource {
  private s0: number
  private s1: number
  private s2: number
  private s3: number

  constructor(seed: number | string) {
    const state = { value: typeof seed === 'string' ? hashSeed(seed) : seed | 0 }
    this.s0 = splitmix32(state)
    this.s1 = splitmix32(state)
    this.s2 = splitmix32(state)
    this.s3 = splitmix32(state)
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1
  }

  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0
    const t = this.s1 << 9
    this.s2 ^= this.s0
    this.s3 ^= this.s1
    this.s1 ^= this.s2
    this.s0 ^= this.s3
    this.s2 ^= t
    this.s3 = rotl(this.s3, 11)
    return result
  }

  next(): number {
    return this.nextUint32() / 4294967296
  }

  /** A uniform integer in [0, bound), bound at most 2^32. */
  int(bound: number): number {
    return Math.floor(this.next() * bound)
  }

  /** A uniform bigint in [min, max] (inclusive), from 64 random bits: for amounts. */
  bigintBetween(min: bigint, max: bigint): bigint {
    const span = max - min + 1n
    const bits = (BigInt(this.nextUint32()) << 32n) | BigInt(this.nextUint32())
    return min + (bits % span)
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('cannot pick from an empty list')
    return items[this.int(items.length)]!
  }
}

/** A uniform integer in [0, bound) from any source (the simulator passes its own streams). */
export function randomInt(random: RandomSource, bound: number): number {
  return Math.floor(random.next() * bound)
}
