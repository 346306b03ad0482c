import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { principals } from '../../shared/adapters/principals.ts';
import { hashSecret } from '../../shared/ids.ts';
import { TtlCache } from '../../shared/ttl-cache.ts';
import { ddb, givenKey, resetAws } from '../fixtures/aws.ts';

describe('TtlCache', () => {
  it('forgets an entry once its time is up', () => {
    let now = 1_000;
    const cache = new TtlCache<string>(30_000, 10, () => now);
    cache.set('h', 'partner');
    now += 29_999;
    expect(cache.get('h')).toBe('partner');
    now += 1;
    expect(cache.get('h')).toBeUndefined();
  });

  it('keeps at most maxEntries, dropping the oldest', () => {
    const cache = new TtlCache<number>(60_000, 2);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([undefined, 2, 3]);
  });

  it('remembers nothing with a time of 0', () => {
    const cache = new TtlCache<number>(0);
    cache.set('a', 1);
    expect(cache.get('a')).toBeUndefined();
  });
});

describe('key lookups in a warm container', () => {
  const KEY = 'pk_live_abc';
  const keyReads = () =>
    ddb.commandCalls(GetCommand).filter((c) => c.args[0].input.Key?.sk === 'KEY').length;

  beforeEach(() => {
    resetAws();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-12-03T08:00:00Z'));
  });
  afterEach(() => vi.useRealTimers());

  it('a partner key is read once, then trusted for 30 s, then read again', async () => {
    givenKey(KEY, 'partner', 'ptn_1');
    expect(await principals.resolve(KEY)).toEqual({ kind: 'partner', id: 'ptn_1' });
    expect(await principals.resolve(KEY)).toEqual({ kind: 'partner', id: 'ptn_1' });
    expect(keyReads()).toBe(1);
    vi.setSystemTime(new Date('2026-12-03T08:00:30Z'));
    await principals.resolve(KEY);
    expect(keyReads()).toBe(2);
  });

  it('an unknown key is read on every call (a key issued a moment ago works at once)', async () => {
    expect(await principals.resolve(KEY)).toBeUndefined();
    givenKey(KEY, 'volunteer', 'vol_1');
    expect(await principals.resolve(KEY)).toEqual({ kind: 'volunteer', id: 'vol_1' });
    expect(keyReads()).toBe(2);
  });

  it('a remembered key whose grace period ends is refused at its end without a read', async () => {
    ddb.on(GetCommand, { Key: { pk: `KEY#${hashSecret(KEY)}`, sk: 'KEY' } }).resolves({
      Item: { kind: 'partner', principalId: 'ptn_1', revokedAt: '2026-12-03T08:00:10.000Z' },
    });
    expect(await principals.resolve(KEY)).toEqual({ kind: 'partner', id: 'ptn_1' });
    vi.setSystemTime(new Date('2026-12-03T08:00:10Z'));
    expect(await principals.resolve(KEY)).toBeUndefined();
    expect(keyReads()).toBe(1);
  });

  it('a key revoked by this container is refused at once', async () => {
    givenKey(KEY, 'partner', 'ptn_1');
    ddb.on(GetCommand, { Key: { pk: 'PARTNER#ptn_1', sk: 'PARTNER' } }).resolves({
      Item: { partnerId: 'ptn_1', keyHashes: [hashSecret(KEY)] },
    });
    expect(await principals.resolve(KEY)).toBeDefined();
    expect(await principals.revokePartnerKeys('ptn_1', new Date())).toBe(1);
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: `KEY#${hashSecret(KEY)}`, sk: 'KEY' },
    });
    ddb.on(GetCommand, { Key: { pk: `KEY#${hashSecret(KEY)}`, sk: 'KEY' } }).resolves({
      Item: { kind: 'partner', principalId: 'ptn_1', revokedAt: new Date().toISOString() },
    });
    expect(await principals.resolve(KEY)).toBeUndefined();
    expect(keyReads()).toBe(2);
  });
});
