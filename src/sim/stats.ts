/**
 * Statistics for run summaries: exact percentiles over recorded samples (a run records at most a
 * few million latencies, which sort in well under a second) and fixed-width time series.
 */

export interface Percentiles {
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly max: number
  readonly mean: number
  readonly count: number
}

/** Nearest-rank percentiles. Sorts a copy held as a Float64Array (numeric sort, no comparator). */
export function percentiles(samples: ArrayLike<number>): Percentiles {
  const count = samples.length
  if (count === 0) return { p50: 0, p90: 0, p99: 0, max: 0, mean: 0, count: 0 }
  const sorted = Float64Array.from(samples).sort()
  let sum = 0
  for (let i = 0; i < count; i++) sum += sorted[i]!
  const rank = (p: number): number => sorted[Math.min(count - 1, Math.max(0, Math.ceil(p * count) - 1))]!
  return { p50: rank(0.5), p90: rank(0.9), p99: rank(0.99), max: sorted[count - 1]!, mean: sum / count, count }
}

/** A growable Float64 sample buffer (avoids boxing millions of numbers in a JS array). */
export class SampleBuffer {
  private data = new Float64Array(1024)
  private length = 0

  push(value: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2)
      next.set(this.data)
      this.data = next
    }
    this.data[this.length++] = value
  }

  get size(): number {
    return this.length
  }

  values(): Float64Array {
    return this.data.subarray(0, this.length)
  }
}

/** Counts and sums per fixed-width time bucket, for throughput and latency-over-time charts. */
export class TimeSeries {
  readonly bucketMs: number
  private readonly counts: number[] = []
  private readonly sums: number[] = []
  private readonly maxima: number[] = []

  constructor(bucketMs: number) {
    this.bucketMs = bucketMs
  }

  add(timeMs: number, value = 1): void {
    const index = Math.floor(timeMs / this.bucketMs)
    while (this.counts.length <= index) {
      this.counts.push(0)
      this.sums.push(0)
      this.maxima.push(0)
    }
    this.counts[index]!++
    this.sums[index]! += value
    if (value > this.maxima[index]!) this.maxima[index] = value
  }

  /** Points of (bucket start in ms, count per second). */
  rate(): Array<[number, number]> {
    return this.counts.map((count, i) => [i * this.bucketMs, (count * 1000) / this.bucketMs])
  }

  /** Points of (bucket start in ms, mean value) for buckets with samples. */
  mean(): Array<[number, number]> {
    const out: Array<[number, number]> = []
    this.counts.forEach((count, i) => {
      if (count > 0) out.push([i * this.bucketMs, this.sums[i]! / count])
    })
    return out
  }

  max(): Array<[number, number]> {
    const out: Array<[number, number]> = []
    this.counts.forEach((count, i) => {
      if (count > 0) out.push([i * this.bucketMs, this.maxima[i]!])
    })
    return out
  }
}
