import type { HelpRequest, Location } from './request.ts';
import { hasFreeCapacity, tasksTodayOf, type Volunteer } from './volunteer.ts';

/**
 * What ranking and the request's fit read of a volunteer: fields both the volunteer's
 * item and their per-skill availability entries hold.
 */
export type Candidate = Pick<
  Volunteer,
  | 'volunteerId'
  | 'communityId'
  | 'townId'
  | 'skills'
  | 'categories'
  | 'location'
  | 'tasksDay'
  | 'tasksToday'
  | 'credentials'
>;

/** What a district asks of volunteers for one kind of request. */
export interface KindRules {
  preferCategories: string[];
  requireCredentials: string[];
}

export const NO_RULES: KindRules = { preferCategories: [], requireCredentials: [] };

/** Every required credential recorded and still valid at `now`. */
export const hasCredentials = (v: Pick<Candidate, 'credentials'>, required: string[], now: Date) =>
  required.every((c) => {
    const until = v.credentials?.[c];
    return until !== undefined && Date.parse(until) > now.getTime();
  });

/** Every listed skill, the kind's credentials, and not already offered or tasked. */
export function fitsRequest(
  v: Candidate,
  request: Pick<HelpRequest, 'skills'>,
  excluded: ReadonlySet<string>,
  rules: KindRules = NO_RULES,
  now: Date = new Date(),
): boolean {
  return (
    !excluded.has(v.volunteerId) &&
    request.skills.every((s) => v.skills.includes(s)) &&
    hasCredentials(v, rules.requireCredentials, now)
  );
}

/**
 * On duty, free capacity, and fits the request. Matching reads the availability index,
 * whose entries exist only while the first two hold, so it checks `fitsRequest` alone.
 */
export function isEligible(
  v: Candidate & Pick<Volunteer, 'onDuty' | 'capacity' | 'active'>,
  request: Pick<HelpRequest, 'skills'>,
  excluded: ReadonlySet<string>,
  rules: KindRules = NO_RULES,
  now: Date = new Date(),
): boolean {
  return v.onDuty && hasFreeCapacity(v) && fitsRequest(v, request, excluded, rules, now);
}

/** Great-circle distance in km. */
export function distanceKm(a: Location, b: Location): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
}

const scopeRank = (v: Candidate, r: Pick<HelpRequest, 'communityId' | 'townId'>) =>
  v.communityId === r.communityId ? 0 : v.townId === r.townId ? 1 : 2;

/**
 * Orders eligible candidates: same community, then same town, then the district;
 * within a scope the district's preferred categories for the kind first; then nearest
 * when both sides have a location; then fewest tasks today.
 */
export function rankCandidates<C extends Candidate>(
  candidates: C[],
  request: Pick<HelpRequest, 'communityId' | 'townId' | 'location'>,
  now: Date,
  rules: KindRules = NO_RULES,
): C[] {
  const key = (v: C) => ({
    scope: scopeRank(v, request),
    preferred: rules.preferCategories.some((c) => v.categories.includes(c)) ? 0 : 1,
    distance:
      request.location && v.location
        ? distanceKm(request.location, v.location)
        : Number.POSITIVE_INFINITY,
    load: tasksTodayOf(v, now),
  });
  return candidates
    .map((v) => ({ v, k: key(v) }))
    .sort(
      (a, b) =>
        a.k.scope - b.k.scope ||
        a.k.preferred - b.k.preferred ||
        a.k.distance - b.k.distance ||
        a.k.load - b.k.load ||
        a.v.volunteerId.localeCompare(b.v.volunteerId),
    )
    .map((x) => x.v);
}

/** How many new offers to make: each open slot is offered to up to `batchSize` at once. */
export const offersWanted = (openSlots: number, batchSize: number, openOfferCount: number) =>
  Math.max(0, openSlots * batchSize - openOfferCount);
