/**
 * `corridor network init`: everything a local or test network of N banks needs, under one directory.
 *
 *   DIR/genesis.json                    banks (validator keys), central banks per currency, an FX
 *                                       provider, customers with opening balances; no policies
 *   DIR/network.json                    the genesis path and each validator's p2p and API address
 *   DIR/institutions.keys.json          secret keys of central banks and the FX provider (0600)
 *   DIR/<bank>/validator.key.json       the bank's key (0600): signs votes and its transactions
 *   DIR/<bank>/customers.keys.json      its customers' keys, for POST /v1/payments (0600)
 *   DIR/<bank>/node.json                the node config: `corridor node start --config DIR/<bank>/node.json`
 *
 * Banks come from the standard four (icbc, bochk, enbd, dbs, cycled with a suffix beyond four) or
 * from a scenario's `banks` and `fx`. Ports: p2p basePort + i, HTTP httpBasePort + i, on loopback.
 */
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { z } from 'zod'
import type { CommandGroup } from './main.ts'
import { loadDataFile } from '../config/files.ts'
import { validateDocument } from '../config/validate.ts'
import { ConfigError } from '../config/errors.ts'
import { standardFxRates } from '../ledger/testing/network.ts'
import { initNetwork, standardBankSpecs, type BankSpec } from '../config/networkInit.ts'

export { initNetwork, standardBankSpecs, type BankSpec, type NetworkInitOptions } from '../config/networkInit.ts'

const usage = `usage: corridor network init --dir DIR [options]

options:
  --banks N              banks (validators), from the standard four cycled (default 4)
  --scenario FILE        take the banks and FX rates from a scenario file instead
  --customers N          customers per bank, with keys the bank's node holds (default 8)
  --base-port P          first p2p TCP port (default 7101); bank i listens on P + i
  --http-base-port P     first HTTP API port (default 8101)
  --log-level L          log level written to each node config (default info)
`

const scenarioBanksSchema = z.looseObject({
  banks: z.array(z.looseObject({ id: z.string(), jurisdiction: z.string(), currencies: z.array(z.string()).min(1) })).min(1),
  fx: z.looseObject({ rates: z.record(z.string(), z.union([z.number(), z.string()])) }).optional()
})

function positiveInteger(value: string, name: string, max: number): number {
  const number = Number(value)
  if (!Number.isSafeInteger(number) || number < 1 || number > max) throw new ConfigError('CONFIG_INVALID', 'command line', [{ path: `--${name}`, message: `expected an integer from 1 to ${max}, got ${value}` }])
  return number
}

async function init(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      dir: { type: 'string' },
      banks: { type: 'string', default: '4' },
      scenario: { type: 'string' },
      customers: { type: 'string', default: '8' },
      'base-port': { type: 'string', default: '7101' },
      'http-base-port': { type: 'string', default: '8101' },
      'log-level': { type: 'string', default: 'info' }
    }
  })
  if (values.dir === undefined) {
    process.stderr.write(`corridor network init: --dir DIR is required\n\n${usage}`)
    return 2
  }
  let banks: BankSpec[]
  let fxRates: Record<string, string | number> = { ...standardFxRates }
  if (values.scenario !== undefined) {
    const scenario = validateDocument(scenarioBanksSchema, loadDataFile(values.scenario), values.scenario)
    banks = scenario.banks.map((bank) => ({ id: bank.id, jurisdiction: bank.jurisdiction, currencies: bank.currencies }))
    fxRates = { ...fxRates, ...scenario.fx?.rates }
  } else {
    banks = standardBankSpecs(positiveInteger(values.banks, 'banks', 64))
  }
  const nodes = initNetwork({
    dir: values.dir,
    banks,
    fxRates,
    customersPerBank: positiveInteger(values.customers, 'customers', 10_000),
    basePort: positiveInteger(values['base-port'], 'base-port', 65_000),
    httpBasePort: positiveInteger(values['http-base-port'], 'http-base-port', 65_000),
    logLevel: values['log-level']
  })
  process.stdout.write(`network of ${nodes.length} banks in ${resolve(values.dir)}\n`)
  for (const node of nodes) process.stdout.write(`  ${node.bank.padEnd(12)} corridor node start --config ${node.config}   (API ${node.api})\n`)
  return 0
}

export const networkCommands: CommandGroup = {
  summary: 'network set-up: init (keys, genesis, node configs)',
  async run(args: string[]): Promise<number> {
    const [command, ...rest] = args
    if (command === 'init') return init(rest)
    if (command === undefined || command === '--help' || command === '-h') {
      process.stdout.write(usage)
      return command === undefined ? 2 : 0
    }
    process.stderr.write(`corridor network: unknown command '${command}'\n\n${usage}`)
    return 2
  }
}
