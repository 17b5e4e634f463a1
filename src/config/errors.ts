import { CorridorError } from '../protocol/errors.ts'

export type ConfigErrorCode = 'CONFIG_UNREADABLE' | 'CONFIG_SYNTAX' | 'CONFIG_INVALID'

/**
 * A config, genesis, policy or scenario file that cannot be used. The message names the file,
 * the path of the bad field and what was expected, so the person editing it can fix it.
 */
export class ConfigError extends CorridorError<ConfigErrorCode> {
  readonly file: string
  readonly issues: readonly ConfigIssue[]

  constructor(code: ConfigErrorCode, file: string, issues: readonly ConfigIssue[]) {
    const lines = issues.map((issue) => `  ${issue.path === '' ? '(root)' : issue.path}: ${issue.message}`)
    super(code, `${file}: ${code === 'CONFIG_INVALID' ? 'invalid' : code === 'CONFIG_SYNTAX' ? 'cannot be parsed' : 'cannot be read'}\n${lines.join('\n')}`)
    this.name = 'ConfigError'
    this.file = file
    this.issues = issues
  }
}

export interface ConfigIssue {
  /** Dotted path with [index] for arrays: "outbound.quotas[0].perYear". */
  readonly path: string
  readonly message: string
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else out += out === '' ? String(part) : `.${String(part)}`
  }
  return out
}
