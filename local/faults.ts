/**
 * Fault injection for the local stack, used by test/integration/faults*.test.ts.
 *
 * - `deliverTwice(name)`: a queue consumer that receives every batch twice at once, as
 *   SQS may deliver a message twice (at-least-once delivery). Failures of either run fail
 *   the record.
 * - `crashBeforeDelete(name)`: runs the real consumer, then throws (at most once per
 *   message), as if Lambda was killed after the handler's writes and before the poller
 *   deleted the records: every record comes back (receive count 2) and is handled again.
 * - `streamDeliveredTwice(name)` / `streamCrashAfterWrite(name)`: the same two faults for the
 *   table stream's consumer: every stream batch and final window invocation handled twice,
 *   or the consumer killed after its work the first time it sees a batch or a window's final
 *   invocation, so the stream poller invokes it again.
 * - `injectDynamoFaults(client, …)`: an SDK middleware that fails a fraction of DynamoDB
 *   calls before they are sent: throttling and 5xx (which the SDK retries) and failures
 *   that are not retried (so handlers fail and SQS redelivers, or the API answers 500).
 *
 * Pass the consumers with startLocalStack's `functions` option; put the DynamoDB faults on
 * the functions' shared client (`shared/clients/dynamodb.ts`) after the stack started.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { TableStreamEvent } from '../shared/adapters/request-stream.ts';
import { type Handler, loadHandler } from './lambda.ts';

function failuresOf(response: unknown): string[] {
  const list = (response as SQSBatchResponse | undefined)?.batchItemFailures ?? [];
  return list.map((f) => f.itemIdentifier);
}

/** Every batch handled twice, concurrently: a duplicate delivery of every message. */
export function deliverTwice(name: string): Handler {
  return async (event: SQSEvent, context) => {
    const real = await loadHandler(name);
    const runs = await Promise.allSettled([real(event, context), real(event, context)]);
    const failed = new Set<string>();
    for (const run of runs) {
      if (run.status === 'rejected') throw run.reason;
      for (const id of failuresOf(run.value)) failed.add(id);
    }
    return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
  };
}

export interface CrashLog {
  /** Batches whose records were "lost" after their writes. */
  crashes: number;
}

/**
 * The real consumer runs; then, when every message of the batch is seen for the first
 * time, the invocation dies before the poller can delete anything, so every record of the
 * batch is received again. At most one crash per message: a batch that mixes returning
 * records with new ones does not crash, or a message batched with a new one each time
 * would crash on every receive and reach its DLQ (callbacks after 3), a fault harsher
 * than the one this models.
 */
export function crashBeforeDelete(name: string, log: CrashLog = { crashes: 0 }): Handler {
  const seen = new Set<string>();
  return async (event: SQSEvent, context) => {
    const real = await loadHandler(name);
    const response = await real(event, context);
    const returning = event.Records.some((r) => seen.has(r.messageId));
    for (const r of event.Records) seen.add(r.messageId);
    if (!returning) {
      log.crashes += 1;
      throw new Error(`fault injection: ${name} killed after its writes, before the delete`);
    }
    return response;
  };
}

/** Every stream batch handled twice, one run after the other (a shard is never read in parallel). */
export function streamDeliveredTwice(name: string, log: CrashLog = { crashes: 0 }): Handler {
  return async (event: DynamoDBStreamEvent, context) => {
    const real = await loadHandler(name);
    await real(event, context);
    log.crashes += 1;
    return real(event, context);
  };
}

/**
 * The real stream consumer runs; then, the first time a batch starting at a record is
 * seen (and the first time each window's final invocation is), the invocation dies after
 * its work: the poller delivers the batch again with the state it gave the failed run, or
 * makes the final invocation again after its writes.
 */
export function streamCrashAfterWrite(name: string, log: CrashLog = { crashes: 0 }): Handler {
  const seen = new Set<string>();
  return async (event: TableStreamEvent, context) => {
    const real = await loadHandler(name);
    const response = await real(event, context);
    const first = event.isFinalInvokeForWindow
      ? `final ${event.shardId} ${event.window?.start}`
      : (event.Records[0]?.dynamodb?.SequenceNumber ?? '');
    if (!seen.has(first)) {
      seen.add(first);
      log.crashes += 1;
      throw new Error(`fault injection: ${name} killed after its writes`);
    }
    return response;
  };
}

export interface DynamoFaultOptions {
  /** Share of calls failed with a retryable error (throttling or 500). */
  retryableRate: number;
  /** Share of calls failed with an error the SDK does not retry. */
  fatalRate: number;
  /** Deterministic pseudo-random sequence. */
  seed?: number;
}

export interface DynamoFaults {
  readonly calls: number;
  readonly retryable: number;
  readonly fatal: number;
  /** Stops injecting (the middleware stays until remove()). */
  pause(): void;
  remove(): void;
}

const MIDDLEWARE = 'localFaultInjection';

function prng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

class InjectedFault extends Error {
  $metadata: { httpStatusCode: number; attempts?: number };
  $fault: 'client' | 'server';
  constructor(name: string, status: number, message: string) {
    super(message);
    this.name = name;
    this.$metadata = { httpStatusCode: status };
    this.$fault = status >= 500 ? 'server' : 'client';
  }
}

/**
 * Fails DynamoDB calls on `client` (and every DynamoDBDocumentClient made from it, which
 * shares its middleware stack) before they reach the server. The middleware sits in the
 * `deserialize` step, inside the SDK's retry middleware: a throttling or 500 error is
 * retried by the SDK like a real one (up to the client's maxAttempts); a fatal one is not.
 */
export function injectDynamoFaults(
  client: DynamoDBClient,
  options: DynamoFaultOptions,
): DynamoFaults {
  const random = prng(options.seed ?? 42);
  let active = true;
  const stats = { calls: 0, retryable: 0, fatal: 0 };
  client.middlewareStack.remove(MIDDLEWARE);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      stats.calls += 1;
      if (active) {
        const r = random();
        if (r < options.fatalRate) {
          stats.fatal += 1;
          throw new InjectedFault(
            'InjectedFatalFault',
            400,
            `fault injection: ${context.commandName} failed, not retryable`,
          );
        }
        if (r < options.fatalRate + options.retryableRate) {
          stats.retryable += 1;
          if (random() < 0.5) {
            throw new InjectedFault(
              'ProvisionedThroughputExceededException',
              400,
              `fault injection: ${context.commandName} throttled`,
            );
          }
          throw new InjectedFault(
            'InternalServerError',
            500,
            `fault injection: ${context.commandName} internal server error`,
          );
        }
      }
      return next(args);
    },
    { step: 'deserialize', priority: 'high', name: MIDDLEWARE },
  );
  return {
    get calls() {
      return stats.calls;
    },
    get retryable() {
      return stats.retryable;
    },
    get fatal() {
      return stats.fatal;
    },
    pause() {
      active = false;
    },
    remove() {
      client.middlewareStack.remove(MIDDLEWARE);
    },
  };
}
