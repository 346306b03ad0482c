import '../fixtures/env.ts';
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { PublishCommand } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../functions/receive-sms-webhook.ts';
import {
  PREVIOUS_SECRET_GRACE_MS,
  resetSmsProviderSecrets,
  smsProviderSecrets,
} from '../../shared/adapters/sms-provider-secret.ts';
import { signProviderBody } from '../../shared/domain/signature.ts';
import { logger } from '../../shared/observability.ts';
import { inboundSms } from '../../shared/schemas/messages.ts';
import { resetAws, sns } from '../fixtures/aws.ts';
import { bodyOf, call } from '../fixtures/events.ts';

const INBOUND_TOPIC = 'arn:aws:sns:us-east-1:123456789012:inbound-sms';
const SECRET = 'provider-secret-one';
const PHONE = '+8613800138000';
const secretsManager = mockClient(SecretsManagerClient);

const reply = (extra: Record<string, unknown> = {}) => ({
  from: PHONE,
  text: '1 K7PQ',
  receivedAt: '2026-05-23T08:00:00+08:00',
  ...extra,
});
const now = () => Math.floor(Date.now() / 1000);

/** Calls the webhook with `body` signed by `secret` at `timestamp` (unless headers are given). */
function post(
  body: unknown,
  {
    secret = SECRET,
    timestamp = now(),
    headers,
  }: {
    secret?: string;
    timestamp?: number;
    headers?: Record<string, string>;
  } = {},
) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return call(handler, {
    method: 'POST',
    path: '/v1/sms/replies',
    body: text,
    headers: headers ?? {
      'x-timestamp': String(timestamp),
      'x-signature': signProviderBody(secret, timestamp, text),
    },
  });
}

const publishedToInbound = () =>
  sns
    .commandCalls(PublishCommand)
    .filter((c) => c.args[0].input.TopicArn === INBOUND_TOPIC)
    .map((c) => JSON.parse(c.args[0].input.Message ?? 'null'));

beforeEach(() => {
  resetAws();
  secretsManager.reset();
  resetSmsProviderSecrets();
  process.env.INBOUND_SMS_TOPIC_ARN = INBOUND_TOPIC;
  process.env.SMS_PROVIDER_SECRET = SECRET;
  delete process.env.SMS_PROVIDER_SECRET_ARN;
});
afterEach(() => {
  vi.restoreAllMocks();
  delete process.env.SMS_PROVIDER_SECRET_ARN;
});

