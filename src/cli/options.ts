/** Option values shared by the command groups: checked, with a message that names the flag. */

/** The flag's integer value, undefined when absent, or the message saying what is wrong with it. */
export function integerOption(value: string | undefined, flag: string, min: number, max: number): number | undefined | string {
  if (value === undefined) return undefined
  const number = Number(value)
  if (!Number.isSafeInteger(number) || number < min || number > max) return `--${flag} must be an integer from ${min} to ${max}, got ${value}`
  return number
}
