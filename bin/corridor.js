#!/usr/bin/env node
// The `corridor` command. The polyfill is imported before anything that could pull in libp2p.
// `corridor node start` runs a compiled bundle of the sources (bin/bundle.js: a node starts in
// half the time); every other command runs the TypeScript sources through tsx.
// CORRIDOR_TSX=1 runs the node through tsx too.

// `corridor sim run | head`: the reader went away; stop quietly as other Unix tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(0)
    throw error
  })
}

const args = process.argv.slice(2)
let entries
if (args[0] === 'node' && args[1] === 'start' && process.env.CORRIDOR_TSX !== '1') {
  const { cliBundle } = await import('./bundle.js')
  try {
    entries = await cliBundle()
  } catch (error) {
    process.stderr.write(`corridor: cannot compile the sources for the node: ${error.message}\n`)
    process.exit(1)
  }
  process.setSourceMapsEnabled(true)
} else {
  const { register } = await import('tsx/esm/api')
  register()
  entries = ['../src/polyfill.ts', '../src/cli/main.ts']
}
await import(entries[0])
const { main } = await import(entries[1])
process.exitCode = await main(args)
