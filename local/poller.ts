/**
 * One SQS poller per queue, doing what Lambda's event source mapping does for an SQS
 * trigger with ReportBatchItemFailures:
 *  - ReceiveMessage up to `batchSize` messages (all system and message attributes);
 *  - turn them into an SQSEvent with Lambda's record shape;
 *  - invoke the consumer with the function's timeout;
 *  - delete the records the response does not list in `batchItemFailures`; if the
 *    function throws, times out, or names an id that is not in the batch, delete none;
 *  - leave failed records to reappear after the queue's visibility timeout (or, with
 *    `retryDelaySeconds`, after that many seconds), so SQS counts receives and moves a
 *    message to the DLQ after the RedrivePolicy's maxReceiveCount (fauxqs does that).
 * One batch at a time per queue; each queue has its own loop, so a slow consumer does
 * not hold up the others. A consumer error is logged, never thrown.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { type Handler, invoke } from './lambda.ts';

export interface PollerOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  region: string;
  batchSize: number;
  /** What Lambda would call: resolves the handler (imported on first use), or a test double. */
  consumer: () => Promise<Handler>;
  functionName: string;
  functionTimeoutSeconds: number;
  /** Long-poll wait per ReceiveMessage; 1 s keeps tests snappy (Lambda uses 20). */
  waitTimeSeconds?: number;
  /** Make failed records visible again after this many seconds instead of the queue's timeout. */
  retryDelaySeconds?: number;
  /** ReceiveMessage's VisibilityTimeout (default: the queue's), for crash tests. */
  receiveVisibilityTimeoutSeconds?: number;
  log?: (line: string) => void;
  logError?: (line: string, error: unknown) => void;
}

export interface BatchOutcome {
  received: number;
  deleted: number;
  failed: number;
  error?: unknown;
}

export interface Poller {
  readonly functionName: string;
  /** Batches handled so far. */
  readonly batches: number;
  /** Resolves after the next batch this poller finishes (for tests). */
  nextBatch(): Promise<BatchOutcome>;
  /** Stops receiving and waits for the batch in flight. */
  stop(): Promise<void>;
}

/** Lambda's shape of a message attribute: lower camel case, list fields always present. */
function lambdaAttributes(
  attributes: Record<string, MessageAttributeValue> | undefined,
): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, a] of Object.entries(attributes ?? {})) {
    out[name] = {
      stringValue: a.StringValue,
      binaryValue: a.BinaryValue ? Buffer.from(a.BinaryValue).toString('base64') : undefined,
      stringListValues: a.StringListValues ?? [],
      binaryListValues: (a.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
      dataType: a.DataType ?? 'String',
    };
  }
  return out;
}

export function toSqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const attrs = message.Attributes ?? {};
  const record: SQSRecord = {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attrs.ApproximateReceiveCount ?? '1',
      SentTimestamp: attrs.SentTimestamp ?? String(Date.now()),
      SenderId: attrs.SenderId ?? '000000000000',
      ApproximateFirstReceiveTimestamp:
        attrs.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(attrs.AWSTraceHeader ? { AWSTraceHeader: attrs.AWSTraceHeader } : {}),
      ...(attrs.SequenceNumber ? { SequenceNumber: attrs.SequenceNumber } : {}),
      ...(attrs.MessageGroupId ? { MessageGroupId: attrs.MessageGroupId } : {}),
      ...(attrs.MessageDeduplicationId
        ? { MessageDeduplicationId: attrs.MessageDeduplicationId }
        : {}),
    },
    messageAttributes: lambdaAttributes(message.MessageAttributes),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
  if (message.MD5OfMessageAttributes)
    record.md5OfMessageAttributes = message.MD5OfMessageAttributes;
  return record;
}

/**
 * Which records failed, by Lambda's rules for ReportBatchItemFailures: a response with no
 * `batchItemFailures` (or an empty list) means all succeeded; an entry whose
 * `itemIdentifier` is missing or not a messageId of the batch fails the whole batch.
 */
export function failedIds(response: unknown, batch: SQSRecord[]): Set<string> {
  const all = new Set(batch.map((r) => r.messageId));
  if (!response || typeof response !== 'object') return new Set();
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return all;
  const failed = new Set<string>();
  for (const f of failures) {
    const id = (f as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || !all.has(id)) return all;
    failed.add(id);
  }
  return failed;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function startPoller(options: PollerOptions): Poller {
  const {
    sqs,
    queueUrl,
    queueArn,
    region,
    batchSize,
    functionName,
    functionTimeoutSeconds,
    waitTimeSeconds = 1,
    retryDelaySeconds,
  } = options;
  const log = options.log ?? (() => {});
  const logError =
    options.logError ?? ((line: string, error: unknown) => console.error(line, error));
  const abort = new AbortController();
  let running = true;
  let batches = 0;
  let waiters: ((o: BatchOutcome) => void)[] = [];

  async function handleBatch(messages: Message[]): Promise<BatchOutcome> {
    const records = messages.map((m) => toSqsRecord(m, queueArn, region));
    const event: SQSEvent = { Records: records };
    let failed: Set<string>;
    let error: unknown;
    try {
      const handler = await options.consumer();
      const response = await invoke(handler, event, {
        functionName,
        timeoutSeconds: functionTimeoutSeconds,
        region,
      });
      failed = failedIds(response, records);
    } catch (e) {
      error = e;
      failed = new Set(records.map((r) => r.messageId));
      logError(
        `[${functionName}] invocation failed; ${records.length} messages will be retried`,
        e,
      );
    }
    const succeeded = records.filter((r) => !failed.has(r.messageId));
    const retried = records.filter((r) => failed.has(r.messageId));
    if (succeeded.length > 0) {
      const out = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: succeeded.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
        }),
      );
      if (out.Failed?.length) {
        logError(`[${functionName}] ${out.Failed.length} deletes failed`, out.Failed);
      }
    }
    if (retried.length > 0 && retryDelaySeconds !== undefined) {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: retried.map((r, i) => ({
            Id: String(i),
            ReceiptHandle: r.receiptHandle,
            VisibilityTimeout: retryDelaySeconds,
          })),
        }),
      );
    }
    log(
      `[${functionName}] batch of ${records.length}: ${succeeded.length} done` +
        (retried.length ? `, ${retried.length} failed (retried)` : ''),
    );
    return { received: records.length, deleted: succeeded.length, failed: retried.length, error };
  }

  const loop = (async () => {
    while (running) {
      let messages: Message[] = [];
      try {
        const out = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: batchSize,
            WaitTimeSeconds: waitTimeSeconds,
            VisibilityTimeout: options.receiveVisibilityTimeoutSeconds,
            MessageSystemAttributeNames: ['All'],
            AttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: abort.signal },
        );
        messages = out.Messages ?? [];
      } catch (error) {
        if (!running) break;
        logError(`[${functionName}] ReceiveMessage failed`, error);
        await sleep(1000);
        continue;
      }
      if (messages.length === 0) continue;
      let outcome: BatchOutcome;
      try {
        outcome = await handleBatch(messages);
      } catch (error) {
        logError(`[${functionName}] batch bookkeeping failed`, error);
        outcome = { received: messages.length, deleted: 0, failed: messages.length, error };
      }
      batches += 1;
      const ready = waiters;
      waiters = [];
      for (const w of ready) w(outcome);
    }
  })();

  return {
    functionName,
    get batches() {
      return batches;
    },
    nextBatch: () => new Promise((ok) => waiters.push(ok)),
    async stop() {
      running = false;
      abort.abort();
      await loop;
    },
  };
}
