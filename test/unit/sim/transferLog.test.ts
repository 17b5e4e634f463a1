// The transfer log gives back what was added, whatever it remembers to add quickly.
import t from 'tap'
import { TransferLog } from '../../../src/sim/transferLog.ts'
import type { TransferInfo } from '../../../src/sim/workload.ts'

const id = (n: number): string => n.toString(16).padStart(64, '0')

function payment(payer: string, payerBank: string, payee: string, payeeBank: string, overrides: Partial<TransferInfo> = {}): TransferInfo {
  return {
    kind: 'payment',
    payer,
    payee,
    payerBank,
    payeeBank,
    payerJurisdiction: payerBank === 'icbc' ? 'CN' : 'AE',
    payeeJurisdiction: payeeBank === 'icbc' ? 'CN' : 'AE',
    payerKind: 'corporate',
    amount: 1234n,
    currency: 'CNY',
    receivedCurrency: 'AED',
    amountUsdCents: 17_000,
    ...overrides
  }
}

t.test('transfers read back as added, with receipts and refusals', async (t) => {
  const log = new TransferLog()
  const infos: TransferInfo[] = []
  for (let n = 0; n < 3000; n++) {
    const info =
      n % 7 === 0
        ? payment(`icbc-co-${n % 13}`, 'icbc', `enbd-co-${n % 5}`, 'enbd', { payerKind: 'individual', currency: 'CNH', amount: BigInt(n) })
        : n % 11 === 0
          ? { ...payment('fxhub', 'fxhub', 'fxhub', 'fxhub'), kind: 'fxRateUpdate' as const, payerKind: 'institution' as const, payerJurisdiction: '', payeeJurisdiction: '', receivedCurrency: 'CNY' }
          : payment(`enbd-co-${n % 17}`, 'enbd', `icbc-co-${n % 19}`, 'icbc')
    infos.push(info)
    // Every tenth submitted through another bank than the payer's.
    log.add(id(n), info, n * 1.5, n % 10 === 0 ? 'dbs' : info.payerBank)
  }
  // The same account at another bank and in another jurisdiction (as a scenario could not make, but the log does not assume it).
  const moved = payment('icbc-co-1', 'bochk', 'enbd-co-1', 'enbd', { payerJurisdiction: 'HK' })
  infos.push(moved)
  log.add(id(3000), moved, 4500, 'bochk')
  t.equal(log.size, 3001)
  t.equal(log.pendingCount, 3001)
  t.equal(log.finishPending(id(5), 100, 'settled', '', 1200n, false), 5)
  t.equal(log.finishPending(id(6), 101, 'rejected', 'CC_QUOTA_EXCEEDED', undefined, true), 6)
  t.equal(log.finishPending(id(5), 102, 'rejected', 'LATE', undefined, false), -1, 'a final transfer is not finished again')
  t.equal(log.finishPending(id(99_999), 102, 'settled', '', undefined, false), -1, 'nor an unknown one')
  t.equal(log.pendingCount, 2999)
  const read = [...log.values()]
  t.same(
    read.map((x) => x.info),
    infos,
    'every info as added'
  )
  t.same(read.map((x) => x.id), infos.map((_, n) => id(n)))
  t.same(read.map((x) => x.via).slice(0, 12), ['dbs', 'enbd', 'enbd', 'enbd', 'enbd', 'enbd', 'enbd', 'icbc', 'enbd', 'enbd', 'dbs', 'fxhub'])
  t.same(read[5], { id: id(5), info: infos[5], submitMs: 7.5, via: 'enbd', finalMs: 100, status: 'settled', reason: '', received: 1200n, refused: false })
  t.same(read[6], { id: id(6), info: infos[6], submitMs: 9, via: 'enbd', finalMs: 101, status: 'rejected', reason: 'CC_QUOTA_EXCEEDED', received: undefined, refused: true })
  t.same(read[7]!.status, 'pending')
  t.equal(read[3000]!.via, 'bochk')
  t.equal(log.idOf(3000), id(3000))
  t.equal(log.isFinal(5), true)
  t.equal(log.isFinal(7), false)
})
