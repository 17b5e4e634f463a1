#!/usr/bin/env node
// Runs a TypeScript entry point: registers the tsx loader, loads the Promise.withResolvers
// polyfill, then imports the module named on the command line.
import { register } from 'tsx/esm/api'
import { pathToFileURL } from 'node:url'
import { resolve } from 'node:path'

register()
await import('../src/polyfill.ts')
const [entry, ...rest] = process.argv.slice(2)
if (entry === undefined) {
  process.stderr.write('usage: run-ts.js <file.ts> [args...]\n')
  process.exit(2)
}
process.argv = [process.argv[0], resolve(entry), ...rest]
await import(pathToFileURL(resolve(entry)).href)
