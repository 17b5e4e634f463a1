// Placeholder until the policy schema lands in this session (replaced by the policy work).
export interface JurisdictionPolicy {
  readonly jurisdiction: string
}
export function parsePolicyDocument(value: unknown, source: string): JurisdictionPolicy {
  void source
  return value as JurisdictionPolicy
}
