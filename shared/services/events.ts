import { callbacks } from '../adapters/callbacks.ts';
import { notify } from '../adapters/notification-topic.ts';
import { enqueue, enqueueAll } from '../adapters/queues.ts';
import { creditTask } from '../adapters/records.ts';
import { replyCodes } from '../adapters/reply-codes.ts';
import { offers, type RequestState, requests } from '../adapters/requests.ts';
import { releaseTask } from '../adapters/slots.ts';
import { volunteers } from '../adapters/volunteers.ts';
import { liveTasks, type RequestStatus, type Task } from '../domain/request.ts';
import { KIND_LABELS } from '../domain/texts.ts';
import type { Volunteer } from '../domain/volunteer.ts';
import type { NotifyMessage, RequestEvent } from '../schemas/messages.ts';
import { callbackFor } from './callbacks.ts';
import { districtView } from './context.ts';
import { pointsPerTask, serviceMinutes } from './credit.ts';

/**
 * The follow-up of a volunteer's or requester's action. Every step is a conditional
 * write or a notification with a fixed id, so a repeated event changes nothing.
 */
export async function applyEvent(event: RequestEvent, now: Date): Promise<void> {
  if (event.type === 'volunteer_off_duty') {
    return withdrawVolunteer(event.volunteerId!, event.at, now);
  }
  if (!event.requestId) return;
  // An eventually consistent read first (half the read units); if it does not yet show
  // what the event says happened, a strongly consistent one decides.
  let state = await requests.load(event.requestId, { consistent: false });
  if (!state || !shows(event, state)) state = await requests.load(event.requestId);
  if (!state) return;
  await tellPartner(event, state);
  switch (event.type) {
    case 'task_taken':
      return afterTaken(state, event.volunteerId!, event.volunteerName);
    case 'task_delivered':
      return afterDelivered(state, now);
    case 'request_confirmed':
      return creditVolunteers(state);
    case 'request_closed':
      return afterClosed(state, now);
    case 'offer_declined':
      return enqueue('match', { requestId: state.request.requestId });
  }
}

/** Whether a read of the request shows the change the event follows (else it may be stale). */
function shows(event: RequestEvent, { request: r, tasks }: RequestState): boolean {
  switch (event.type) {
    case 'task_taken':
      // The task and the request's filled count were written together.
      return (
        tasks.some((t) => t.volunteerId === event.volunteerId) &&
        r.filled >= liveTasks(tasks).length
      );
    case 'task_delivered':
      return r.status === 'delivered' || r.status === 'confirmed';
    case 'request_confirmed':
      // Every task of a confirmed request was delivered before it.
      return r.status === 'confirmed' && tasks.every((t) => t.status !== 'accepted');
    case 'request_closed':
      return r.status === 'cancelled' || r.status === 'expired';
    default:
      return true;
  }
}

/** The status changes an event follows: the ones its partner is told of. */
const TOLD_AFTER: Partial<Record<RequestEvent['type'], readonly RequestStatus[]>> = {
  task_taken: ['matched'],
  task_delivered: ['delivered'],
  request_confirmed: ['confirmed'],
  request_closed: ['cancelled', 'expired'],
};

/**
 * Queues the partner's callback for the status change the event follows (matched after
 * the last slot, delivered, confirmed, cancelled, expired), once the request's history
 * has it. Not the request's current status: an event read after the next change (a
 * `task_taken` processed once the request is already delivered) would tell that change
 * twice and this one never. A repeated event queues it again; the callback's sent
 * marker keeps it to one delivery.
 */
async function tellPartner(event: RequestEvent, state: RequestState) {
  const r = state.request;
  const messages = (TOLD_AFTER[event.type] ?? []).flatMap((status) => {
    const entry = [...r.history].reverse().find((h) => 'status' in h && h.status === status);
    const at = entry?.at ?? (r.status === status ? r.updatedAt : undefined);
    return at ? callbackFor(r.requestId, status, at, r.partnerId) : [];
  });
  // A partner without a callback URL gets no message to queue, receive and drop (the
  // sender reads the callback again at send time, so one set meanwhile is still used).
  if (messages.length > 0 && (await callbacks.configured(r.partnerId))) {
    await enqueueAll('callbacks', messages);
  }
}

function labels(state: RequestState) {
  const { community } = districtView();
  const r = state.request;
  return {
    community: community(r.communityId)?.name ?? r.communityId,
    kind: r.kind,
    kindLabel: KIND_LABELS[r.kind],
  };
}

async function afterTaken(
  state: RequestState,
  volunteerId: string,
  volunteerName: string | undefined,
) {
  const task = state.tasks.find((t) => t.volunteerId === volunteerId);
  if (!task || task.status === 'cancelled') return;
  // Only the name, which does not change with the volunteer's load: any copy will do.
  const name =
    volunteerName ?? (await volunteers.get(volunteerId, { consistent: false }))?.name ?? '';
  const messages: NotifyMessage[] = [
    {
      notificationId: `taken:${task.taskId}`,
      to: { kind: 'requester', requestId: task.requestId },
      template: 'volunteer_assigned',
      params: { volunteerName: name },
      requestId: task.requestId,
    },
  ];
  if (task.via === 'ops') {
    messages.push({
      notificationId: `assigned:${task.taskId}`,
      to: { kind: 'volunteer', volunteerId },
      template: 'task_assigned',
      params: labels(state),
      requestId: task.requestId,
    });
  }
  messages.push(...withdrawalNotices(state, 'offer_withdrawn'));
  await notify.publishAll(messages);
}

