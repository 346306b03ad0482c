/**
 * The district's SMS caps on the local stack: at most `sms.maxPerRequest` SMS per request
 * and `sms.maxPerHour` per clock hour; over them push still goes, SMS are skipped, and
 * ops get one alert per hour.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.ts';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    sms: { maxPerRequest: 2, maxPerHour: 4 },
    offers: { timeoutSeconds: 60, batchSize: 3 },
  });
});
afterAll(() => stack?.stop());

let seq = 0;
const newPhone = () =>
  `+86136${String(Date.now() % 100000).padStart(5, '0')}${String(seq++).padStart(3, '0')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sms = () => stack.outbox().filter((n) => n.channel === 'sms');

async function volunteer(skill: string, extra: Record<string, unknown> = {}) {
  const res = await stack.api('POST', '/v1/volunteers', {
    key: stack.opsKey,
    body: {
      name: '志愿者',
      phone: newPhone(),
      communityId: 'east-garden',
      skills: [skill],
      ...extra,
    },
  });
  expect(res.status).toBe(201);
  return res.body as { volunteerId: string; token: string };
}

async function post(key: string, skill: string) {
  const res = await stack.api('POST', '/v1/requests', {
    key,
    headers: { 'idempotency-key': `cap-${seq++}` },
    body: {
      kind: 'medicine',
      communityId: 'east-garden',
      address: '东园小区1号楼',
      requester: { name: '张先生', phone: newPhone() },
      skills: [skill],
    },
  });
  expect(res.status).toBe(202);
  return res.body.requestId as string;
}

describe('SMS caps', () => {
  it('stops at the cap per request, then per hour; push still goes; ops are alerted once', async () => {
    const key = (
      await stack.api('POST', '/v1/partners', { key: stack.opsKey, body: { name: '限额' } })
    ).body.apiKey as string;

    // Three SMS-only volunteers are offered one request: two SMS (the cap per request).
    for (let i = 0; i < 3; i++) await volunteer('cap-a');
    const first = await post(key, 'cap-a');
    await stack.waitFor(() => sms().length === 2);
    await sleep(1500);
    expect(sms()).toHaveLength(2);
    // The request's counter holds the two SMS, each by its id: the third was refused.
    const counter = await stack.local.clients.dynamodb.send(
      new GetItemCommand({
        TableName: stack.local.tableName,
        Key: { pk: { S: `SMSCOUNT#REQ#${first}` }, sk: { S: 'SMS' } },
        ConsistentRead: true,
      }),
    );
    expect(counter.Item?.sent?.N).toBe('2');
    expect(counter.Item?.notes?.SS).toHaveLength(2);

    // A second request: two more, which reaches the hour's cap of four.
    for (let i = 0; i < 2; i++) await volunteer('cap-b');
    await post(key, 'cap-b');
    await stack.waitFor(() => sms().length === 4);

    // A third: no SMS; a volunteer with push still gets the offer; ops hear of it once.
    const endpoint = 'arn:aws:sns:ap-east-1:000000000000:endpoint/GCM/dispatch/cap-c';
    await volunteer('cap-c');
    await volunteer('cap-c', { pushEndpoint: endpoint });
    await post(key, 'cap-c');
    await stack.waitFor(() => stack.outbox().some((n) => n.to === endpoint));
    const alerts = await stack.waitFor(async () => {
      const found = (await stack.alerts()).filter((a) =>
        a.subject?.startsWith('短信已达每小时上限'),
      );
      return found.length > 0 && found;
    });
    await sleep(1500);
    expect(sms()).toHaveLength(4);
    expect(
      (await stack.alerts()).filter((a) => a.subject?.startsWith('短信已达每小时上限')),
    ).toHaveLength(1);
    expect(alerts[0].message).toContain('sms.maxPerHour');
  });
});
