/**
 * The one notification path on the real local stack: a producer publishes a notification
 * event to the district's notifications topic (fauxqs SNS), the notify queue is subscribed
 * with raw delivery, send-notification consumes it and the SMS or push lands in the
 * outbox. send-notification is wrapped to record what it was invoked with, so the tests
 * can tell that the queue message came through the topic and how often it arrived.
 */
import { ListSubscriptionsByTopicCommand, PublishCommand } from '@aws-sdk/client-sns';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHandler } from '../../local/lambda.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

let stack: TestStack;
/** Every record send-notification was invoked with, in order. */
const consumed: SQSRecord[] = [];

beforeAll(async () => {
  stack = await startTestStack(
    { offers: { timeoutSeconds: 60, batchSize: 1 } },
    {
      functions: {
        // The real function, loaded lazily (after the stack set the environment).
        'send-notification': async (event: SQSEvent, context) => {
          consumed.push(...event.Records);
          return (await loadHandler('send-notification'))(event, context);
        },
      },
    },
  );
});
afterAll(() => stack?.stop());

let seq = 0;
const newPhone = () =>
  `+86136${String(Date.now() % 100000).padStart(5, '0')}${String(seq++).padStart(3, '0')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bodyOf = (r: SQSRecord) => JSON.parse(r.body) as { notificationId?: string };

async function volunteer(skill: string) {
  const phone = newPhone();
  const res = await stack.api('POST', '/v1/volunteers', {
    key: stack.opsKey,
    body: { name: `志愿者${seq}`, phone, communityId: 'east-garden', skills: [skill] },
  });
  expect(res.status).toBe(201);
  return { id: res.body.volunteerId as string, phone };
}

describe('the notifications topic', () => {
  it('feeds the notify queue with raw delivery', async () => {
    const out = await stack.local.clients.sns.send(
      new ListSubscriptionsByTopicCommand({ TopicArn: stack.local.notificationTopicArn }),
    );
    expect(out.Subscriptions?.map((s) => [s.Protocol, s.Endpoint])).toEqual([
      ['sqs', stack.local.queues.notify.arn],
    ]);
    expect(stack.local.env.NOTIFICATION_TOPIC_ARN).toBe(stack.local.notificationTopicArn);
  });

  it('an offer travels match-request → topic → notify queue → send-notification → outbox', async () => {
    const skill = `topic-${Date.now() % 100000}`;
    const v = await volunteer(skill);
    const partner = await stack.api('POST', '/v1/partners', {
      key: stack.opsKey,
      body: { name: '话题测试' },
    });
    const post = await stack.api('POST', '/v1/requests', {
      key: partner.body.apiKey,
      headers: { 'idempotency-key': `topic-${Date.now()}` },
      body: {
        kind: 'groceries',
        communityId: 'east-garden',
        address: '东园小区3号楼2单元501',
        requester: { name: '王奶奶', phone: newPhone() },
        skills: [skill],
      },
    });
    expect(post.status).toBe(202);
    const requestId = post.body.requestId as string;

    const [sms] = await stack.waitFor(() => {
      const got = stack.outbox.list({ to: v.phone });
      return got.length > 0 && got;
    });
    expect(sms.channel).toBe('sms');
    expect(sms.message).toMatch(/回复“1 [A-Z2-9]{4}”接单/);

    // What send-notification read: the producer's body as is (raw delivery, no SNS
    // envelope), with the attributes the producer set on the publish, which only the
    // topic puts there (nothing sends to the notify queue directly any more).
    const record = consumed.find((r) => bodyOf(r).notificationId?.startsWith('offer:'));
    expect(record).toBeDefined();
    const body = JSON.parse(record!.body);
    expect(body).not.toHaveProperty('Type');
    expect(body).toMatchObject({
      to: { kind: 'volunteer', volunteerId: v.id },
      template: 'offer',
      requestId,
    });
    expect(record!.eventSourceARN).toBe(stack.local.queues.notify.arn);
    expect(record!.messageAttributes).toMatchObject({
      channel: { stringValue: 'auto', dataType: 'String' },
      kind: { stringValue: 'volunteer', dataType: 'String' },
      template: { stringValue: 'offer', dataType: 'String' },
    });
  });

  it('the same notification event published twice reaches the consumer twice and goes out once', async () => {
    const v = await volunteer(`dup-${Date.now() % 100000}`);
    const event = {
      notificationId: `topic-dup:${v.id}`,
      to: { kind: 'volunteer', volunteerId: v.id },
      template: 'offer_withdrawn',
      params: { community: '东园社区', kind: 'groceries' },
    };
    const publish = () =>
      stack.local.clients.sns.send(
        new PublishCommand({
          TopicArn: stack.local.notificationTopicArn,
          Message: JSON.stringify(event),
        }),
      );
    await Promise.all([publish(), publish()]);

    await stack.waitFor(
      () => consumed.filter((r) => bodyOf(r).notificationId === event.notificationId).length === 2,
    );
    await stack.waitFor(() => stack.outbox.list({ to: v.phone }).length > 0);
    await sleep(1500); // time for a second send, were there one
    expect(stack.outbox.list({ to: v.phone })).toHaveLength(1);
    expect(stack.outbox.list({ to: v.phone })[0].message).toBe(
      '【社区志愿】东园社区的代购生活物资求助已满员，无需前往，谢谢！',
    );
  });
});
