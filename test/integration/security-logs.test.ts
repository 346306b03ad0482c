/**
 * Per-partner rate limit (429) and personal data in logs: with logging on (INFO), a whole
 * lifecycle, including failures that log errors, never prints a full phone number, an
 * address or a requester's name; nor does an error that quotes the number (SNS refusing
 * one); every line of stdout and stderr is captured.
 */
import {
  InvalidParameterException,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-sns';
import type { InitializeMiddleware } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sns } from '../../shared/clients/sns.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

const LIMIT = 3;
let stack: TestStack;
const captured: string[] = [];
const originals = { out: process.stdout.write, err: process.stderr.write };

function capture() {
  const tap =
    (stream: NodeJS.WriteStream, original: typeof process.stdout.write) =>
    (chunk: unknown, ...rest: unknown[]) => {
      captured.push(
        typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString(),
      );
      return (original as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
    };
  process.stdout.write = tap(process.stdout, originals.out) as typeof process.stdout.write;
  process.stderr.write = tap(process.stderr, originals.err) as typeof process.stderr.write;
}

beforeAll(async () => {
  capture();
  stack = await startTestStack(
    { rateLimits: { partnerRequestsPerMinute: LIMIT } },
    { log: (line) => captured.push(line) },
  );
  // The stack sets WARN unless `log: true`; INFO here so every info line is checked too.
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
});
afterAll(async () => {
  await stack?.stop();
  process.stdout.write = originals.out;
  process.stderr.write = originals.err;
});

const partner = async () =>
  (await stack.api('POST', '/v1/partners', { key: stack.opsKey, body: { name: 'p' } })).body
    .apiKey as string;

const REQUESTER_PHONE = '+8613700137777';
const VOLUNTEER_PHONE = '+8613900139999';
const ADDRESS = '西湖社区翠柳苑7号楼3单元402';
const NAME = '赵奶奶';

const body = () => ({
  kind: 'groceries',
  communityId: 'west-lake',
  address: ADDRESS,
  requester: { name: NAME, phone: REQUESTER_PHONE },
});

describe('per-partner rate limit', () => {
  it(`the ${LIMIT + 1}th request in a minute is 429; another partner is not limited`, async () => {
    const a = await partner();
    const b = await partner();
    const statuses: number[] = [];
    for (let i = 0; i <= LIMIT; i++) {
      const res = await stack.api('POST', '/v1/requests', {
        key: a,
        body: { ...body(), address: `${ADDRESS}-${i}` },
        headers: { 'idempotency-key': `rl-${i}` },
      });
      statuses.push(res.status);
      if (res.status === 429) expect(res.body.error.code).toBe('rate_limited');
    }
    // A minute boundary in the middle could reset the window once.
    expect(statuses.filter((s) => s === 202).length).toBeGreaterThanOrEqual(LIMIT);
    expect(statuses.filter((s) => s === 202).length).toBeLessThanOrEqual(LIMIT + 1);
    const other = await stack.api('POST', '/v1/requests', {
      key: b,
      body: body(),
      headers: { 'idempotency-key': 'rl-b' },
    });
    expect(other.status).toBe(202);
  });
});

describe('logs never show personal data', () => {
  it('a lifecycle with failures logs no full phone number, address or requester name', async () => {
    const key = await partner();
    const v = await stack.api('POST', '/v1/volunteers', {
      key: stack.opsKey,
      body: { name: '钱志愿', phone: VOLUNTEER_PHONE, communityId: 'west-lake' },
    });
    expect(v.status).toBe(201);
    stack.outbox.failNext(2, 'sms'); // failures log their error
    const posted = await stack.api('POST', '/v1/requests', {
      key,
      body: body(),
      headers: { 'idempotency-key': 'logs-1' },
    });
    expect(posted.status).toBe(202);
    const id = posted.body.requestId;
    const offer = await stack.waitFor(async () => {
      const r = await stack.api('GET', '/v1/volunteers/me/offers', { key: v.body.token });
      return r.body.offers.find((o: { requestId: string }) => o.requestId === id);
    });
    const acc = await stack.api('POST', `/v1/offers/${offer.offerId}/accept`, {
      key: v.body.token,
    });
    expect(acc.status).toBe(200);
    // A bad body logs nothing personal either.
    await stack.api('POST', '/v1/requests', {
      key,
      body: { ...body(), requester: { name: NAME, phone: 'x' } },
      headers: { 'idempotency-key': 'logs-bad' },
    });
    const done = await stack.api('POST', `/v1/tasks/${acc.body.taskId}/delivered`, {
      key: v.body.token,
      body: { note: '放门口' },
    });
    expect(done.status).toBe(200);
    expect((await stack.api('POST', `/v1/requests/${id}/confirm`, { key })).status).toBe(200);
    await stack.waitFor(() => stack.outbox().filter((n) => n.to === REQUESTER_PHONE).length >= 2);
    await new Promise((r) => setTimeout(r, 1500));

    const all = captured.join('\n');
    expect(all.length).toBeGreaterThan(1000); // logging really was on
    expect(all).toContain('****'); // masked numbers are there
    for (const secret of [
      REQUESTER_PHONE,
      VOLUNTEER_PHONE,
      ADDRESS,
      NAME,
      '13700137777',
      '13900139999',
    ]) {
      expect(all, secret).not.toContain(secret);
    }
  });

  it('an offer accepted by SMS: the reply with address, name and phone is logged masked', async () => {
    const key = await partner();
    const phone = '+8613900139998';
    const v = await stack.api('POST', '/v1/volunteers', {
      key: stack.opsKey,
      body: { name: '孙志愿', phone, communityId: 'west-lake', skills: ['logs-sms'] },
    });
    expect(v.status).toBe(201);
    const posted = await stack.api('POST', '/v1/requests', {
      key,
      body: { ...body(), skills: ['logs-sms'] },
      headers: { 'idempotency-key': 'logs-sms' },
    });
    expect(posted.status).toBe(202);
    const offer = await stack.waitFor(() =>
      stack.outbox().find((n) => n.to === phone && /“1 [A-Z2-9]{4}”/.test(n.message)),
    );
    await stack.local.receiveSms(phone, `1 ${/“1 ([A-Z2-9]{4})”/.exec(offer.message)![1]}`);
    const accepted = await stack.waitFor(() =>
      stack.outbox().find((n) => n.to === phone && n.message.includes('接单成功')),
    );
    // The outbox keeps the text (GET /local/outbox); its log line does not.
    expect(accepted.message).toContain(ADDRESS);
    const line = await stack.waitFor(() =>
      captured.find((l) => l.includes('[outbox]') && l.includes('接单成功')),
    );
    expect(line).toContain(`<address ${ADDRESS.length} chars>`);
    const all = captured.join('\n');
    for (const secret of [ADDRESS, NAME, '孙志愿', REQUESTER_PHONE, '13700137777', '13900139998']) {
      expect(all, secret).not.toContain(secret);
    }
  });

  it('an error quoting the number SNS refused is logged with the number masked', async () => {
    // SNS refuses some numbers with an error that quotes them: answered so before the outbox.
    const from = captured.length;
    const refuse: InitializeMiddleware<ServiceInputTypes, ServiceOutputTypes> =
      (next, context) => async (args) => {
        const input = args.input as { PhoneNumber?: string };
        if (context.commandName === 'PublishCommand' && input.PhoneNumber === REQUESTER_PHONE) {
          throw new InvalidParameterException({
            message: `Invalid parameter: PhoneNumber Reason: ${REQUESTER_PHONE} is not valid to publish to`,
            $metadata: { httpStatusCode: 400 },
          });
        }
        return next(args);
      };
    sns.middlewareStack.addRelativeTo(refuse, {
      relation: 'before',
      toMiddleware: 'localStackOutbox',
      name: 'refuseNumber',
    });
    try {
      // A text nobody understands: its reply goes to the number, and SNS refuses it.
      await stack.local.receiveSms(REQUESTER_PHONE, 'hello');
      const failed = await stack.waitFor(() =>
        captured.slice(from).find((l) => l.includes('InvalidParameterException')),
      );
      expect(failed).toContain('record failed');
      expect(failed).toContain('Reason: +86137****7777 is not valid');
    } finally {
      sns.middlewareStack.remove('refuseNumber');
    }
    const all = captured.join('\n');
    for (const secret of [REQUESTER_PHONE, '13700137777']) {
      expect(all, secret).not.toContain(secret);
    }
  });
});
