/**
 * The consensus test harness, kept apart from the engine and reusable by the simulator: seeded
 * randomness, a virtual-clock event queue, the cluster driver with its simulated network, the
 * whole-cluster invariant checkers, the fuzz spec generator and shrinker, single-engine scripts,
 * test keys and a minimal application.
 */
export * from './checkers.ts'
export * from './cluster.ts'
export * from './eventQueue.ts'
export * from './fuzz.ts'
export * from './keys.ts'
export * from './prng.ts'
export * from './script.ts'
export * from './testApplication.ts'
