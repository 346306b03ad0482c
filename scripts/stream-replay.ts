/**
 * The table stream's failure queue, for district ops:
 *
 *   npm run stream-replay -- list               each batch described there: shard, sequence
 *                                                range, batch size, age
 *   npm run stream-replay -- replay [--max n]   count each described batch, then delete its message
 *
 * The event source mapping of count-transitions gives up on a batch after its retries
 * (bisected) and sends the failure queue a description of it, not its records: shard,
 * first and last sequence numbers (Lambda's on-failure record, `DDBStreamBatchInfo`). Until
 * it is replayed, the request counters lack that batch's changes. Replay reads the range
 * back from the table's stream (GetShardIterator AT_SEQUENCE_NUMBER, GetRecords to the last
 * sequence number), hands it to the consumer's own handler as the mapping would the final
 * invocation of a window (so the handler writes its counts at once), and deletes the
 * message only after the counters took it.
 *
 * The stream keeps records 24 hours: a message older than that describes records that are
 * gone. Replay says so and leaves the message (the counts of that range stay missing).
 *
 * A replayed range is counted as a stream shard of its own (`<shard> replay <first seq>`):
 * the shard's live counter items have moved past the range (the mapping went on with the
 * next batches), so under the shard's own id every record would be taken for one already
 * counted. Each counter item keeps the last sequence number it counted (`seq`), so replaying
 * a range again (a crash before the delete, a message sent twice) adds nothing.
 *
 * Where things are:
 *   local stack  --prefix local-<district> (default local-$DISTRICT or local-demo): the queue
 *                is <prefix>-stream-failures; --endpoint (or AWS_ENDPOINT_URL_SQS) for fauxqs,
 *                --dynamodb-endpoint (or AWS_ENDPOINT_URL_DYNAMODB) for DynamoDB Local.
 *   AWS          --queue-url <the stack's StreamFailureQueueUrl output>. The counters' table
 *                is the one whose stream the message names (or --table). Region and
 *                credentials from the usual AWS environment / profile.
 */
import {
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
  type DynamoDBStreamsClient as Streams,
} from '@aws-sdk/client-dynamodb-streams';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { toLambdaRecord } from '../local/stream-poller.ts';
import {
  isCountedRecord,
  parseStreamBatchFailure,
  type StreamBatchInfo,
  type TableStreamEvent,
} from '../shared/adapters/request-stream.ts';
import { ENV, STREAM_CONSUMER } from '../shared/resources.ts';
import { clientConfig, parseArgs, queueUrlOf, runAsScript } from './cli.ts';

export interface Locator {
  prefix?: string;
  queueUrl?: string;
}

export async function locate(sqs: SQSClient, where: Locator): Promise<string> {
  if (where.queueUrl) return where.queueUrl;
  if (!where.prefix) throw new Error('give --prefix or --queue-url');
  return queueUrlOf(sqs, `${where.prefix}-${STREAM_CONSUMER.failureQueue}`);
}

/** Receives up to `max` messages, each once: they stay invisible for `visibility` seconds. */
async function receiveAll(sqs: SQSClient, url: string, max: number, visibility: number) {
  const got = new Map<string, Message>();
  for (let empty = 0; got.size < max && empty < 2; ) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: Math.min(10, max - got.size),
        WaitTimeSeconds: 1,
        VisibilityTimeout: visibility,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    const batch = out.Messages ?? [];
    if (batch.length === 0) empty++;
    for (const m of batch) got.set(m.MessageId ?? '', m);
  }
  return [...got.values()];
}

/** Puts messages back in the queue at once (they were received, not handled). */
async function release(sqs: SQSClient, url: string, messages: Message[]) {
  for (const m of messages) {
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: url,
        ReceiptHandle: m.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
  }
}

export type Described =
  | { messageId: string; batch: StreamBatchInfo; ageSeconds: number }
  | { messageId: string; unreadable: string };

function describe(m: Message, now: number): Described {
  const messageId = m.MessageId ?? '';
  try {
    const batch = parseStreamBatchFailure(m.Body ?? '');
    const first = Date.parse(batch.approximateArrivalOfFirstRecord);
    const from = Number.isNaN(first) ? Number(m.Attributes?.SentTimestamp ?? now) : first;
    return { messageId, batch, ageSeconds: Math.max(0, Math.round((now - from) / 1000)) };
  } catch (e) {
    return { messageId, unreadable: (e as Error).message };
  }
}

/** The failure queue's messages (up to `max`), left in the queue. */
export async function list(sqs: SQSClient, url: string, max = 100): Promise<Described[]> {
  const messages = await receiveAll(sqs, url, max, 30);
  await release(sqs, url, messages);
  return messages.map((m) => describe(m, Date.now()));
}

