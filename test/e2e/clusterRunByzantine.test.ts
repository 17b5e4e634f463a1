/** `corridor cluster run` and `corridor sim run` of the Byzantine scenario (equivocate, invalid signatures, censor) agree: see clusterRunCompare.ts. */
import t from 'tap'
import { compareBackends } from './clusterRunCompare.ts'

t.test('cluster run and sim run of configs/scenarios/byzantine-equivocate.yaml agree', { timeout: 280_000 }, (t) => compareBackends(t, 'configs/scenarios/byzantine-equivocate.yaml'))
