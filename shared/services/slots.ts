import { enqueue } from '../adapters/queues.ts';
import { offers, type RequestState, requests } from '../adapters/requests.ts';
import { deliverTask, takeSlot } from '../adapters/slots.ts';
import { volunteers } from '../adapters/volunteers.ts';
import { liveTasks, type Task } from '../domain/request.ts';
import { hasFreeCapacity, type Volunteer } from '../domain/volunteer.ts';
import { AppError, conflict, notFound } from '../errors.ts';
import { parsePairId } from '../ids.ts';
import { districtView } from './context.ts';

/** Lost races are re-read and decided again; after this many the caller may retry. */
const ATTEMPTS = 8;

/**
 * A random pause before the next attempt, growing with each lost race (full jitter): the
 * accepts of a site duty's volunteers arrive together, and retrying in step they would
 * meet again on the request's slot count.
 */
const afterLostRace = (attempt: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(200, 10 * 2 ** attempt)));

async function loadPair(requestId: string, volunteerId: string, consistent = true) {
  const [state, volunteer] = await Promise.all([
    requests.load(requestId, { consistent }),
    volunteers.get(volunteerId, { consistent }),
  ]);
  return { state, volunteer };
}

/**
 * Runs `attempt` until it returns a value: first on an eventually consistent read (half
 * the read units), then on strongly consistent ones. Every write it makes is conditional
 * on what it read, so a stale copy can only lose a condition (another attempt) or lead
 * to a refusal, and a refusal decided on a stale copy is decided again on a fresh one.
 */
async function withReads<T>(attempt: (consistent: boolean) => Promise<T | undefined>): Promise<T> {
  for (let n = 0; n < ATTEMPTS; n++) {
    const consistent = n > 0;
    try {
      const done = await attempt(consistent);
      if (done !== undefined) return done;
      if (consistent) await afterLostRace(n);
    } catch (e) {
      if (consistent || !(e instanceof AppError)) throw e;
    }
  }
  throw tooBusy();
}

const tooBusy = () =>
  new AppError(409, 'busy', 'too many concurrent changes to this request; retry');

export interface AcceptedTask {
  taskId: string;
  requestId: string;
  address: string;
  requester: { name: string; phone: string };
}

/**
 * A volunteer grabs an offer. The first accepts of the open slots win; the rest get
 * 409 offer_taken. Repeating a successful accept returns the same task.
 */
export async function acceptOffer(
  offerId: string,
  volunteerId: string,
  now: Date,
): Promise<AcceptedTask> {
  const ids = parsePairId(offerId, 'off');
  // Another volunteer's offer is "not found" to this one.
  if (!ids || ids.volunteerId !== volunteerId) throw notFound('offer');
  return withReads(async (consistent) => {
    const { state, volunteer } = await loadPair(ids.requestId, volunteerId, consistent);
    const offer = state?.offers.find((o) => o.volunteerId === volunteerId);
    if (!state || !offer || !volunteer) throw notFound('offer');
    const { request } = state;
    // The address and requester are shown only now, to the volunteer who took the slot.
    const answer = (taskId: string): AcceptedTask => ({
      taskId,
      requestId: request.requestId,
      address: request.address,
      requester: request.requester,
    });
    const existing = state.tasks.find((t) => t.volunteerId === volunteerId);
    if (offer.status === 'accepted' && existing && existing.status !== 'cancelled') {
      await announceTaken(request.requestId, volunteer, now);
      return answer(existing.taskId);
    }
    if (request.status === 'cancelled' || request.status === 'expired') {
      throw conflict('offer_expired', `offerId: the request was ${request.status}`);
    }
    if (request.status !== 'received' || liveTasks(state.tasks).length >= request.slots) {
      throw conflict('offer_taken', 'offerId: every slot of this request is taken');
    }
    if (offer.status !== 'open' || Date.parse(offer.expiresAt) <= now.getTime()) {
      throw conflict('offer_expired', 'offerId: this offer is no longer open');
    }
    if (!hasFreeCapacity(volunteer)) {
      throw conflict('at_capacity', 'you already have as many open tasks as your capacity');
    }
    const { result, task } = await takeSlot({
      request,
      volunteer,
      via: 'offer',
      offer,
      retentionDays: districtView().district.retentionDays,
      now,
    });
    if (result === 'ok') {
      await announceTaken(request.requestId, volunteer, now);
      return answer(task.taskId);
    }
    return undefined;
  });
}

