/** See bundle.js: builds what is stale under `root`/.build/cli and returns [polyfill, cli] paths. */
export function cliBundle(root?: string): Promise<[string, string]>
