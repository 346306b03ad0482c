import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueName } from '../../shared/resources.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

/**
 * One district, a scenario whose true numbers the test knows, then every queue message
 * the scenario produced sent again (as SQS may deliver it twice): the stats stay put.
 */
let stack: TestStack;
let ops: string;

beforeAll(async () => {
  stack = await startTestStack();
  ops = stack.opsKey;
});
afterAll(() => stack?.stop());

let seq = 0;
const phone = () =>
  `+86137${String(Date.now() % 100000).padStart(5, '0')}${String(seq++).padStart(3, '0')}`;

async function volunteer(communityId: string, extra: Record<string, unknown> = {}) {
  const res = await stack.api('POST', '/v1/volunteers', {
    key: ops,
    body: { name: `志愿者${seq}`, phone: phone(), communityId, ...extra },
  });
  expect(res.status).toBe(201);
  return { id: res.body.volunteerId as string, token: res.body.token as string };
}

async function post(key: string, kind: string, communityId: string, extra = {}) {
  const res = await stack.api('POST', '/v1/requests', {
    key,
    headers: { 'idempotency-key': `st-${seq++}` },
    body: {
      kind,
      communityId,
      address: '幸福里8号',
      requester: { name: '李阿姨', phone: '+8613800138001' },
      ...extra,
    },
  });
  expect(res.status).toBe(202);
  return res.body.requestId as string;
}

async function acceptOffer(token: string, requestId: string) {
  const offer = await stack.waitFor(async () => {
    const res = await stack.api('GET', '/v1/volunteers/me/offers', { key: token });
    return res.body.offers.find((o: { requestId: string }) => o.requestId === requestId);
  });
  const res = await stack.api('POST', `/v1/offers/${offer.offerId}/accept`, { key: token });
  expect(res.status).toBe(200);
  return res.body.taskId as string;
}

async function deliver(token: string, taskId: string) {
  const res = await stack.api('POST', `/v1/tasks/${taskId}/delivered`, { key: token });
  expect(res.status).toBe(200);
}

async function requestOf(key: string, id: string) {
  return (await stack.api('GET', `/v1/requests/${id}`, { key })).body;
}

async function waitingForDispatch(key: string, id: string) {
  await stack.waitFor(async () => (await requestOf(key, id)).waitingForDispatch === true);
}

/** Every queue (and its DLQ) empty, nothing in flight. */
async function queuesIdle() {
  await stack.waitFor(
    async () => {
      const res = await stack.api('GET', '/local/queues');
      const queues = Object.values(res.body.queues) as {
        visible: number;
        inFlight: number;
        delayed: number;
      }[];
      return queues.every((q) => q.visible === 0 && q.inFlight === 0);
    },
    { timeoutMs: 20_000 },
  );
  // The counters are kept from the table's stream: wait until it has been read up to now.
  await stack.countersCaughtUp();
}

async function send(queue: QueueName, body: unknown) {
  await stack.local.clients.sqs.send(
    new SendMessageCommand({
      QueueUrl: stack.local.queues[queue].url,
      MessageBody: JSON.stringify(body),
    }),
  );
}

const stats = async () => {
  const res = await stack.api('GET', '/v1/stats', { key: ops });
  expect(res.status).toBe(200);
  const { from, to, ...rest } = res.body;
  return rest;
};

