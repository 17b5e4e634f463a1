/**
 * Loads a genesis file (YAML or JSON) and builds the ledger's height-0 state. Policy entries may
 * be file references, resolved relative to the genesis file:
 *
 *   policies:
 *     CN: ../policies/cn.yaml
 *     HK: { jurisdiction: HK, ... }     # or inline
 *
 * Errors name the file (the genesis file or the policy file) and the path of the bad field.
 */
import { dirname, resolve } from 'node:path'
import { buildGenesis, parseGenesisDocument, type BuildGenesisOptions, type GenesisDocument } from '../ledger/genesis.ts'
import type { LedgerState } from '../ledger/state.ts'
import { loadDataFile } from './files.ts'

export interface LoadedGenesis {
  readonly path: string
  /** The document with policy references replaced by the documents they name. */
  readonly document: GenesisDocument
  /** Where each jurisdiction's policy came from: a file path, or the genesis file for inline ones. */
  readonly policySources: Readonly<Record<string, string>>
}

/** Reads and validates a genesis file and the policy files it references. Throws ConfigError. */
export function loadGenesisDocument(path: string): LoadedGenesis {
  const raw = loadDataFile(path)
  const document = parseGenesisDocument(raw, path)
  const policies: Record<string, unknown> = {}
  const policySources: Record<string, string> = {}
  for (const [jurisdiction, value] of Object.entries(document.policies)) {
    if (typeof value === 'string') {
      const policyPath = resolve(dirname(path), value)
      policies[jurisdiction] = loadDataFile(policyPath)
      policySources[jurisdiction] = policyPath
    } else {
      policies[jurisdiction] = value
      policySources[jurisdiction] = `${path} policies.${jurisdiction}`
    }
  }
  return { path, document: { ...document, policies }, policySources }
}

/** Loads a genesis file and builds its state. Throws ConfigError. */
export function loadGenesisFile(path: string, options: Omit<BuildGenesisOptions, 'source' | 'policySources'> = {}): LoadedGenesis & { readonly state: LedgerState } {
  const loaded = loadGenesisDocument(path)
  const state = buildGenesis(loaded.document, { ...options, source: path, policySources: loaded.policySources })
  return { ...loaded, state }
}
