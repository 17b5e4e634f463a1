/**
 * Loads capital-control policy files (YAML or JSON, one jurisdiction per file) into the policy set
 * the ledger evaluates. Every failure is a ConfigError naming the file, the path of the bad field
 * and what was expected; nothing is returned unless every file is valid.
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { loadDataFile } from './files.ts'
import { ConfigError } from './errors.ts'
import { parsePolicyDocument, type JurisdictionPolicy } from '../ledger/policy/schema.ts'
import type { PolicySet } from '../ledger/policy/types.ts'

/** Reads and validates one policy file. */
export function loadPolicyFile(path: string): JurisdictionPolicy {
  return parsePolicyDocument(loadDataFile(path), path)
}

/** Reads several policy files into a policy set; two files for one jurisdiction are refused. */
export function loadPolicyFiles(paths: readonly string[]): PolicySet {
  const policies = new Map<string, JurisdictionPolicy>()
  for (const path of paths) {
    const policy = loadPolicyFile(path)
    const earlier = policies.get(policy.jurisdiction)
    if (earlier !== undefined) {
      throw new ConfigError('CONFIG_INVALID', path, [
        { path: 'jurisdiction', message: `expected one policy per jurisdiction, ${policy.jurisdiction} is already defined by ${earlier.source}` }
      ])
    }
    policies.set(policy.jurisdiction, policy)
  }
  return policies
}

/** Every .yaml, .yml and .json file of a directory, in name order, as a policy set. */
export function loadPolicyDirectory(directory: string): PolicySet {
  let names: string[]
  try {
    names = readdirSync(directory)
  } catch (error) {
    throw new ConfigError('CONFIG_UNREADABLE', directory, [{ path: '', message: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (error as Error).message }])
  }
  const files = names.filter((name) => /\.(json|ya?ml)$/.test(name)).sort()
  return loadPolicyFiles(files.map((name) => join(directory, name)))
}