/**
 * Tells each volunteer whose offer a filled or closed request withdrew, by push only, so
 * nobody sets out for a filled or cancelled order. The withdrawal itself is not written:
 * such a request's open offers read withdrawn (`offerBeside`). A repeated event tells
 * them again under the same notification id (deduplicated).
 */
function withdrawalNotices(state: RequestState, template: string): NotifyMessage[] {
  // Withdrawn while the request still takes volunteers: its volunteer went off duty.
  if (state.request.status === 'received') return [];
  return state.offers
    .filter((o) => o.status === 'withdrawn')
    .map((o) => ({
      notificationId: `withdrawn:${o.offerId}`,
      to: { kind: 'volunteer', volunteerId: o.volunteerId },
      template,
      params: labels(state),
      channel: 'push-only',
      // The endpoint the offer was made with, so the withdrawal needs no read of the volunteer.
      ...(o.push ? { push: o.push } : {}),
      requestId: o.requestId,
    }));
}

/**
 * Door drop (放门口，通知居民开门取物): the requester is told the goods are at the door and,
 * while the request waits for confirmation, given a code to confirm by reply ("9 CODE"),
 * which confirms it as the partner's confirm route does. A retried event claims another
 * code, but only the first message is sent; every code claimed points at this request.
 */
async function afterDelivered(state: RequestState, now: Date) {
  // Already confirmed (the partner or the sweeper was faster than this event, e.g. after
  // a retry): the requester is still told the goods are at the door, once.
  const { status, requestId, requester } = state.request;
  if (status !== 'delivered' && status !== 'confirmed') return;
  const { autoConfirmHours } = districtView().district;
  const code =
    status === 'delivered'
      ? await replyCodes.claim(
          { kind: 'confirm', requestId },
          requester.phone,
          new Date(now.getTime() + autoConfirmHours * 3600_000),
          now,
        )
      : undefined;
  await notify.publish({
    notificationId: `delivered:${requestId}`,
    to: { kind: 'requester', requestId },
    template: 'goods_at_door',
    params: code ? { code } : {},
    requestId,
  });
}

async function afterClosed(state: RequestState, now: Date) {
  const { status } = state.request;
  if (status !== 'cancelled' && status !== 'expired') return;
  const messages = withdrawalNotices(
    state,
    status === 'cancelled' ? 'request_cancelled' : 'offer_withdrawn',
  );
  for (const task of state.tasks) {
    if (task.status === 'delivered') continue;
    if (task.status === 'accepted') await withVolunteer(task, (v) => releaseTask(task, v, now));
    messages.push({
      notificationId: `cancelled:${task.taskId}`,
      to: { kind: 'volunteer', volunteerId: task.volunteerId },
      template: 'request_cancelled',
      params: labels(state),
      requestId: task.requestId,
    });
  }
  await notify.publishAll(messages);
}

async function creditVolunteers(state: RequestState) {
  if (state.request.status !== 'confirmed') return;
  const points = pointsPerTask(state.request.kind);
  const confirmedAt = new Date(state.request.updatedAt);
  for (const task of state.tasks) {
    // A repeat is refused by the record's condition; `credited` marks a task credited by
    // the code before (its record may be under its confirm's day).
    if (task.status !== 'delivered' || task.credited) continue;
    // Name and community for the certificate: a stale copy is harmless.
    const volunteer = await volunteers.get(task.volunteerId, { consistent: false });
    if (!volunteer) continue;
    const minutes = serviceMinutes(task);
    await creditTask({
      task,
      volunteer,
      kind: state.request.kind,
      minutes,
      points,
      confirmedAt,
    });
  }
}

/** Applies a version-checked change to a task's volunteer, re-reading on a lost race. */
async function withVolunteer(task: Task, change: (v: Volunteer) => Promise<'ok' | 'conflict'>) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const v = await volunteers.get(task.volunteerId);
    if (!v) return;
    if ((await change(v)) === 'ok') return;
    // A conflict is either a lost race (retry) or the task already moved on (done).
    const fresh = (await requests.load(task.requestId))?.tasks.find(
      (t) => t.volunteerId === task.volunteerId,
    );
    if (!fresh || fresh.status !== task.status) return;
  }
  throw new Error(`could not update volunteer ${task.volunteerId}: too many concurrent changes`);
}

/**
 * A volunteer went off duty (at `at`): their open offers are withdrawn and each request is
 * matched again. The offers are closed first (a match run before would still count the
 * offer as taking its slot), so the matches are queued after: if queueing fails, the
 * retried event finds no open offer left. It re-matches from the inbox instead: a
 * withdrawn offer keeps its entry (by expiry), so every offer to this volunteer that had
 * not expired when they went off duty and now reads withdrawn is matched again, whether
 * this run closed it or an earlier one did. Matching is idempotent: queueing a request
 * again (one withdrawn at an earlier off duty too) only runs it again.
 */
async function withdrawVolunteer(volunteerId: string, at: string, now: Date) {
  const nowIso = now.toISOString();
  const entries = await offers.inboxAfter(volunteerId, at < nowIso ? at : nowIso);
  const affected = new Set(entries.filter((o) => o.status === 'withdrawn').map((o) => o.requestId));
  for (const o of await offers.openAmong(entries, now)) {
    if (await offers.close(o.requestId, volunteerId, 'withdrawn', now)) affected.add(o.requestId);
  }
  await enqueueAll(
    'match',
    [...affected].map((requestId) => ({ requestId })),
  );
}
