/**
 * The table stream's failure queue and `npm run stream-replay`, on the local stack: the
 * stream consumer fails every batch for a while, so the local stream poller gives those
 * batches up and describes them in the failure queue, as the event source mapping does on
 * AWS. The counters then lack those changes; the replay reads them back from the stream,
 * counts them with the consumer's own handler, and the counters equal the table again.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Handler, loadHandler } from '../../local/lambda.ts';
import { main } from '../../scripts/stream-replay.ts';
import { parseStreamBatchFailure } from '../../shared/adapters/request-stream.ts';
import { ENV, STREAM_CONSUMER } from '../../shared/resources.ts';
import { actors, postBurst, workUntilConfirmed } from './support/burst.ts';
import { read, target } from './support/fault-harness.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

let stack: TestStack;
let failing = true;
let failedInvocations = 0;

/** The real consumer, except that while `failing` every invocation throws before it writes. */
const flakyConsumer: Handler = async (event, context) => {
  if (failing) {
    failedInvocations += 1;
    throw new Error('fault injection: count-transitions fails every batch');
  }
  return (await loadHandler(STREAM_CONSUMER.handler))(event, context);
};

beforeAll(async () => {
  stack = await startTestStack(
    {},
    {
      functions: { [STREAM_CONSUMER.handler]: flakyConsumer },
      // The poller retries a failing batch 10 times: 0.2 s apart, not 1 s.
      retryDelaySeconds: 0.2,
    },
  );
});
afterAll(() => stack?.stop());

/** What the counters must say, from the request items themselves. */
async function truth() {
  const items = (await read(stack)()).filter((i) => i.type === 'request');
  const byStatus: Record<string, number> = {};
  for (const r of items) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
  return {
    byStatus,
    personTimes: items.reduce((n, r) => n + Number(r.delivered ?? 0), 0),
    serviceMinutes: items.reduce((n, r) => n + Number(r.credit?.serviceMinutes ?? 0), 0),
    points: items.reduce((n, r) => n + Number(r.credit?.points ?? 0), 0),
  };
}

async function counted() {
  await stack.countersCaughtUp(60_000);
  const { body } = await stack.api('GET', '/v1/stats', { key: stack.opsKey });
  return {
    byStatus: Object.fromEntries(
      Object.entries(body.requests.byStatus as Record<string, number>).filter(([, n]) => n !== 0),
    ),
    personTimes: body.personTimes,
    serviceMinutes: body.serviceMinutes,
    points: body.points,
  };
}

async function failureQueueDepth() {
  const { Attributes } = await stack.local.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: stack.local.streamFailureQueueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/** The failure queue's message bodies, left in the queue. */
async function failureBodies(expected: number) {
  const bodies = new Map<string, string>();
  for (let i = 0; i < 20 && bodies.size < expected; i++) {
    const out = await stack.local.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: stack.local.streamFailureQueueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 0,
      }),
    );
    for (const m of out.Messages ?? []) bodies.set(m.MessageId ?? '', m.Body ?? '');
  }
  return [...bodies.values()];
}

/** The flags that point the command at this stack's queue and DynamoDB Local. */
const where = () => [
  '--prefix',
  stack.prefix,
  '--endpoint',
  stack.local.endpoints.sqs,
  '--dynamodb-endpoint',
  stack.local.endpoints.dynamodb,
];

async function run(...argv: string[]) {
  const lines: string[] = [];
  const code = await main([...argv, ...where()], (line) => lines.push(line));
  return { code, out: lines.join('\n') };
}

