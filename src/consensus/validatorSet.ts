/**
 * The validator set: the banks that vote, each with a public key and a voting power. Quorums are
 * weighted: a quorum is more than 2/3 of the total power, and "f + 1" (enough to include one
 * honest validator) is more than 1/3. With equal powers and n = 3f + 1 these are the paper's
 * 2f + 1 and f + 1.
 *
 * The proposer of (height, round) is chosen by smooth weighted round robin (the scheme behind
 * CometBFT's proposer priorities, without their carry-over between heights): over a cycle of
 * totalPower / gcd(powers) slots each validator proposes in proportion to its power, spread
 * evenly rather than in runs, and slot (height + round) of the cycle proposes. The choice is a pure
 * function of the set, the height and the round.
 */
import { bytesToHex } from '../protocol/bytes.ts'
import { hashValue } from '../protocol/hash.ts'
import { isValidId } from '../protocol/ids.ts'
import { publicKeyBytesLength } from '../protocol/keys.ts'
import { ConsensusError } from './errors.ts'

export interface Validator {
  readonly id: string
  readonly publicKey: Uint8Array
  /** Voting power: a positive safe integer. */
  readonly power: number
}

/** Sum of powers is kept well inside the safe-integer range so 3 * power never overflows. */
export const totalPowerMax = 2 ** 48
/** The proposer cycle is precomputed; its length (total power over the gcd of powers) is bounded. */
export const proposerCycleLengthMax = 1 << 16

export interface ValidatorSet {
  /** Sorted by id. */
  readonly validators: readonly Validator[]
  readonly totalPower: number
  /** Hash of the set (ids, keys and powers in id order). */
  readonly hash: Uint8Array
  get(id: string): Validator | undefined
  /** The proposer of a round; deterministic by voting power. */
  proposer(height: number, round: number): Validator
  /** More than 2/3 of the total power. */
  isQuorum(power: number): boolean
  /** More than 1/3 of the total power: at least one honest validator is among them. */
  isOneThird(power: number): boolean
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b]
  return a
}

/** Builds and checks a validator set. Throws BAD_VALIDATOR_SET naming the problem. */
export function createValidatorSet(input: readonly Validator[], validatorsMax = 128): ValidatorSet {
  if (!Array.isArray(input) || input.length === 0) throw new ConsensusError('BAD_VALIDATOR_SET', 'a validator set needs at least one validator')
  if (input.length > validatorsMax) {
    throw new ConsensusError('BAD_VALIDATOR_SET', `a validator set has at most ${validatorsMax} validators, got ${input.length}`)
  }
  const byId = new Map<string, Validator>()
  const keys = new Set<string>()
  let totalPower = 0
  for (const validator of input) {
    if (!isValidId(validator.id)) throw new ConsensusError('BAD_VALIDATOR_SET', `validator id is not valid: ${JSON.stringify(validator.id)}`)
    if (byId.has(validator.id)) throw new ConsensusError('BAD_VALIDATOR_SET', `validator ${validator.id} appears twice`)
    if (!(validator.publicKey instanceof Uint8Array) || validator.publicKey.length !== publicKeyBytesLength) {
      throw new ConsensusError('BAD_VALIDATOR_SET', `validator ${validator.id} needs a ${publicKeyBytesLength}-byte public key`)
    }
    const keyHex = bytesToHex(validator.publicKey)
    if (keys.has(keyHex)) throw new ConsensusError('BAD_VALIDATOR_SET', `validator ${validator.id} shares its public key with another validator`)
    keys.add(keyHex)
    if (!Number.isSafeInteger(validator.power) || validator.power < 1) {
      throw new ConsensusError('BAD_VALIDATOR_SET', `validator ${validator.id} needs a positive integer power, got ${validator.power}`)
    }
    totalPower += validator.power
    if (totalPower > totalPowerMax) throw new ConsensusError('BAD_VALIDATOR_SET', `total voting power exceeds ${totalPowerMax}`)
    byId.set(validator.id, { id: validator.id, publicKey: new Uint8Array(validator.publicKey), power: validator.power })
  }
  const validators = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const divisor = validators.reduce((g, v) => gcd(g, v.power), 0)
  const cycleLength = totalPower / divisor
  if (cycleLength > proposerCycleLengthMax) {
    throw new ConsensusError(
      'BAD_VALIDATOR_SET',
      `total power divided by the gcd of powers is ${cycleLength}, more than ${proposerCycleLengthMax}; use smaller or rounder weights`
    )
  }
  // Smooth weighted round robin over reduced powers; ties go to the lower id.
  const reduced = validators.map((v) => v.power / divisor)
  const priority = validators.map(() => 0)
  const cycle = new Uint16Array(cycleLength)
  for (let slot = 0; slot < cycleLength; slot++) {
    let best = 0
    for (let i = 0; i < validators.length; i++) {
      priority[i]! += reduced[i]!
      if (priority[i]! > priority[best]!) best = i
    }
    priority[best]! -= cycleLength
    cycle[slot] = best
  }
  const hash = hashValue(
    'corridor.consensus.validator-set.v1',
    validators.map((v) => [v.id, v.publicKey, v.power])
  )
  return {
    validators,
    totalPower,
    hash,
    get: (id) => byId.get(id),
    proposer(height, round) {
      return validators[cycle[(height + round) % cycleLength]!]!
    },
    isQuorum: (power) => power * 3 > totalPower * 2,
    isOneThird: (power) => power * 3 > totalPower
  }
}
