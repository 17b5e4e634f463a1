/**
 * Wire limits. Everything that arrives from outside has a size bound checked before any work is
 * done on it. Names carry their unit last.
 */
export const protocolLimits = {
  /** Largest single signed transaction envelope on the wire. */
  transactionBytesMax: 16 * 1024,
  /** Largest gossip or consensus message (a batch of transactions or a proposal with its block). */
  messageBytesMax: 8 * 1024 * 1024,
  /** Deepest nesting the decoder accepts, so a crafted input cannot exhaust the stack. */
  decodeDepthMax: 32,
  /** Longest identifier (bank, account, entity ids). */
  idLengthMax: 64,
  /** Longest free-text field (trade document references, memo). */
  textLengthMax: 256
} as const

import { assert } from './assert.ts'
assert(protocolLimits.transactionBytesMax < protocolLimits.messageBytesMax, 'a transaction must fit in a message')
