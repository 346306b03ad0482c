import type { RequestState } from '../adapters/requests.ts';
import type { HelpRequest, Task } from '../domain/request.ts';
import type { CreditTotals } from '../domain/request-counts.ts';
import { districtView } from './context.ts';

// Apart from events.ts so that the confirm (an HTTP function) does not import the
// notification path with it: every module a function reaches is cold-start time.

export const pointsPerTask = (kind: HelpRequest['kind']) =>
  districtView().district.points[kind] ?? 0;

/**
 * What crediting a confirmed request's delivered tasks adds up to: their minutes and
 * points. The confirm writes it onto the request (one write per request, exactly once
 * since the move happens once) and the stream consumer counts it; each task is then
 * credited with the same figures (`creditVolunteers`).
 */
export function creditTotals(state: RequestState): CreditTotals {
  const delivered = state.tasks.filter((t) => t.status === 'delivered' && !t.credited);
  return {
    serviceMinutes: delivered.reduce((n, t) => n + serviceMinutes(t), 0),
    points: delivered.length * pointsPerTask(state.request.kind),
  };
}

/** Service time: from accept to delivery, at least one minute, at most a long day. */
export function serviceMinutes(task: Task): number {
  const end = task.deliveredAt ? Date.parse(task.deliveredAt) : Date.parse(task.createdAt);
  const minutes = Math.round((end - Date.parse(task.createdAt)) / 60000);
  return Math.min(12 * 60, Math.max(1, minutes));
}
