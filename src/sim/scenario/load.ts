/**
 * Loads a scenario file (YAML or JSON) and the policy files it names, resolved relative to the
 * scenario file. Every error names the file and the field.
 */
import { dirname, resolve } from 'node:path'
import { loadDataFile } from '../../config/files.ts'
import { parsePolicyDocument, type JurisdictionPolicy } from '../../ledger/policy/schema.ts'
import { parseScenario, type Scenario } from './schema.ts'

export interface LoadedScenario {
  readonly scenario: Scenario
  /** Where it came from, for reports and reproduction commands. */
  readonly source: string
  readonly policies: readonly JurisdictionPolicy[]
}

export function loadScenarioFile(path: string): LoadedScenario {
  const scenario = parseScenario(loadDataFile(path), path)
  const references = typeof scenario.policies === 'string' ? [scenario.policies] : scenario.policies
  const policies = references.map((reference, index) => {
    if (typeof reference === 'string') {
      const policyPath = resolve(dirname(path), reference)
      return parsePolicyDocument(loadDataFile(policyPath), policyPath)
    }
    return parsePolicyDocument(reference, `${path} (policies[${index}])`)
  })
  return { scenario, source: path, policies }
}
