/**
 * Quota periods and structuring windows follow the jurisdiction's calendar: a day starts at local
 * midnight for the policy's fixed UTC offset (CN: UTC+8, so 16:00 UTC), and a year is the local
 * calendar year. Integer arithmetic only, no Date, so every validator gets the same numbers.
 */
export const dayMs = 86_400_000

/** Days since 1970-01-01 in the local calendar of a jurisdiction `offsetMs` ahead of UTC. */
export function localDayNumber(timeMs: number, offsetMs: number): number {
  return Math.floor((timeMs + offsetMs) / dayMs)
}

/**
 * The proleptic Gregorian year containing a day number (days since 1970-01-01), after Howard
 * Hinnant's `civil_from_days`.
 */
export function yearOfDayNumber(day: number): number {
  const z = day + 719_468
  const era = Math.floor(z / 146_097)
  const dayOfEra = z - era * 146_097
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1_460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365)
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100))
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153)
  // The algorithm's year starts in March; January and February belong to the next civil year.
  return yearOfEra + era * 400 + (shiftedMonth >= 10 ? 1 : 0)
}

/** Parses "+08:00", "-05:30", "Z" or "+00:00" into minutes east of UTC; undefined if malformed. */
export function parseUtcOffset(text: string): number | undefined {
  if (text === 'Z') return 0
  const match = /^([+-])(\d{2}):(\d{2})$/.exec(text)
  if (!match) return undefined
  const hours = Number(match[2])
  const minutes = Number(match[3])
  if (minutes >= 60 || minutes % 15 !== 0) return undefined
  const total = (match[1] === '-' ? -1 : 1) * (hours * 60 + minutes)
  return total >= -12 * 60 && total <= 14 * 60 ? total : undefined
}