/** Ops assign a volunteer by hand: takes an open slot exactly as an accept does. */
export async function assignVolunteer(
  requestId: string,
  volunteerId: string,
  now: Date,
): Promise<Task> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const { state, volunteer } = await loadPair(requestId, volunteerId);
    if (!state) throw notFound('request');
    if (!volunteer) throw new AppError(404, 'not_found', 'volunteerId: volunteer not found');
    const { request } = state;
    const existing = state.tasks.find((t) => t.volunteerId === volunteerId);
    if (existing && existing.status !== 'cancelled') {
      throw conflict('already_assigned', 'volunteerId: already has a task on this request');
    }
    if (request.status !== 'received' || liveTasks(state.tasks).length >= request.slots) {
      throw conflict('no_open_slot', 'requestId: no open slot is left on this request');
    }
    const offer = state.offers.find((o) => o.volunteerId === volunteerId);
    const { result, task } = await takeSlot({
      request,
      volunteer,
      via: 'ops',
      offer: offer?.status === 'open' ? offer : undefined,
      retentionDays: districtView().district.retentionDays,
      now,
    });
    if (result === 'ok') {
      await announceTaken(requestId, volunteer, now);
      return task;
    }
    await afterLostRace(attempt);
  }
  throw tooBusy();
}

/**
 * After a slot is taken: the requester is told (with the volunteer's name, read here
 * already, so the follow-up need not read the volunteer again), and a filled request's
 * other offers withdrawn.
 */
const announceTaken = (requestId: string, volunteer: Volunteer, now: Date) =>
  enqueue('events', {
    type: 'task_taken',
    requestId,
    volunteerId: volunteer.volunteerId,
    volunteerName: volunteer.name,
    at: now.toISOString(),
  });

export async function declineOffer(offerId: string, volunteerId: string, now: Date) {
  const ids = parsePairId(offerId, 'off');
  if (!ids || ids.volunteerId !== volunteerId) throw notFound('offer');
  // With its request: an offer left open on a filled or closed request reads withdrawn.
  const state = await requests.load(ids.requestId);
  const offer = state?.offers.find((o) => o.volunteerId === volunteerId);
  if (!offer) throw notFound('offer');
  if (offer.status === 'accepted') {
    throw conflict('offer_accepted', 'offerId: already accepted; the task stays yours');
  }
  const closed =
    offer.status === 'open' && (await offers.close(ids.requestId, volunteerId, 'declined', now));
  if (closed || offer.status === 'declined') {
    // Frees the candidate slot: the next volunteers are offered.
    await enqueue('events', {
      type: 'offer_declined',
      requestId: ids.requestId,
      volunteerId,
      at: now.toISOString(),
    });
  }
  return { offerId, status: closed ? 'declined' : offer.status };
}

/** A volunteer reports their task done; the request is delivered with its last task. */
export async function reportDelivered(
  taskId: string,
  volunteerId: string,
  note: string | undefined,
  now: Date,
): Promise<Task> {
  const ids = parsePairId(taskId, 'tsk');
  if (!ids || ids.volunteerId !== volunteerId) throw notFound('task');
  return withReads(async (consistent) => {
    const { state, volunteer } = await loadPair(ids.requestId, volunteerId, consistent);
    const task = state?.tasks.find((t) => t.volunteerId === volunteerId);
    if (!state || !task || !volunteer) throw notFound('task');
    if (task.status === 'delivered') {
      await announceDelivered(state, volunteer, now);
      return task;
    }
    if (task.status === 'cancelled') {
      throw conflict('task_cancelled', 'taskId: the request was cancelled');
    }
    const { result } = await deliverTask(state.request, task, volunteer, note, now);
    if (result === 'ok') {
      await announceDelivered(state, volunteer, now);
      return { ...task, status: 'delivered' as const, deliveredAt: now.toISOString(), note };
    }
    return undefined;
  });
}

const announceDelivered = (state: RequestState, volunteer: Volunteer, now: Date) =>
  enqueue('events', {
    type: 'task_delivered',
    requestId: state.request.requestId,
    volunteerId: volunteer.volunteerId,
    at: now.toISOString(),
  });
