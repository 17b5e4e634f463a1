/** Free TCP ports on loopback for a local cluster: p2p and HTTP ports in consecutive blocks. */
import { createServer } from 'node:net'
import { ClusterError } from './errors.ts'

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/**
 * The first port of `count` consecutive free ports, tried from random bases in 20,000-50,000 (so
 * parallel test files rarely collide). A port can still be taken between this check and a node
 * binding it; callers that start nodes see that as the node exiting, with its log.
 */
export async function freePortRange(count: number, attempts = 20): Promise<number> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000)
    let free = true
    for (let offset = 0; offset < count && free; offset++) free = await portIsFree(base + offset)
    if (free) return base
  }
  throw new ClusterError('NO_FREE_PORTS', `no ${count} consecutive free TCP ports on 127.0.0.1 after ${attempts} tries`)
}
