// The entry point of a sweep or fuzz worker thread. A worker starts with a fresh module loader, so,
// like bin/corridor.js, it registers tsx before importing any TypeScript, then the polyfill, then
// the worker itself (src/sim/sweepWorker.ts).
import { register } from 'tsx/esm/api'

register()
await import('../polyfill.ts')
await import('./sweepWorker.ts')
