/**
 * Gossipsub tuned for a small permissioned mesh: 4 to 16 validators that all know each other's
 * addresses, keep a connection to each other, and must each see every message quickly.
 *
 * Gossipsub was built for large open networks where peers are strangers; several of its defences
 * would hurt here, so this file says which ones are changed and why.
 */
import { TopicValidatorResult, type GossipsubOpts, type Message, type TopicValidatorFn } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import type { GossipTopicName, ResolvedTransportOptions } from './transportOptions.ts'

/** The gossipsub options of a Corridor node. */
export function gossipsubInit(options: Pick<ResolvedTransportOptions, 'gossip' | 'limits'>, topics: readonly string[]): Partial<GossipsubOpts> {
  const { gossip, limits } = options
  return {
    // Messages are not signed by gossipsub (StrictNoSign). What they carry is signed already:
    // every transaction by its signer, every vote and proposal by its validator, and the peer a
    // message arrives from is authenticated by Noise and admitted by the connection gater. A
    // gossipsub signature per message (an Ed25519 sign, a verify and a key import each) was 6% of
    // a loaded node's CPU for nothing. Without `from` and a sequence number, a message's id is
    // the SHA-256 of its data; the transport puts a per-publish sequence header in front of the
    // data (transport.ts), so the same payload published twice is two messages.
    globalSignaturePolicy: 'StrictNoSign',
    // The publisher sends its own message to every validator subscribed to the topic, not only to
    // its mesh peers: with all validators connected to each other, a message reaches everyone in
    // one hop.
    floodPublish: true,
    // No relaying by default (D = Dlo = Dhi = Dlazy = 0). In a network where every validator holds
    // a connection to every other, relaying only multiplies the traffic: gossipsub forwards each
    // received message to its mesh peers, which have it already from the publisher (IDONTWANT
    // arrives too late to stop it), so with 4 validators a message crossed the network 9 times
    // instead of 3, and with 16 and D = 4, 75 times instead of 15, each copy framed, encrypted,
    // decrypted and hashed. Without relays, a message goes from its author to each validator over
    // their direct connection, as the simulator models it, and the peer it arrives from is its
    // author (the fault layer and the consensus engine's view of peer heights rely on that). A
    // validator cut off from one peer misses that peer's messages until the link is back: the
    // consensus engine needs only a quorum, catches up over the sync protocol, and a
    // transaction still reaches every node in the block that includes it. A network whose
    // validators cannot all reach each other sets a mesh (gossip.meshDegree 3 to 4, lazyDegree 2):
    // messages are then relayed, and attributed to the peer that delivered them.
    D: gossip.meshDegree,
    Dlo: gossip.meshDegreeLow,
    Dhi: gossip.meshDegreeHigh,
    // Dout protects open networks from eclipse by inbound strangers; here every peer is a known
    // validator and which side dialed is an accident of start-up order, so ask for only one.
    Dout: Math.min(1, Math.floor(gossip.meshDegree / 2)),
    // Dscore keeps the best-scoring peers when pruning; scores are all zero here (below).
    Dscore: Math.min(2, gossip.meshDegree),
    // IHAVE gossip to non-mesh peers recovers a message a node missed, by a relay; off with the mesh.
    // Catch-up over the sync protocol is the real recovery.
    Dlazy: gossip.lazyDegree,
    // 700 ms as in Lodestar: mesh repair within a second without heartbeat chatter.
    heartbeatInterval: gossip.heartbeatIntervalMs,
    // Peer exchange and floodsub fallback are for open networks: our peer list is static and every
    // node runs this code.
    doPX: false,
    fallbackToFloodsub: false,
    // A node whose peers are all down must not fail on publish: the message reaches nobody, the
    // caller sees zero recipients, consensus times out and catches up later.
    allowPublishToZeroTopicPeers: true,
    // A node's own messages are not delivered back to its own `onMessage` handler (gossipsub's
    // default). The node feeds its own transactions and votes to its replica directly.
    emitSelf: false,
    // Peer scoring. Gossipsub's score punishes peers for sharing an IP address (a local cluster,
    // or banks behind one NAT), for broken IWANT promises (an honest peer under load or catching up
    // breaks them), and per topic for delivering too few or invalid messages (an idle or lagging
    // validator). A permissioned network does not mute validators on such signals: misbehaviour is
    // the application's to judge, with evidence. So every component is off and the score stays 0,
    // which also keeps every validator above the gossip, publish and graylist thresholds.
    scoreParams: {
      IPColocationFactorWeight: 0,
      behaviourPenaltyWeight: 0,
      appSpecificWeight: 0,
      topics: {}
    },
    // Only our two topics are tracked; subscriptions and messages on any other topic are ignored,
    // so a peer cannot grow our topic tables.
    allowedTopics: [...topics],
    // Frames are refused on their length prefix, before they are read or decoded. One frame may
    // hold several messages (an IWANT answer), hence the multiple of the message bound.
    maxInboundDataLength: limits.gossipFrameBytesMax,
    maxOutboundBufferSize: limits.gossipOutboundQueueBytesMax
  }
}

export interface GossipValidatorComponents {
  readonly topicName: GossipTopicName
  readonly messageBytesMax: number
  /** Bytes the transport puts in front of every message's data (the sequence header). */
  readonly headerBytes: number
  isValidator(peerId: PeerId): boolean
  onOversized(topicName: GossipTopicName, bytes: number, propagationSource: PeerId): void
  onForeignAuthor(topicName: GossipTopicName, propagationSource: PeerId): void
}

/**
 * The per-topic check gossipsub runs on every received message before it is delivered or
 * forwarded. It looks at the size and the peer it came from only; the bytes are the
 * application's. Rejected messages are neither delivered nor forwarded.
 */
export function createGossipValidator(components: GossipValidatorComponents): TopicValidatorFn {
  const { topicName, messageBytesMax, headerBytes, isValidator, onOversized, onForeignAuthor } = components
  return (propagationSource: PeerId, message: Message): TopicValidatorResult => {
    if (message.data.length > messageBytesMax + headerBytes) {
      onOversized(topicName, message.data.length, propagationSource)
      return TopicValidatorResult.Reject
    }
    // The gater admits validators only; checked again so a gater bug cannot open this door. A
    // signed message, or one too short for the sequence header, comes from software that is not
    // a Corridor node (ours sign nothing and always send the header).
    if (message.type !== 'unsigned' || message.data.length < headerBytes || !isValidator(propagationSource)) {
      onForeignAuthor(topicName, propagationSource)
      return TopicValidatorResult.Reject
    }
    return TopicValidatorResult.Accept
  }
}
