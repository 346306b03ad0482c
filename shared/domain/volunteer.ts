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
  serviceMinutes: number;
  points: number;
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
