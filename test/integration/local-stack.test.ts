/**
 * The local stack itself, through what it offers: the gateway's events and results, the
 * resources it creates, the pollers' Lambda semantics (partial batch failures, retries,
 * redrive to the DLQ) and the SNS outbox. Some functions are replaced by test doubles so
 * the pollers and the gateway can be watched without the product's handlers.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type {
  APIGatewayProxyEventV2,
  Context,
  SQSBatchResponse,
  SQSEvent,
  SQSRecord,
} from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failedIds } from '../../local/poller.ts';
import { createTable } from '../../local/resources.ts';
import { AVAILABLE_FIELDS } from '../../shared/domain/volunteer.ts';
import { QUEUES, TABLE, visibilityTimeoutSeconds } from '../../shared/resources.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

let stack: TestStack;
const lines: string[] = [];

/** Every record each double consumer received, in order. */
const seen: { fn: string; record: SQSRecord; context: Context }[] = [];
const received = (marker: string) =>
  seen.filter((s) => JSON.parse(s.record.body).marker === marker).map((s) => s.record);

/**
 * A consumer double: a record whose body says `fail: n` fails its first n receives
 * (`fail: 'always'` never succeeds); `throw: n` makes the whole invocation throw on the
 * first n receives of that record.
 */
const double =
  (fn: string) =>
  async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const failures: { itemIdentifier: string }[] = [];
    for (const record of event.Records) seen.push({ fn, record, context });
    for (const record of event.Records) {
      const body = JSON.parse(record.body) as { fail?: number | 'always'; throw?: number };
      const count = Number(record.attributes.ApproximateReceiveCount);
      if (body.throw !== undefined && count <= body.throw) throw new Error('consumer crashed');
      if (body.fail === 'always' || (body.fail !== undefined && count <= body.fail)) {
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures: failures };
  };

let echoed: APIGatewayProxyEventV2 | undefined;
const echo = async (event: APIGatewayProxyEventV2) => {
  echoed = event;
  return {
    statusCode: 201,
    headers: { 'content-type': 'application/json', 'x-echo': 'yes' },
    cookies: ['a=1; Path=/', 'b=2'],
    body: JSON.stringify({ routeKey: event.routeKey }),
  };
};

beforeAll(async () => {
  stack = await startTestStack(undefined, {
    log: (line) => lines.push(line),
    functions: {
      'match-request': double('match-request'),
      'apply-request-event': double('apply-request-event'),
      // get-request and cancel-request echo their event; get-stats crashes.
      'get-request': echo,
      'cancel-request': echo,
      'get-stats': async () => {
        throw new Error('boom');
      },
    },
  });
});
afterAll(() => stack?.stop());

const queue = (name: 'match' | 'events') => stack.local.queues[name];
const sqs = () => stack.local.clients.sqs;

