import type { Language } from '../district.ts';
import type { Location } from './request.ts';

/** Local times (district time) between which a volunteer gets no SMS, e.g. 22:00–07:00. */
export interface QuietHours {
  start: string;
  end: string;
}

export interface Volunteer {
  volunteerId: string;
  name: string;
  phone: string;
  communityId: string;
  townId: string;
  skills: string[];
  categories: string[];
  location?: Location;
  pushEndpoint?: string;
  /** Never send this volunteer an SMS (push still goes). */
  smsOptOut?: boolean;
  quietHours?: QuietHours;
  /** Language of their SMS and push; the district's when unset. */
  language?: Language;
  capacity: number;
  onDuty: boolean;
  /** Accepted, undelivered tasks. */
  active: number;
  /** Day (UTC, YYYY-MM-DD) of `tasksToday`; fairness ranks fewer tasks today first. */
  tasksDay: string;
  tasksToday: number;
  /**
   * Written by credits before they moved to the tasks (issue 7); kept on older items,
   * never read: a volunteer's minutes and points are summed from their credited tasks.
   */
  serviceMinutes?: number;
  points?: number;
  /** Credentials recorded by ops, by type, with their expiry (ISO time). */
  credentials?: Record<string, string>;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export const dayOf = (now: Date) => now.toISOString().slice(0, 10);

export const tasksTodayOf = (v: Pick<Volunteer, 'tasksDay' | 'tasksToday'>, now: Date) =>
  v.tasksDay === dayOf(now) ? v.tasksToday : 0;

export const hasFreeCapacity = (v: Pick<Volunteer, 'active' | 'capacity'>) => v.active < v.capacity;

/**
 * The availability index entry of a volunteer: present only while on duty with free
 * capacity, so matching reads only volunteers who can take work. Sorted by day and
 * tasks that day, so the least busy come first.
 */
export function availabilityKeys(
  v: Pick<
    Volunteer,
    'volunteerId' | 'communityId' | 'onDuty' | 'active' | 'capacity' | 'tasksDay' | 'tasksToday'
  >,
): { gsi2pk: string; gsi2sk: string } | undefined {
  if (!v.onDuty || !hasFreeCapacity(v)) return undefined;
  return {
    gsi2pk: `AVAIL#${v.communityId}`,
    gsi2sk: `${v.tasksDay}#${String(v.tasksToday).padStart(4, '0')}#${v.volunteerId}`,
  };
}

/**
 * What an availability entry holds of its volunteer: what matching filters, ranks and
 * offers by. Fields that change on delivery or credit (`active`, minutes, points) are
 * left out, so those writes need not touch the entries: an entry exists only while the
 * volunteer is on duty with free capacity, and its presence says so.
 */
export const AVAILABLE_FIELDS = [
  'volunteerId',
  'phone',
  'communityId',
  'townId',
  'skills',
  'categories',
  'location',
  'credentials',
  'tasksDay',
  'tasksToday',
  // How the offer will reach them: matching claims an SMS reply code only when needed,
  // and hands the endpoint and language to the notifier, so a push needs no read.
  'pushEndpoint',
  'smsOptOut',
  'language',
] as const;

export type AvailableVolunteer = Pick<Volunteer, (typeof AVAILABLE_FIELDS)[number]>;

/** The availability partition of the volunteers of a community holding a skill. */
export const skillPartition = (communityId: string, skill: string) =>
  `AVAIL#${communityId}#${skill}`;

/** One per-skill availability entry: its index keys and what it holds. */
export interface SkillEntry {
  skill: string;
  gsi2pk: string;
  gsi2sk: string;
  entry: AvailableVolunteer;
}

/**
 * A volunteer's per-skill availability entries, one per skill, present exactly when the
 * community entry is (on duty, free capacity) and sorted the same way (least busy
 * first), so a skilled request reads only volunteers holding its first skill.
 * A volunteer without skills has none, and pays nothing for them.
 */
export function skillEntries(v: Volunteer): SkillEntry[] {
  const avail = availabilityKeys(v);
  if (!avail) return [];
  const entry = Object.fromEntries(
    AVAILABLE_FIELDS.filter((f) => v[f] !== undefined).map((f) => [f, v[f]]),
  ) as AvailableVolunteer;
  return [...new Set(v.skills)].map((skill) => ({
    skill,
    gsi2pk: skillPartition(v.communityId, skill),
    gsi2sk: avail.gsi2sk,
    entry,
  }));
}

/** JSON with object keys sorted, so equal values compare equal whatever their key order. */
const canonical = (x: unknown): string =>
  JSON.stringify(x, (_, value) =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)))
      : value,
  );

/**
 * The per-skill entries to write when a volunteer goes from `prev` (undefined: new) to
 * `next`: `put` the entries that are new or changed (key or content), `remove` the skills
 * whose entry goes. Unchanged entries are not rewritten: a delivery that leaves the
 * volunteer available, or a credit, writes no entry at all.
 */
export function skillEntryChanges(
  prev: Volunteer | undefined,
  next: Volunteer,
): { put: SkillEntry[]; remove: string[] } {
  const before = new Map((prev ? skillEntries(prev) : []).map((e) => [e.skill, canonical(e)]));
  const after = skillEntries(next);
  const kept = new Set(after.map((e) => e.skill));
  return {
    put: after.filter((e) => before.get(e.skill) !== canonical(e)),
    remove: [...before.keys()].filter((s) => !kept.has(s)),
  };
}

const minutesOf = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
};

/** Whether `now` falls in the quiet hours (local time at `utcOffsetMinutes`); they may span midnight. */
export function inQuietHours(
  quiet: QuietHours | undefined,
  now: Date,
  utcOffsetMinutes: number,
): boolean {
  if (!quiet) return false;
  const local =
    (((now.getUTCHours() * 60 + now.getUTCMinutes() + utcOffsetMinutes) % 1440) + 1440) % 1440;
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  if (start === end) return false;
  return start < end ? local >= start && local < end : local >= start || local < end;
}