describe('npm run stream-replay', () => {
  let failedBodies: string[] = [];

  it('a batch the consumer gave up on is described in the failure queue, its counts missing', async () => {
    const t = target(stack);
    const a = await actors(t);
    const lost = await postBurst(t, a, 3);
    await workUntilConfirmed(t, a, lost);
    await stack.countersCaughtUp(60_000);
    expect(failedInvocations).toBeGreaterThan(STREAM_CONSUMER.retryAttempts);
    const depth = await failureQueueDepth();
    expect(depth).toBeGreaterThan(0);

    failedBodies = await failureBodies(depth);
    expect(failedBodies).toHaveLength(depth);
    const shardId = parseStreamBatchFailure(failedBodies[0]).shardId;
    for (const body of failedBodies) {
      const failure = JSON.parse(body);
      // Lambda's on-failure record for a DynamoDB stream batch.
      expect(failure).toMatchObject({
        requestContext: {
          condition: 'RetryAttemptsExhausted',
          approximateInvokeCount: STREAM_CONSUMER.retryAttempts + 1,
        },
        responseContext: { statusCode: 200, functionError: 'Unhandled' },
        version: '1.0',
      });
      const info = parseStreamBatchFailure(body);
      expect(info.shardId).toBe(shardId);
      expect(info.streamArn).toMatch(/:table\/.+\/stream\//);
      expect(BigInt(info.endSequenceNumber)).toBeGreaterThanOrEqual(
        BigInt(info.startSequenceNumber),
      );
      expect(info.batchSize).toBeGreaterThan(0);
      expect(info.approximateArrivalOfFirstRecord).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    }

    // The consumer recovers; later requests are counted, past the failed ranges.
    failing = false;
    const counted2 = await postBurst(t, a, 2, 3);
    await workUntilConfirmed(t, a, counted2);
    expect((await truth()).byStatus).toEqual({ confirmed: 5 });
    expect((await counted()).byStatus).toEqual({ confirmed: 2 });
    expect(await failureQueueDepth()).toBe(depth);
  }, 180_000);

  it('list: each described batch with its shard, sequence range, size and age; nothing taken', async () => {
    const { code, out } = await run('list');
    expect(code).toBe(0);
    for (const body of failedBodies) {
      const info = parseStreamBatchFailure(body);
      expect(out).toContain(
        `${info.shardId} ${info.startSequenceNumber}..${info.endSequenceNumber} (${info.batchSize} records)  age `,
      );
    }
    expect(out).toContain(`${failedBodies.length} batch(es) in ${stack.prefix}-stream-failures`);
    expect(await failureQueueDepth()).toBe(failedBodies.length);
  });

  it('replay: the counters equal the table again and the failure queue is empty', async () => {
    const { code, out } = await run('replay');
    expect(out).not.toContain('FAILED');
    expect(code).toBe(0);
    expect(out).toContain(`${failedBodies.length} of ${failedBodies.length} batch(es) replayed`);
    const expected = await truth();
    expect(expected.byStatus).toEqual({ confirmed: 5 });
    expect(await counted()).toEqual(expected);
    expect(await failureQueueDepth()).toBe(0);
  });

  it('replaying the same batches again (npm run stream-replay, a new process) adds nothing', async () => {
    const before = await counted();
    for (const body of failedBodies) {
      await stack.local.clients.sqs.send(
        new SendMessageCommand({ QueueUrl: stack.local.streamFailureQueueUrl, MessageBody: body }),
      );
    }
    // Without the table's name: the command finds it in the stream ARN the message names.
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env[ENV.table];
    const { stdout } = await promisify(execFile)(
      'npm',
      ['run', 'stream-replay', '--', 'replay', ...where()],
      {
        env,
        cwd: new URL('../..', import.meta.url).pathname,
      },
    );
    expect(stdout).toContain(`${failedBodies.length} of ${failedBodies.length} batch(es) replayed`);
    expect(await counted()).toEqual(before);
    expect(await counted()).toEqual(await truth());
    expect(await failureQueueDepth()).toBe(0);
  }, 120_000);

  it('a batch whose records the stream no longer has is reported and left in the queue', async () => {
    const info = parseStreamBatchFailure(failedBodies[0]);
    const failure = JSON.parse(failedBodies[0]);
    // A shard the stream no longer lists, as a day after the batch failed.
    const shardId = 'shardId-00000001000000000000-0000dead';
    failure.DDBStreamBatchInfo = { ...failure.DDBStreamBatchInfo, shardId };
    await stack.local.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.local.streamFailureQueueUrl,
        MessageBody: JSON.stringify(failure),
      }),
    );
    const before = await counted();
    const { code, out } = await run('replay');
    expect(code).toBe(1);
    expect(out).toContain(`${shardId} ${info.startSequenceNumber}..${info.endSequenceNumber}`);
    expect(out).toContain('CANNOT BE REPLAYED');
    expect(out).toContain('the counts of this range are missing');
    expect(out).toContain('0 of 1 batch(es) replayed');
    expect(await counted()).toEqual(before);
    // Left in the queue, and visible again for the next look.
    expect((await run('list')).out).toContain(`${shardId} ${info.startSequenceNumber}..`);
  });
});
