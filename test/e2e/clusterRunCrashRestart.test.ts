/** `corridor cluster run` and `corridor sim run` of the crash-and-restart scenario agree: see clusterRunCompare.ts. */
import t from 'tap'
import { compareBackends } from './clusterRunCompare.ts'

t.test('cluster run and sim run of crash-restart-short.yaml agree', { timeout: 280_000 }, (t) => compareBackends(t, 'crash-restart-short.yaml'))
