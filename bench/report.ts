/**
 * docs/BENCHMARKS.md holds one section per benchmark between markers; a benchmark rewrites only
 * its own section, so benchmarks run at different times (or on different machines) keep theirs.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'

const header = `# Benchmarks

Written by \`npm run bench\` (bench/index.ts). Each benchmark rewrites its own section, between its
markers; run one with \`npm run bench -- <name>\`. Figures are from the machine named in each
section: compare them on one machine, not across machines.
`

const startMarker = (name: string): string => `<!-- bench:${name}:start -->`
const endMarker = (name: string): string => `<!-- bench:${name}:end -->`

/** Replaces (or appends) the section of `name` in the file's text. */
export function replaceSection(text: string, name: string, markdown: string): string {
  const section = `${startMarker(name)}\n${markdown.trim()}\n${endMarker(name)}`
  const start = text.indexOf(startMarker(name))
  const end = text.indexOf(endMarker(name))
  if (start >= 0 && end > start) return text.slice(0, start) + section + text.slice(end + endMarker(name).length)
  return `${text.trimEnd()}\n\n${section}\n`
}

export function writeSection(path: string, name: string, markdown: string): void {
  const text = existsSync(path) ? readFileSync(path, 'utf8') : header
  writeFileSync(path, replaceSection(text, name, markdown).trimEnd() + '\n')
}
