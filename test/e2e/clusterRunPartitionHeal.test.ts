/** `corridor cluster run` and `corridor sim run` of the partition-and-heal scenario agree: see clusterRunCompare.ts. */
import t from 'tap'
import { compareBackends } from './clusterRunCompare.ts'

t.test('cluster run and sim run of configs/scenarios/partition-heal.yaml agree', { timeout: 280_000 }, (t) => compareBackends(t, 'configs/scenarios/partition-heal.yaml'))
