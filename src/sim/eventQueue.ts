/**
 * The simulator's event queue: a binary min-heap ordered by (time, sequence). The sequence number
 * breaks ties in insertion order, so two events at the same virtual millisecond always run in the
 * same order and a run is reproducible.
 */
import { assert } from '../protocol/assert.ts'

export interface QueuedEvent<T> {
  readonly timeMs: number
  readonly sequence: number
  readonly payload: T
}

export class EventQueue<T> {
  private readonly heap: QueuedEvent<T>[] = []
  private sequence = 0
  private readonly eventsMax: number

  /** @param eventsMax bound on pending events; exceeding it is a scenario that runs away. */
  constructor(eventsMax = 50_000_000) {
    this.eventsMax = eventsMax
  }

  get size(): number {
    return this.heap.length
  }

  push(timeMs: number, payload: T): void {
    // The messages are built only on failure: a template literal per push cost as much as the push.
    if (!(timeMs >= 0 && timeMs < Infinity)) assert(false, `event time must be a finite non-negative number, got ${timeMs}`)
    if (this.heap.length >= this.eventsMax) assert(false, `event queue exceeded ${this.eventsMax} pending events`)
    const event: QueuedEvent<T> = { timeMs, sequence: this.sequence++, payload }
    const heap = this.heap
    let index = heap.length
    heap.push(event)
    while (index > 0) {
      const parent = (index - 1) >> 1
      if (!before(event, heap[parent]!)) break
      heap[index] = heap[parent]!
      index = parent
    }
    heap[index] = event
  }

  peekTime(): number | undefined {
    return this.heap[0]?.timeMs
  }

  pop(): QueuedEvent<T> | undefined {
    const heap = this.heap
    const top = heap[0]
    if (top === undefined) return undefined
    const last = heap.pop()!
    if (heap.length > 0) {
      let index = 0
      const length = heap.length
      for (;;) {
        const left = 2 * index + 1
        if (left >= length) break
        const right = left + 1
        const child = right < length && before(heap[right]!, heap[left]!) ? right : left
        if (!before(heap[child]!, last)) break
        heap[index] = heap[child]!
        index = child
      }
      heap[index] = last
    }
    return top
  }
}

function before<T>(a: QueuedEvent<T>, b: QueuedEvent<T>): boolean {
  return a.timeMs < b.timeMs || (a.timeMs === b.timeMs && a.sequence < b.sequence)
}
