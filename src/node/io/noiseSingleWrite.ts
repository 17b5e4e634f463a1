/**
 * Noise, with each encrypted frame handed on as one buffer.
 *
 * @chainsafe/libp2p-noise returns a frame as two chunks, its 2-byte length and the ciphertext, and
 * @libp2p/tcp gives every chunk a socket.write of its own: two system calls per message per peer.
 * On loopback in this VM a write costs about 0.2 ms (the kernel runs the receiving side of TCP in
 * the writer's call), and in profiles of idle and lightly loaded nodes socket writes were a
 * fifth of all CPU. Joining the two chunks (a copy of the frame, at most 64 KiB) halves them.
 *
 * The other half is yamux answering every data frame with a window update. Sending those only once
 * half the window is used (as Go's yamux does) saved as much again, but profiled runs at
 * saturation then stalled (streams that paused for the connection's backpressure seem to have
 * relied on the updates to resume), so yamux is left as it is.
 *
 * It replaces `encrypt` on the prototype of the stream noise returns, once per process, and only if
 * that method is there and returns what it returns today; otherwise it leaves noise as it is, so a
 * changed library costs speed, never correctness (test/unit/node/io/transportWrites.test.ts).
 */
import { noise } from '@chainsafe/libp2p-noise'

type NoiseFactory = ReturnType<typeof noise>
type NoiseEncrypter = ReturnType<NoiseFactory>
type Secured = Awaited<ReturnType<NoiseEncrypter['secureOutbound']>>

interface ChunkList {
  subarray(): Uint8Array
}

const patched = new WeakSet<object>()
let patchedPrototypes = 0

/** How many stream prototypes were patched (0 if noise changed shape): for the tests. */
export function singleWritePatches(): number {
  return patchedPrototypes
}

function joinFrames(secured: Secured): Secured {
  const prototype = Object.getPrototypeOf(secured.connection) as { encrypt?: unknown } | null
  if (prototype === null || patched.has(prototype)) return secured
  patched.add(prototype)
  const original = prototype.encrypt
  if (typeof original !== 'function') return secured
  prototype.encrypt = function encryptJoined(this: unknown, data: unknown): unknown {
    const frames = (original as (data: unknown) => unknown).call(this, data) as ChunkList | Uint8Array
    // A Uint8ArrayList of length prefixes and ciphertexts: one contiguous buffer instead.
    return frames instanceof Uint8Array || typeof frames?.subarray !== 'function' ? frames : frames.subarray()
  }
  patchedPrototypes++
  return secured
}

export function noiseWithSingleWrites(): NoiseFactory {
  const factory = noise()
  return (components) => {
    const encrypter = factory(components)
    const outbound = encrypter.secureOutbound.bind(encrypter)
    const inbound = encrypter.secureInbound.bind(encrypter)
    encrypter.secureOutbound = async (connection, options) => joinFrames(await outbound(connection, options))
    encrypter.secureInbound = async (connection, options) => joinFrames(await inbound(connection, options))
    return encrypter
  }
}
