/**
 * WAL record framing: `[length u32 BE][crc32 u32 BE][record bytes]`. LevelDB checksums its own
 * log, but a record is written by us and read back by us across versions and tools: the frame
 * makes a torn or corrupted record detectable without trusting anything below, as CometBFT's WAL
 * does. A frame that fails its check is never decoded.
 */
import { crc32 } from 'node:zlib'

export const walFrameHeaderBytes = 8

export function encodeWalFrame(record: Uint8Array): Uint8Array {
  const frame = new Uint8Array(walFrameHeaderBytes + record.length)
  const view = new DataView(frame.buffer)
  view.setUint32(0, record.length)
  view.setUint32(4, crc32(record))
  frame.set(record, walFrameHeaderBytes)
  return frame
}

/** The record inside a frame, or undefined when the frame is short, long or fails its CRC. */
export function decodeWalFrame(frame: Uint8Array): Uint8Array | undefined {
  if (frame.length < walFrameHeaderBytes) return undefined
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
  const length = view.getUint32(0)
  if (frame.length !== walFrameHeaderBytes + length) return undefined
  const record = frame.subarray(walFrameHeaderBytes)
  if (crc32(record) !== view.getUint32(4)) return undefined
  return record
}