/** The stream has no records of the range any more (24 h retention, or the stream is gone). */
export class RangeGone extends Error {}

const GONE = new Set(['TrimmedDataAccessException', 'ResourceNotFoundException']);
/** Empty reads of an open shard before giving up on reaching the range's end. */
const MAX_EMPTY_READS = 5;

/** The stream records from the range's first sequence number to its last, in order. */
export async function readRange(streams: Streams, batch: StreamBatchInfo) {
  const end = BigInt(batch.endSequenceNumber);
  const records: StreamRecord[] = [];
  try {
    let { ShardIterator: iterator } = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: batch.streamArn,
        ShardId: batch.shardId,
        ShardIteratorType: 'AT_SEQUENCE_NUMBER',
        SequenceNumber: batch.startSequenceNumber,
      }),
    );
    for (let empty = 0; iterator && empty < MAX_EMPTY_READS; ) {
      const out = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
      for (const r of out.Records ?? []) {
        const seq = BigInt(r.dynamodb?.SequenceNumber ?? '0');
        // The range's first record is gone: the stream starts later now. (AWS throws
        // TrimmedDataAccessException for a trimmed sequence number; DynamoDB Local reads on.)
        if (records.length === 0 && seq !== BigInt(batch.startSequenceNumber)) {
          throw new RangeGone(`the shard's first record now is ${r.dynamodb?.SequenceNumber}`);
        }
        if (seq > end) return records;
        records.push(r);
        if (seq === end) return records;
      }
      empty = out.Records?.length ? 0 : empty + 1;
      iterator = out.NextShardIterator;
    }
    if (!iterator && records.length === 0) throw new RangeGone('the shard has no such records');
    // The shard ended before the last sequence number: that is all there is of the range.
    if (!iterator) return records;
  } catch (e) {
    if (e instanceof RangeGone) throw e;
    if (GONE.has((e as Error).name)) throw new RangeGone((e as Error).message);
    throw e;
  }
  throw new Error(`the stream gave nothing past ${records.at(-1)?.dynamodb?.SequenceNumber}`);
}

/** The counter identity of a replayed range: its own, so the shard's live `seq` does not skip it. */
export const replayShardId = (batch: StreamBatchInfo) =>
  `${batch.shardId} replay ${batch.startSequenceNumber}`;

/**
 * The event count-transitions gets for these records, as the tumbling-window mapping shapes
 * it: a window of its own, this invocation its final one, so the consumer writes the
 * records' counts now rather than adding them to a state nobody would hand on.
 */
export function replayEvent(
  batch: StreamBatchInfo,
  records: StreamRecord[],
  region: string,
): TableStreamEvent {
  const now = new Date().toISOString();
  return {
    // The mapping's filters: request and volunteer items only.
    Records: records
      .map((r) => toLambdaRecord(r, batch.streamArn, region))
      .filter((r) => isCountedRecord(r)),
    shardId: replayShardId(batch),
    eventSourceARN: batch.streamArn,
    window: { start: now, end: now },
    state: {},
    isFinalInvokeForWindow: true,
    isWindowTerminatedEarly: false,
  };
}

export type Count = (event: TableStreamEvent) => Promise<unknown>;

/** The consumer's handler, imported only once the environment names the table. */
const countTransitions: Count = async (event) => {
  const { handler } = await import('../functions/count-transitions.ts');
  return handler(event);
};

/** `arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>` → `<name>`. */
export const tableOfStream = (streamArn: string) =>
  /:table\/([^/]+)\/stream\//.exec(streamArn)?.[1];

export type Replayed =
  | { messageId: string; batch: StreamBatchInfo; replayed: number }
  | { messageId: string; batch: StreamBatchInfo; gone: string }
  | { messageId: string; batch?: StreamBatchInfo; failed: string };

export interface ReplayOptions {
  max?: number;
  region?: string;
  /** The consumer's counting (default: functions/count-transitions.ts `handler`). */
  count?: Count;
}

/**
 * Replays up to `max` described batches: read, counted, then the message deleted. A
 * message that cannot be replayed stays in the queue (visible again when this returns).
 */