describe('the HTTP gateway', () => {
  it('serves GET /v1/health through the real handler', async () => {
    const res = await stack.api('GET', '/v1/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true });
    expect(res.headers.get('apigw-requestid')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sends an unknown path to the fallback: 404, or 405 for a known path', async () => {
    const missing = await stack.api('GET', '/v1/nowhere');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
    const wrongMethod = await stack.api('DELETE', '/v1/health');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET');
  });

  it('builds the API Gateway v2 event and writes back status, headers, cookies and body', async () => {
    const res = await stack.api('GET', '/v1/requests/req%2F1?a=1&b=x%20y&a=2', {
      headers: { 'X-Custom': 'Hi', cookie: 'c1=v1; c2=v2', 'user-agent': 'tester' },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-echo')).toBe('yes');
    expect(res.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2']);
    expect(res.body).toEqual({ routeKey: 'GET /v1/requests/{requestId}' });

    const e = echoed!;
    expect(e).toMatchObject({
      version: '2.0',
      routeKey: 'GET /v1/requests/{requestId}',
      rawPath: '/v1/requests/req%2F1',
      rawQueryString: 'a=1&b=x%20y&a=2',
      cookies: ['c1=v1', 'c2=v2'],
      queryStringParameters: { a: '1,2', b: 'x y' },
      pathParameters: { requestId: 'req/1' },
      isBase64Encoded: false,
      requestContext: {
        accountId: expect.any(String),
        apiId: expect.any(String),
        http: {
          method: 'GET',
          path: '/v1/requests/req%2F1',
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: 'tester',
        },
        routeKey: 'GET /v1/requests/{requestId}',
        stage: '$default',
        requestId: res.headers.get('apigw-requestid'),
      },
    });
    expect(e.headers['x-custom']).toBe('Hi');
    expect(e.headers.cookie).toBeUndefined();
    expect(e.body).toBeUndefined();
    expect(e.requestContext.time).toMatch(/^\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000$/);
    expect(Math.abs(e.requestContext.timeEpoch - Date.now())).toBeLessThan(5000);
  });

  it('passes a UTF-8 body as text', async () => {
    const res = await stack.api('POST', '/v1/requests/x/cancel', { body: { name: '王奶奶' } });
    expect(res.body).toEqual({ routeKey: 'POST /v1/requests/{requestId}/cancel' });
    expect(echoed!.body).toBe('{"name":"王奶奶"}');
    expect(echoed!.isBase64Encoded).toBe(false);
    expect(echoed!.headers['content-type']).toBe('application/json');
    expect(echoed!.pathParameters).toEqual({ requestId: 'x' });
  });

  it('answers 500 internal when a function throws', async () => {
    const res = await stack.api('GET', '/v1/stats', { key: stack.opsKey });
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: { code: 'internal', message: 'internal error' } });
  });
});

describe('resources', () => {
  it('creates the table with its keys, its indexes (inbox ALL, availability INCLUDE), TTL and its stream of both images', async () => {
    const { Table } = await stack.local.clients.dynamodb.send(
      new DescribeTableCommand({ TableName: stack.local.tableName }),
    );
    expect(Table?.TableName).toBe(`${stack.prefix}-main`);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(Table?.KeySchema).toEqual([
      { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
    ]);
    const indexes = Table?.GlobalSecondaryIndexes ?? [];
    expect(indexes.map((i) => i.IndexName).sort()).toEqual(TABLE.indexes.map((i) => i.name).sort());
    const projection = (name: string) => indexes.find((i) => i.IndexName === name)?.Projection;
    expect(projection('gsi1')?.ProjectionType).toBe('ALL');
    expect(projection('avail')).toEqual({
      ProjectionType: 'INCLUDE',
      NonKeyAttributes: [...AVAILABLE_FIELDS],
    });
    expect(Table?.StreamSpecification).toEqual({
      StreamEnabled: true,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    });
    expect(Table?.LatestStreamArn).toEqual(expect.any(String));
    const ttl = await stack.local.clients.dynamodb.send(
      new DescribeTimeToLiveCommand({ TableName: stack.local.tableName }),
    );
    expect(ttl.TimeToLiveDescription).toMatchObject({
      AttributeName: TABLE.ttlAttribute,
      TimeToLiveStatus: 'ENABLED',
    });
  });

  it('gives a table kept from an earlier version (npm start with a data directory) the index it lacks', async () => {
    const dynamodb = stack.local.clients.dynamodb;
    const old = `${stack.prefix}-kept`;
    const key = (n: string, t: 'HASH' | 'RANGE') => ({ AttributeName: n, KeyType: t });
    await dynamodb.send(
      new CreateTableCommand({
        TableName: old,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk'].map((n) => ({
          AttributeName: n,
          AttributeType: 'S',
        })),
        KeySchema: [key('pk', 'HASH'), key('sk', 'RANGE')],
        GlobalSecondaryIndexes: ['gsi1', 'gsi2'].map((name) => ({
          IndexName: name,
          KeySchema: [key(`${name}pk`, 'HASH'), key(`${name}sk`, 'RANGE')],
          Projection: { ProjectionType: 'ALL' },
        })),
      }),
    );
    await createTable(dynamodb, old);
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: old }));
    expect((Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName).sort()).toEqual([
      'avail',
      'gsi1',
      'gsi2',
    ]);
  });

  it('creates each queue with its visibility timeout and a redrive policy to its DLQ', async () => {
    for (const def of QUEUES) {
      const q = stack.local.queues[def.name];
      expect(q.name).toBe(`${stack.prefix}-${def.name}`);
      expect(q.dlqName).toBe(`${stack.prefix}-${def.name}-dlq`);
      const { Attributes } = await sqs().send(
        new GetQueueAttributesCommand({ QueueUrl: q.url, AttributeNames: ['All'] }),
      );
      expect(Number(Attributes?.VisibilityTimeout)).toBe(visibilityTimeoutSeconds(def));
      const redrive = JSON.parse(Attributes?.RedrivePolicy ?? '{}');
      expect(redrive.deadLetterTargetArn).toBe(q.dlqArn);
      expect(Number(redrive.maxReceiveCount)).toBe(def.maxReceiveCount);
      expect(stack.local.env[`QUEUE_URL_${def.name.toUpperCase()}`]).toBe(q.url);
    }
  });

  it('sets the functions’ environment', () => {
    expect(process.env.TABLE_NAME).toBe(stack.local.tableName);
    expect(JSON.parse(process.env.DISTRICT_CONFIG ?? '{}').id).toBe('demo');
    expect(process.env.OPS_API_KEY).toBe(stack.opsKey);
    expect(process.env.ALERT_TOPIC_ARN).toBe(stack.local.alertTopicArn);
    expect(process.env.AWS_ENDPOINT_URL_DYNAMODB).toBe(stack.local.endpoints.dynamodb);
  });
});

