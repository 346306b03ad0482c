import { createHmac } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { callbacks } from '../../shared/adapters/callbacks.ts';
import { signCallback, verifyCallback } from '../../shared/domain/signature.ts';
import { backoffSeconds, callbackFor } from '../../shared/services/callbacks.ts';
import { ddb, resetAws } from '../fixtures/aws.ts';

describe('callback signatures', () => {
  const body = '{"eventId":"req_x:matched","status":"matched"}';
  const t = 1_700_000_000;

  it('is HMAC-SHA256 of "<timestamp>.<body>" with the partner secret, hex, v1=', () => {
    const expected = createHmac('sha256', 'whsec_a').update(`${t}.${body}`).digest('hex');
    expect(signCallback('whsec_a', t, body)).toBe(`v1=${expected}`);
  });

  it('verifies with the right secret, body and time only', () => {
    const sig = signCallback('whsec_a', t, body);
    expect(verifyCallback('whsec_a', String(t), body, sig, t + 10)).toBe(true);
    expect(verifyCallback('whsec_b', String(t), body, sig, t + 10)).toBe(false);
    expect(verifyCallback('whsec_a', String(t), `${body} `, sig, t + 10)).toBe(false);
    expect(verifyCallback('whsec_a', String(t + 1), body, sig, t + 10)).toBe(false);
    expect(verifyCallback('whsec_a', String(t), body, sig, t + 301)).toBe(false);
    expect(verifyCallback('whsec_a', 'soon', body, sig, t)).toBe(false);
    expect(verifyCallback('whsec_a', String(t), body, 'v1=00', t)).toBe(false);
  });
});

describe('callback retries and statuses', () => {
  it('backs off exponentially from the base, at most 900 s (the SQS delay limit)', () => {
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffSeconds(a, 30))).toEqual([
      30, 60, 120, 240, 480, 900,
    ]);
  });

  it('tells partners every status after received', () => {
    for (const s of ['matched', 'delivered', 'confirmed', 'cancelled', 'expired']) {
      expect(callbackFor('req_x', s, 'now')).toEqual([
        { requestId: 'req_x', status: s, at: 'now', attempt: 1 },
      ]);
    }
    expect(callbackFor('req_x', 'received', 'now')).toEqual([]);
  });
});

describe('whether a partner has a callback, asked at every status change', () => {
  const partnerReads = () =>
    ddb.commandCalls(GetCommand).filter((c) => c.args[0].input.Key?.sk === 'PARTNER').length;
  beforeEach(() => resetAws());

  it('is read once per container and 30 s, with or without a callback', async () => {
    expect(await callbacks.configured('ptn_a')).toBe(false);
    expect(await callbacks.configured('ptn_a')).toBe(false);
    expect(partnerReads()).toBe(1);
  });

  it('a callback set through this container counts at once', async () => {
    expect(await callbacks.configured('ptn_a')).toBe(false);
    expect(
      await callbacks.set('ptn_a', { url: 'https://a.example/cb', secret: 's', updatedAt: 't' }),
    ).toBe(true);
    ddb.on(GetCommand, { Key: { pk: 'PARTNER#ptn_a', sk: 'PARTNER' } }).resolves({
      Item: { callback: { url: 'https://a.example/cb', secret: 's', updatedAt: 't' } },
    });
    expect(await callbacks.configured('ptn_a')).toBe(true);
    expect(partnerReads()).toBe(2);
  });
});
