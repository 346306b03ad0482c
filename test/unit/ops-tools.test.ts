import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../scripts/ops/cli.ts';
import type { ApiClient, ApiResult } from '../../scripts/ops/client.ts';
import {
  checkCsv,
  importVolunteers,
  lineRanges,
  maskPhoneValue,
  normalizePhone,
} from '../../scripts/ops/import.ts';
import { formatDuration } from '../../scripts/ops/report.ts';
import { maskPhone } from '../../shared/adapters/records.ts';
import { bucketField, summarize } from '../../shared/domain/histograms.ts';
import { recordsCsv } from '../../shared/services/records.ts';

describe('duration histograms', () => {
  it('puts a duration in the bucket of the first bound at or above it', () => {
    expect(bucketField('toMatched', 0)).toBe('toMatched.le5');
    expect(bucketField('toMatched', 5_000)).toBe('toMatched.le5');
    expect(bucketField('toMatched', 5_001)).toBe('toMatched.le10');
    expect(bucketField('toDelivered', 59 * 60_000)).toBe('toDelivered.le3600');
    expect(bucketField('toDelivered', 3 * 86_400_000)).toBe('toDelivered.inf');
  });

  it('reads the median and p90 from the buckets (the bucket of the ceil(p·n)-th value)', () => {
    // 10 intervals: 4 within 30 s, 4 within 5 min, 2 within 1 h.
    const totals = { 'toMatched.le30': 4, 'toMatched.le300': 4, 'toMatched.le3600': 2 };
    expect(summarize(totals, 'toMatched')).toEqual({
      count: 10,
      medianSeconds: 300,
      p90Seconds: 3600,
    });
    expect(summarize({ 'toMatched.le30': 5, 'toMatched.le300': 5 }, 'toMatched')).toMatchObject({
      medianSeconds: 30,
      p90Seconds: 300,
    });
    expect(summarize({}, 'toDelivered')).toEqual({
      count: 0,
      medianSeconds: null,
      p90Seconds: null,
    });
    expect(summarize({ 'toDelivered.inf': 1 }, 'toDelivered').p90Seconds).toBe(172800);
  });

  it('prints bucket bounds as "at most"', () => {
    expect(formatDuration(null)).toBe('–');
    expect(formatDuration(30)).toBe('≤ 30 s');
    expect(formatDuration(450)).toBe('≤ 7.5 min');
    expect(formatDuration(5400)).toBe('≤ 1.5 h');
  });
});

describe('records CSV', () => {
  it('masks phones and escapes names for spreadsheets', () => {
    expect(maskPhone('+8613800138000')).toBe('+86138****8000');
    const csv = recordsCsv([
      {
        volunteerId: 'vol_1',
        name: '@x, "y"',
        phone: '+86138****8000',
        community: '东园社区',
        town: '东城街道',
        tasks: 2,
        minutes: 90,
        points: 20,
        firstDay: '2026-11-01',
        lastDay: '2026-11-02',
      },
    ]);
    expect(csv.split('\r\n')[1]).toBe(
      `vol_1,"'@x, ""y""",+86138****8000,东城街道,东园社区,2,90,1.5,20,2026-11-01,2026-11-02`,
    );
  });
});

