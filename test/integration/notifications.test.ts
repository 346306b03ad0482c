/**
 * Notifications on the local stack: push first with SMS fallback (no endpoint, a disabled
 * endpoint, an urgent offer still open), opt-out and quiet hours, templates in Chinese
 * and English within one SMS part, and one message per event however often it arrives.
 * Each test gives its volunteers and request a skill of its own, so offers from one test
 * never reach another's volunteers.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.ts';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    offers: { timeoutSeconds: 60, batchSize: 3 },
    notifications: {
      urgentSmsAfterSeconds: 1,
      templates: { en: { task_assigned: 'Assigned: {kindLabel} at {community}. Open the app.' } },
    },
  });
});
afterAll(() => stack?.stop());

let seq = 0;
const newPhone = () =>
  `+86137${String(Date.now() % 100000).padStart(5, '0')}${String(seq++).padStart(3, '0')}`;
const newSkill = () => `notif-${seq++}-${Date.now() % 100000}`;

async function partner(): Promise<string> {
  const res = await stack.api('POST', '/v1/partners', {
    key: stack.opsKey,
    body: { name: '通知测试' },
  });
  expect(res.status).toBe(201);
  return res.body.apiKey;
}

async function volunteer(skill: string, extra: Record<string, unknown> = {}) {
  const phone = newPhone();
  const res = await stack.api('POST', '/v1/volunteers', {
    key: stack.opsKey,
    body: { name: `志愿者${seq}`, phone, communityId: 'east-garden', skills: [skill], ...extra },
  });
  expect(res.status).toBe(201);
  return { id: res.body.volunteerId as string, token: res.body.token as string, phone };
}

async function post(key: string, skill: string, extra: Record<string, unknown> = {}) {
  const res = await stack.api('POST', '/v1/requests', {
    key,
    headers: { 'idempotency-key': `n-${seq++}-${Date.now()}` },
    body: {
      kind: 'groceries',
      communityId: 'east-garden',
      address: '东园小区3号楼2单元501',
      requester: { name: '王奶奶', phone: newPhone() },
      skills: [skill],
      ...extra,
    },
  });
  expect(res.status).toBe(202);
  return res.body.requestId as string;
}

async function offerOf(token: string, requestId: string) {
  return stack.waitFor(async () => {
    const res = await stack.api('GET', '/v1/volunteers/me/offers', { key: token });
    return (res.body.offers as { offerId: string; requestId: string }[]).find(
      (o) => o.requestId === requestId,
    );
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const to = (address: string) => stack.outbox().filter((n) => n.to === address);

describe('push first, SMS as the fallback', () => {
  it('a volunteer with a push endpoint gets push only; one without gets an SMS with a reply code and no address', async () => {
    const key = await partner();
    const skill = newSkill();
    const endpoint = `arn:aws:sns:ap-east-1:000000000000:endpoint/GCM/dispatch/${skill}`;
    const withPush = await volunteer(skill, { pushEndpoint: endpoint });
    const smsOnly = await volunteer(skill);
    const id = await post(key, skill);
    await offerOf(withPush.token, id);
    await offerOf(smsOnly.token, id);

    const push = await stack.waitFor(() => to(endpoint)[0]);
    expect(push.channel).toBe('push');
    expect(push.message).toContain('打开应用接单');
    const sms = await stack.waitFor(() => to(smsOnly.phone)[0]);
    expect(sms.channel).toBe('sms');
    expect(sms.message).toMatch(/回复“1 [A-Z2-9]{4}”接单，“0 [A-Z2-9]{4}”不接/);
    expect(sms.message.length).toBeLessThanOrEqual(70);
    expect(sms.message).not.toContain('东园小区');
    await sleep(1500);
    expect(to(withPush.phone)).toEqual([]); // not urgent: push was enough
    expect(to(endpoint)).toHaveLength(1);
    expect(to(smsOnly.phone)).toHaveLength(1);
  });

  it('a disabled push endpoint falls back to one SMS', async () => {
    const key = await partner();
    const skill = newSkill();
    const endpoint = `arn:aws:sns:ap-east-1:000000000000:endpoint/APNS/dispatch/${skill}`;
    stack.outbox.disableEndpoint(endpoint);
    const v = await volunteer(skill, { pushEndpoint: endpoint });
    const id = await post(key, skill);
    await offerOf(v.token, id);
    const sms = await stack.waitFor(() => to(v.phone)[0]);
    expect(sms.message).toContain('代购生活物资');
    await sleep(1000);
    expect(to(v.phone)).toHaveLength(1);
    expect(to(endpoint)).toEqual([]);
  });

  it('an urgent offer still open after push gets one SMS; an SMS-only volunteer no second one', async () => {
    const key = await partner();
    const skill = newSkill();
    const endpoint = `arn:aws:sns:ap-east-1:000000000000:endpoint/GCM/dispatch/${skill}`;
    const withPush = await volunteer(skill, { pushEndpoint: endpoint });
    const smsOnly = await volunteer(skill);
    const id = await post(key, skill, { urgency: 'urgent' });
    await offerOf(withPush.token, id);
    await stack.waitFor(() => to(endpoint)[0]);
    // The offer is still open after urgentSmsAfterSeconds: the SMS reminder.
    const reminder = await stack.waitFor(() => to(withPush.phone)[0]);
    expect(reminder.message).toMatch(/“1 [A-Z2-9]{4}”/);
    await sleep(1500);
    expect(to(withPush.phone)).toHaveLength(1);
    expect(to(smsOnly.phone)).toHaveLength(1);
  });
});

describe('opt-out, quiet hours and language', () => {
  it('a volunteer who opted out of SMS gets none; push still goes', async () => {
    const key = await partner();
    const skill = newSkill();
    const v = await volunteer(skill);
    const patched = await stack.api('PATCH', `/v1/volunteers/${v.id}`, {
      key: v.token,
      body: { smsOptOut: true },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.smsOptOut).toBe(true);
    const id = await post(key, skill);
    await offerOf(v.token, id);
    await sleep(1500);
    expect(to(v.phone)).toEqual([]);

    // With an endpoint added later, the next offer comes by push.
    const endpoint = `arn:aws:sns:ap-east-1:000000000000:endpoint/GCM/dispatch/${skill}`;
    await stack.api('PATCH', `/v1/volunteers/${v.id}`, {
      key: v.token,
      body: { pushEndpoint: endpoint },
    });
    const id2 = await post(key, skill);
    await offerOf(v.token, id2);
    await stack.waitFor(() => to(endpoint)[0]);
    expect(to(v.phone)).toEqual([]);
  });

  it('no SMS in the quiet hours (district local time); outside them SMS again', async () => {
    const key = await partner();
    const skill = newSkill();
    const v = await volunteer(skill);
    const offset = stack.district.notifications.utcOffsetMinutes;
    const local = new Date(Date.now() + offset * 60_000);
    const hhmm = (m: number) =>
      `${String(Math.floor((((m % 1440) + 1440) % 1440) / 60)).padStart(2, '0')}:${String(((m % 60) + 60) % 60).padStart(2, '0')}`;
    const nowMin = local.getUTCHours() * 60 + local.getUTCMinutes();
    const quiet = { start: hhmm(nowMin - 60), end: hhmm(nowMin + 60) };
    expect(
      (
        await stack.api('PATCH', `/v1/volunteers/${v.id}`, {
          key: stack.opsKey,
          body: { quietHours: quiet },
        })
      ).status,
    ).toBe(200);
    const id = await post(key, skill);
    await offerOf(v.token, id);
    await sleep(1500);
    expect(to(v.phone)).toEqual([]);

    const cleared = await stack.api('PATCH', `/v1/volunteers/${v.id}`, {
      key: stack.opsKey,
      body: { quietHours: null },
    });
    expect(cleared.body.quietHours).toBeUndefined();
    const id2 = await post(key, skill);
    await offerOf(v.token, id2);
    await stack.waitFor(() => to(v.phone)[0]);
  });

  it('renders a volunteer’s texts in English, with the district’s own template where it has one', async () => {
    const key = await partner();
    const skill = newSkill();
    const v = await volunteer(skill, { language: 'en' });
    const id = await post(key, skill);
    await offerOf(v.token, id);
    const sms = await stack.waitFor(() => to(v.phone)[0]);
    expect(sms.message).toMatch(
      /^\[Vol\] groceries, 东园社区: reply 1 [A-Z2-9]{4} to take, 0 [A-Z2-9]{4} to pass, 1min$/,
    );
    // Ops assign by hand: the district's English task_assigned text.
    const other = await post(key, `${skill}-none`);
    const assigned = await stack.api('POST', `/v1/requests/${other}/assign`, {
      key: stack.opsKey,
      body: { volunteerId: v.id },
    });
    expect(assigned.status).toBe(200);
    const note = await stack.waitFor(() =>
      to(v.phone).find((n) => n.message.startsWith('Assigned')),
    );
    expect(note.message).toBe('Assigned: groceries at 东园社区. Open the app.');
  });
});

describe('no duplicate', () => {
  it('the same notification event delivered three times sends one SMS; its push may repeat, always with the same collapse id, and writes no marker', async () => {
    const skill = newSkill();
    const endpoint = `arn:aws:sns:ap-east-1:000000000000:endpoint/GCM/dispatch/${skill}`;
    const sms = await volunteer(skill);
    const push = await volunteer(skill, { pushEndpoint: endpoint });
    const send = (volunteerId: string) =>
      stack.local.clients.sqs.send(
        new SendMessageCommand({
          QueueUrl: stack.local.queues.notify.url,
          MessageBody: JSON.stringify({
            notificationId: `dup-test:${volunteerId}`,
            to: { kind: 'volunteer', volunteerId },
            template: 'offer_withdrawn',
            params: { community: '东园社区', kind: 'groceries' },
          }),
        }),
      );
    await Promise.all([1, 2, 3].flatMap(() => [send(sms.id), send(push.id)]));
    await stack.waitFor(() => to(sms.phone)[0] && to(endpoint)[0]);
    await sleep(1500);
    expect(to(sms.phone)).toHaveLength(1);
    expect(to(sms.phone)[0].message).toBe(
      '【社区志愿】东园社区的代购生活物资求助已满员，无需前往，谢谢！',
    );
    // At least once: each copy may publish, and the device shows one (same collapse id).
    const pushes = to(endpoint);
    expect(pushes.length).toBeGreaterThanOrEqual(1);
    expect(pushes.length).toBeLessThanOrEqual(3);
    for (const p of pushes) {
      expect(p.messageAttributes?.['AWS.SNS.MOBILE.APNS.COLLAPSE_ID']?.StringValue).toBe(
        `dup-test:${push.id}`,
      );
      expect(
        JSON.parse(p.payloads?.GCM ?? '{}').fcmV1Message.message.android.notification.tag,
      ).toBe(`dup-test:${push.id}`);
    }
    const markers = await stack.local.clients.dynamodb.send(
      new GetItemCommand({
        TableName: stack.local.tableName,
        Key: { pk: { S: `NOTE#dup-test:${push.id}:push` }, sk: { S: 'NOTE' } },
        ConsistentRead: true,
      }),
    );
    expect(markers.Item).toBeUndefined();
  });

  /** A request's SMS counter as stored, and whether the SMS has a marker item of its own. */
  async function requestCounter(requestId: string, smsId: string) {
    const get = (pk: string, sk: string) =>
      stack.local.clients.dynamodb.send(
        new GetItemCommand({
          TableName: stack.local.tableName,
          Key: { pk: { S: pk }, sk: { S: sk } },
          ConsistentRead: true,
        }),
      );
    const counter = (await get(`SMSCOUNT#REQ#${requestId}`, 'SMS')).Item;
    const marker = (await get(`NOTE#${smsId}`, 'NOTE')).Item;
    return { sent: Number(counter?.sent?.N ?? 0), notes: counter?.notes?.SS ?? [], marker };
  }

  const smsNotice = (requestId: string, volunteerId: string) =>
    stack.local.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.local.queues.notify.url,
        MessageBody: JSON.stringify({
          notificationId: `cancelled:${requestId}`,
          to: { kind: 'volunteer', volunteerId },
          template: 'request_cancelled',
          params: { community: '东园社区', kind: 'groceries' },
          requestId,
        }),
      }),
    );

  it('an SMS notice of a request delivered three times at once sends one SMS and takes one unit of the request’s budget', async () => {
    const v = await volunteer(newSkill());
    const requestId = `req_dup${seq++}`;
    await Promise.all([1, 2, 3].map(() => smsNotice(requestId, v.id)));
    await stack.waitFor(() => to(v.phone)[0]);
    await sleep(1500);
    expect(to(v.phone)).toHaveLength(1);
    // The request's counter is the marker: one unit, its id, no marker item of its own.
    expect(await requestCounter(requestId, `cancelled:${requestId}`)).toEqual({
      sent: 1,
      notes: [`cancelled:${requestId}`],
      marker: undefined,
    });
  });

  it('at the request’s cap, DynamoDB tells a repeat of a counted SMS (duplicate) from a new one (over the cap)', async () => {
    const { reserveSms } = await import('../../shared/adapters/sms-budget.ts');
    const sms = (id: string) => ({ id, requestId: `req_cap${seq}` });
    const caps = { maxPerRequest: 1, maxPerHour: 300 };
    const now = new Date();
    expect(await reserveSms(sms('taken:a'), caps, now)).toMatchObject({ ok: true });
    expect(await reserveSms(sms('taken:a'), caps, now)).toEqual({ ok: false, duplicate: true });
    expect(await reserveSms(sms('taken:b'), caps, now)).toEqual({ ok: false, cap: 'request' });
  });

  it('a failed Publish gives the request’s unit and id back, and the retry sends the SMS once', async () => {
    const v = await volunteer(newSkill());
    const requestId = `req_retry${seq++}`;
    stack.outbox.failNext(1, 'sms');
    const queued = Date.now();
    await smsNotice(requestId, v.id);
    const sms = await stack.waitFor(() => to(v.phone)[0]);
    // Sent by the retry (the queue makes a failed record visible again after 1 s): the
    // first attempt failed and did not keep the SMS marked.
    expect(Date.parse(sms.at) - queued).toBeGreaterThanOrEqual(900);
    await sleep(1500);
    expect(to(v.phone)).toHaveLength(1);
    expect(await requestCounter(requestId, `cancelled:${requestId}`)).toEqual({
      sent: 1,
      notes: [`cancelled:${requestId}`],
      marker: undefined,
    });
  });
});

