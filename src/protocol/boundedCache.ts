/**
 * A bounded cache that forgets its oldest entries in bulk, at a constant cost per operation.
 *
 * Entries go into a young generation; when it holds half the bound, it becomes the old generation
 * and the previous old one is dropped whole. Lookups look in both. So at most `entriesMax` entries
 * are kept, and the most recent half of them always are.
 *
 * Why not a Map used as a FIFO (evicting `keys().next()`): V8 marks deleted entries and skips them
 * on iteration until the table is next rehashed, so with the oldest entry deleted over and over,
 * every eviction scans the deleted slots before it: 40 to 140 µs per eviction at 100,000 entries,
 * which made a cache that had filled up the most expensive thing a long simulation did.
 */
import { assert } from './assert.ts'

export class BoundedCache<K, V> {
  private young = new Map<K, V>()
  private old = new Map<K, V>()
  private readonly generationMax: number

  /** @param entriesMax entries kept at most (at least 2). */
  constructor(entriesMax: number) {
    assert(Number.isSafeInteger(entriesMax) && entriesMax >= 2, `a bounded cache holds at least 2 entries, got ${entriesMax}`)
    this.generationMax = Math.floor(entriesMax / 2)
  }

  get(key: K): V | undefined {
    const value = this.young.get(key)
    return value !== undefined ? value : this.old.get(key)
  }

  has(key: K): boolean {
    return this.young.has(key) || this.old.has(key)
  }

  set(key: K, value: V): void {
    if (this.young.size >= this.generationMax && !this.young.has(key)) {
      this.old = this.young
      this.young = new Map()
    }
    this.young.set(key, value)
  }

  /** Entries held (a key set again after it aged into the old generation counts twice until that one is dropped). */
  get size(): number {
    return this.young.size + this.old.size
  }
}
