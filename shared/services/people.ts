import { principals } from '../adapters/principals.ts';
import { offers } from '../adapters/requests.ts';
import { volunteers } from '../adapters/volunteers.ts';
import { dayOf, type Volunteer } from '../domain/volunteer.ts';
import { AppError, badRequest, notFound } from '../errors.ts';
import { newId, newSecret } from '../ids.ts';
import type { RegisterVolunteerBody } from '../schemas/api.ts';
import { districtView } from './context.ts';

export async function createPartner(name: string, now: Date) {
  const partnerId = newId('ptn');
  const apiKey = newSecret('pk');
  await principals.createPartner(partnerId, name, apiKey, now);
  return { partnerId, apiKey };
}

export async function registerVolunteer(body: RegisterVolunteerBody, now: Date) {
  const view = districtView();
  const community = view.community(body.communityId);
  if (!community) {
    throw badRequest('communityId', `is not a community of district ${view.district.id}`);
  }
  const at = now.toISOString();
  const volunteer: Volunteer = {
    volunteerId: newId('vol'),
    name: body.name,
    phone: body.phone,
    communityId: body.communityId,
    townId: community.townId,
    skills: body.skills,
    categories: body.categories,
    location: body.location,
    pushEndpoint: body.pushEndpoint,
    capacity: body.capacity ?? view.district.volunteers.defaultCapacity,
    onDuty: body.onDuty,
    smsOptOut: body.smsOptOut,
    quietHours: body.quietHours,
    language: body.language,
    active: 0,
    tasksDay: '0000-00-00',
    tasksToday: 0,
    version: 1,
    createdAt: at,
    updatedAt: at,
  };
  const token = newSecret('vt');
  await volunteers.create(volunteer, token);
  return { volunteerId: volunteer.volunteerId, token };
}

/**
 * What a volunteer's record looks like to ops and to the volunteer. Minutes and points
 * are on the service record route (summed from the credited tasks), not here.
 */
export function publicVolunteer(v: Volunteer) {
  const { version, tasksDay, tasksToday, serviceMinutes, points, ...rest } = v;
  return { ...rest, tasksToday: tasksDay === dayOf(new Date()) ? tasksToday : 0 };
}

/** A volunteer's open offers: what and where, never the address or the requester. */
export async function myOffers(volunteerId: string, now: Date) {
  const open = await offers.openFor(volunteerId, now);
  return open.map((o) => ({
    offerId: o.offerId,
    requestId: o.requestId,
    kind: o.kind,
    communityId: o.communityId,
    expiresAt: o.expiresAt,
  }));
}

/** Ops record a credential (a negative test, a training) with its expiry on a volunteer. */
export async function recordCredential(
  volunteerId: string,
  type: string,
  expiresAt: string,
  now: Date,
) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const prev = await volunteers.get(volunteerId);
    if (!prev) throw notFound('volunteer');
    const next: Volunteer = {
      ...prev,
      credentials: { ...prev.credentials, [type]: new Date(expiresAt).toISOString() },
      updatedAt: now.toISOString(),
    };
    if (await volunteers.replace(prev, next)) {
      return publicVolunteer({ ...next, version: prev.version + 1 });
    }
  }
  throw new AppError(409, 'busy', 'volunteerId: changed concurrently; retry');
}
