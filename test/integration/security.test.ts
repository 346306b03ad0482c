/**
 * Security on the real local stack: a key is checked on every route, each principal sees
 * only its own objects (anything else is 404), bodies over 64 KiB are 413, validation is
 * strict and names the field, and personal data carries its TTL.
 */
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../shared/resources.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

const RETENTION_DAYS = 7;
let stack: TestStack;
let ops: string;
let partnerA: string;
let partnerB: string;
let volA: { id: string; token: string };
let volB: { id: string; token: string };
let requestId: string;

let seq = 0;
const phone = () =>
  `+86135${String(Date.now() % 100000).padStart(5, '0')}${String(seq++).padStart(3, '0')}`;

const body = (extra: Record<string, unknown> = {}) => ({
  kind: 'medicine',
  communityId: 'east-garden',
  address: '东园小区9号楼1单元101',
  requester: { name: '李爷爷', phone: '+8613800138123' },
  ...extra,
});

const post = (key: string, b: unknown, idem = `sec-${seq++}`) =>
  stack.api('POST', '/v1/requests', { key, body: b, headers: { 'idempotency-key': idem } });

beforeAll(async () => {
  stack = await startTestStack({ retentionDays: RETENTION_DAYS });
  ops = stack.opsKey;
  const partner = async () =>
    (await stack.api('POST', '/v1/partners', { key: ops, body: { name: 'p' } })).body.apiKey;
  partnerA = await partner();
  partnerB = await partner();
  const volunteer = async () => {
    const r = await stack.api('POST', '/v1/volunteers', {
      key: ops,
      body: { name: '志愿者', phone: phone(), communityId: 'east-garden' },
    });
    return { id: r.body.volunteerId as string, token: r.body.token as string };
  };
  volA = await volunteer();
  volB = await volunteer();
  const posted = await post(partnerA, body());
  expect(posted.status).toBe(202);
  requestId = posted.body.requestId;
});
afterAll(() => stack?.stop());

const pathOf = (template: string) =>
  template.replace(/\{(\w+)\}/g, (_, name: string) => `${name}-does-not-exist`);

const errorShape = (res: { body: unknown }) =>
  expect(res.body).toEqual({
    error: { code: expect.stringMatching(/^[a-z][a-z0-9_]*$/), message: expect.any(String) },
  });

describe('keys on every route', () => {
  for (const route of ROUTES) {
    if (route.who.includes('anyone')) {
      it(`${route.method} ${route.path} needs no key`, async () => {
        const res = await stack.api(route.method, pathOf(route.path));
        expect(res.status).toBe(200);
      });
      continue;
    }
    it(`${route.method} ${route.path}: no key, a bad key, a malformed header → 401; wrong kind → 403`, async () => {
      const path = pathOf(route.path);
      const payload = route.method === 'GET' ? undefined : {};
      const attempts: Record<string, string>[] = [
        {},
        { authorization: 'Bearer not-a-key' },
        { authorization: `Basic ${ops}` },
        { authorization: 'Bearer' },
      ];
      for (const headers of attempts) {
        const res = await stack.api(route.method, path, { headers, body: payload });
        expect(res.status, JSON.stringify(headers)).toBe(401);
        errorShape(res);
      }
      const keys = { ops, partner: partnerA, volunteer: volA.token } as const;
      for (const kind of ['ops', 'partner', 'volunteer'] as const) {
        if (route.who.includes(kind)) continue;
        const res = await stack.api(route.method, path, { key: keys[kind], body: payload });
        // The SMS provider's webhook takes a body signature, never a key: any key is 401.
        expect(res.status, kind).toBe(route.who.includes('sms-provider') ? 401 : 403);
        errorShape(res);
      }
    });
  }
});

describe('object-level authorization: anything not yours is 404', () => {
  it('a partner sees, cancels and confirms only its own requests', async () => {
    expect((await stack.api('GET', `/v1/requests/${requestId}`, { key: partnerA })).status).toBe(
      200,
    );
    for (const [method, path] of [
      ['GET', `/v1/requests/${requestId}`],
      ['POST', `/v1/requests/${requestId}/cancel`],
      ['POST', `/v1/requests/${requestId}/confirm`],
      ['GET', '/v1/requests/req_nope'],
    ] as const) {
      const res = await stack.api(method, path, { key: partnerB });
      expect(res.status, `${method} ${path}`).toBe(404);
      errorShape(res);
    }
    // Still received: partner B's cancel did nothing.
    const r = await stack.api('GET', `/v1/requests/${requestId}`, { key: partnerA });
    expect(r.body.status).toBe('received');
  });

  it('a volunteer acts only on its own offers and tasks, and updates only itself', async () => {
    const offers = await stack.waitFor(async () => {
      const res = await stack.api('GET', '/v1/volunteers/me/offers', { key: volA.token });
      return res.body.offers.find((o: { requestId: string }) => o.requestId === requestId);
    });
    const mine = await stack.api('GET', '/v1/volunteers/me/offers', { key: volB.token });
    for (const o of mine.body.offers) expect(o.offerId).not.toBe(offers.offerId);
    for (const path of [
      `/v1/offers/${offers.offerId}/accept`,
      `/v1/offers/${offers.offerId}/decline`,
      `/v1/offers/off_nope_nope/accept`,
    ]) {
      const res = await stack.api('POST', path, { key: volB.token });
      expect(res.status, path).toBe(404);
      errorShape(res);
    }
    const patch = await stack.api('PATCH', `/v1/volunteers/${volA.id}`, {
      key: volB.token,
      body: { onDuty: false },
    });
    expect(patch.status).toBe(404);

    const accepted = await stack.api('POST', `/v1/offers/${offers.offerId}/accept`, {
      key: volA.token,
    });
    expect(accepted.status).toBe(200);
    const stolen = await stack.api('POST', `/v1/tasks/${accepted.body.taskId}/delivered`, {
      key: volB.token,
      body: {},
    });
    expect(stolen.status).toBe(404);
    // The offers list never shows the address or the requester.
    const list = await stack.api('GET', '/v1/volunteers/me/offers', { key: volB.token });
    expect(JSON.stringify(list.body)).not.toMatch(/东园小区|13800138123|李爷爷/);
  });
});