describe('volunteer CSV check', () => {
  const communities = [{ communityId: 'east-garden', name: '东园社区' }];

  it('normalizes Chinese mobile numbers to E.164', () => {
    expect(normalizePhone('138 0013-8000')).toBe('+8613800138000');
    expect(normalizePhone('8613800138000')).toBe('+8613800138000');
    expect(normalizePhone('0085291234567')).toBe('+85291234567');
    expect(normalizePhone('+442071234567')).toBe('+442071234567');
  });

  it('keeps good rows and rejects bad ones with their line numbers, across quoted newlines', () => {
    const text =
      'name,phone,community,skills,categories\n' +
      '"多行\n名字",13800138000,东园社区,a;b,\n' +
      'x,123,east-garden,,\n' +
      'y,13800138001,east-garden,,BAD TAG\n';
    const { rows, rejected, total } = checkCsv(text, communities);
    expect(total).toBe(3);
    expect(rows).toEqual([
      expect.objectContaining({
        phone: '+8613800138000',
        communityId: 'east-garden',
        skills: ['a', 'b'],
      }),
    ]);
    expect(rejected.map((r) => r.line)).toEqual([4, 5]);
    expect(rejected[1].reason).toMatch(/^categories: "bad tag"/);
  });

  it('rejections show phone numbers masked: a duplicate, and a value too near a number to show', () => {
    const text =
      'name,phone,community\n' +
      'a,13900139000,east-garden\n' +
      'b,+8613900139000,east-garden\n' +
      'c,139 0013 900,east-garden\n' +
      'd,139a0013b9000,east-garden\n' +
      'e,12345,east-garden\n';
    const { rejected } = checkCsv(text, communities);
    // Each reason but the hint after it (which shows an example number).
    const reasons = rejected.map((r) => r.reason.split(' (E.164')[0]);
    expect(reasons).toEqual([
      'phone: +86139****9000 is already on line 2 of this file',
      'phone: "*** ***3 900" is not a phone number',
      'phone: "***a****b9000" is not a phone number',
      'phone: "12345" is not a phone number',
    ]);
    expect(maskPhoneValue('not-a-phone')).toBe('not-a-phone');
  });
});

