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
    // Every message is signed with the sender's libp2p key, which is its validator key, and
    // checked on receipt. So `from` is authenticated: a validator cannot pass off gossip as
    // another's, and gossip authored by a key outside the validator set is rejected (see
    // `createGossipValidator`). Message ids are (author, sequence number).
    globalSignaturePolicy: 'StrictSign',
    // The publisher sends its own message to every validator subscribed to the topic, not only to
    // its mesh peers: with all validators connected to each other, a message reaches everyone in
    // one hop. The mesh then only adds redundancy (a receiver forwards to its D mesh peers), which
    // covers a link that is down while the others are up.
    floodPublish: true,
    // D = 4, Dlo = 3, Dhi = 8 by default. With 4 validators every node meshes with all 3 others;
    // with 16, each forwards to 4 of its 15 peers: enough paths around a few broken links (a random
    // 4-regular graph on 16 nodes has diameter 2 to 3) while large transaction batches are not
    // copied 15 times per hop. Gossipsub 1.2's IDONTWANT further spares copies of large messages a
    // peer already has. The go/js default of D = 6 assumes hundreds of peers.
    D: gossip.meshDegree,
    Dlo: gossip.meshDegreeLow,
    Dhi: gossip.meshDegreeHigh,
    // Dout protects open networks from eclipse by inbound strangers; here every peer is a known
    // validator and which side dialed is an accident of start-up order, so ask for only one.
    Dout: Math.min(1, Math.floor(gossip.meshDegree / 2)),
    // Dscore keeps the best-scoring peers when pruning; scores are all zero here (below).
    Dscore: Math.min(2, gossip.meshDegree),
    // IHAVE gossip to a couple of non-mesh peers per heartbeat recovers a message a node missed on
    // both the direct and the mesh paths. Catch-up over the sync protocol is the real recovery.
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
  isValidator(peerId: PeerId): boolean
  onOversized(topicName: GossipTopicName, bytes: number, propagationSource: PeerId): void
  onForeignAuthor(topicName: GossipTopicName, propagationSource: PeerId): void
}

/**
 * The per-topic check gossipsub runs on every received message before it is delivered or
 * forwarded. It looks at the size and the author only; the bytes are the application's.
 * Rejected messages are neither delivered nor forwarded.
 */
export function createGossipValidator(components: GossipValidatorComponents): TopicValidatorFn {
  const { topicName, messageBytesMax, isValidator, onOversized, onForeignAuthor } = components
  return (propagationSource: PeerId, message: Message): TopicValidatorResult => {
    if (message.data.length > messageBytesMax) {
      onOversized(topicName, message.data.length, propagationSource)
      return TopicValidatorResult.Reject
    }
    if (message.type !== 'signed' || !isValidator(message.from)) {
      onForeignAuthor(topicName, propagationSource)
      return TopicValidatorResult.Reject
    }
    return TopicValidatorResult.Accept
  }
}
