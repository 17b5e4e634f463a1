/**
 * A broken invariant is a programmer error: the process must stop rather than continue on
 * corrupt state. Unlike `node:assert`, this stays free of node:* so the core can use it anywhere.
 */
export class AssertionError extends Error {
  constructor(message: string) {
    super(`invariant violated: ${message}`)
    this.name = 'AssertionError'
  }
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message)
}

export function unreachable(value: never, what: string): never {
  throw new AssertionError(`unreachable ${what}: ${String(value)}`)
}
