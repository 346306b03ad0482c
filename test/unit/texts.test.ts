import { describe, expect, it } from 'vitest';
import { KINDS, LANGUAGES, TEMPLATE_NAMES } from '../../shared/district.ts';
import { renderText, smsPartLength } from '../../shared/domain/texts.ts';
import { inQuietHours } from '../../shared/domain/volunteer.ts';
import { parseReply } from '../../shared/services/inbound.ts';

/** The longest values an event fills in: an 8-character community name, a long name. */
const params = (kind: string, via: string) => ({
  community: '定海园二里社区北',
  kind,
  kindLabel: '',
  minutes: 15,
  code: 'K7PQ',
  volunteerName: '欧阳志愿者',
  address: '东园小区3号楼2单元501',
  name: '王奶奶',
  phone: '+8613800138000',
  reason: '已被他人接单',
  via,
});

describe('templates', () => {
  const cases = LANGUAGES.flatMap((lang) =>
    TEMPLATE_NAMES.filter((t) => t !== 'reply_accepted').flatMap((t) =>
      KINDS.flatMap((k) => ['sms', 'push'].map((via) => [lang, t, k, via] as const)),
    ),
  );

  it.each(cases)('%s %s (%s, by %s) fits one SMS part', (lang, template, kind, via) => {
    const text = renderText(template, params(kind, via), lang);
    expect(text.length).toBeLessThanOrEqual(smsPartLength(text));
    expect(text).not.toMatch(/undefined|\{|\}/);
    if (template === 'offer') expect(text).not.toContain('东园小区');
  });

  it('Chinese texts are 70-character parts, plain ASCII English 160', () => {
    expect(smsPartLength('abc')).toBe(160);
    expect(smsPartLength('【社区志愿】')).toBe(70);
  });

  it('an offer by SMS carries its reply code; by push it asks to open the app', () => {
    expect(renderText('offer', params('medicine', 'sms'))).toContain(
      '回复“1 K7PQ”接单，“0 K7PQ”不接',
    );
    expect(renderText('offer', params('medicine', 'push'))).toContain('打开应用接单');
    expect(renderText('offer', params('medicine', 'sms'), 'en')).toBe(
      '[Vol] medicine, 定海园二里社区北: reply 1 K7PQ to take, 0 K7PQ to pass, 15min',
    );
  });

  it('a district’s own text replaces the built-in one, with {param} filled', () => {
    const text = renderText('offer_withdrawn', params('meal', 'sms'), 'zh-CN', {
      'zh-CN': { offer_withdrawn: '{community}{kindLabel}已满员{missing}' },
    });
    expect(text).toBe('定海园二里社区北送餐已满员{missing}');
  });
});

describe('quiet hours', () => {
  // 23:30 in Beijing (UTC+8) is 15:30 UTC.
  const at = (utc: string) => new Date(`2026-11-23T${utc}:00Z`);
  const night = { start: '22:00', end: '07:00' };

  it.each([
    ['15:30', night, true],
    ['22:59', night, true],
    ['23:00', night, false],
    ['13:59', night, false],
    ['14:00', night, true],
    ['04:00', { start: '12:00', end: '13:00' }, true],
    ['05:00', { start: '12:00', end: '13:00' }, false],
    ['05:00', { start: '08:00', end: '08:00' }, false],
  ])('at %s UTC, quiet %o: %s', (utc, quiet, expected) => {
    expect(inQuietHours(quiet, at(utc), 480)).toBe(expected);
  });

  it('no quiet hours, never quiet', () => {
    expect(inQuietHours(undefined, at('15:30'), 480)).toBe(false);
  });
});

describe('reply SMS parsing', () => {
  it.each([
    ['1 K7PQ', { action: '1', code: 'K7PQ' }],
    ['0 k7pq', { action: '0', code: 'K7PQ' }],
    ['  9K7PQ ', { action: '9', code: 'K7PQ' }],
    ['１ Ｋ７ＰＱ', { action: '1', code: 'K7PQ' }],
    ['“1 K7PQ”', { action: '1', code: 'K7PQ' }],
    ['1 K7PQ。', { action: '1', code: 'K7PQ' }],
    ['2 K7PQ', undefined],
    ['1 K7P', undefined],
    ['好的', undefined],
    ['1 K7PQ please', undefined],
  ])('%j → %j', (text, expected) => {
    expect(parseReply(text)).toEqual(expected);
  });
});
