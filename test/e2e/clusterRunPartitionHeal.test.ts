/** `corridor cluster run` and `corridor sim run` of the partition-and-heal scenario agree: see clusterRunCompare.ts. */
import t from 'tap'
import { compareBackends } from './clusterRunCompare.ts'

t.test('cluster run and sim run of partition-heal-short.yaml agree', { timeout: 280_000 }, (t) => compareBackends(t, 'partition-heal-short.yaml'))
