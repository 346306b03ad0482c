import type { Principal } from '../adapters/principals.ts';
import { records, type ServiceRecord } from '../adapters/records.ts';
import { volunteers } from '../adapters/volunteers.ts';
import { badRequest, notFound } from '../errors.ts';
import { districtView } from './context.ts';

const DAY = 86_400_000;
const MAX_DAYS = 366;

/**
 * A volunteer's service record: their tasks (inbox index), each delivered one credited
 * when its service record exists (read by key), and the minutes and points summed from
 * those. Tasks credited before records were the credit carry the mark and the figures
 * themselves (`credited`, `minutes`, `points` on the task), and count from there.
 */
export async function volunteerRecord(principal: Principal, volunteerId: string) {
  if (principal.kind === 'volunteer' && principal.id !== volunteerId) throw notFound('volunteer');
  const volunteer = await volunteers.get(volunteerId);
  if (!volunteer) throw notFound('volunteer');
  // Every task for the totals (a long lockdown's busiest volunteers pass a thousand);
  // the newest thousand listed.
  const tasks = await records.tasksOf(volunteerId, Number.POSITIVE_INFINITY);
  const found = await records.ofTasks(tasks.filter((t) => t.status === 'delivered' && !t.credited));
  const credits = tasks.map((t) => {
    if (t.credited) return { minutes: t.minutes ?? 0, points: t.points ?? 0 };
    const r = found.get(t.taskId);
    return r ? { minutes: r.minutes, points: r.points } : undefined;
  });
  const credited = credits.filter((c) => c !== undefined);
  return {
    volunteerId,
    name: volunteer.name,
    communityId: volunteer.communityId,
    serviceMinutes: credited.reduce((n, c) => n + c.minutes, 0),
    points: credited.reduce((n, c) => n + c.points, 0),
    tasksDelivered: tasks.filter((t) => t.status === 'delivered').length,
    tasksCredited: credited.length,
    tasks: tasks.slice(0, LISTED_TASKS).map((t, i) => ({
      taskId: t.taskId,
      requestId: t.requestId,
      status: t.status,
      via: t.via,
      createdAt: t.createdAt,
      ...(t.deliveredAt ? { deliveredAt: t.deliveredAt } : {}),
      credited: credits[i] !== undefined,
      minutes: credits[i]?.minutes ?? 0,
      points: credits[i]?.points ?? 0,
    })),
  };
}

const LISTED_TASKS = 1000;

/** `YYYY-MM-DD` or an ISO time → its UTC day. */
function dayParam(value: string | undefined, field: string, fallback: string): string {
  if (value === undefined || value === '') return fallback;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw badRequest(field, 'must be a date (YYYY-MM-DD) or an ISO 8601 time');
  return new Date(t).toISOString().slice(0, 10);
}

export interface RecordRow {
  volunteerId: string;
  name: string;
  phone: string;
  community: string;
  town: string;
  tasks: number;
  minutes: number;
  points: number;
  firstDay: string;
  lastDay: string;
}

/**
 * The district's service records of the tasks delivered in a period (whole UTC days, both
 * included; a record is written when its request is confirmed), one row per volunteer:
 * what a certificate printer needs. Reads one partition per day.
 */
export async function recordsFor(query: Record<string, string | undefined>, now: Date) {
  const today = now.toISOString().slice(0, 10);
  const to = dayParam(query.to, 'to', today);
  const from = dayParam(query.from, 'from', to);
  if (from > to) throw badRequest('from', 'must not be after to');
  const days: string[] = [];
  for (let t = Date.parse(from); t <= Date.parse(to); t += DAY) {
    days.push(new Date(t).toISOString().slice(0, 10));
    if (days.length > MAX_DAYS) throw badRequest('from', `period longer than ${MAX_DAYS} days`);
  }
  const perDay = await Promise.all(days.map((d) => records.ofDay(d)));
  const { district, community } = districtView();
  const townName = (id: string) => district.towns.find((t) => t.townId === id)?.name ?? id;
  const rows = new Map<string, RecordRow>();
  for (const r of perDay.flat() as ServiceRecord[]) {
    const row = rows.get(r.volunteerId) ?? {
      volunteerId: r.volunteerId,
      name: r.name,
      phone: r.phoneMasked,
      community: community(r.communityId)?.name ?? r.communityId,
      town: townName(r.townId),
      tasks: 0,
      minutes: 0,
      points: 0,
      firstDay: r.day,
      lastDay: r.day,
    };
    row.tasks += 1;
    row.minutes += r.minutes;
    row.points += r.points;
    if (r.day < row.firstDay) row.firstDay = r.day;
    if (r.day > row.lastDay) row.lastDay = r.day;
    rows.set(r.volunteerId, row);
  }
  const sorted = [...rows.values()].sort(
    (a, b) =>
      a.town.localeCompare(b.town) ||
      a.community.localeCompare(b.community) ||
      a.name.localeCompare(b.name),
  );
  return { from, to, rows: sorted };
}

export const CSV_HEADER = [
  'volunteer_id',
  'name',
  'phone',
  'town',
  'community',
  'tasks',
  'service_minutes',
  'service_hours',
  'points',
  'first_day',
  'last_day',
] as const;

const cell = (v: string | number) => {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** A name a spreadsheet would read as a formula is kept as text. */
const text = (s: string) => (/^[=+\-@]/.test(s) ? `'${s}` : s);

/**
 * CSV (RFC 4180, CRLF, UTF-8 with a byte-order mark so spreadsheet programs show the
 * Chinese names). Phone numbers are masked: a certificate needs the name, not the number.
 */
export function recordsCsv(rows: RecordRow[]): string {
  const lines = [CSV_HEADER.join(',')];
  for (const r of rows) {
    lines.push(
      [
        r.volunteerId,
        text(r.name),
        r.phone,
        r.town,
        r.community,
        r.tasks,
        r.minutes,
        (r.minutes / 60).toFixed(1),
        r.points,
        r.firstDay,
        r.lastDay,
      ]
        .map(cell)
        .join(','),
    );
  }
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
