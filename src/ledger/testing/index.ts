/**
 * Test support for the ledger, reused by the simulator and the demo: deterministic keys, the
 * standard four-jurisdiction network, a seeded PRNG and generated payment workloads. It runs
 * outside the core (it signs with node:crypto), which is why it lives in a `testing/` folder.
 */
export * from './keys.ts'
export * from './network.ts'
export * from './random.ts'
export * from './workload.ts'
