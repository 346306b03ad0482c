import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { maskPhone } from '../../shared/masking.ts';
import { type ApiClient, type ApiResult, describeError } from './client.ts';

/**
 * `volunteers import <file.csv>`: columns name, phone, community, skills, categories
 * (skills and categories separated by `;` or `|`). Every row is checked here first,
 * then by the API; rejected rows are reported with their line number and reason, good
 * rows are registered. Volunteers are matched by phone, so a second run registers
 * nobody twice: the API answers 409 volunteer_exists for a known phone.
 *
 * Every row ends with an outcome: registered (with its token), already registered,
 * rejected, failed (with the reason, and whether the registration may have been applied)
 * or not attempted. Each row is sent with an Idempotency-Key of its own (the run's id and
 * its line), the same on every retry, so a registration whose answer was lost is answered
 * on the retry with the volunteer and a new token, not 409. When the API cannot be
 * reached, refuses the key or keeps failing, the workers take no new row; the report
 * holds everything registered until then.
 */
export interface ImportRow {
  line: number;
  name: string;
  phone: string;
  communityId: string;
  skills: string[];
  categories: string[];
}

export interface Rejected {
  line: number;
  reason: string;
}

export interface Registered {
  line: number;
  phone: string;
  volunteerId: string;
  token: string;
}

export interface ImportReport {
  rows: number;
  imported: Registered[];
  /**
   * Already registered before this run. `volunteerId`: whom the phone belongs to (APIs
   * before 2026-12-03 do not say). `afterRetry`: this row's own earlier attempt got no
   * answer, so an API that does not know Idempotency-Keys may have registered it then.
   */
  known: { line: number; phone: string; volunteerId?: string; afterRetry?: boolean }[];
  rejected: Rejected[];
  /** Sent but not registered; `maybeApplied`: the API may have registered it anyway. */
  failed: { line: number; phone: string; reason: string; maybeApplied: boolean }[];
  /** Never sent: the run stopped first. */
  notAttempted: { line: number; phone: string }[];
  /** Why the run stopped taking rows, when it did. */
  stopped?: string;
}

const REQUIRED = ['name', 'phone', 'community'] as const;
const TAG = /^[a-z0-9_-]{1,40}$/;

/** `138 0013 8000`, `13800138000`, `8613800138000` → `+8613800138000`; E.164 kept as is. */
export function normalizePhone(raw: string): string {
  const s = raw.replace(/[\s\-().]/g, '');
  if (/^1\d{10}$/.test(s)) return `+86${s}`;
  if (/^861\d{10}$/.test(s)) return `+${s}`;
  if (/^00\d+$/.test(s)) return `+${s.slice(2)}`;
  return s;
}

/**
 * A value from the file's phone column that is not a phone number, for a rejection: with
 * seven digits or more it may still be someone's number, so all but its last four digits
 * are hidden (`138 0013 800` → `*** ***3 800`); shorter values as they are.
 */
export function maskPhoneValue(raw: string): string {
  if (raw.replace(/\D/g, '').length < 7) return raw;
  let shown = 0;
  const chars = [...raw];
  for (let i = chars.length - 1; i >= 0; i--) {
    if (!/\d/.test(chars[i])) continue;
    if (shown < 4) shown++;
    else chars[i] = '*';
  }
  return chars.join('');
}

const splitTags = (raw: string | undefined) =>
  (raw ?? '')
    .split(/[;|]/)
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean);

interface Community {
  communityId: string;
  name: string;
}

/** Parses and checks the file; returns the good rows and the rejected ones. */
export function checkCsv(
  text: string,
  communities: Community[],
): { rows: ImportRow[]; rejected: Rejected[]; total: number } {
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(text, {
      bom: true,
      columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
      skip_empty_lines: true,
      trim: true,
      relax_column_count: true,
      info: true,
    });
  } catch (e) {
    throw new Error(`the file is not valid CSV: ${(e as Error).message}`);
  }
  const header = records.length ? Object.keys(records[0].record) : [];
  const missing = REQUIRED.filter(
    (c) => !header.includes(c) && !(c === 'community' && header.includes('communityid')),
  );
  if (records.length && missing.length) {
    throw new Error(
      `missing column(s): ${missing.join(', ')} (expected name, phone, community, skills, categories)`,
    );
  }
  const byId = new Map(communities.map((c) => [c.communityId.toLowerCase(), c.communityId]));
  const byName = new Map(communities.map((c) => [c.name, c.communityId]));
  const seen = new Map<string, number>();
  const rows: ImportRow[] = [];
  const rejected: Rejected[] = [];
  for (const { record, info } of records) {
    const line = info.lines;
    const reject = (reason: string) => rejected.push({ line, reason });
    const name = record.name ?? '';
    const phone = normalizePhone(record.phone ?? '');
    const communityRaw = record.community ?? record.communityid ?? '';
    const skills = splitTags(record.skills);
    const categories = splitTags(record.categories);
    if (!name) {
      reject('name: is required');
      continue;
    }
    if (name.length > 100) {
      reject('name: longer than 100 characters');
      continue;
    }
    if (!record.phone) {
      reject('phone: is required');
      continue;
    }
    if (!/^\+[1-9]\d{7,14}$/.test(phone)) {
      reject(
        `phone: "${maskPhoneValue(record.phone)}" is not a phone number (E.164 like +8613800138000, or an 11-digit mobile number)`,
      );
      continue;
    }
    const communityId = byId.get(communityRaw.toLowerCase()) ?? byName.get(communityRaw);
    if (!communityId) {
      reject(
        communityRaw
          ? `community: "${communityRaw}" is not a community of this district`
          : 'community: is required',
      );
      continue;
    }
    const badTag = [
      ...skills.map((t) => ['skills', t]),
      ...categories.map((t) => ['categories', t]),
    ].find(([, t]) => !TAG.test(t));
    if (badTag) {
      reject(`${badTag[0]}: "${badTag[1]}" must be lowercase letters, digits, _ or - (up to 40)`);
      continue;
    }
    if (skills.length > 30 || categories.length > 30) {
      reject('skills/categories: at most 30 each');
      continue;
    }
    const first = seen.get(phone);
    if (first !== undefined) {
      reject(`phone: ${maskPhone(phone)} is already on line ${first} of this file`);
      continue;
    }
    seen.set(phone, line);
    rows.push({ line, name, phone, communityId, skills, categories });
  }
  return { rows, rejected, total: records.length };
}

