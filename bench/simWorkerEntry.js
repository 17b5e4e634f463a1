// A simulator benchmark's worker thread: registers tsx, loads the polyfill, then the worker itself.
import { register } from 'tsx/esm/api'

register()
await import('../src/polyfill.ts')
await import('./simWorker.ts')
