/**
 * Progress for long work: a redrawn bar on a terminal, a plain line every few seconds otherwise
 * (CI logs, pipes). Nothing at all for work that finishes within the first second.
 */
export interface ProgressOptions {
  readonly label: string
  readonly total: number
  /** Unit shown after the counts, e.g. "seeds", "simulated s". */
  readonly unit?: string
  readonly stream?: NodeJS.WriteStream
  /** Seconds between lines when the stream is not a terminal. */
  readonly lineIntervalSeconds?: number
  readonly clock?: () => number
}

export interface Progress {
  /** Sets the amount done so far, with an optional short status ("violations: 0"). */
  update(done: number, status?: string): void
  /** Ends the bar; prints a final line if anything was shown. */
  finish(status?: string): void
}

export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr
  const clock = options.clock ?? (() => performance.now())
  const isTerminal = stream.isTTY === true
  const started = clock()
  const lineIntervalMs = (options.lineIntervalSeconds ?? 5) * 1000
  let lastDrawMs = started
  let shown = false
  let done = 0
  let status = ''
  const unit = options.unit ? ` ${options.unit}` : ''

  function text(): string {
    const elapsed = (clock() - started) / 1000
    const fraction = options.total > 0 ? Math.min(1, done / options.total) : 0
    const eta = fraction > 0 && fraction < 1 ? ` eta ${Math.ceil((elapsed / fraction) * (1 - fraction))}s` : ''
    return `${options.label} ${done}/${options.total}${unit} (${(fraction * 100).toFixed(0)}%) ${elapsed.toFixed(1)}s${eta}${status ? ` · ${status}` : ''}`
  }

  function draw(force: boolean): void {
    const now = clock()
    if (now - started < 1000 && !force) return
    if (isTerminal) {
      if (now - lastDrawMs < 100 && !force) return
      const columns = stream.columns ?? 80
      const fraction = options.total > 0 ? Math.min(1, done / options.total) : 0
      const barWidth = Math.max(10, Math.min(30, columns - 60))
      const filled = Math.round(fraction * barWidth)
      const line = `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ${text()}`
      stream.write(`\r${line.slice(0, columns - 1)}\x1b[K`)
    } else {
      if (now - lastDrawMs < lineIntervalMs && !force) return
      stream.write(`${text()}\n`)
    }
    lastDrawMs = now
    shown = true
  }

  return {
    update(value, newStatus) {
      done = value
      if (newStatus !== undefined) status = newStatus
      draw(false)
    },
    finish(finalStatus) {
      if (finalStatus !== undefined) status = finalStatus
      if (!shown) return
      draw(true)
      if (isTerminal) stream.write('\n')
    }
  }
}
