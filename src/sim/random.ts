/**
 * The simulator's one source of randomness: a seeded xoshiro256** generator (Blackman and Vigna),
 * seeded through splitmix64 as its authors recommend. Everything random in a run — latencies,
 * drops, workload arrivals and amounts, fault draws — comes from here, so the same seed gives the
 * same run. `fork(label)` derives an independent stream for a component, so adding draws in one
 * component does not shift the numbers every other component sees.
 */
const mask64 = (1n << 64n) - 1n

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
  // The state is four 64-bit words, each kept as two unsigned 32-bit halves in plain numbers: the
  // reference algorithm on bigint allocated a heap object per operation, a dozen per draw, and a
  // simulation draws for every message it delivers. The output is the reference's, bit for bit
  // (a test checks it against a bigint implementation).
  private h0 = 0
  private l0 = 0
  private h1 = 0
  private l1 = 0
  private h2 = 0
  private l2 = 0
  private h3 = 0
  private l3 = 0
  /** The last output, as halves, for `nextBits`. */
  private outHigh = 0
  private outLow = 0

  constructor(seed: number | bigint) {
    const state = { value: BigInt.asUintN(64, BigInt(seed)) }
    const words = [splitmix64(state), splitmix64(state), splitmix64(state), splitmix64(state)]
    const high = (word: bigint): number => Number(word >> 32n)
    const low = (word: bigint): number => Number(word & 0xffffffffn)
    this.h0 = high(words[0]!)
    this.l0 = low(words[0]!)
    this.h1 = high(words[1]!)
    this.l1 = low(words[1]!)
    this.h2 = high(words[2]!)
    this.l2 = low(words[2]!)
    this.h3 = high(words[3]!)
    this.l3 = low(words[3]!)
  }

  /** One step of xoshiro256**; leaves the output in outHigh/outLow. */
  private step(): void {
    // result = rotl(s1 * 5, 7) * 9
    let sum = this.l1 + ((this.l1 << 2) >>> 0)
    let low = sum >>> 0
    let high = (this.h1 + (((this.h1 << 2) | (this.l1 >>> 30)) >>> 0) + (sum > 0xffffffff ? 1 : 0)) >>> 0
    const rotatedHigh = ((high << 7) | (low >>> 25)) >>> 0
    const rotatedLow = ((low << 7) | (high >>> 25)) >>> 0
    sum = rotatedLow + ((rotatedLow << 3) >>> 0)
    low = sum >>> 0
    high = (rotatedHigh + (((rotatedHigh << 3) | (rotatedLow >>> 29)) >>> 0) + (sum > 0xffffffff ? 1 : 0)) >>> 0
    this.outHigh = high
    this.outLow = low
    // t = s1 << 17
    const tHigh = ((this.h1 << 17) | (this.l1 >>> 15)) >>> 0
    const tLow = (this.l1 << 17) >>> 0
    this.h2 = (this.h2 ^ this.h0) >>> 0
    this.l2 = (this.l2 ^ this.l0) >>> 0
    this.h3 = (this.h3 ^ this.h1) >>> 0
    this.l3 = (this.l3 ^ this.l1) >>> 0
    this.h1 = (this.h1 ^ this.h2) >>> 0
    this.l1 = (this.l1 ^ this.l2) >>> 0
    this.h0 = (this.h0 ^ this.h3) >>> 0
    this.l0 = (this.l0 ^ this.l3) >>> 0
    this.h2 = (this.h2 ^ tHigh) >>> 0
    this.l2 = (this.l2 ^ tLow) >>> 0
    // s3 = rotl(s3, 45): swap the halves (32), then rotate by 13.
    const h3 = this.l3
    const l3 = this.h3
    this.h3 = ((h3 << 13) | (l3 >>> 19)) >>> 0
    this.l3 = ((l3 << 13) | (h3 >>> 19)) >>> 0
  }

  /** The next 64 random bits. */
  nextBits(): bigint {
    this.step()
    return (BigInt(this.outHigh) << 32n) | BigInt(this.outLow)
  }

  /** A uniform double in [0, 1) with 53 bits of precision: the top 53 bits of the next output. */
  next(): number {
    this.step()
    return (this.outHigh * 2 ** 21 + (this.outLow >>> 11)) / 2 ** 53
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
    const s0 = (BigInt(this.h0) << 32n) | BigInt(this.l0)
    const s3 = (BigInt(this.h3) << 32n) | BigInt(this.l3)
    return new Random(s0 ^ s3 ^ labelHash(label))
  }
}
