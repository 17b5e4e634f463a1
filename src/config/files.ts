/**
 * Reads YAML or JSON data files (configs, genesis, policies, scenarios). By extension: .json is
 * JSON, .yaml/.yml is YAML. Errors name the file and, for syntax errors, the line.
 */
import { readFileSync } from 'node:fs'
import { parse as parseYaml, YAMLParseError } from 'yaml'
import { ConfigError } from './errors.ts'

/** Files above this size are refused: config and scenario files are small. */
export const dataFileBytesMax = 16 * 1024 * 1024

export function parseDataText(text: string, source: string): unknown {
  if (source.endsWith('.json')) {
    try {
      return JSON.parse(text)
    } catch (error) {
      throw new ConfigError('CONFIG_SYNTAX', source, [{ path: '', message: (error as Error).message }])
    }
  }
  try {
    return parseYaml(text, { uniqueKeys: true, prettyErrors: true })
  } catch (error) {
    const message = error instanceof YAMLParseError ? error.message.split('\n')[0]! : (error as Error).message
    throw new ConfigError('CONFIG_SYNTAX', source, [{ path: '', message }])
  }
}

export function loadDataFile(path: string): unknown {
  if (!/\.(json|ya?ml)$/.test(path)) {
    throw new ConfigError('CONFIG_UNREADABLE', path, [{ path: '', message: 'expected a .yaml, .yml or .json file' }])
  }
  let text: string
  try {
    const buffer = readFileSync(path)
    if (buffer.length > dataFileBytesMax) {
      throw new ConfigError('CONFIG_UNREADABLE', path, [{ path: '', message: `file is larger than ${dataFileBytesMax} bytes` }])
    }
    text = buffer.toString('utf8')
  } catch (error) {
    if (error instanceof ConfigError) throw error
    throw new ConfigError('CONFIG_UNREADABLE', path, [{ path: '', message: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message }])
  }
  return parseDataText(text, path)
}
