/**
 * The logger the transport writes to: pino's call shape (a context object, then a constant
 * message), so a pino child logger can be passed as is. The transport logs sizes, peer ids,
 * codes and counts, never the bytes peers sent.
 */
export interface TransportLogger {
  debug(context: Record<string, unknown>, message: string): void
  info(context: Record<string, unknown>, message: string): void
  warn(context: Record<string, unknown>, message: string): void
  error(context: Record<string, unknown>, message: string): void
}

/** A logger that drops everything. */
export const silentLogger: TransportLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {}
}

/**
 * Keeps a hostile or broken peer from flooding the log: at most one line per key (a reason) per
 * interval; the lines suppressed in between are counted into the next one. The keys are a closed
 * set chosen by the caller, so the map stays small.
 */
export class LogThrottle {
  readonly #intervalMs: number
  readonly #now: () => number
  readonly #state = new Map<string, { lastMs: number; suppressed: number }>()

  constructor(intervalMs: number, now: () => number) {
    this.#intervalMs = intervalMs
    this.#now = now
  }

  /** Calls `write` with the count suppressed since the last line, or counts this one as suppressed. */
  maybeLog(key: string, write: (suppressed: number) => void): void {
    const now = this.#now()
    const state = this.#state.get(key)
    if (state !== undefined && now - state.lastMs < this.#intervalMs) {
      state.suppressed++
      return
    }
    write(state?.suppressed ?? 0)
    this.#state.set(key, { lastMs: now, suppressed: 0 })
  }
}
