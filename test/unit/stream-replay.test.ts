import {
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { DynamoDBRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { batchFailure } from '../../local/stream-poller.ts';
import {
  main,
  RangeGone,
  readRange,
  replay,
  replayShardId,
  tableOfStream,
} from '../../scripts/stream-replay.ts';
import {
  parseStreamBatchFailure,
  type StreamBatchInfo,
  type TableStreamEvent,
} from '../../shared/adapters/request-stream.ts';

const STREAM =
  'arn:aws:dynamodb:cn-north-1:123456789012:table/demo-main/stream/2026-01-01T00:00:00.000';
const SHARD = 'shardId-00000001573689847184-864758bb';

/** Lambda's on-failure record for a DynamoDB stream batch, as its documentation shows it. */
const onFailure = (info: Partial<StreamBatchInfo> = {}) =>
  JSON.stringify({
    requestContext: {
      requestId: '316aa6d0-8154-4c4d-9af7-85d5f4a6bc81',
      functionArn: 'arn:aws:lambda:cn-north-1:123456789012:function:count-transitions',
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 11,
    },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    version: '1.0',
    timestamp: '2026-01-01T00:13:49.717Z',
    DDBStreamBatchInfo: {
      shardId: SHARD,
      startSequenceNumber: '800000000003126276362',
      endSequenceNumber: '800000000003126276365',
      approximateArrivalOfFirstRecord: '2026-01-01T00:13:19Z',
      approximateArrivalOfLastRecord: '2026-01-01T00:13:21Z',
      batchSize: 3,
      streamArn: STREAM,
      ...info,
    },
  });

describe('the failure queue’s description of a stream batch', () => {
  it('reads shard, sequence range, size, stream and arrival times', () => {
    expect(parseStreamBatchFailure(onFailure())).toEqual({
      shardId: SHARD,
      startSequenceNumber: '800000000003126276362',
      endSequenceNumber: '800000000003126276365',
      approximateArrivalOfFirstRecord: '2026-01-01T00:13:19Z',
      approximateArrivalOfLastRecord: '2026-01-01T00:13:21Z',
      batchSize: 3,
      streamArn: STREAM,
      failedAt: '2026-01-01T00:13:49.717Z',
    });
  });

  it('refuses what is not one: no JSON, a Kinesis batch, a range that is not sequence numbers', () => {
    expect(() => parseStreamBatchFailure('hello')).toThrow('not JSON');
    const kinesis = JSON.parse(onFailure());
    kinesis.KinesisBatchInfo = kinesis.DDBStreamBatchInfo;
    delete kinesis.DDBStreamBatchInfo;
    expect(() => parseStreamBatchFailure(JSON.stringify(kinesis))).toThrow('no DDBStreamBatchInfo');
    expect(() => parseStreamBatchFailure(onFailure({ startSequenceNumber: '12e3' }))).toThrow(
      'startSequenceNumber is not a sequence number',
    );
    expect(() => parseStreamBatchFailure(onFailure({ shardId: '' }))).toThrow('no shardId');
    // Compared as numbers: 9 is before 10 though "9" > "10".
    expect(() =>
      parseStreamBatchFailure(onFailure({ startSequenceNumber: '10', endSequenceNumber: '9' })),
    ).toThrow('startSequenceNumber is after endSequenceNumber');
    expect(
      parseStreamBatchFailure(onFailure({ startSequenceNumber: '9', endSequenceNumber: '10' }))
        .endSequenceNumber,
    ).toBe('10');
  });

  it('the local poller writes the same shape, from the records it discarded', () => {
    const record = (seq: string, at: number): DynamoDBRecord => ({
      dynamodb: { SequenceNumber: seq, ApproximateCreationDateTime: at },
    });
    const body = JSON.stringify(
      batchFailure(
        [record('000000000000000000007', 1767225599), record('000000000000000000011', 1767225601)],
        SHARD,
        STREAM,
        'arn:aws:lambda:us-east-1:000000000000:function:local-demo-count-transitions',
        11,
      ),
    );
    expect(parseStreamBatchFailure(body)).toMatchObject({
      shardId: SHARD,
      startSequenceNumber: '000000000000000000007',
      endSequenceNumber: '000000000000000000011',
      approximateArrivalOfFirstRecord: '2025-12-31T23:59:59Z',
      approximateArrivalOfLastRecord: '2026-01-01T00:00:01Z',
      batchSize: 2,
      streamArn: STREAM,
    });
    expect(JSON.parse(body).requestContext).toMatchObject({
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 11,
    });
  });

  it('names the table whose stream it is', () => {
    expect(tableOfStream(STREAM)).toBe('demo-main');
    expect(tableOfStream('arn:aws:kinesis:cn-north-1:1:stream/x')).toBeUndefined();
  });
});

const streams = mockClient(DynamoDBStreamsClient);
const sqs = mockClient(SQSClient);

const streamRecord = (
  seq: string,
  pk = 'REQ#r1',
  sk = 'REQ',
  newImage?: Record<string, { N: string }>,
): StreamRecord => ({
  eventID: seq,
  eventName: 'MODIFY',
  dynamodb: {
    SequenceNumber: seq,
    Keys: { pk: { S: pk }, sk: { S: sk } },
    ...(newImage && { NewImage: newImage }),
    ApproximateCreationDateTime: new Date('2026-01-01T00:13:19Z'),
  },
});

const batch = parseStreamBatchFailure(
  onFailure({ startSequenceNumber: '100', endSequenceNumber: '300', batchSize: 2 }),
);

beforeEach(() => {
  streams.reset();
  sqs.reset();
});

describe('reading a described range back from the stream', () => {
  it('from its first sequence number to its last, across pages, and no further', async () => {
    streams.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it-1' });
    streams
      .on(GetRecordsCommand, { ShardIterator: 'it-1' })
      .resolves({ Records: [streamRecord('100'), streamRecord('200')], NextShardIterator: 'it-2' })
      .on(GetRecordsCommand, { ShardIterator: 'it-2' })
      .resolves({ Records: [], NextShardIterator: 'it-3' })
      .on(GetRecordsCommand, { ShardIterator: 'it-3' })
      .resolves({ Records: [streamRecord('300'), streamRecord('400')], NextShardIterator: 'it-4' });
    const records = await readRange(new DynamoDBStreamsClient({}), batch);
    expect(records.map((r) => r.dynamodb?.SequenceNumber)).toEqual(['100', '200', '300']);
    expect(streams.commandCalls(GetShardIteratorCommand)[0].args[0].input).toEqual({
      StreamArn: STREAM,
      ShardId: SHARD,
      ShardIteratorType: 'AT_SEQUENCE_NUMBER',
      SequenceNumber: '100',
    });
    expect(streams.commandCalls(GetRecordsCommand)).toHaveLength(3);
  });

  it('records trimmed from the stream (past 24 h): the range is gone', async () => {
    streams
      .on(GetShardIteratorCommand)
      .rejects(new TrimmedDataAccessException({ message: 'trimmed', $metadata: {} }));
    await expect(readRange(new DynamoDBStreamsClient({}), batch)).rejects.toBeInstanceOf(RangeGone);
  });

  it('a stream that starts after the range’s first record: the range is gone, not partly counted', async () => {
    streams.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it-1' });
    streams
      .on(GetRecordsCommand)
      .resolves({ Records: [streamRecord('200')], NextShardIterator: 'x' });
    await expect(readRange(new DynamoDBStreamsClient({}), batch)).rejects.toBeInstanceOf(RangeGone);
  });
});

describe('list', () => {
  it('prints each batch with its age, marks one past the stream’s 24 h, and puts them back', async () => {
    const hoursAgo = (h: number) =>
      new Date(Date.now() - h * 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({
        Messages: [
          {
            MessageId: 'm1',
            ReceiptHandle: 'r1',
            Body: onFailure({ approximateArrivalOfFirstRecord: hoursAgo(3) }),
          },
          {
            MessageId: 'm2',
            ReceiptHandle: 'r2',
            Body: onFailure({ approximateArrivalOfFirstRecord: hoursAgo(25) }),
          },
          { MessageId: 'm3', ReceiptHandle: 'r3', Body: '{"hand":"written"}' },
        ],
      })
      .resolves({});
    const lines: string[] = [];
    const code = await main(
      ['list', '--queue-url', 'https://sqs/1/stream-failures', '--region', 'cn-north-1'],
      (l) => lines.push(l),
    );
    expect(code).toBe(0);
    const range = `${SHARD} 800000000003126276362..800000000003126276365 (3 records)`;
    expect(lines[0]).toBe(`${range}  age 3h00m`);
    expect(lines[1]).toBe(`${range}  age 25h00m  past the stream's 24 h`);
    expect(lines[2]).toBe('m3  not a stream batch description (no DDBStreamBatchInfo)');
    expect(lines[3]).toBe('3 batch(es) in stream-failures');
    expect(
      sqs.commandCalls(ChangeMessageVisibilityCommand).map((c) => c.args[0].input.ReceiptHandle),
    ).toEqual(['r1', 'r2', 'r3']);
    expect(sqs.commandCalls(DeleteMessageCommand)).toHaveLength(0);
  });
});

describe('replay', () => {
  const message = (id: string) => ({
    MessageId: id,
    ReceiptHandle: `rh-${id}`,
    Body: onFailure({ startSequenceNumber: '100', endSequenceNumber: '300', batchSize: 2 }),
  });

  it('counts the request and volunteer records of the range (the mapping’s filters) under the range’s own shard id, then deletes the message', async () => {
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [message('m1')] })
      .resolves({});
    streams.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it-1' });
    streams.on(GetRecordsCommand).resolves({
      Records: [
        streamRecord('100'),
        streamRecord('150', 'VOL#v1', 'VOL', { tasksToday: { N: '1' } }),
        // Not let through: an offer, and a volunteer's change at two tasks today.
        streamRecord('200', 'REQ#r1', 'OFFER#v1'),
        streamRecord('250', 'VOL#v2', 'VOL', { tasksToday: { N: '2' } }),
        streamRecord('300'),
      ],
      NextShardIterator: 'it-2',
    });
    const count = vi.fn(async (_event: TableStreamEvent) => ({ state: {} }));
    const results = await replay(new SQSClient({}), new DynamoDBStreamsClient({}), 'q', { count });
    expect(results).toEqual([{ messageId: 'm1', batch, replayed: 3 }]);
    const event = count.mock.calls[0][0];
    expect(event.shardId).toBe(replayShardId(batch));
    expect(event.shardId).not.toBe(SHARD);
    expect(event.eventSourceARN).toBe(STREAM);
    // A window of its own, final at once: the consumer writes its counts in this invocation.
    expect(event.isFinalInvokeForWindow).toBe(true);
    expect(event.state).toEqual({});
    expect(event.Records.map((r) => r.dynamodb?.SequenceNumber)).toEqual(['100', '150', '300']);
    expect(sqs.commandCalls(DeleteMessageCommand)[0].args[0].input).toEqual({
      QueueUrl: 'q',
      ReceiptHandle: 'rh-m1',
    });
  });

  it('a range the stream no longer has: not counted, the message left and visible again', async () => {
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [message('m1')] })
      .resolves({});
    streams
      .on(GetShardIteratorCommand)
      .rejects(new TrimmedDataAccessException({ message: 'trimmed', $metadata: {} }));
    const count = vi.fn(async () => ({}));
    const results = await replay(new SQSClient({}), new DynamoDBStreamsClient({}), 'q', { count });
    expect(results).toEqual([{ messageId: 'm1', batch, gone: 'trimmed' }]);
    expect(count).not.toHaveBeenCalled();
    expect(sqs.commandCalls(DeleteMessageCommand)).toHaveLength(0);
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)[0].args[0].input).toEqual({
      QueueUrl: 'q',
      ReceiptHandle: 'rh-m1',
      VisibilityTimeout: 0,
    });
  });

  it('the counting fails: the message stays', async () => {
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [message('m1')] })
      .resolves({});
    streams.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it-1' });
    streams.on(GetRecordsCommand).resolves({ Records: [streamRecord('100'), streamRecord('300')] });
    const count = vi.fn(async () => {
      throw new Error('throttled');
    });
    const results = await replay(new SQSClient({}), new DynamoDBStreamsClient({}), 'q', { count });
    expect(results).toEqual([{ messageId: 'm1', batch, failed: 'throttled' }]);
    expect(sqs.commandCalls(DeleteMessageCommand)).toHaveLength(0);
  });
});
