/**
 * Expected failures carry a code from a closed set. The code is safe as a metric label and as a
 * receipt reason; the message says what was wrong in words a person can act on.
 * Broken invariants are not errors of this kind: they are assertions (see `assert.ts`).
 */
export const protocolErrorCodes = [
  'DECODE_MALFORMED',
  'DECODE_OVERSIZED',
  'DECODE_TRAILING_BYTES',
  'DECODE_NON_CANONICAL',
  'DECODE_SHAPE',
  'ENCODE_UNSUPPORTED',
  'BAD_KEY',
  'BAD_SIGNATURE',
  'BAD_HEX',
  'BAD_ID'
] as const
export type ProtocolErrorCode = (typeof protocolErrorCodes)[number]

export class CorridorError<Code extends string = string> extends Error {
  readonly code: Code
  readonly details: Readonly<Record<string, unknown>> | undefined

  constructor(code: Code, message: string, details?: Record<string, unknown>) {
    super(message)
    this.name = 'CorridorError'
    this.code = code
    this.details = details
  }
}

export class ProtocolError extends CorridorError<ProtocolErrorCode> {
  constructor(code: ProtocolErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details)
    this.name = 'ProtocolError'
  }
}
