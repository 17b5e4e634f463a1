#!/usr/bin/env node
// The `corridor` command. The polyfill is imported before anything that could pull in libp2p.
import { register } from 'tsx/esm/api'

register()
await import('../src/polyfill.ts')
const { main } = await import('../src/cli/main.ts')
process.exitCode = await main(process.argv.slice(2))
