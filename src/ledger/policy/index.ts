/** Capital controls and compliance: the policy schema, its compiled form and the engine. */
export * from './types.ts'
export { parsePolicyDocument, policyDocumentSchema, partyKinds, type PolicyDocument } from './schema.ts'
export { policyCurrencies, type JurisdictionPolicy } from './compile.ts'
export { evaluateTransfer } from './engine.ts'
export { policyLimits } from './limits.ts'
export { isJurisdiction } from './jurisdictions.ts'
export { localDayNumber, yearOfDayNumber } from './periods.ts'
