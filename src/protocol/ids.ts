import { ProtocolError } from './errors.ts'
import { protocolLimits } from './limits.ts'

/**
 * Identifiers of banks, central banks, FX providers, customers and regulators: lower-case ASCII
 * letters, digits, '-', '_' and ':', starting with a letter or digit. Dots are reserved for token
 * ids (`<issuer>.<CUR>`), so an id never parses as a token.
 */
const idPattern = /^[a-z0-9][a-z0-9_:-]*$/

export function isValidId(id: unknown): id is string {
  return typeof id === 'string' && id.length <= protocolLimits.idLengthMax && idPattern.test(id)
}

export function checkId(id: unknown, what: string): string {
  if (!isValidId(id)) {
    throw new ProtocolError(
      'BAD_ID',
      `${what} must be 1-${protocolLimits.idLengthMax} characters of a-z, 0-9, '-', '_' or ':' starting with a letter or digit, got ${JSON.stringify(id)}`
    )
  }
  return id
}

/** A chain id names one network; it is part of every signed transaction so none replays elsewhere. */
const chainIdPattern = /^[a-z0-9][a-z0-9._-]{0,63}$/
export function isValidChainId(chainId: unknown): chainId is string {
  return typeof chainId === 'string' && chainIdPattern.test(chainId)
}

export function checkChainId(chainId: unknown): string {
  if (!isValidChainId(chainId)) {
    throw new ProtocolError('BAD_ID', `chain id must be 1-64 characters of a-z, 0-9, '.', '-', '_', got ${JSON.stringify(chainId)}`)
  }
  return chainId
}
