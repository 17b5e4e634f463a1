/**
 * The transport's counters: plain numbers that only grow, read by whoever exports metrics (a
 * Prometheus registry later maps them to `corridor_transport_*_total`, the channel as a label).
 * Messages and bytes are counted at the application boundary: one published message counts once,
 * whatever the number of peers it went to.
 */
import { transportChannels, type TransportChannel } from './transportOptions.ts'

export interface ChannelCounters {
  /** Messages delivered to our handlers (gossip, direct) or received as requests and responses (sync). */
  messagesIn: number
  bytesIn: number
  /** Messages published (gossip), sent (direct), or requests and responses written (sync). */
  messagesOut: number
  bytesOut: number
  /** Received messages dropped for exceeding the channel's size limit. */
  oversizedIn: number
  /** Outgoing messages refused locally for exceeding the channel's size limit. */
  oversizedOut: number
}

export interface TransportCounters {
  readonly channels: Record<TransportChannel, ChannelCounters>
  /** Connections and dials refused by the gater: the peer is not a validator (or tried a relay). */
  connectionsRefused: number
  connectionsRefusedInbound: number
  connectionsRefusedOutbound: number
  /** Gossip messages rejected because their author is not a validator (or they were unsigned). */
  gossipForeignAuthor: number
  /** Gossip messages whose handler threw. */
  gossipHandlerErrors: number
  /** Sync requests of ours that failed (any cause, timeouts included). */
  requestsFailed: number
  /** Sync requests of ours that timed out. */
  requestTimeouts: number
  /** Sync requests we served with an error status (handler failure or timeout, oversized input or output). */
  requestsRefused: number
  /** Direct messages whose handler threw. */
  directHandlerErrors: number
  /** Dials of validators, first dials and redials. */
  dialAttempts: number
  dialFailures: number
}

export function createTransportCounters(): TransportCounters {
  const channels = {} as Record<TransportChannel, ChannelCounters>
  for (const channel of transportChannels) {
    channels[channel] = { messagesIn: 0, bytesIn: 0, messagesOut: 0, bytesOut: 0, oversizedIn: 0, oversizedOut: 0 }
  }
  return {
    channels,
    connectionsRefused: 0,
    connectionsRefusedInbound: 0,
    connectionsRefusedOutbound: 0,
    gossipForeignAuthor: 0,
    gossipHandlerErrors: 0,
    requestsFailed: 0,
    requestTimeouts: 0,
    requestsRefused: 0,
    directHandlerErrors: 0,
    dialAttempts: 0,
    dialFailures: 0
  }
}