export async function replay(
  sqs: SQSClient,
  streams: Streams,
  url: string,
  {
    max = Number.POSITIVE_INFINITY,
    region = 'us-east-1',
    count = countTransitions,
  }: ReplayOptions = {},
): Promise<Replayed[]> {
  // Invisible for 5 minutes while this runs: each message is handled once per run.
  const messages = await receiveAll(sqs, url, max, 300);
  const results: Replayed[] = [];
  const left: Message[] = [];
  for (const m of messages) {
    const messageId = m.MessageId ?? '';
    const described = describe(m, Date.now());
    if ('unreadable' in described) {
      results.push({
        messageId,
        failed: `not a stream batch description: ${described.unreadable}`,
      });
      left.push(m);
      continue;
    }
    const { batch } = described;
    try {
      const records = await readRange(streams, batch);
      // The counters are in the table whose stream this is.
      process.env[ENV.table] ||= tableOfStream(batch.streamArn);
      const event = replayEvent(batch, records, region);
      // The mapping only gives up on batches it let through: none here is a wrong range.
      if (event.Records.length === 0) {
        throw new Error(
          `no request or volunteer records in the range (the description says ${batch.batchSize})`,
        );
      }
      await count(event);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
      results.push({ messageId, batch, replayed: event.Records.length });
    } catch (e) {
      left.push(m);
      if (e instanceof RangeGone) results.push({ messageId, batch, gone: e.message });
      else results.push({ messageId, batch, failed: (e as Error).message });
    }
  }
  await release(sqs, url, left);
  return results;
}

export function formatAge(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return h > 0
    ? `${h}h${String(m).padStart(2, '0')}m`
    : `${m}m${String(seconds % 60).padStart(2, '0')}s`;
}

const range = (b: StreamBatchInfo) =>
  `${b.shardId} ${b.startSequenceNumber}..${b.endSequenceNumber} (${b.batchSize} records)`;

const RETENTION_SECONDS = 24 * 3600;

const USAGE = `usage: npm run stream-replay -- list|replay [--max n]
  [--prefix local-demo] [--endpoint http://127.0.0.1:4566] [--dynamodb-endpoint URL]
  [--queue-url URL] [--table name] [--region r]
  replay counts each batch the table stream's consumer gave up on, then deletes its
  message; replaying a batch twice adds nothing (each counter item keeps the last
  sequence number it counted). The stream keeps records 24 hours: an older batch cannot
  be replayed, and its message is left in the queue.`;

export async function main(argv: string[], out: (line: string) => void = console.log) {
  const { positional, flags } = parseArgs(argv);
  const [command] = positional;
  const region = flags.region || process.env.AWS_REGION;
  const dynamodbEndpoint =
    flags['dynamodb-endpoint'] || process.env.AWS_ENDPOINT_URL_DYNAMODB || undefined;
  // Read by the consumer's own DynamoDB client when it is imported (replay).
  if (dynamodbEndpoint) process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamodbEndpoint;
  if (flags.table) process.env[ENV.table] = flags.table;
  const sqs = new SQSClient(
    clientConfig(flags.endpoint || process.env.AWS_ENDPOINT_URL_SQS || undefined, region),
  );
  const streams = new DynamoDBStreamsClient(clientConfig(dynamodbEndpoint, region));
  if (dynamodbEndpoint && !process.env.AWS_ACCESS_KEY_ID) {
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
  }
  const where: Locator = {
    prefix:
      flags.prefix || (flags['queue-url'] ? undefined : `local-${process.env.DISTRICT ?? 'demo'}`),
    queueUrl: flags['queue-url'],
  };
  const max = flags.max ? Number(flags.max) : undefined;
  try {
    if (command === 'list') {
      const url = await locate(sqs, where);
      const shown = await list(sqs, url, max);
      for (const d of shown) {
        if ('unreadable' in d) {
          out(`${d.messageId}  not a stream batch description (${d.unreadable})`);
          continue;
        }
        const stale = d.ageSeconds > RETENTION_SECONDS ? "  past the stream's 24 h" : '';
        out(`${range(d.batch)}  age ${formatAge(d.ageSeconds)}${stale}`);
      }
      out(`${shown.length} batch(es) in ${url.split('/').pop()}`);
      return 0;
    }
    if (command === 'replay') {
      const url = await locate(sqs, where);
      // The consumer's own DynamoDB client takes its region from the environment.
      process.env.AWS_REGION ||= await streams.config.region();
      const results = await replay(sqs, streams, url, { max, region: process.env.AWS_REGION });
      for (const r of results) {
        const what = r.batch ? range(r.batch) : r.messageId;
        if ('replayed' in r) out(`${what}  replayed: ${r.replayed} record(s) counted`);
        else if ('gone' in r) {
          out(
            `${what}  CANNOT BE REPLAYED: the stream no longer has these records (${r.gone}); ` +
              'the counts of this range are missing. Message left in the queue.',
          );
        } else out(`${what}  FAILED: ${r.failed}. Message left in the queue.`);
      }
      const done = results.filter((r) => 'replayed' in r).length;
      out(`${done} of ${results.length} batch(es) replayed`);
      return done === results.length ? 0 : 1;
    }
    out(USAGE);
    return 2;
  } finally {
    sqs.destroy();
    streams.destroy();
  }
}

runAsScript(import.meta.url, 'stream-replay', main);