describe('volunteer import: every row ends with an outcome', () => {
  const communities = [{ communityId: 'east-garden', name: '东园社区' }];
  const answer = (status: number, body: unknown, maybeAppliedBefore = false): ApiResult => ({
    status,
    body,
    text: JSON.stringify(body),
    headers: new Headers(),
    maybeAppliedBefore,
  });

  /** A CSV of `n` good rows (lines 2…n+1) and a fake API answering each POST with `answer(phone)`. */
  async function setup(n: number, answerFor: (phone: string, n: number) => ApiResult | Error) {
    const dir = await mkdtemp(join(tmpdir(), 'import-'));
    const file = join(dir, 'v.csv');
    const phones = Array.from({ length: n }, (_, i) => `+861391234${String(i).padStart(4, '0')}`);
    await writeFile(
      file,
      `name,phone,community\n${phones.map((p) => `x,${p},east-garden`).join('\n')}\n`,
    );
    const posted: { phone: string; key: string }[] = [];
    const api: ApiClient = {
      endpoint: 'http://api',
      async call(method, _path, body, headers) {
        if (method === 'GET') return answer(200, { communities });
        const phone = (body as { phone: string }).phone;
        const n = posted.push({ phone, key: headers?.['idempotency-key'] ?? '' });
        await new Promise((r) => setTimeout(r, 1));
        const a = answerFor(phone, n);
        if (a instanceof Error) throw a;
        return a;
      },
    };
    return { file, phones, posted, api };
  }
  const registered = (phone: string) =>
    answer(201, { volunteerId: `vol_${phone.slice(-4)}`, token: `vt_${phone.slice(-4)}` });

  it('the API unreachable for one row: the report keeps every token issued, no new row is taken, the rest are not attempted', async () => {
    const { file, phones, posted, api } = await setup(12, (phone, n) =>
      n === 4 ? new Error('cannot reach http://api: fetch failed') : registered(phone),
    );

    const report = await importVolunteers(api, file, { concurrency: 2, runId: 'run-1' });

    expect(report.stopped).toBe('line 5: cannot reach http://api: fetch failed');
    expect(report.failed).toEqual([
      {
        line: 5,
        phone: phones[3],
        reason: 'cannot reach http://api: fetch failed',
        maybeApplied: true,
      },
    ]);
    expect(report.imported.map((r) => [r.line, r.token])).toEqual([
      [2, 'vt_0000'],
      [3, 'vt_0001'],
      [4, 'vt_0002'],
      [6, 'vt_0004'], // the other worker's row in flight
    ]);
    expect(posted).toHaveLength(5);
    expect(report.notAttempted.map((r) => r.line)).toEqual([7, 8, 9, 10, 11, 12, 13]);
    // One Idempotency-Key per row, from the run and the line.
    expect(posted.map((p) => p.key)).toEqual([
      'run-1:2',
      'run-1:3',
      'run-1:4',
      'run-1:5',
      'run-1:6',
    ]);
  });

  it('a 5xx left after the retries stops the run (the row may be registered); a refused key too', async () => {
    const five = await setup(6, (phone, n) =>
      n === 2 ? answer(503, { message: 'Service Unavailable' }, true) : registered(phone),
    );
    const r1 = await importVolunteers(five.api, five.file, { concurrency: 1 });
    expect(r1.failed).toEqual([expect.objectContaining({ line: 3, maybeApplied: true })]);
    expect(r1.notAttempted.map((r) => r.line)).toEqual([4, 5, 6, 7]);

    const key = await setup(3, () =>
      answer(401, { error: { code: 'unauthorized', message: 'bad key' } }),
    );
    const r2 = await importVolunteers(key.api, key.file, { concurrency: 1 });
    expect(r2.failed).toEqual([expect.objectContaining({ line: 2, maybeApplied: false })]);
    expect(r2.stopped).toBe('line 2: 401 unauthorized: bad key');
    expect(r2.notAttempted).toHaveLength(2);
  });

  it('a token that cannot be saved stops the run; the registration stays in the report', async () => {
    const { file, api } = await setup(5, (phone) => registered(phone));
    const report = await importVolunteers(api, file, {
      concurrency: 1,
      onRegistered: (r) => {
        if (r.line === 3) throw new Error('disk full');
      },
    });
    expect(report.imported.map((r) => r.line)).toEqual([2, 3]);
    expect(report.stopped).toBe('line 3: disk full');
    expect(report.notAttempted.map((r) => r.line)).toEqual([4, 5, 6]);
  });

  it('names the volunteer of an already registered phone, and one found after a retry of its own', async () => {
    const { file, api } = await setup(2, (_phone, n) =>
      answer(
        409,
        { error: { code: 'volunteer_exists', message: 'phone: …', volunteerId: `vol_${n}` } },
        n === 2,
      ),
    );
    const report = await importVolunteers(api, file, { concurrency: 1 });
    expect(report.known).toEqual([
      { line: 2, phone: expect.any(String), volunteerId: 'vol_1' },
      { line: 3, phone: expect.any(String), volunteerId: 'vol_2', afterRetry: true },
    ]);
    expect(report.stopped).toBeUndefined();
  });

  it('prints lines as ranges', () => {
    expect(lineRanges([7, 2, 3, 4, 9, 10])).toBe('2-4, 7, 9-10');
    expect(lineRanges([5])).toBe('5');
  });
});

describe('ops command line: --grace-minutes', () => {
  const run = async (...argv: string[]) => {
    const err: string[] = [];
    const calls: string[] = [];
    const io = {
      out: () => {},
      err: (t: string) => err.push(t),
      env: {},
      fetch: (async (url: string) => {
        calls.push(String(url));
        return new Response('{}', { status: 500 });
      }) as typeof fetch,
    };
    return { code: await main(argv, io), err: err.join(''), calls };
  };

  it('refuses a grace that is not a whole number of minutes, for partners and volunteers, calling nothing', async () => {
    for (const argv of [
      ['partner', 'rotate', 'ptn_x', '--grace-minutes', 'soon'],
      ['volunteers', 'token', 'vol_x', '--grace-minutes', '1.5'],
    ]) {
      const { code, err, calls } = await run(...argv);
      expect(code).toBe(2);
      expect(err).toBe('--grace-minutes: a whole number of minutes\n');
      expect(calls).toEqual([]);
    }
  });
});
