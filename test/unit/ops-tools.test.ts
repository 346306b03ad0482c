import { describe, expect, it } from 'vitest';
import { checkCsv, maskPhoneValue, normalizePhone } from '../../scripts/ops/import.ts';
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