describe('GET /v1/stats', () => {
  it('counts a known scenario exactly, and duplicate queue messages change nothing', async () => {
    const partner = await stack.api('POST', '/v1/partners', { key: ops, body: { name: '社区通' } });
    const key = partner.body.apiKey as string;
    const a = await volunteer('east-garden');
    const b = await volunteer('east-garden');
    const c = await volunteer('west-hill', { onDuty: false });

    // R1 groceries: A accepts, delivers, the partner confirms.
    const r1 = await post(key, 'groceries', 'east-garden');
    const t1 = await acceptOffer(a.token, r1);
    await deliver(a.token, t1);
    expect((await stack.api('POST', `/v1/requests/${r1}/confirm`, { key })).status).toBe(200);
    // R2 medicine: B accepts and delivers; not confirmed.
    const r2 = await post(key, 'medicine', 'east-garden');
    const t2 = await acceptOffer(b.token, r2);
    await deliver(b.token, t2);
    // R3 meal in east-river (nobody there: the town's volunteers): A accepts.
    const r3 = await post(key, 'meal', 'east-river');
    await acceptOffer(a.token, r3);
    // R4, R5, R6 need a skill nobody has: straight to manual dispatch.
    const nobody = { skills: ['sign-language'] };
    const r4 = await post(key, 'counseling', 'west-lake', nobody);
    const r5 = await post(key, 'escort', 'west-hill', nobody);
    const r6 = await post(key, 'disinfection', 'west-hill', nobody);
    for (const r of [r4, r5, r6]) await waitingForDispatch(key, r);
    // R5 is cancelled while waiting; R6 is dispatched by hand to C, delivered, confirmed by ops.
    expect((await stack.api('POST', `/v1/requests/${r5}/cancel`, { key })).status).toBe(200);
    const assigned = await stack.api('POST', `/v1/requests/${r6}/assign`, {
      key: ops,
      body: { volunteerId: c.id },
    });
    expect(assigned.status).toBe(200);
    await deliver(c.token, assigned.body.taskId);
    expect((await stack.api('POST', `/v1/requests/${r6}/confirm`, { key: ops })).status).toBe(200);
    // Confirm again (a retry): 200, nothing more.
    expect((await stack.api('POST', `/v1/requests/${r6}/confirm`, { key: ops })).status).toBe(200);

    // Credits land through the events queue.
    await stack.waitFor(async () => (await stats()).points === 30 || undefined);
    await queuesIdle();

    const before = await stats();
    expect(before.requests).toEqual({
      byStatus: { received: 1, matched: 1, delivered: 1, confirmed: 2, cancelled: 1, expired: 0 },
      byKind: { groceries: 1, medicine: 1, meal: 1, counseling: 1, escort: 1, disinfection: 1 },
      byCommunity: { 'east-garden': 2, 'east-river': 1, 'west-lake': 1, 'west-hill': 2 },
      byTown: { 'east-town': 3, 'west-town': 3 },
      waitingForDispatch: 1, // R4
    });
    expect(before.volunteers).toEqual({ registered: 3, onDuty: 2, active: 3 });
    expect(before.personTimes).toBe(3); // R1, R2, R6
    // Confirmed R1 and R6: delivered within seconds of accepting, credited the minimum minute each.
    expect(before.serviceMinutes).toBe(2);
    expect(before.points).toBe(10 + 20); // groceries + disinfection (district config)
    expect(before.durations.toMatched.count).toBe(4); // R1, R2, R3, R6
    expect(before.durations.toDelivered.count).toBe(3); // R1, R2, R6
    // All within the test's run: at most a minute, in buckets of at most 60 s there.
    for (const d of [before.durations.toMatched, before.durations.toDelivered]) {
      expect(d.medianSeconds).toBeLessThanOrEqual(60);
      expect(d.p90Seconds).toBeLessThanOrEqual(60);
      expect(d.p90Seconds).toBeGreaterThanOrEqual(d.medianSeconds);
    }

    // SQS delivers at least once: every message of the scenario again, some twice.
    const at = new Date().toISOString();
    for (let i = 0; i < 2; i++) {
      await send('events', { type: 'task_taken', requestId: r1, volunteerId: a.id, at });
      await send('events', { type: 'task_taken', requestId: r6, volunteerId: c.id, at });
      await send('events', { type: 'task_delivered', requestId: r2, volunteerId: b.id, at });
      await send('events', { type: 'request_confirmed', requestId: r1, at });
      await send('events', { type: 'request_confirmed', requestId: r6, at });
      await send('events', { type: 'request_closed', requestId: r5, at });
      for (const r of [r1, r2, r3, r4, r5, r6]) await send('match', { requestId: r });
    }
    await stack.waitFor(async () => {
      const res = await stack.api('GET', '/local/queues');
      return res.body.queues.events.visible === 0 && res.body.queues.match.visible === 0;
    });
    await queuesIdle();

    expect(await stats()).toEqual(before);
    const recordA = await stack.api('GET', `/v1/volunteers/${a.id}/record`, { key: ops });
    expect(recordA.body).toMatchObject({ serviceMinutes: 1, points: 10 });
    // No dead letters: the repeats were no-ops, not failures.
    const queues = (await stack.api('GET', '/local/queues')).body.queues;
    for (const q of Object.values(queues) as { dlq: { visible: number } }[]) {
      expect(q.dlq.visible).toBe(0);
    }
  });

  it('a request received now counts in its hour: in the default period and in one covering its hour, not in one ending before it', async () => {
    const HOUR = 3_600_000;
    const floor = (t: number) => Math.floor(t / HOUR) * HOUR;
    const ceil = (t: number) => Math.ceil(t / HOUR) * HOUR;
    const iso = (t: number) => new Date(t).toISOString();
    const period = async (from: number, to: number) => {
      const res = await stack.api('GET', `/v1/stats?from=${iso(from)}&to=${iso(to)}`, {
        key: ops,
      });
      expect(res.status).toBe(200);
      return res.body;
    };
    const groceries = (body: { requests: { byKind: Record<string, number> } }) =>
      body.requests.byKind.groceries ?? 0;
    const partner = await stack.api('POST', '/v1/partners', { key: ops, body: { name: '时段' } });
    const key = partner.body.apiKey as string;
    await queuesIdle();
    // Not within seconds of an hour's end: the request is to be received in this hour.
    if (ceil(Date.now()) - Date.now() < 10_000) {
      await new Promise((r) => setTimeout(r, ceil(Date.now()) - Date.now() + 100));
    }
    const hour = floor(Date.now());
    const before = {
      default: groceries((await stack.api('GET', '/v1/stats', { key: ops })).body),
      covering: groceries(await period(hour, hour + HOUR)),
      endingBefore: await period(hour - 3 * HOUR, hour),
    };

    const id = await post(key, 'groceries', 'east-garden');
    const createdAt = Date.parse((await requestOf(key, id)).createdAt);
    expect(floor(createdAt)).toBe(hour);
    await queuesIdle();

    const byDefault = (await stack.api('GET', '/v1/stats', { key: ops })).body;
    expect(groceries(byDefault)).toBe(before.default + 1);
    // The last 24 hours, in whole hours: the hour now is in it.
    const [from, to] = [Date.parse(byDefault.from), Date.parse(byDefault.to)];
    expect([from % HOUR, to % HOUR]).toEqual([0, 0]);
    expect(to).toBeGreaterThan(createdAt);
    expect(to - from).toBeGreaterThanOrEqual(24 * HOUR);
    expect(to - from).toBeLessThanOrEqual(25 * HOUR);

    expect(groceries(await period(hour, hour + HOUR))).toBe(before.covering + 1);
    // Minutes around the request: answered as the whole hours that contain them.
    const asked = [createdAt - 5 * 60_000, createdAt + 5 * 60_000];
    const around = await period(asked[0], asked[1]);
    expect(groceries(around)).toBeGreaterThanOrEqual(1);
    expect([around.from, around.to]).toEqual([iso(floor(asked[0])), iso(ceil(asked[1]))]);
    // A period that ends when the request's hour begins: not in it, nothing changed there.
    const endingBefore = await period(hour - 3 * HOUR, hour);
    expect(endingBefore).toEqual(before.endingBefore);
    expect([endingBefore.from, endingBefore.to]).toEqual([iso(hour - 3 * HOUR), iso(hour)]);
  });

  it('a day whose requests were received before hour buckets were kept is counted whole, and the period answered says so', async () => {
    // Counters as the version before hour buckets left them: a day bucket, no mark, and an
    // hour bucket written since for one of that day's requests moving (cancelled).
    const put = (pk: string, counts: Record<string, number>) =>
      stack.local.clients.dynamodb.send(
        new PutItemCommand({
          TableName: stack.local.tableName,
          Item: marshall({ pk, sk: 'SHARD#old', seq: '1'.padStart(40, '0'), ...counts }),
        }),
      );
    await put('STATS#2020-02-10', {
      'status.received': 1,
      'status.cancelled': 1,
      'kind.medicine': 2,
    });
    await put('STATS#2020-02-10T09', { 'status.received': -1, 'status.cancelled': 1 });
    const res = await stack.api(
      'GET',
      '/v1/stats?from=2020-02-10T08:30:00Z&to=2020-02-10T10:15:00Z',
      { key: ops },
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      from: '2020-02-10T00:00:00.000Z',
      to: '2020-02-11T00:00:00.000Z',
      requests: { byStatus: { received: 1, cancelled: 1 }, byKind: { medicine: 2 } },
    });
  });

  it('answers 400 naming the field for a bad period, 403 for a partner', async () => {
    const bad = await stack.api('GET', '/v1/stats?from=yesterday', { key: ops });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('from');
    const partner = await stack.api('POST', '/v1/partners', { key: ops, body: { name: 'x' } });
    const res = await stack.api('GET', '/v1/stats', { key: partner.body.apiKey });
    expect(res.status).toBe(403);
  });
});
