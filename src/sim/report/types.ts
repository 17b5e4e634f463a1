/**
 * What a run produces, shared by the simulator and the real-process cluster backend so both write
 * the same summary.json, transfers.csv and report.
 */

export interface InvariantViolation {
  readonly invariant: string
  /** Simulated (or wall, for clusters) time in ms since the run started. */
  readonly atMs: number
  readonly node?: string
  readonly height?: number
  readonly message: string
}

export interface ExpectationFailure {
  readonly metric: string
  readonly expected: string
  readonly actual: number | null
}

export interface RunSummary {
  readonly scenario: string
  readonly seed: number
  readonly backend: 'sim' | 'cluster'
  /** SHA-256 over the run's event trace; equal seeds give equal hashes. */
  readonly traceHash: string
  readonly simulatedMs: number
  readonly wallMs: number
  readonly transfers: {
    readonly submitted: number
    /** Transfers that reached a final receipt, settled or rejected by the ledger. */
    readonly finalized: number
    readonly settled: number
    readonly rejected: Readonly<Record<string, number>>
    /** Submitted but never final (lost, or still pending at the end). */
    readonly pending: number
  }
  /** Fraction of submitted transfers that reached a final receipt. */
  readonly finalized: number
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number; readonly mean: number }
  readonly throughputTps: number
  readonly blocks: number
  readonly height: number
  readonly offeredTps?: number
  readonly achievedSubmitTps?: number
  readonly baseline: {
    readonly settlementMs: { readonly p50: number; readonly p90: number; readonly p99: number }
    readonly corridorCostUsd: number
    readonly correspondentCostUsd: number
  }
  readonly faults: number
  readonly evidence: number
  readonly invariants: { readonly ok: boolean; readonly checked: readonly string[]; readonly violations: readonly InvariantViolation[] }
  readonly expectations: { readonly ok: boolean; readonly failed: readonly ExpectationFailure[] }
  readonly ok: boolean
}

export interface TransferRecord {
  readonly id: string
  readonly kind: string
  readonly corridor: string
  readonly payer: string
  readonly payee: string
  readonly payerBank: string
  readonly payeeBank: string
  /** Decimal in major units, as people read it. */
  readonly amount: string
  readonly currency: string
  readonly received: string
  readonly receivedCurrency: string
  readonly submitMs: number
  readonly finalMs: number | null
  readonly status: 'settled' | 'rejected' | 'pending'
  readonly reason: string
  readonly amountUsd: number
  readonly corridorCostUsd: number
  readonly baselineMs: number
  readonly baselineCostUsd: number
}

export interface RunSeries {
  readonly bucketMs: number
  /** (bucket start ms, transfers finalized per second). */
  readonly throughput: ReadonlyArray<readonly [number, number]>
  /** (bucket start ms, transfers submitted per second). */
  readonly offered: ReadonlyArray<readonly [number, number]>
  /** (bucket start ms, mean and max finality latency in ms of the transfers final in the bucket). */
  readonly latencyMean: ReadonlyArray<readonly [number, number]>
  readonly latencyMax: ReadonlyArray<readonly [number, number]>
  /** (bucket start ms, height) per node would be large; the max height is enough to show stalls. */
  readonly height: ReadonlyArray<readonly [number, number]>
}

export interface CorridorVolume {
  readonly corridor: string
  readonly transfers: number
  readonly volumeUsd: number
  readonly settled: number
  readonly medianMs: number
  readonly baselineMedianMs: number
  readonly corridorCostUsd: number
  readonly baselineCostUsd: number
}

export interface FaultMark {
  readonly atMs: number
  readonly label: string
}

export interface RunReport {
  readonly summary: RunSummary
  readonly series: RunSeries
  readonly corridors: readonly CorridorVolume[]
  readonly faults: readonly FaultMark[]
  readonly description?: string
}
