/**
 * Loads a scenario file (YAML or JSON) and the policy files it names, resolved relative to the
 * scenario file. Every error names the file and the field.
 */
import { dirname, resolve } from 'node:path'
import { loadDataFile } from '../../config/files.ts'
import { ConfigError } from '../../config/errors.ts'
import { parsePolicyDocument, type JurisdictionPolicy } from '../../ledger/policy/schema.ts'
import { parseScenario, type Scenario } from './schema.ts'

export interface LoadedScenario {
  readonly scenario: Scenario
  /** Where it came from, for reports and reproduction commands. */
  readonly source: string
  readonly policies: readonly JurisdictionPolicy[]
  /** The policy documents as written, by jurisdiction. */
  readonly policyDocuments: Readonly<Record<string, unknown>>
}

export function loadScenarioFile(path: string, overrides: Record<string, unknown> = {}): LoadedScenario {
  const raw = loadDataFile(path)
  const value = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? { ...raw, ...overrides } : raw
  return resolveScenario(parseScenario(value, path), path)
}

/** Resolves a parsed scenario's policy references (relative to `path`). */
export function resolveScenario(scenario: Scenario, path: string): LoadedScenario {
  const references = typeof scenario.policies === 'string' ? [scenario.policies] : scenario.policies
  const policies: JurisdictionPolicy[] = []
  const policyDocuments: Record<string, unknown> = {}
  references.forEach((reference, index) => {
    const policyPath = typeof reference === 'string' ? resolve(dirname(path), reference) : `${path} (policies[${index}])`
    const document = typeof reference === 'string' ? loadDataFile(policyPath) : reference
    const policy = parsePolicyDocument(document, policyPath)
    if (policyDocuments[policy.jurisdiction] !== undefined) {
      throw new ConfigError('CONFIG_INVALID', path, [{ path: `policies[${index}]`, message: `a second policy for ${policy.jurisdiction}; one policy per jurisdiction` }])
    }
    policies.push(policy)
    policyDocuments[policy.jurisdiction] = document
  })
  return { scenario, source: path, policies, policyDocuments }
}
