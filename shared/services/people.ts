import { principals } from '../adapters/principals.ts';
import { offers } from '../adapters/requests.ts';
import { volunteers } from '../adapters/volunteers.ts';
import { pushAvailable } from '../district.ts';
import { dayOf, type Volunteer } from '../domain/volunteer.ts';
import { AppError, badRequest, conflict, notFound } from '../errors.ts';
import { canonicalHash, checkIdempotencyKey, newId, newSecret, volunteerIdOf } from '../ids.ts';
import type { RegisterVolunteerBody } from '../schemas/api.ts';
import { districtView } from './context.ts';

export async function createPartner(name: string, now: Date) {
  const partnerId = newId('ptn');
  const apiKey = newSecret('pk');
  await principals.createPartner(partnerId, name, apiKey, now);
  return { partnerId, apiKey };
}

/**
 * A push endpoint is refused (400 naming `pushEndpoint`) in a district without push: its
 * SMS go through an HTTPS provider because its region (China) has no SNS SMS and no SNS
 * mobile push. Stored, it could never be used.
 */
export function refuseUnusablePush(pushEndpoint: string | undefined): void {
  const { district } = districtView();
  if (pushEndpoint === undefined || pushAvailable(district)) return;
  throw new AppError(
    400,
    'push_unavailable',
    `pushEndpoint: not accepted in district ${district.id}, which has no push notifications (its SMS go through an HTTPS provider; China regions have no SNS mobile push): leave pushEndpoint out, the volunteer is reached by SMS`,
  );
}

/**
 * Registers a volunteer; their token is returned once and stored only as its hash. With
 * an Idempotency-Key (an ops tool's retries carry the same one) the volunteer's id is
 * derived from it: the same registration sent again after its answer was lost (a 5xx or
 * a dropped connection after the write) is answered 201 with the same volunteer and a new
 * token, the first one (never seen) revoked, instead of 409 with no token at all. The
 * same key with another body or phone is 409 `idempotency_key_reused`; a phone registered
 * otherwise is 409 `volunteer_exists`, naming its volunteer (ops may issue them a token).
 */
export async function registerVolunteer(
  body: RegisterVolunteerBody,
  now: Date,
  idempotency?: { key: string | undefined; rawBody: unknown },
) {
  const key = idempotency?.key;
  if (key !== undefined) checkIdempotencyKey(key);
  const view = districtView();
  const community = view.community(body.communityId);
  if (!community) {
    throw badRequest('communityId', `is not a community of district ${view.district.id}`);
  }
  refuseUnusablePush(body.pushEndpoint);
  const bodyHash = key === undefined ? undefined : canonicalHash(idempotency?.rawBody);
  const at = now.toISOString();
  const volunteer: Volunteer = {
    volunteerId: key === undefined ? newId('vol') : volunteerIdOf(key),
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
  if (await volunteers.create(volunteer, token, bodyHash)) {
    return { volunteerId: volunteer.volunteerId, token };
  }
  const registered = await volunteers.registration(body.phone);
  if (key !== undefined && registered?.volunteerId === volunteer.volunteerId) {
    if (registered.bodyHash !== bodyHash) throw keyReused('a different body');
    // This registration, sent again: its token was issued but never seen.
    const issued = await rotateVolunteerToken(volunteer.volunteerId, 0, now);
    return { volunteerId: issued.volunteerId, token: issued.token };
  }
  // Without a key only the phone can be taken (a random id does not collide).
  if (registered || key === undefined) {
    throw conflict(
      'volunteer_exists',
      'phone: a volunteer with this phone is registered',
      registered && { volunteerId: registered.volunteerId },
    );
  }
  // The derived id is another phone's volunteer.
  throw keyReused('another phone');
}

const keyReused = (what: string) =>
  conflict('idempotency_key_reused', `Idempotency-Key: already used with ${what}`);

/** Default grace of a volunteer's new token: none, the earlier tokens stop at once. */
export const VOLUNTEER_TOKEN_GRACE_MINUTES = 0;

/**
 * A new token for a volunteer (ops: a token lost, a phone lost); their earlier tokens
 * stop working after `graceMinutes` (default 0: at once). Only its hash is stored.
 * `oldTokenUntracked`: registered before their tokens were listed, the volunteer's first
 * token could not be revoked and still works.
 */
export async function rotateVolunteerToken(
  volunteerId: string,
  graceMinutes: number | undefined,
  now: Date,
) {
  const volunteer = await volunteers.get(volunteerId);
  if (!volunteer) throw notFound('volunteer');
  const token = newSecret('vt');
  const grace = graceMinutes ?? VOLUNTEER_TOKEN_GRACE_MINUTES;
  const rotated = await principals.rotateVolunteerToken(
    volunteerId,
    volunteer.phone,
    token,
    grace * 60,
    now,
  );
  if (!rotated) throw notFound('volunteer');
  return {
    volunteerId,
    token,
    oldTokensValidUntil: rotated.oldTokensValidUntil,
    ...(rotated.tracked ? {} : { oldTokenUntracked: true }),
  };
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
