/**
 * Property-based fuzzing of every route on the real local stack (fast-check): generated
 * bodies (near-valid, random JSON, not JSON at all), headers (keys of every kind, junk,
 * Idempotency-Keys, content types) and path parameters. For every answer: no 5xx, every
 * error is the contract's `{"error":{"code","message"}}` with a snake_case code; and at
 * the end, the table holds exactly what the accepted (2xx) calls wrote, nothing more.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KINDS } from '../../shared/district.ts';
import { ROUTES, type RouteDef } from '../../shared/resources.ts';
import { scanAll } from './support/burst.ts';
import { callApi, startTestStack, type TestStack } from './support/stack.ts';

const TOTAL_RUNS = 2000;

let stack: TestStack;
let keys: Record<'ops' | 'partner' | 'volunteer', string>;
let volunteerId: string;
let existingRequest: string;
let existingOffer: string;
const created = { partners: 2, volunteers: new Set<string>(), requests: new Set<string>() };

beforeAll(async () => {
  stack = await startTestStack();
  const ops = stack.opsKey;
  const partner = async () =>
    (await stack.api('POST', '/v1/partners', { key: ops, body: { name: 'p' } })).body.apiKey;
  const v = await stack.api('POST', '/v1/volunteers', {
    key: ops,
    body: { name: '志愿者', phone: '+8613900130001', communityId: 'east-garden' },
  });
  keys = { ops, partner: await partner(), volunteer: v.body.token };
  await partner(); // a second partner, never used: nothing may reach it
  volunteerId = v.body.volunteerId;
  created.volunteers.add(volunteerId);
  const r = await stack.api('POST', '/v1/requests', {
    key: keys.partner,
    body: {
      kind: 'groceries',
      communityId: 'east-garden',
      address: '东园',
      requester: { name: '王', phone: '+8613800138000' },
    },
    headers: { 'idempotency-key': 'fuzz-seed' },
  });
  existingRequest = r.body.requestId;
  created.requests.add(existingRequest);
  existingOffer = (
    await stack.waitFor(async () => {
      const list = await stack.api('GET', '/v1/volunteers/me/offers', { key: keys.volunteer });
      return list.body.offers[0];
    })
  ).offerId;
});
afterAll(() => stack?.stop());

const printable = (s: string) => s.replace(/[^\x20-\x7e]/g, '');

const anyJson = fc.jsonValue({ maxDepth: 3 });
const phoneLike = fc.oneof(
  fc.constant('+8613800138000'),
  fc.stringMatching(/^\+?[0-9]{0,16}$/),
  fc.string(),
);
const nearValidRequest = fc.record(
  {
    kind: fc.oneof(fc.constantFrom(...KINDS), fc.string(), anyJson),
    communityId: fc.oneof(fc.constantFrom('east-garden', 'west-lake', 'atlantis', ''), anyJson),
    address: fc.oneof(fc.string({ maxLength: 40 }), anyJson),
    requester: fc.oneof(
      fc.record({ name: fc.string({ maxLength: 10 }), phone: phoneLike }, { requiredKeys: [] }),
      anyJson,
    ),
    slots: fc.oneof(fc.integer({ min: -3, max: 60 }), fc.double(), fc.string()),
    skills: fc.oneof(fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }), anyJson),
    urgency: fc.oneof(fc.constantFrom('normal', 'urgent'), fc.string()),
    location: fc.oneof(fc.record({ lat: fc.double(), lon: fc.double() }), anyJson),
    window: fc.oneof(
      fc.record({
        start: fc.date().map((d) => (Number.isNaN(d.getTime()) ? 'x' : d.toISOString())),
        end: fc.string(),
      }),
      anyJson,
    ),
    notes: fc.oneof(fc.string(), anyJson),
    admin: anyJson,
    partnerId: anyJson,
  },
  { requiredKeys: [] },
);
const nearValidVolunteer = fc.record(
  {
    name: fc.oneof(fc.string({ maxLength: 10 }), anyJson),
    phone: phoneLike,
    communityId: fc.oneof(fc.constantFrom('east-garden', 'atlantis'), anyJson),
    skills: fc.oneof(fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }), anyJson),
    capacity: fc.oneof(fc.integer({ min: -2, max: 60 }), anyJson),
    onDuty: fc.oneof(fc.boolean(), anyJson),
    volunteerId: anyJson,
  },
  { requiredKeys: [] },
);

/** A body: near-valid for the route, any JSON, or text that is not JSON. */
const bodyFor = (route: RouteDef) =>
  fc.oneof(
    route.path === '/v1/requests'
      ? nearValidRequest
      : route.path.startsWith('/v1/volunteers')
        ? nearValidVolunteer
        : fc.record(
            { name: fc.oneof(fc.string({ maxLength: 20 }), anyJson) },
            { requiredKeys: [] },
          ),
    anyJson,
    fc.string().map((s) => ({ raw: s })),
    fc.constant(undefined),
  );

const authHeader = fc.oneof(
  fc
    .constantFrom<'ops' | 'partner' | 'volunteer'>('ops', 'partner', 'volunteer')
    .map((k) => `Bearer ${keys[k]}`),
  fc.string().map((s) => `Bearer ${printable(s)}`),
  fc.string().map(printable),
  fc.constant(undefined),
);

const headersArb = fc.record(
  {
    authorization: authHeader,
    'idempotency-key': fc.oneof(fc.string({ maxLength: 140 }).map(printable), fc.uuid()),
    'content-type': fc.constantFrom(
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded',
    ),
    'x-forwarded-for': fc.string().map(printable),
  },
  { requiredKeys: [] },
);

const paramArb = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom('req_x', 'req_', '..', '%', 'off_a_b', 'tsk_a_b'),
  fc.constant('EXISTING'),
);