describe('bodies', () => {
  it('over 64 KiB is 413, on every route that takes a body', async () => {
    const big = { ...body(), notes: 'x'.repeat(65 * 1024) };
    const res = await post(partnerA, big);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
    for (const route of ROUTES.filter((r) => r.method !== 'GET' && r.who.includes('ops'))) {
      const r = await stack.api(route.method, pathOf(route.path), { key: ops, body: big });
      // 404 only on routes that take no body and look their object up first.
      expect([413, 404], `${route.method} ${route.path}`).toContain(r.status);
    }
  });

  const cases: [string, unknown, string][] = [
    ['unknown field', { ...body(), admin: true }, 'admin'],
    [
      'unknown nested field',
      { ...body(), requester: { name: 'a', phone: '+8613800138000', x: 1 } },
      'requester',
    ],
    ['wrong type', { ...body(), slots: '2' }, 'slots'],
    ['slots out of range', { ...body(), slots: 51 }, 'slots'],
    ['slots zero', { ...body(), slots: 0 }, 'slots'],
    ['slots not an integer', { ...body(), slots: 1.5 }, 'slots'],
    ['bad phone', { ...body(), requester: { name: 'a', phone: '13800138000' } }, 'requester.phone'],
    ['unknown kind', { ...body(), kind: 'pizza' }, 'kind'],
    ['unknown community', { ...body(), communityId: 'atlantis' }, 'communityId'],
    ['latitude out of range', { ...body(), location: { lat: 91, lon: 0 } }, 'location.lat'],
    ['missing address', { ...body(), address: undefined }, 'address'],
    [
      'window already ended',
      { ...body(), window: { start: '2020-01-01T00:00:00Z', end: '2020-01-02T00:00:00Z' } },
      'window.end',
    ],
    ['not an object', [1, 2], 'body'],
  ];
  for (const [what, b, field] of cases) {
    it(`${what} → 400 naming ${field}`, async () => {
      const res = await post(partnerA, b);
      expect(res.status).toBe(400);
      errorShape(res);
      expect(res.body.error.message).toContain(field);
    });
  }

  it('register volunteer: bad phone, unknown community, capacity out of range → 400 naming the field', async () => {
    for (const [b, field] of [
      [{ name: 'a', phone: '+86', communityId: 'east-garden' }, 'phone'],
      [{ name: 'a', phone: phone(), communityId: 'atlantis' }, 'communityId'],
      [{ name: 'a', phone: phone(), communityId: 'east-garden', capacity: 0 }, 'capacity'],
      [{ name: 'a', phone: phone(), communityId: 'east-garden', role: 'ops' }, 'role'],
    ] as const) {
      const res = await stack.api('POST', '/v1/volunteers', { key: ops, body: b });
      expect(res.status, field).toBe(400);
      expect(res.body.error.message).toContain(field);
    }
  });

  it('a missing or malformed Idempotency-Key is 400 naming the header', async () => {
    const res = await stack.api('POST', '/v1/requests', { key: partnerA, body: body() });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('Idempotency-Key');
    const bad = await post(partnerA, body(), 'has space');
    expect(bad.status).toBe(400);
  });
});

describe('personal data has a TTL from the district retention', () => {
  it('requests, offers and tasks carry expiresAtEpoch = creation + retentionDays', async () => {
    const docs = DynamoDBDocumentClient.from(stack.local.clients.dynamodb);
    const { Items = [] } = await docs.send(
      new QueryCommand({
        TableName: stack.local.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `REQ#${requestId}` },
      }),
    );
    const types = new Set(Items.map((i) => i.type));
    expect(types).toEqual(new Set(['request', 'offer', 'task']));
    for (const item of Items) {
      const created = Date.parse(item.createdAt) / 1000;
      expect(item.expiresAtEpoch, item.sk).toBeGreaterThanOrEqual(
        created + RETENTION_DAYS * 86400 - 120,
      );
      expect(item.expiresAtEpoch, item.sk).toBeLessThanOrEqual(
        created + RETENTION_DAYS * 86400 + 120,
      );
    }
    const { Item } = await docs.send(
      new GetCommand({
        TableName: stack.local.tableName,
        Key: { pk: `REQ#${requestId}`, sk: 'REQ' },
      }),
    );
    expect(Item?.requester.phone).toBe('+8613800138123');
  });
});
