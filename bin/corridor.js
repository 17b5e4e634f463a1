#!/usr/bin/env node
// The `corridor` command. The polyfill is imported before anything that could pull in libp2p.
import { register } from 'tsx/esm/api'

register()
// `corridor sim run | head`: the reader went away; stop quietly as other Unix tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(0)
    throw error
  })
}
await import('../src/polyfill.ts')
const { main } = await import('../src/cli/main.ts')
process.exitCode = await main(process.argv.slice(2))