describe('push addressed by the matcher', () => {
  it('an offer push goes to the endpoint and language of the volunteer’s availability entry, its offer id as collapse id', async () => {
    const key = await partner();
    const skill = newSkill();
    const endpoint = `arn:aws:sns:ap-east-1:000000000000:endpoint/APNS/dispatch/${skill}`;
    const v = await volunteer(skill, { pushEndpoint: endpoint, language: 'en' });
    const id = await post(key, skill);
    const offer = await offerOf(v.token, id);
    const push = await stack.waitFor(() => to(endpoint)[0]);
    expect(push.message).toMatch(/^\[Vol\] groceries, 东园社区: open the app within 1 min/);
    expect(push.messageAttributes?.['AWS.SNS.MOBILE.APNS.COLLAPSE_ID']?.StringValue).toBe(
      `offer:${offer.offerId}`,
    );
    expect(JSON.parse(push.payloads?.APNS ?? '{}').aps.alert).toBe(push.message);
  });

  it('a disabled endpoint carried with the offer: the offer falls back to one SMS, its withdrawal (push only) to nothing', async () => {
    const key = await partner();
    const skill = newSkill();
    const endpoint = `arn:aws:sns:ap-east-1:000000000000:endpoint/GCM/dispatch/${skill}`;
    const taker = await volunteer(skill);
    const v = await volunteer(skill, { pushEndpoint: endpoint });
    stack.outbox.disableEndpoint(endpoint);
    const id = await post(key, skill);
    await offerOf(v.token, id);
    const offer = await offerOf(taker.token, id);
    await stack.waitFor(() => to(v.phone)[0]);
    const accepted = await stack.api('POST', `/v1/offers/${offer.offerId}/accept`, {
      key: taker.token,
    });
    expect(accepted.status).toBe(200);
    await stack.waitFor(async () => {
      const res = await stack.api('GET', '/v1/volunteers/me/offers', { key: v.token });
      return res.body.offers.length === 0 || undefined;
    });
    await sleep(1000);
    expect(to(v.phone)).toHaveLength(1);
    expect(to(endpoint)).toEqual([]);
  });
});
