// Placeholder until the policy engine lands in this session (replaced by the policy work).
import type { EvaluateTransfer } from './types.ts'
export const evaluateTransfer: EvaluateTransfer = () => ({ ok: true, writes: [], reports: [] })
