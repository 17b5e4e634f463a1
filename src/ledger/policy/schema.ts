// Placeholder until the policy schema lands in this session (replaced by the policy work).
export interface JurisdictionPolicy {
  readonly jurisdiction: string
}
