/**
 * The simulator's one source of randomness: a seeded xoshiro256** generator (Blackman and Vigna),
 * seeded through splitmix64 as its authors recommend. Everything random in a run — latencies,
 * drops, workload arrivals and amounts, fault draws — comes from here, so the same seed gives the
 * same run. `fork(label)` derives an independent stream for a component, so adding draws in one
 * component does not shift the numbers every other component sees.
 */
const mask64 = (1n << 64n) - 1n

function rotl(x: bigint, k: bigint): bigint {
  return ((x << k) | (x >> (64n - k))) & mask64
}

function splitmix64(state: { value: bigint }): bigint {
  state.value = (state.value + 0x9e3779b97f4a7c15n) & mask64
  let z = state.value
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & mask64
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & mask64
  return z ^ (z >> 31n)
}

/** FNV-1a over a label, so streams can be named. */
function labelHash(label: string): bigint {
  let hash = 0xcbf29ce484222325n
  for (let i = 0; i < label.length; i++) {
    hash ^= BigInt(label.charCodeAt(i))
    hash = (hash * 0x100000001b3n) & mask64
  }
  return hash
}

export class Random {
  // Four 32-bit halves per 64-bit word would be faster, but bigint keeps the reference algorithm
  // readable; draws are a small part of a run. The hot draws (`next`) use a 53-bit double.
  private s0: bigint
  private s1: bigint
  private s2: bigint
  private s3: bigint

  constructor(seed: number | bigint) {
    const state = { value: BigInt.asUintN(64, BigInt(seed)) }
    this.s0 = splitmix64(state)
    this.s1 = splitmix64(state)
    this.s2 = splitmix64(state)
    this.s3 = splitmix64(state)
  }

  /** The next 64 random bits. */
  nextBits(): bigint {
    const result = (rotl((this.s1 * 5n) & mask64, 7n) * 9n) & mask64
    const t = (this.s1 << 17n) & mask64
    this.s2 ^= this.s0
    this.s3 ^= this.s1
    this.s1 ^= this.s2
    this.s0 ^= this.s3
    this.s2 ^= t
    this.s3 = rotl(this.s3, 45n)
    return result
  }

  /** A uniform double in [0, 1) with 53 bits of precision. */
  next(): number {
    return Number(this.nextBits() >> 11n) / 2 ** 53
  }

  /** A uniform integer in [0, bound). */
  int(bound: number): number {
    if (!(bound > 0 && Number.isSafeInteger(bound))) throw new RangeError(`bound must be a positive safe integer, got ${bound}`)
    return Math.floor(this.next() * bound)
  }

  /** A uniform integer in [min, max]. */
  intBetween(min: number, max: number): number {
    return min + this.int(max - min + 1)
  }

  chance(probability: number): boolean {
    return probability > 0 && this.next() < probability
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('cannot pick from an empty list')
    return items[this.int(items.length)]!
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1)
      ;[items[i], items[j]] = [items[j]!, items[i]!]
    }
    return items
  }

  /** A standard normal draw (Box-Muller). */
  normal(): number {
    let u = this.next()
    while (u === 0) u = this.next()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next())
  }

  /** A log-normal draw with the given median and sigma of the underlying normal. */
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal())
  }

  /** An exponential draw with the given mean (inter-arrival times of a Poisson process). */
  exponential(mean: number): number {
    let u = this.next()
    while (u === 0) u = this.next()
    return -Math.log(u) * mean
  }

  /** An independent stream for a named component, derived from this one's seed material. */
  fork(label: string): Random {
    return new Random(this.s0 ^ this.s3 ^ labelHash(label))
  }
}
