/**
 * A discrete-event queue on a virtual clock: a binary heap ordered by time, then by insertion
 * sequence, so events at the same millisecond run in the order they were scheduled and a run is a
 * pure function of its seed.
 */
export class EventQueue<T> {
  private readonly heap: { time: number; sequence: number; event: T }[] = []
  private sequence = 0

  get size(): number {
    return this.heap.length
  }

  push(time: number, event: T): void {
    const heap = this.heap
    heap.push({ time, sequence: this.sequence++, event })
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.less(i, parent)) break
      ;[heap[i], heap[parent]] = [heap[parent]!, heap[i]!]
      i = parent
    }
  }

  /** Removes and returns the earliest event, or undefined when empty. */
  pop(): { time: number; event: T } | undefined {
    const heap = this.heap
    if (heap.length === 0) return undefined
    const top = heap[0]!
    const last = heap.pop()!
    if (heap.length > 0) {
      heap[0] = last
      let i = 0
      for (;;) {
        const left = 2 * i + 1
        const right = left + 1
        let smallest = i
        if (left < heap.length && this.less(left, smallest)) smallest = left
        if (right < heap.length && this.less(right, smallest)) smallest = right
        if (smallest === i) break
        ;[heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!]
        i = smallest
      }
    }
    return { time: top.time, event: top.event }
  }

  peekTime(): number | undefined {
    return this.heap[0]?.time
  }

  private less(i: number, j: number): boolean {
    const a = this.heap[i]!
    const b = this.heap[j]!
    return a.time < b.time || (a.time === b.time && a.sequence < b.sequence)
  }
}