function fill(route: RouteDef, params: string[]) {
  let i = 0;
  return route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const p = params[i++] ?? 'x';
    if (p !== 'EXISTING') return encodeURIComponent(p) || 'x';
    if (name === 'requestId') return existingRequest;
    if (name === 'offerId') return existingOffer;
    if (name === 'volunteerId') return volunteerId;
    return 'x';
  });
}

interface Seen {
  route: string;
  status: number;
  body: unknown;
}
const answers: Seen[] = [];

function checkAnswer(route: string, status: number, body: unknown) {
  answers.push({ route, status, body });
  expect(status, `${route} → ${status} ${JSON.stringify(body)}`).toBeLessThan(500);
  if (status >= 400) {
    const error = body as { error?: { code?: string } };
    expect(body, route).toEqual({
      error: {
        code: expect.stringMatching(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/),
        message: expect.any(String),
        // The one error with a field beside them: the volunteer a phone is registered to.
        ...(error?.error?.code === 'volunteer_exists' && {
          volunteerId: expect.stringMatching(/^vol_/),
        }),
      },
    });
  }
}

describe('fuzzing every route', () => {
  const perRoute = Math.ceil(TOTAL_RUNS / (ROUTES.length + 1));

  for (const route of ROUTES) {
    it(`${route.method} ${route.path}: no 5xx, errors in the contract's shape`, async () => {
      await fc.assert(
        fc.asyncProperty(
          bodyFor(route),
          headersArb,
          fc.array(paramArb, { minLength: 2, maxLength: 2 }),
          async (body, headers, params) => {
            const clean = Object.fromEntries(
              Object.entries(headers).filter(([, v]) => v !== undefined),
            ) as Record<string, string>;
            const raw =
              body &&
              typeof body === 'object' &&
              'raw' in (body as object) &&
              Object.keys(body as object).length === 1
                ? (body as { raw: string }).raw
                : body;
            const res = await callApi(stack.url, route.method, fill(route, params), {
              headers: clean,
              body: route.method === 'GET' ? undefined : raw === undefined ? undefined : raw,
            });
            checkAnswer(`${route.method} ${route.path}`, res.status, res.body);
            if (route.path === '/v1/requests' && res.status === 202) {
              created.requests.add(res.body.requestId);
            }
            if (route.path === '/v1/partners' && res.status === 201) created.partners++;
            // A registration repeated with its Idempotency-Key answers the same volunteer.
            if (route.path === '/v1/volunteers' && res.status === 201) {
              created.volunteers.add(res.body.volunteerId);
            }
            // A new token for the seeded volunteer revokes the one the other routes use.
            if (route.path.endsWith('/tokens') && res.status === 201) {
              keys.volunteer = res.body.token;
            }
          },
        ),
        { numRuns: perRoute, seed: 20260523 + route.path.length },
      );
    });
  }

  it('unknown paths and methods: 404 or 405 in the contract shape', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PATCH', 'PUT', 'DELETE'),
        fc.array(
          fc.oneof(fc.constantFrom('v1', 'requests', 'offers', 'me'), fc.string({ maxLength: 8 })),
          {
            maxLength: 4,
          },
        ),
        async (method, segments) => {
          const path = `/${segments.map((s) => encodeURIComponent(s)).join('/')}`;
          if (path.startsWith('/local')) return;
          const res = await callApi(stack.url, method, path, { key: keys.ops });
          checkAnswer(`${method} ${path}`, res.status, res.body);
        },
      ),
      { numRuns: perRoute, seed: 7 },
    );
  });

  it('nothing was written for a rejected call', async () => {
    // Let matching settle for whatever was accepted.
    await new Promise((r) => setTimeout(r, 1500));
    // Requests are counted from the table's stream: wait until it is read up to now.
    await stack.countersCaughtUp();
    const items = await scanAll(stack.local.clients.dynamodb, stack.local.tableName);
    const requests = items.filter((i) => i.type === 'request').map((i) => i.requestId);
    expect(new Set(requests)).toEqual(created.requests);
    // Each carries the Idempotency-Key it was posted with (its id is derived from it).
    for (const r of items.filter((i) => i.type === 'request')) {
      expect(r.idempotency?.key, r.requestId).toEqual(expect.any(String));
    }
    expect(items.filter((i) => i.type === 'partner')).toHaveLength(created.partners);
    expect(new Set(items.filter((i) => i.type === 'volunteer').map((i) => i.volunteerId))).toEqual(
      created.volunteers,
    );
    // Counters count exactly the stored requests: the day buckets, and the hour buckets too.
    const counted = (bucket: RegExp) =>
      items
        .filter((i) => bucket.test(i.pk))
        .reduce(
          (n, d) =>
            n +
            Object.entries(d)
              .filter(([k]) => k.startsWith('status.'))
              .reduce((m, [, v]) => m + Number(v), 0),
          0,
        );
    expect(counted(/^STATS#\d{4}-\d{2}-\d{2}$/)).toBe(created.requests.size);
    expect(counted(/^STATS#\d{4}-\d{2}-\d{2}T\d{2}$/)).toBe(created.requests.size);
    // Everything tied to a request (offers, tasks, reply codes…)
    // belongs to a request that was accepted with a 202.
    for (const i of items) {
      const owner = i.pk.startsWith('REQ#') ? i.pk.slice(4) : i.requestId;
      if (typeof owner === 'string') {
        expect(created.requests.has(owner), JSON.stringify({ pk: i.pk, type: i.type })).toBe(true);
      }
    }
    expect(answers.length).toBeGreaterThanOrEqual(TOTAL_RUNS - ROUTES.length);
    expect(answers.filter((a) => a.status >= 400).length).toBeGreaterThan(TOTAL_RUNS / 2);
  });
});