export interface ImportOptions {
  concurrency?: number;
  /** Called after each row is done (for progress). */
  onProgress?: (done: number, total: number) => void;
  /**
   * Called with each registration as soon as it is made, before the row counts as done
   * (to save its token at once). If it throws, the run stops taking rows.
   */
  onRegistered?: (registered: Registered) => void | Promise<void>;
  /** Prefix of the rows' Idempotency-Keys (`<runId>:<line>`); a new random one by default. */
  runId?: string;
}

export async function importVolunteers(
  api: ApiClient,
  file: string,
  opts: ImportOptions = {},
): Promise<ImportReport> {
  const text = await readFile(file, 'utf8');
  const communities = await api.call('GET', '/v1/communities');
  if (communities.status !== 200) throw new Error(`communities: ${describeError(communities)}`);
  const { rows, rejected, total } = checkCsv(text, communities.body.communities);
  const report: ImportReport = {
    rows: total,
    imported: [],
    known: [],
    rejected: [...rejected],
    failed: [],
    notAttempted: [],
  };
  const runId = opts.runId ?? randomUUID();
  let next = 0;
  let done = 0;
  const stop = (why: string) => {
    report.stopped ??= why;
  };
  const registerRow = async (row: ImportRow) => {
    const fail = (reason: string, maybeApplied: boolean) =>
      report.failed.push({ line: row.line, phone: row.phone, reason, maybeApplied });
    let res: ApiResult;
    try {
      res = await api.call(
        'POST',
        '/v1/volunteers',
        {
          name: row.name,
          phone: row.phone,
          communityId: row.communityId,
          skills: row.skills,
          categories: row.categories,
        },
        { 'idempotency-key': `${runId}:${row.line}` },
      );
    } catch (e) {
      // No answer after the retries: the API may still have registered the row.
      const reason = (e as Error).message;
      fail(reason, true);
      stop(`line ${row.line}: ${reason}`);
      return;
    }
    if (res.status === 201) {
      const registered: Registered = {
        line: row.line,
        phone: row.phone,
        volunteerId: res.body.volunteerId,
        token: res.body.token,
      };
      report.imported.push(registered);
      try {
        await opts.onRegistered?.(registered);
      } catch (e) {
        stop(`line ${row.line}: ${(e as Error).message}`);
      }
    } else if (res.status === 409 && res.body?.error?.code === 'volunteer_exists') {
      report.known.push({
        line: row.line,
        phone: row.phone,
        ...(typeof res.body.error.volunteerId === 'string' && {
          volunteerId: res.body.error.volunteerId,
        }),
        ...(res.maybeAppliedBefore && { afterRetry: true }),
      });
    } else if (res.status === 400) {
      report.rejected.push({
        line: row.line,
        reason: res.body?.error?.message ?? describeError(res),
      });
    } else {
      // A 5xx or 429 left after the retries, or a refused key: the next rows would fare
      // no better. A 5xx may have come after the write.
      const maybeApplied = res.status >= 500 || res.maybeAppliedBefore;
      fail(
        maybeApplied ? describeError(res) : `not registered: ${describeError(res)}`,
        maybeApplied,
      );
      if (res.status >= 500 || res.status === 429 || res.status === 401 || res.status === 403) {
        stop(`line ${row.line}: ${describeError(res)}`);
      }
    }
  };
  const worker = async () => {
    while (report.stopped === undefined && next < rows.length) {
      await registerRow(rows[next++]);
      opts.onProgress?.(++done, rows.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 8, rows.length) }, worker));
  report.notAttempted = rows.slice(next).map((r) => ({ line: r.line, phone: r.phone }));
  const byLine = (a: { line: number }, b: { line: number }) => a.line - b.line;
  report.imported.sort(byLine);
  report.known.sort(byLine);
  report.rejected.sort(byLine);
  report.failed.sort(byLine);
  return report;
}

/** Whether every row ended registered, known or rejected (nothing failed or left out). */
export const complete = (r: ImportReport) => r.failed.length === 0 && r.notAttempted.length === 0;

/** Lines as ranges: [2, 3, 4, 7] → `2-4, 7`. */
export function lineRanges(lines: number[]): string {
  const sorted = [...lines].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j === i ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j;
  }
  return parts.join(', ');
}
