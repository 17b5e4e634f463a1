/**
 * Yamux window updates sent when half the receive window is used, not after every frame.
 *
 * @chainsafe/libp2p-yamux answers every data frame it receives with a window update frame, so each
 * gossip or consensus message came back as a second message (Noise-encrypted, a socket write on
 * one side and a read on the other): half of all frames between idle validators. Go's and Rust's
 * yamux send the update once the unused window falls to half; this does the same. Flow control is
 * unchanged: a sender still stops at the window and resumes on the update, which now comes after
 * half the window (128 KiB of the default 256 KiB) rather than after each frame. Updates that
 * carry flags (opening, acknowledging or closing a stream) go out as before.
 *
 * Applied once per process to YamuxStream's prototype, and only where the library still has the
 * fields it reads (otherwise nothing changes: test/unit/node/io/transportWrites.test.ts).
 */
import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream'

let applied = false

interface WindowFields {
  state: StreamState
  recvWindow: number
  recvWindowCapacity: number
}

/** True once the prototype was patched. */
export function windowUpdatesOnHalf(): boolean {
  if (applied) return true
  const prototype = YamuxStream.prototype as unknown as { sendWindowUpdate?: unknown }
  const original = prototype.sendWindowUpdate
  if (typeof original !== 'function' || StreamState.Established === undefined) return false
  prototype.sendWindowUpdate = function sendWindowUpdateOnHalf(this: WindowFields): unknown {
    const { state, recvWindow, recvWindowCapacity } = this
    if (state === StreamState.Established && typeof recvWindow === 'number' && typeof recvWindowCapacity === 'number' && recvWindowCapacity > recvWindow / 2) return undefined
    return (original as () => unknown).call(this)
  }
  applied = true
  return true
}
