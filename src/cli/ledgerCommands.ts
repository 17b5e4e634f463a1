/**
 * `corridor ledger ...`: the deposit-token ledger on its own, without consensus.
 *
 * `demo` builds the genesis of configs/genesis/demo.yaml (or --genesis FILE), signs a generated
 * batch of cross-border payments with the demo keys, admits them (signature checked once each, on
 * node:crypto), applies them in blocks and prints the receipts counted by reason code, with the
 * invariants checked at the end.
 */
import { parseArgs } from 'node:util'
import type { CommandGroup } from './main.ts'
import { commandGroup } from './commandGroup.ts'
import { loadGenesisFile } from '../config/genesis.ts'
import { apply } from '../ledger/execute.ts'
import { checkConservation } from '../ledger/invariants.ts'
import { admitTransaction, type AdmittedTransaction } from '../ledger/transactions.ts'
import { TestNetwork, generatePayments } from '../ledger/testing/index.ts'
import { verifyTransactionSignature } from '../protocol/envelope.ts'
import { bytesToHex } from '../protocol/bytes.ts'
import { createNativeVerifier } from '../platform/ed25519Native.ts'
import { createProgress } from './progress.ts'

const usage = `usage: corridor ledger demo [options]

Builds the demo network's ledger from a genesis file, applies a generated batch of signed
cross-border payments, and prints the receipts counted by reason code.

options:
  --genesis FILE      genesis file with a keySeed (default configs/genesis/demo.yaml)
  --payments N        payments to generate (default 5000, at most 1000000)
  --block-size N      payments per block (default 500)
  --seed S            workload seed (default 1)
  --individuals       only individuals pay (capital-control quotas bite harder)
`

async function demo(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      genesis: { type: 'string', default: 'configs/genesis/demo.yaml' },
      payments: { type: 'string', default: '5000' },
      'block-size': { type: 'string', default: '500' },
      seed: { type: 'string', default: '1' },
      individuals: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' }
    }
  })
  if (values.help) {
    process.stdout.write(usage)
    return 0
  }
  const count = Number(values.payments)
  const blockSize = Number(values['block-size'])
  if (!Number.isSafeInteger(count) || count < 1 || count > 1_000_000) return fail(`--payments must be an integer from 1 to 1000000, got ${values.payments}`)
  if (!Number.isSafeInteger(blockSize) || blockSize < 1 || blockSize > 100_000) return fail(`--block-size must be an integer from 1 to 100000, got ${values['block-size']}`)
  const out = (line: string): void => {
    process.stdout.write(line + '\n')
  }

  const loaded = loadGenesisFile(values.genesis!)
  const network = TestNetwork.fromGenesis(loaded.document, loaded.state)
  const genesis = loaded.document
  out(`Corridor ledger demo: ${genesis.chainId} from ${values.genesis}`)
  out(`  ${genesis.banks.length} banks (${genesis.banks.map((b) => `${b.id} ${b.jurisdiction}`).join(', ')}), ${genesis.centralBanks.length} central banks, ${genesis.fxProviders.length} FX provider, ${genesis.customers.length} customers`)
  out(`  policies in force: ${Object.keys(genesis.policies).sort().join(', ') || 'none'}; state root ${bytesToHex(network.state.stateRoot).slice(0, 16)}`)

  const signStarted = performance.now()
  const envelopes = generatePayments(network, {
    count,
    seed: values.seed!,
    purposes: ['GDDS', 'SCVE', 'STDY', 'FAMI'],
    ...(values.individuals ? { payerKinds: ['individual'] as const } : {})
  })
  const signMs = performance.now() - signStarted

  // Admission: each signature verified once, on node:crypto, then the body checked once.
  const verifier = createNativeVerifier()
  const admitStarted = performance.now()
  const admitted: AdmittedTransaction[] = []
  let badSignatures = 0
  for (const envelope of envelopes) {
    if (!verifyTransactionSignature(envelope, verifier)) {
      badSignatures++
      continue
    }
    admitted.push(admitTransaction(envelope))
  }
  const admitMs = performance.now() - admitStarted
  out(`  signed ${envelopes.length} cross-border, cross-currency payments in ${signMs.toFixed(0)} ms; admitted ${admitted.length} (signatures verified in ${admitMs.toFixed(0)} ms, ${badSignatures} bad)`)

  const verified = new Set(admitted.map((tx) => tx.id))
  const progress = createProgress({ label: 'applying', total: admitted.length, unit: 'payments' })
  const counts = new Map<string, number>()
  let reports = 0
  let applyMs = 0
  let state = network.state
  for (let start = 0; start < admitted.length; start += blockSize) {
    const transactions = admitted.slice(start, start + blockSize)
    const began = performance.now()
    const applied = apply(state, { height: state.height + 1, timeMs: state.timeMs + 60_000, transactions }, (tx) => verified.has(tx.id))
    applyMs += performance.now() - began
    state = applied.state
    for (const receipt of applied.receipts) {
      const key = receipt.status === 'settled' ? 'SETTLED' : receipt.reason!
      counts.set(key, (counts.get(key) ?? 0) + 1)
      reports += receipt.reports.length
    }
    progress.update(start + transactions.length)
  }
  progress.finish()

  out(`  applied in ${Math.ceil(admitted.length / blockSize)} blocks of up to ${blockSize}: ${applyMs.toFixed(0)} ms, ${Math.round(admitted.length / (applyMs / 1000)).toLocaleString('en-US')} payments/s on one core`)
  out('')
  out('  receipts by reason code')
  const rows = [...counts.entries()].sort((a, b) => (a[0] === 'SETTLED' ? -1 : b[0] === 'SETTLED' ? 1 : b[1] - a[1]))
  const width = Math.max(...rows.map(([reason]) => reason.length))
  for (const [reason, n] of rows) {
    out(`    ${reason.padEnd(width)}  ${String(n).padStart(7)}  ${((n / admitted.length) * 100).toFixed(1).padStart(5)}%`)
  }
  out(`  regulator reports emitted: ${reports}`)
  const violations = checkConservation(state)
  out(`  height ${state.height}, state root ${bytesToHex(state.stateRoot).slice(0, 16)}; conservation and non-negative balances: ${violations.length === 0 ? 'hold' : `${violations.length} VIOLATED`}`)
  for (const violation of violations.slice(0, 5)) out(`    ${violation.invariant}: ${violation.detail}`)
  return violations.length === 0 ? 0 : 1
}

function fail(message: string): number {
  process.stderr.write(`corridor ledger demo: ${message}\n`)
  return 2
}

export const ledgerCommands: CommandGroup = commandGroup('ledger', 'the deposit-token ledger on its own: demo', usage, { demo })