describe('queue pollers', () => {
  it('invokes the consumer with Lambda’s SQS event and context', async () => {
    const marker = `shape-${Date.now()}`;
    await sqs().send(
      new SendMessageCommand({
        QueueUrl: queue('match').url,
        MessageBody: JSON.stringify({ marker }),
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'test' } },
      }),
    );
    const [record] = await stack.waitFor(() => received(marker).length > 0 && received(marker));
    expect(record).toMatchObject({
      messageId: expect.any(String),
      receiptHandle: expect.any(String),
      body: JSON.stringify({ marker }),
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: expect.stringMatching(/^\d+$/),
        SenderId: expect.any(String),
        ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d+$/),
      },
      messageAttributes: {
        kind: {
          stringValue: 'test',
          dataType: 'String',
          stringListValues: [],
          binaryListValues: [],
        },
      },
      md5OfBody: expect.stringMatching(/^[0-9a-f]{32}$/),
      eventSource: 'aws:sqs',
      eventSourceARN: queue('match').arn,
      awsRegion: process.env.AWS_REGION,
    });
    const { context } = seen.find((s) => s.record.messageId === record.messageId)!;
    expect(context.functionName).toBe(`${stack.prefix}-match-request`);
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
    expect(context.getRemainingTimeInMillis()).toBeLessThanOrEqual(
      QUEUES[0].functionTimeoutSeconds * 1000,
    );
  });

  it('deletes only the records a partial batch failure does not list', async () => {
    const m = `partial-${Date.now()}`;
    await sqs().send(
      new SendMessageBatchCommand({
        QueueUrl: queue('events').url,
        Entries: [
          { Id: 'a', MessageBody: JSON.stringify({ marker: `${m}-a` }) },
          { Id: 'b', MessageBody: JSON.stringify({ marker: `${m}-b`, fail: 1 }) },
          { Id: 'c', MessageBody: JSON.stringify({ marker: `${m}-c` }) },
        ],
      }),
    );
    // b fails once and is delivered again after retryDelaySeconds (1 s), then succeeds.
    const again = await stack.waitFor(() => received(`${m}-b`).length >= 2 && received(`${m}-b`));
    expect(again.map((r) => r.attributes.ApproximateReceiveCount)).toEqual(['1', '2']);
    await new Promise((r) => setTimeout(r, 1500));
    expect(received(`${m}-a`)).toHaveLength(1);
    expect(received(`${m}-c`)).toHaveLength(1);
    expect(received(`${m}-b`)).toHaveLength(2);
  });

  it('deletes none of the batch when the function throws, and keeps polling', async () => {
    const m = `throw-${Date.now()}`;
    await sqs().send(
      new SendMessageBatchCommand({
        QueueUrl: queue('events').url,
        Entries: [
          { Id: 'a', MessageBody: JSON.stringify({ marker: `${m}-a`, throw: 1 }) },
          { Id: 'b', MessageBody: JSON.stringify({ marker: `${m}-b` }) },
        ],
      }),
    );
    await stack.waitFor(() => received(`${m}-a`).length >= 2 || undefined);
    await stack.waitFor(() => received(`${m}-b`).length >= 2 || undefined);
    expect(received(`${m}-b`).map((r) => r.attributes.ApproximateReceiveCount)).toEqual(['1', '2']);
  });

  it('moves a message that keeps failing to the DLQ after maxReceiveCount receives', async () => {
    const def = QUEUES.find((q) => q.name === 'match')!;
    const marker = `dlq-${Date.now()}`;
    await sqs().send(
      new SendMessageCommand({
        QueueUrl: queue('match').url,
        MessageBody: JSON.stringify({ marker, fail: 'always' }),
      }),
    );
    const dead = await stack.waitFor(
      async () => {
        const out = await sqs().send(
          new ReceiveMessageCommand({ QueueUrl: queue('match').dlqUrl, WaitTimeSeconds: 0 }),
        );
        return out.Messages?.find((msg) => msg.Body?.includes(marker));
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(JSON.parse(dead.Body ?? '{}').marker).toBe(marker);
    expect(received(marker).map((r) => r.attributes.ApproximateReceiveCount)).toEqual(
      Array.from({ length: def.maxReceiveCount }, (_, i) => String(i + 1)),
    );
  }, 45_000);

  it('fails the whole batch when batchItemFailures names an id not in the batch', () => {
    const batch = [{ messageId: 'm1' }, { messageId: 'm2' }] as SQSRecord[];
    expect(failedIds({ batchItemFailures: [] }, batch)).toEqual(new Set());
    expect(failedIds(undefined, batch)).toEqual(new Set());
    expect(failedIds({ batchItemFailures: [{ itemIdentifier: 'm2' }] }, batch)).toEqual(
      new Set(['m2']),
    );
    expect(failedIds({ batchItemFailures: [{ itemIdentifier: 'nope' }] }, batch)).toEqual(
      new Set(['m1', 'm2']),
    );
    expect(failedIds({ batchItemFailures: [{ itemIdentifier: '' }] }, batch)).toEqual(
      new Set(['m1', 'm2']),
    );
  });
});

