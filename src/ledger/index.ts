/**
 * The ledger: the deposit-token state machine. Pure and deterministic:
 * `apply(state, block) -> (state', receipts)`; see execute.ts for the rules of execution and
 * state.ts for the state layout and the state root.
 */
export * from './accounts.ts'
export * from './currency.ts'
export * from './documents.ts'
export * from './errors.ts'
export * from './execute.ts'
export * from './fx.ts'
export * from './genesis.ts'
export * from './invariants.ts'
export * from './reasons.ts'
export * from './state.ts'
export * from './stateKeys.ts'
export * from './tokens.ts'
export * from './transactions.ts'
