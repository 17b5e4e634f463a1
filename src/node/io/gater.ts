/**
 * The connection gater of a permissioned network: only the network's validators get a
 * connection, and anyone else is refused before any protocol runs on it.
 *
 * Where libp2p 3 asks (its upgrader and dial queue, in the order a connection goes through them):
 *  - `denyDialPeer` and `denyDialMultiaddr`: before we dial. We never dial a peer id that is not a
 *    validator, nor an address whose `/p2p/` part names one.
 *  - `denyInboundConnection`: a socket was accepted; the remote's identity is not known yet, so this
 *    hook admits everything (the TCP listener and the connection manager bound how many such
 *    sockets may wait, see `transport.ts`).
 *  - `denyOutboundConnection`: a socket was opened to an address that carries a peer id.
 *  - `denyInboundEncryptedConnection` / `denyOutboundEncryptedConnection`: the Noise handshake has
 *    just proved the remote's key, and no muxer has been negotiated yet, so no protocol (identify,
 *    gossipsub, sync) can have run. This is where a stranger is turned away.
 *  - `denyInboundUpgradedConnection` / `denyOutboundUpgradedConnection`: the same check again, as a
 *    second line should the encryption-stage hooks ever be skipped by a transport.
 *  - relay hooks: this network runs no relay, and refuses relayed connections outright.
 *  - `filterMultiaddrForPeer`: the peer store keeps addresses of validators only, so identify or
 *    gossip cannot fill it with addresses of strangers.
 */
import type { ConnectionGater, MultiaddrConnection, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { CODE_P2P } from '@multiformats/multiaddr'

export type RefusalStage = 'dial' | 'outbound' | 'inbound' | 'relay'

export interface ValidatorGaterComponents {
  /** True when the peer (a PeerId or its string form) is one of the network's validators. */
  isValidator(peerId: PeerId | string): boolean
  /** Called once per refused connection or dial, with where it was refused and the remote address if known. */
  onRefused(stage: RefusalStage, peerId: PeerId | undefined, remoteAddress: string | undefined): void
}

export function createValidatorGater(components: ValidatorGaterComponents): ConnectionGater {
  const { isValidator, onRefused } = components
  const refuse = (stage: RefusalStage, peerId: PeerId | undefined, connection?: MultiaddrConnection): true => {
    onRefused(stage, peerId, connection?.remoteAddr.toString())
    return true
  }
  const checkInbound = (peerId: PeerId, connection: MultiaddrConnection): boolean =>
    isValidator(peerId) ? false : refuse('inbound', peerId, connection)
  const checkOutbound = (peerId: PeerId, connection: MultiaddrConnection): boolean =>
    isValidator(peerId) ? false : refuse('outbound', peerId, connection)

  return {
    denyDialPeer: (peerId) => (isValidator(peerId) ? false : refuse('dial', peerId)),
    denyDialMultiaddr: (address: Multiaddr) => {
      const peerIdText = address.getComponents().findLast((component) => component.code === CODE_P2P)?.value
      // An address without a peer id is checked once the handshake reveals who answers.
      if (peerIdText === undefined) return false
      return isValidator(peerIdText) ? false : refuse('dial', undefined)
    },
    denyInboundConnection: () => false,
    denyOutboundConnection: checkOutbound,
    denyInboundEncryptedConnection: checkInbound,
    denyOutboundEncryptedConnection: checkOutbound,
    denyInboundUpgradedConnection: checkInbound,
    denyOutboundUpgradedConnection: checkOutbound,
    denyInboundRelayReservation: (peerId) => refuse('relay', peerId),
    denyOutboundRelayedConnection: (source) => refuse('relay', source),
    denyInboundRelayedConnection: (_relay, remotePeer) => refuse('relay', remotePeer),
    filterMultiaddrForPeer: (peerId) => isValidator(peerId)
  }
}