describe('SNS outbox', () => {
  it('records an SMS published through the shared client, lists it and masks the number in the log', async () => {
    const { sns } = await import('../../shared/clients/sns.ts');
    const { PublishCommand } = await import('@aws-sdk/client-sns');
    const out = await sns.send(
      new PublishCommand({ PhoneNumber: '+8613800138000', Message: '志愿者已接单' }),
    );
    expect(out.MessageId).toMatch(/^[0-9a-f-]{36}$/);

    const sms = stack.outbox().find((n) => n.to === '+8613800138000');
    expect(sms).toMatchObject({ channel: 'sms', message: '志愿者已接单', at: expect.any(String) });

    const listed = await stack.api('GET', '/local/outbox?to=%2B8613800138000');
    expect(listed.status).toBe(200);
    expect(listed.body.notifications).toEqual([expect.objectContaining({ id: sms?.id })]);

    // A text from no template is printed as its length (it could hold anything personal).
    const line = lines.find((l) => l.includes('<text 6 chars>'));
    expect(line).toContain('+86138****8000');
    expect(lines.join('\n')).not.toContain('志愿者已接单');
    expect(lines.join('\n')).not.toContain('+8613800138000');
  });

  it('records push to an endpoint ARN, and can fail the next SMS on purpose', async () => {
    const { sns } = await import('../../shared/clients/sns.ts');
    const { PublishCommand } = await import('@aws-sdk/client-sns');
    const endpoint = 'arn:aws:sns:us-east-1:000000000000:endpoint/GCM/app/abc';
    await sns.send(new PublishCommand({ TargetArn: endpoint, Message: 'push!' }));
    expect(stack.outbox.list({ to: endpoint })).toEqual([
      expect.objectContaining({ channel: 'push', message: 'push!' }),
    ]);

    stack.outbox.failNext(1);
    await expect(
      sns.send(new PublishCommand({ PhoneNumber: '+8613900000001', Message: 'x' })),
    ).rejects.toThrow(/failNext/);
    await sns.send(new PublishCommand({ PhoneNumber: '+8613900000001', Message: 'y' }));
    expect(stack.outbox.list({ to: '+8613900000001' }).map((n) => n.message)).toEqual(['y']);
  });

  it('passes topic publishes on to fauxqs: ops alerts are listed by /local/alerts', async () => {
    const { sns } = await import('../../shared/clients/sns.ts');
    const { PublishCommand } = await import('@aws-sdk/client-sns');
    await sns.send(
      new PublishCommand({
        TopicArn: stack.local.alertTopicArn,
        Subject: '需要人工派单',
        Message: 'request req_1',
      }),
    );
    const res = await stack.api('GET', '/local/alerts');
    expect(res.status).toBe(200);
    expect(res.body.alerts).toEqual([
      expect.objectContaining({ subject: '需要人工派单', message: 'request req_1' }),
    ]);
    expect(await stack.alerts()).toHaveLength(1);
  });
});
