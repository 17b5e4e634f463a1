/** The node's durable store: LevelDB with a framed, synced consensus WAL. */
export { LevelStore, StoreError, nativeSha256, stateSnapshotBlocks, storeErrorCodes } from './levelStore.ts'
export type { LevelStoreOptions, RecoveredState, StoredBlock, StoredReceipt, StoreErrorCode } from './levelStore.ts'
export { encodeWalFrame, decodeWalFrame, walFrameHeaderBytes } from './walFrame.ts'
