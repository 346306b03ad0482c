import { enqueue } from '../adapters/queues.ts';
import { requests, watched } from '../adapters/requests.ts';
import { windowPassed } from '../domain/request.ts';
import { logger } from '../observability.ts';
import { districtView } from './context.ts';
import { creditTotals } from './credit.ts';

export interface SweepReport {
  rematched: number;
  expired: number;
  autoConfirmed: number;
}

/**
 * Watched requests one sweep examines per status, at most (oldest first). Generous: the
 * index also holds requests that are not stuck (those waiting for manual dispatch stay
 * `received`), and all of them are read page by page; past this a sweep stops and says so.
 */
export const SWEEP_MAX_PER_STATUS = 2_000;

/** The requests in `status` since before `before`, up to `max`; more is logged at ERROR. */
async function overdue(status: 'received' | 'delivered', before: Date, max: number) {
  const found = await watched(status, before, max + 1);
  if (found.length <= max) return found;
  logger.error(
    'sweep stopped at its cap: more watched requests than it examines; the newer ones are not swept',
    { status, examined: max, before: before.toISOString() },
  );
  return found.slice(0, max);
}

/**
 * Moves on what got stuck. A request still `received` well past its offer timeout is
 * queued for matching again (repairs a lost queue message; matching is idempotent); one
 * whose window passed is queued for its window timer; a request `delivered` longer than
 * the district's auto-confirm hours is confirmed. Reads only the watch index: every entry
 * older than the cut-off, page after page, up to `max` per status.
 */
export async function sweep(now: Date, max = SWEEP_MAX_PER_STATUS): Promise<SweepReport> {
  const { district } = districtView();
  const report: SweepReport = { rematched: 0, expired: 0, autoConfirmed: 0 };
  const stuckSince = new Date(now.getTime() - (district.offers.timeoutSeconds * 2 + 60) * 1000);
  for (const r of await overdue('received', stuckSince, max)) {
    if (windowPassed(r, now)) {
      await enqueue('timers', { type: 'window_end', requestId: r.requestId, at: r.window!.end });
      report.expired++;
    } else if (r.scope !== 'ops') {
      await enqueue('match', { requestId: r.requestId });
      report.rematched++;
    }
  }
  const confirmBefore = new Date(now.getTime() - district.autoConfirmHours * 3600_000);
  for (const r of await overdue('delivered', confirmBefore, max)) {
    const at = now.toISOString();
    // Queued before the transition, held back a minute: if this run dies between the
    // two writes, the credit still follows (a confirmed request leaves the watch index,
    // so no later sweep would find it). Crediting is conditional, so two events are safe.
    await enqueue('events', { type: 'request_confirmed', requestId: r.requestId, at }, 60);
    // The confirm writes the credit's minutes and points onto the request: read the tasks.
    const state = await requests.load(r.requestId);
    if (!state) continue;
    const done = await requests.transition(
      r,
      'delivered',
      'confirmed',
      now,
      [{ event: 'auto_confirmed', at, afterHours: district.autoConfirmHours }],
      creditTotals(state),
    );
    if (done) {
      await enqueue('events', { type: 'request_confirmed', requestId: r.requestId, at });
      report.autoConfirmed++;
    }
  }
  logger.info('sweep', { ...report });
  return report;
}
