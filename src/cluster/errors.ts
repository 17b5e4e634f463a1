/** Errors of the local cluster tooling: a code a script can match and a message a person can act on. */
import { CorridorError } from '../protocol/errors.ts'

export const clusterErrorCodes = ['CLUSTER_EXISTS', 'CLUSTER_NOT_FOUND', 'CLUSTER_RUNNING', 'CLUSTER_TIMEOUT', 'NODE_EXITED', 'NODE_API', 'NO_FREE_PORTS'] as const
export type ClusterErrorCode = (typeof clusterErrorCodes)[number]

export class ClusterError extends CorridorError<ClusterErrorCode> {
  override readonly name = 'ClusterError'
}
