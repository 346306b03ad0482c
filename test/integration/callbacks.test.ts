/**
 * Partner callbacks on the local stack: a partner registers a URL, every status change of
 * its requests is POSTed there signed with its secret, failures are retried with backoff,
 * and no partner ever receives another's changes. The receivers are local HTTP servers
 * that verify each signature and fail the first attempts on purpose.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EVENT_ID_HEADER,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifyCallback,
} from '../../shared/domain/signature.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

interface Received {
  eventId: string;
  requestId: string;
  status: string;
  attempt: number;
  verified: boolean;
  at: number;
}

interface Receiver {
  url: string;
  secret: string;
  /** 2xx answers, in order. */
  accepted: Received[];
  /** Every POST, failed ones too. */
  all: Received[];
  failFirst: number;
  close(): Promise<void>;
}

async function receiver(failFirst = 0): Promise<Receiver> {
  const r: Receiver = {
    url: '',
    secret: '',
    accepted: [],
    all: [],
    failFirst,
    close: async () => {},
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const parsed = JSON.parse(body);
      const got: Received = {
        eventId: String(req.headers[EVENT_ID_HEADER]),
        requestId: parsed.requestId,
        status: parsed.status,
        attempt: parsed.attempt,
        verified: verifyCallback(
          r.secret,
          String(req.headers[TIMESTAMP_HEADER]),
          body,
          String(req.headers[SIGNATURE_HEADER]),
        ),
        at: Date.now(),
      };
      r.all.push(got);
      if (r.all.length <= r.failFirst || !got.verified) {
        res.writeHead(503).end();
        return;
      }
      r.accepted.push(got);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/dispatch`;
  r.close = () => new Promise((resolve) => server.close(() => resolve()));
  return r;
}

let stack: TestStack;
const receivers: Receiver[] = [];

beforeAll(async () => {
  stack = await startTestStack({ callbacks: { retryBaseSeconds: 1, maxAttempts: 5 } });
});
afterAll(async () => {
  await stack?.stop();
  for (const r of receivers) await r.close();
});

let seq = 0;
const newPhone = () =>
  `+86135${String(Date.now() % 100000).padStart(5, '0')}${String(seq++).padStart(3, '0')}`;

async function partnerWithCallback(failFirst = 0) {
  const created = await stack.api('POST', '/v1/partners', {
    key: stack.opsKey,
    body: { name: `回调${seq++}` },
  });
  const key = created.body.apiKey as string;
  const r = await receiver(failFirst);
  receivers.push(r);
  const set = await stack.api('PUT', '/v1/partners/me/callback', { key, body: { url: r.url } });
  expect(set.status).toBe(200);
  expect(set.body.url).toBe(r.url);
  expect(set.body.secret).toMatch(/^whsec_/);
  r.secret = set.body.secret;
  return { key, r };
}

async function volunteer(skill: string) {
  const res = await stack.api('POST', '/v1/volunteers', {
    key: stack.opsKey,
    body: { name: '回调志愿者', phone: newPhone(), communityId: 'west-lake', skills: [skill] },
  });
  expect(res.status).toBe(201);
  return res.body as { volunteerId: string; token: string };
}

async function post(key: string, skill: string) {
  const res = await stack.api('POST', '/v1/requests', {
    key,
    headers: { 'idempotency-key': `cb-${seq++}` },
    body: {
      kind: 'meal',
      communityId: 'west-lake',
      address: '西湖小区2号楼',
      requester: { name: '赵阿姨', phone: newPhone() },
      skills: [skill],
    },
  });
  expect(res.status).toBe(202);
  return res.body.requestId as string;
}

describe('partner callbacks', () => {
  it('registering: partners only, a URL, a new secret each time', async () => {
    const bad = await stack.api('PUT', '/v1/partners/me/callback', {
      key: stack.opsKey,
      body: { url: 'https://example.org/hook' },
    });
    expect(bad.status).toBe(403);
    const { key } = await partnerWithCallback();
    const notUrl = await stack.api('PUT', '/v1/partners/me/callback', {
      key,
      body: { url: 'not a url' },
    });
    expect(notUrl.status).toBe(400);
    expect(notUrl.body.error.message).toMatch(/^url/);
    const a = await stack.api('PUT', '/v1/partners/me/callback', {
      key,
      body: { url: 'https://example.org/a' },
    });
    const b = await stack.api('PUT', '/v1/partners/me/callback', {
      key,
      body: { url: 'https://example.org/a' },
    });
    expect(a.body.secret).not.toBe(b.body.secret);
  });

  it('every status change reaches its own partner, signed, retried after failures; never another partner', async () => {
    const a = await partnerWithCallback(2); // fails the first two POSTs
    const b = await partnerWithCallback();
    const skill = `cb-${Date.now() % 100000}`;
    const v = await volunteer(skill);

    // A's request: matched → delivered → confirmed.
    const ra = await post(a.key, skill);
    const offer = await stack.waitFor(async () => {
      const res = await stack.api('GET', '/v1/volunteers/me/offers', { key: v.token });
      return (res.body.offers as { offerId: string; requestId: string }[]).find(
        (o) => o.requestId === ra,
      );
    });
    const task = await stack.api('POST', `/v1/offers/${offer.offerId}/accept`, { key: v.token });
    expect(task.status).toBe(200);
    await stack.waitFor(() => a.r.accepted.some((e) => e.status === 'matched'), {
      timeoutMs: 20_000,
    });
    const done = await stack.api('POST', `/v1/tasks/${task.body.taskId}/delivered`, {
      key: v.token,
    });
    expect(done.status).toBe(200);
    await stack.waitFor(() => a.r.accepted.some((e) => e.status === 'delivered'), {
      timeoutMs: 20_000,
    });
    expect((await stack.api('POST', `/v1/requests/${ra}/confirm`, { key: a.key })).status).toBe(
      200,
    );

    // B's request: cancelled.
    const rb = await post(b.key, `${skill}-nobody`);
    expect((await stack.api('POST', `/v1/requests/${rb}/cancel`, { key: b.key })).status).toBe(200);

    await stack.waitFor(
      () =>
        a.r.accepted.some((e) => e.status === 'confirmed') &&
        b.r.accepted.some((e) => e.status === 'cancelled'),
      { timeoutMs: 20_000 },
    );
    await new Promise((r) => setTimeout(r, 1500));

    // Each status once, in order, all signed with the partner's own secret.
    expect(a.r.accepted.map((e) => e.status)).toEqual(['matched', 'delivered', 'confirmed']);
    expect(a.r.accepted.map((e) => e.eventId)).toEqual([
      `${ra}:matched`,
      `${ra}:delivered`,
      `${ra}:confirmed`,
    ]);
    expect(a.r.all.every((e) => e.verified)).toBe(true);
    // The first two POSTs failed; the same event came again with a higher attempt, later.
    expect(a.r.all).toHaveLength(5);
    expect(a.r.all.slice(0, 3).map((e) => [e.status, e.attempt])).toEqual([
      ['matched', 1],
      ['matched', 2],
      ['matched', 3],
    ]);
    expect(a.r.all[1].at - a.r.all[0].at).toBeGreaterThanOrEqual(900);
    expect(a.r.all[2].at - a.r.all[1].at).toBeGreaterThanOrEqual(1900);

    expect(b.r.all.map((e) => [e.requestId, e.status])).toEqual([[rb, 'cancelled']]);
    expect(a.r.all.some((e) => e.requestId === rb)).toBe(false);
    expect(b.r.all.every((e) => e.verified)).toBe(true);
    // The secret of one partner does not verify the other's callbacks.
    expect(a.r.secret).not.toBe(b.r.secret);
  }, 60_000);
});