describe('POST /v1/sms/replies (receive-sms-webhook)', () => {
  it('publishes a signed reply to the inbound SMS topic in the shape receive-sms reads, 202', async () => {
    const res = await post(reply());

    expect(res.statusCode).toBe(202);
    const { inboundMessageId } = bodyOf(res);
    expect(inboundMessageId).toMatch(/^https-[0-9a-f]{32}$/);
    const messages = publishedToInbound();
    expect(messages).toEqual([
      { originationNumber: PHONE, messageBody: '1 K7PQ', inboundMessageId },
    ]);
    // Exactly what the inbound queue's consumer parses, and nothing else was published.
    expect(inboundSms.parse(messages[0])).toEqual(messages[0]);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
  });

  it('gives a retried reply the same id (receive-sms answers each id once), another reply another', async () => {
    const first = bodyOf(await post(reply())).inboundMessageId;
    const again = bodyOf(await post(reply())).inboundMessageId;
    const other = bodyOf(await post(reply({ text: '0 K7PQ' }))).inboundMessageId;
    expect(again).toBe(first);
    expect(other).not.toBe(first);
  });

  it('checks the signature over the body bytes as sent (base64 bodies too)', async () => {
    const text = JSON.stringify(reply({ text: '１ k7pq' }));
    const timestamp = now();
    const res = await call(handler, {
      method: 'POST',
      path: '/v1/sms/replies',
      body: Buffer.from(text).toString('base64'),
      isBase64Encoded: true,
      headers: {
        'x-timestamp': String(timestamp),
        'x-signature': signProviderBody(SECRET, timestamp, Buffer.from(text)),
      },
    });
    expect(res.statusCode).toBe(202);
    expect(publishedToInbound()[0].messageBody).toBe('１ k7pq');
  });

  const refused: [string, () => Promise<unknown>, RegExp][] = [
    [
      'another secret',
      () => post(reply(), { secret: 'not-the-secret' }),
      /X-Signature: does not match/,
    ],
    [
      'a body other than the one signed',
      async () => {
        const t = now();
        return post(reply({ text: '1 ZZZZ' }), {
          headers: {
            'x-timestamp': String(t),
            'x-signature': signProviderBody(SECRET, t, JSON.stringify(reply())),
          },
        });
      },
      /X-Signature: does not match/,
    ],
    [
      'a timestamp other than the one signed',
      async () => {
        const t = now();
        const text = JSON.stringify(reply());
        return post(text, {
          headers: {
            'x-timestamp': String(t - 1),
            'x-signature': signProviderBody(SECRET, t, text),
          },
        });
      },
      /X-Signature: does not match/,
    ],
    [
      'a stale timestamp (6 minutes old)',
      () => post(reply(), { timestamp: now() - 360 }),
      /X-Timestamp: more than 300 s/,
    ],
    [
      'a timestamp 6 minutes ahead',
      () => post(reply(), { timestamp: now() + 360 }),
      /X-Timestamp: more than 300 s/,
    ],
    ['no headers', () => post(reply(), { headers: {} }), /X-Signature/],
    [
      'no timestamp',
      () =>
        post(reply(), {
          headers: { 'x-signature': signProviderBody(SECRET, now(), JSON.stringify(reply())) },
        }),
      /X-Timestamp/,
    ],
    [
      'a signature without the sha256= prefix',
      async () => {
        const t = now();
        const sig = signProviderBody(SECRET, t, JSON.stringify(reply())).slice('sha256='.length);
        return post(reply(), { headers: { 'x-timestamp': String(t), 'x-signature': sig } });
      },
      /X-Signature/,
    ],
    [
      'a Bearer key instead of a signature',
      () => post(reply(), { headers: { authorization: 'Bearer ops-test-key' } }),
      /X-Signature/,
    ],
  ];
  for (const [what, send, message] of refused) {
    it(`refuses ${what}: 401, nothing published`, async () => {
      // biome-ignore lint/suspicious/noExplicitAny: structured API Gateway result
      const res = (await send()) as any;
      expect(res.statusCode).toBe(401);
      expect(bodyOf(res)).toEqual({
        error: { code: 'unauthorized', message: expect.stringMatching(message) },
      });
      expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
    });
  }

  it('refuses everything when no provider secret is configured', async () => {
    delete process.env.SMS_PROVIDER_SECRET;
    const res = await post(reply(), { secret: '' });
    expect(res.statusCode).toBe(401);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it('checks the signature before reading the body: an unsigned bad body is 401, not 400', async () => {
    const res = await post('{not json', { headers: {} });
    expect(res.statusCode).toBe(401);
  });

  const invalid: [string, unknown, string][] = [
    ['an unknown field', reply({ messageId: 'x' }), 'messageId'],
    ['a phone that is not E.164', reply({ from: '13800138000' }), 'from'],
    ['no text', reply({ text: undefined }), 'text'],
    ['text that is not a string', reply({ text: 1 }), 'text'],
    ['text over 1000 characters', reply({ text: 'x'.repeat(1001) }), 'text'],
    ['no receivedAt', reply({ receivedAt: undefined }), 'receivedAt'],
    ['receivedAt that is not a date-time', reply({ receivedAt: 'yesterday' }), 'receivedAt'],
    ['a JSON array', [reply()], 'body'],
    ['invalid JSON', '{"from":', 'body'],
  ];
  for (const [what, body, field] of invalid) {
    it(`a signed body with ${what} → 400 naming ${field}, nothing published`, async () => {
      const res = await post(body);
      expect(res.statusCode).toBe(400);
      expect(bodyOf(res).error.message.startsWith(`${field}:`)).toBe(true);
      expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
    });
  }

  it('never logs the phone unmasked', async () => {
    const lines: string[] = [];
    for (const level of ['debug', 'info', 'warn', 'error'] as const) {
      vi.spyOn(logger, level).mockImplementation((...args: unknown[]) => {
        lines.push(JSON.stringify(args));
      });
    }
    await post(reply());
    await post(reply({ from: 'x' }));
    expect(lines.join('\n')).toContain('+86138****8000');
    expect(lines.join('\n')).not.toContain('13800138000');
  });

  it('answers 500 (the provider retries) when the topic cannot be reached', async () => {
    sns.on(PublishCommand).rejects(new Error('SNS down'));
    vi.spyOn(logger, 'error').mockImplementation(() => {});
    const res = await post(reply());
    expect(res.statusCode).toBe(500);
    expect(bodyOf(res).error.code).toBe('internal');
  });
});

describe('the SMS provider secret on AWS (Secrets Manager)', () => {
  const ARN = 'arn:aws:secretsmanager:cn-north-1:123456789012:secret:sms-provider';
  beforeEach(() => {
    process.env.SMS_PROVIDER_SECRET_ARN = ARN;
    delete process.env.SMS_PROVIDER_SECRET;
  });

  const given = (current: string, rotatedAgoMs: number, previous?: string) => {
    secretsManager
      .on(GetSecretValueCommand, { SecretId: ARN })
      .resolves({ SecretString: `${current}\n`, CreatedDate: new Date(Date.now() - rotatedAgoMs) });
    secretsManager
      .on(GetSecretValueCommand, { SecretId: ARN, VersionStage: 'AWSPREVIOUS' })
      .callsFake(async () => {
        if (previous) return { SecretString: previous };
        throw new ResourceNotFoundException({ message: 'no AWSPREVIOUS', $metadata: {} });
      });
  };

  it('reads the current value (trimmed); a never-rotated secret has no previous one', async () => {
    given('current-secret', 60_000);
    expect(await smsProviderSecrets()).toEqual(['current-secret']);
  });

  it('accepts the previous value for an hour after a rotation, then only the current one', async () => {
    given('new-secret', 60_000, 'old-secret');
    expect(await smsProviderSecrets()).toEqual(['new-secret', 'old-secret']);
    resetSmsProviderSecrets();
    given('new-secret', PREVIOUS_SECRET_GRACE_MS + 1000, 'old-secret');
    expect(await smsProviderSecrets()).toEqual(['new-secret']);
  });

  it('signatures with the previous value pass during the grace hour', async () => {
    given('new-secret', 60_000, SECRET);
    const res = await post(reply());
    expect(res.statusCode).toBe(202);
  });

  it('reads the secret once per 5 minutes, and again after a failed read', async () => {
    given('s', PREVIOUS_SECRET_GRACE_MS * 2);
    const t = Date.now();
    await smsProviderSecrets(t);
    await smsProviderSecrets(t + 60_000);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    await smsProviderSecrets(t + 6 * 60_000);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);

    resetSmsProviderSecrets();
    secretsManager.reset();
    secretsManager
      .on(GetSecretValueCommand)
      .rejectsOnce(new Error('throttled'))
      .resolves({
        SecretString: 'later',
        CreatedDate: new Date(0),
      });
    await expect(smsProviderSecrets(t)).rejects.toThrow('throttled');
    expect(await smsProviderSecrets(t + 1)).toEqual(['later']);
  });
});
