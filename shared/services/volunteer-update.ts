// Apart from people.ts: the one volunteer change that puts work on a queue (going off duty
// withdraws open offers), so the other people routes do not load the SQS client.
import type { Principal } from '../adapters/principals.ts';
import { enqueue } from '../adapters/queues.ts';
import { volunteers } from '../adapters/volunteers.ts';
import type { Volunteer } from '../domain/volunteer.ts';
import { AppError, notFound } from '../errors.ts';
import type { UpdateVolunteerBody } from '../schemas/api.ts';
import { publicVolunteer, refuseUnusablePush } from './people.ts';

/**
 * Ops or the volunteer change duty, skills, capacity or location. Going off duty
 * withdraws the volunteer's open offers so they are offered to someone else: the change
 * is written, then the off-duty event queued. If queueing fails, the client's retry (the
 * same `onDuty: false`) finds the volunteer already off duty and queues the event again;
 * so does any `onDuty: false` sent while off duty, the event's consumer being idempotent.
 */
export async function updateVolunteer(
  principal: Principal,
  volunteerId: string,
  body: UpdateVolunteerBody,
  now: Date,
) {
  if (principal.kind === 'volunteer' && principal.id !== volunteerId) throw notFound('volunteer');
  refuseUnusablePush(body.pushEndpoint);
  if (Object.values(body).every((v) => v === undefined)) {
    // Nothing to change: the volunteer as they are, with no write.
    const current = await volunteers.get(volunteerId);
    if (!current) throw notFound('volunteer');
    return publicVolunteer(current);
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    const prev = await volunteers.get(volunteerId);
    if (!prev) throw notFound('volunteer');
    const next: Volunteer = {
      ...prev,
      ...Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)),
      // `quietHours: null` clears them.
      quietHours: body.quietHours === null ? undefined : (body.quietHours ?? prev.quietHours),
      updatedAt: now.toISOString(),
    };
    if (await volunteers.replace(prev, next)) {
      if (body.onDuty === false) {
        await enqueue('events', { type: 'volunteer_off_duty', volunteerId, at: next.updatedAt });
      }
      return publicVolunteer({ ...next, version: prev.version + 1 });
    }
  }
  throw new AppError(409, 'busy', 'volunteerId: changed concurrently; retry');
}
