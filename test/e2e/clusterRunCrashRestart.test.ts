/** `corridor cluster run` and `corridor sim run` of the crash-and-restart scenario agree: see clusterRunCompare.ts. */
import t from 'tap'
import { compareBackends } from './clusterRunCompare.ts'

t.test('cluster run and sim run of configs/scenarios/crash-restart.yaml agree', { timeout: 280_000 }, (t) => compareBackends(t, 'configs/scenarios/crash-restart.yaml'))
