/**
 * Validation of parsed config documents with zod. Pure: it takes the parsed value and the name of
 * its source (a file path, "inline", "transaction body") so errors can name it.
 */
import type { z } from 'zod'
import { ConfigError, formatPath } from './errors.ts'

export function validateDocument<Schema extends z.ZodType>(schema: Schema, value: unknown, source: string): z.output<Schema> {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  throw new ConfigError(
    'CONFIG_INVALID',
    source,
    result.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }))
  )
}
