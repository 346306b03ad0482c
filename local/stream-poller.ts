/**
 * The table's stream, read the way Lambda's event source mapping reads a DynamoDB stream
 * for a function (STREAM_CONSUMER in shared/resources.ts):
 *  - finds the table's latest stream and lists its shards (again every second, and
 *    whenever a shard ends), reading a child shard only once its parent is read to the end;
 *  - reads each shard from TRIM_HORIZON on start (or from its saved checkpoint, with its
 *    open window's state, when given a `checkpointFile`), then on from where it left off;
 *  - gathers up to `batchSize` records, waiting up to the batching window for more once
 *    the first arrived, keeps those the filter passes (the others still advance the
 *    shard, as a filtered mapping does) and invokes the handler with a Lambda-shaped
 *    DynamoDBStreamEvent, with the tumbling-window fields (`shardId`, `window`, `state`);
 *  - on an error or a timeout, invokes again with the same records after a delay (a
 *    response's `batchItemFailures` retries from the first record it names), up to
 *    `maxRetries`, then discards the batch, describing it as Lambda describes it to the
 *    on-failure destination (`onDiscard`: the local failure queue), and goes on; the shard
 *    does not advance past a batch before it succeeded or was discarded;
 *  - keeps the tumbling window as Lambda does: windows aligned to the clock (start =
 *    floor(now / W) * W), each shard's invocations in a window given the `state` the last
 *    successful one returned (a failed one's retry gets the state it was given), a
 *    response without `state` taken as a failure, and once the window has ended one
 *    final invocation (`isFinalInvokeForWindow`, the state, no records) before the shard's
 *    next batch, retried until it succeeds, holding the stream, as Lambda holds the shard.
 * One batch at a time per stream, shards in turn. Lambda does not bisect a batch here, nor
 * end a window early. Errors are logged, never thrown.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type AttributeValue,
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord, AttributeValue as LambdaAttributeValue } from 'aws-lambda';
import type { StreamBatchFailure } from '../shared/adapters/request-stream.ts';
import { type Handler, invoke } from './lambda.ts';

export interface StreamPollerOptions {
  dynamodb: DynamoDBClient;
  streams: DynamoDBStreamsClient;
  tableName: string;
  region: string;
  /** What Lambda would call: resolves the handler (imported on first use), or a test double. */
  consumer: () => Promise<Handler>;
  functionName: string;
  functionTimeoutSeconds: number;
  batchSize: number;
  /** Wait this long for more records once a batch has its first (Lambda's batching window). */
  batchingWindowMs: number;
  /** The mapping's tumbling window: each shard's window state is kept this long. */
  tumblingWindowSeconds: number;
  /** Records the mapping's filter passes; the others are skipped. Default: all. */
  filter?: (record: DynamoDBRecord) => boolean;
  /** Wait between reads of a stream with nothing new. */
  idleWaitMs?: number;
  retryDelayMs?: number;
  maxRetries?: number;
  /**
   * Where to keep each shard's checkpoint and open window (state included), as Lambda
   * keeps them across its own restarts: a stack restarted on the same data (npm start with
   * a data directory) goes on from there instead of reading the stream from the start into
   * a fresh window, which the counters' exactly-once writes would refuse. Default: memory.
   */
  checkpointFile?: string;
  /** Where a discarded batch's description goes (Lambda's on-failure destination). */
  onDiscard?: (failure: StreamBatchFailure) => Promise<void>;
  log?: (line: string) => void;
  logError?: (line: string, error: unknown) => void;
}

export interface StreamBatchOutcome {
  shardId: string;
  records: number;
  attempts: number;
  discarded: boolean;
}

export interface StreamPoller {
  readonly functionName: string;
  /** Batches handled (succeeded or discarded) so far. */
  readonly batches: number;
  /** Resolves after the next batch this poller finishes (for tests). */
  nextBatch(): Promise<StreamBatchOutcome>;
  /** Final window invocations that succeeded so far (one per window with a state). */
  readonly finalInvocations: number;
  /**
   * Resolves once every record written before the call has been handled: a full pass over
   * the shards, started after the call, found nothing new, and then each window open at
   * that moment with a state to write had its final invocation (the consumer writes the
   * counters then: up to a tumbling window later); with `windows: false`, without
   * waiting for those. Rejects after `timeoutMs`.
   */
  settled(timeoutMs?: number, options?: { windows?: boolean }): Promise<void>;
  /** Stops reading and waits for the batch in flight. */
  stop(): Promise<void>;
}

interface ShardState {
  id: string;
  parent?: string;
  iterator?: string;
  /** Sequence number of the last record handled: the next read starts after it. */
  checkpoint?: string;
  /** The shard is closed and every record of it was handled. */
  done: boolean;
  /** The tumbling window its batches are in, until its final invocation. */
  window?: TumblingWindow;
}

interface TumblingWindow {
  /** Epoch ms, a multiple of the window's length. */
  start: number;
  end: number;
  /** What the last successful invocation returned; undefined while none has succeeded. */
  state?: Record<string, unknown>;
}

/** A window whose final invocation has something to do: a state that is not empty. */
const holdsState = (w: TumblingWindow | undefined) =>
  w?.state !== undefined && Object.keys(w.state).length > 0;

/** A response Lambda accepts from a tumbling-window function: one with a `state` object. */
function stateOf(response: unknown): Record<string, unknown> | undefined {
  const state = (response as { state?: unknown } | null)?.state;
  if (!state || typeof state !== 'object' || Array.isArray(state)) return undefined;
  // Through JSON, as Lambda keeps it: the next invocation cannot share objects with this one.
  return JSON.parse(JSON.stringify(state));
}

/** A stream attribute value as Lambda's event has it: binary as base64 text. */
function lambdaValue(v: AttributeValue): LambdaAttributeValue {
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
  if (v.B !== undefined) return { B: b64(v.B) };
  if (v.BS !== undefined) return { BS: v.BS.map(b64) };
  if (v.M !== undefined) return { M: lambdaImage(v.M) ?? {} };
  if (v.L !== undefined) return { L: v.L.map(lambdaValue) };
  return v as LambdaAttributeValue;
}

function lambdaImage(image: Record<string, AttributeValue> | undefined) {
  if (!image) return undefined;
  return Object.fromEntries(Object.entries(image).map(([k, v]) => [k, lambdaValue(v)]));
}

export function toLambdaRecord(r: StreamRecord, streamArn: string, region: string): DynamoDBRecord {
  const d = r.dynamodb ?? {};
  const created = d.ApproximateCreationDateTime;
  return {
    eventID: r.eventID,
    eventName: r.eventName,
    eventVersion: r.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: region,
    dynamodb: {
      ApproximateCreationDateTime: created ? Math.floor(created.getTime() / 1000) : undefined,
      Keys: lambdaImage(d.Keys),
      NewImage: lambdaImage(d.NewImage),
      OldImage: lambdaImage(d.OldImage),
      SequenceNumber: d.SequenceNumber,
      SizeBytes: d.SizeBytes,
      StreamViewType: d.StreamViewType,
    },
    eventSourceARN: streamArn,
  };
}

/** Lambda's on-failure record of a DynamoDB stream batch: arrival times to the second. */
export function batchFailure(
  batch: DynamoDBRecord[],
  shardId: string,
  streamArn: string,
  functionArn: string,
  attempts: number,
): StreamBatchFailure {
  const arrival = (r: DynamoDBRecord | undefined) =>
    new Date((r?.dynamodb?.ApproximateCreationDateTime ?? 0) * 1000)
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
  return {
    requestContext: {
      requestId: randomUUID(),
      functionArn,
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: attempts,
    },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    version: '1.0',
    timestamp: new Date().toISOString(),
    DDBStreamBatchInfo: {
      shardId,
      startSequenceNumber: batch[0]?.dynamodb?.SequenceNumber ?? '',
      endSequenceNumber: batch.at(-1)?.dynamodb?.SequenceNumber ?? '',
      approximateArrivalOfFirstRecord: arrival(batch[0]),
      approximateArrivalOfLastRecord: arrival(batch.at(-1)),
      batchSize: batch.length,
      streamArn,
    },
  };
}

/** The index of the first record a response names as failed; undefined when none did. */
function firstFailure(response: unknown, records: DynamoDBRecord[]): number | undefined {
  const failures = (response as { batchItemFailures?: unknown } | null)?.batchItemFailures;
  if (!Array.isArray(failures) || failures.length === 0) return undefined;
  const indexes = failures.map((f) =>
    records.findIndex((r) => r.dynamodb?.SequenceNumber === f?.itemIdentifier),
  );
  // An identifier that is not in the batch fails the whole batch, as in Lambda.
  return indexes.some((i) => i < 0) ? 0 : Math.min(...indexes);
}

interface SavedShards {
  streamArn: string;
  shards: Pick<ShardState, 'id' | 'parent' | 'checkpoint' | 'done' | 'window'>[];
}

/** The shards saved for this stream, if any (another stream's are stale: a new table). */
function loadShards(file: string | undefined, streamArn: string): SavedShards['shards'] {
  if (!file || !existsSync(file)) return [];
  const saved = JSON.parse(readFileSync(file, 'utf8')) as SavedShards;
  return saved.streamArn === streamArn ? saved.shards : [];
}

/** Saves the shards' checkpoints and windows, replacing the file whole (never half-written). */
function saveShards(file: string | undefined, streamArn: string, shards: Iterable<ShardState>) {
  if (!file) return;
  const saved: SavedShards = {
    streamArn,
    shards: [...shards].map(({ id, parent, checkpoint, done, window }) => ({
      id,
      parent,
      checkpoint,
      done,
      window,
    })),
  };
  writeFileSync(`${file}.tmp`, JSON.stringify(saved));
  renameSync(`${file}.tmp`, file);
}

export function startStreamPoller(options: StreamPollerOptions): StreamPoller {
  const {
    dynamodb,
    streams,
    tableName,
    region,
    functionName,
    batchSize,
    batchingWindowMs,
    idleWaitMs = 100,
    retryDelayMs = 500,
    maxRetries = 10,
  } = options;
  const log = options.log ?? (() => {});
  const logError =
    options.logError ?? ((line: string, error: unknown) => console.error(line, error));
  const filter = options.filter ?? (() => true);
  let running = true;
  let batches = 0;
  let rounds = 0;
  let finals = 0;
  let batchWaiters: ((o: StreamBatchOutcome) => void)[] = [];
  /**
   * A settled() call: it waits for a round after `after` that reads nothing new; then
   * `windows` holds the windows open at that moment with a state to write, and it
   * resolves once none of them is open any more.
   */
  let settleWaiters: {
    after: number;
    ignoreWindows: boolean;
    windows?: Set<string>;
    resolve: () => void;
  }[] = [];
  const shards = new Map<string, ShardState>();
  let wake: (() => void) | undefined;

  /** Sleeps, cut short by stop() or by a caller waiting for the poller to settle. */
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  async function findStream(): Promise<string | undefined> {
    while (running) {
      try {
        const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
        if (Table?.LatestStreamArn) return Table.LatestStreamArn;
        logError(`[${functionName}] table ${tableName} has no stream`, undefined);
      } catch (error) {
        logError(`[${functionName}] DescribeTable failed`, error);
      }
      await sleep(1000);
    }
    return undefined;
  }

  async function refreshShards(streamArn: string) {
    let start: string | undefined;
    do {
      const out = await streams.send(
        new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: start }),
      );
      for (const s of out.StreamDescription?.Shards ?? []) {
        if (s.ShardId && !shards.has(s.ShardId)) {
          shards.set(s.ShardId, { id: s.ShardId, parent: s.ParentShardId, done: false });
        }
      }
      start = out.StreamDescription?.LastEvaluatedShardId;
    } while (start);
  }

  /** Shards to read now: not finished, and their parent (if still listed) finished. */
  const readable = () =>
    [...shards.values()].filter((s) => {
      if (s.done) return false;
      const parent = s.parent ? shards.get(s.parent) : undefined;
      return !parent || parent.done;
    });

  async function iteratorOf(streamArn: string, shard: ShardState) {
    const out = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shard.id,
        ...(shard.checkpoint
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: shard.checkpoint }
          : { ShardIteratorType: 'TRIM_HORIZON' }),
      }),
    );
    return out.ShardIterator;
  }

  /**
   * Reads the next batch of a shard: up to batchSize records, waiting up to the batching
   * window after the first. `closed`: the shard has ended and this batch is its last.
   */
  async function readBatch(streamArn: string, shard: ShardState) {
    const records: StreamRecord[] = [];
    let closed = false;
    let deadline: number | undefined;
    while (running && records.length < batchSize) {
      shard.iterator ??= await iteratorOf(streamArn, shard);
      if (!shard.iterator) {
        closed = true;
        break;
      }
      let out: GetRecordsCommandOutput;
      try {
        out = await streams.send(
          new GetRecordsCommand({
            ShardIterator: shard.iterator,
            Limit: batchSize - records.length,
          }),
        );
      } catch (error) {
        const name = (error as Error).name;
        if (name === 'ExpiredIteratorException' || name === 'TrimmedDataAccessException') {
          // Read again from the checkpoint (or the oldest record still kept).
          if (name === 'TrimmedDataAccessException') shard.checkpoint = undefined;
          shard.iterator = undefined;
          continue;
        }
        throw error;
      }
      records.push(...(out.Records ?? []));
      shard.iterator = out.NextShardIterator;
      if (!shard.iterator) {
        closed = true;
        break;
      }
      if (records.length === 0) break;
      deadline ??= Date.now() + batchingWindowMs;
      if (Date.now() >= deadline) break;
      if (!out.Records?.length) await sleep(Math.min(25, deadline - Date.now()));
    }
    return { records, closed };
  }

  const windowMs = options.tumblingWindowSeconds * 1000;
  const windowFields = (w: TumblingWindow) => ({
    start: new Date(w.start).toISOString(),
    end: new Date(w.end).toISOString(),
  });
  const invokeConsumer = async (event: unknown) =>
    invoke(await options.consumer(), event, {
      functionName,
      timeoutSeconds: options.functionTimeoutSeconds,
      region,
    });

  /**
   * The final invocation of the shard's window, if it has ended: synchronous, with the
   * state the window's last successful invocation returned, retried until it succeeds
   * (Lambda holds the shard meanwhile). A window none of whose invocations succeeded has
   * no state to hand on, and gets none. False if the poller stopped first.
   */
  async function finishWindow(streamArn: string, shard: ShardState): Promise<boolean> {
    const window = shard.window;
    if (!window || Date.now() < window.end) return true;
    if (window.state === undefined) {
      shard.window = undefined;
      return true;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await invokeConsumer({
          Records: [],
          shardId: shard.id,
          eventSourceARN: streamArn,
          window: windowFields(window),
          state: structuredClone(window.state),
          isFinalInvokeForWindow: true,
          isWindowTerminatedEarly: false,
        });
        if (!stateOf(response)) throw new Error('the response has no state');
        break;
      } catch (error) {
        logError(
          `[${functionName}] final invocation of the window ${windowFields(window).start} failed (attempt ${attempt}); retrying it`,
          error,
        );
      }
      if (!running) return false;
      await sleep(retryDelayMs);
    }
    shard.window = undefined;
    finals++;
    saveShards(options.checkpointFile, streamArn, shards.values());
    log(`[${functionName}] window ${windowFields(window).start} of ${shard.id} closed`);
    return true;
  }

  /**
   * Invokes the handler with a batch until it succeeds or the retries run out, in the
   * shard's open window (a new one, aligned to the clock, after the last one's final
   * invocation).
   */
  async function deliver(streamArn: string, shard: ShardState, batch: DynamoDBRecord[]) {
    if (!(await finishWindow(streamArn, shard))) {
      return { attempts: 0, discarded: false, stopped: true };
    }
    if (!shard.window) {
      const start = Math.floor(Date.now() / windowMs) * windowMs;
      shard.window = { start, end: start + windowMs };
    }
    const window = shard.window;
    let pending = batch;
    let attempts = 0;
    while (pending.length > 0) {
      attempts++;
      const event = {
        Records: pending,
        shardId: shard.id,
        eventSourceARN: streamArn,
        window: windowFields(window),
        // A copy each attempt: a retry gets the state as it was, whatever the failed run did.
        state: structuredClone(window.state ?? {}),
        isFinalInvokeForWindow: false,
        isWindowTerminatedEarly: false,
      };
      let failedAt: number | undefined;
      try {
        const response = await invokeConsumer(event);
        const state = stateOf(response);
        if (!state) throw new Error('the response has no state (Lambda counts that as a failure)');
        // Kept with a partial failure too: the function's account of the records it handled.
        window.state = state;
        failedAt = firstFailure(response, pending);
        if (failedAt === undefined) break;
        logError(
          `[${functionName}] ${pending.length - failedAt} of ${pending.length} records failed; retrying them`,
          undefined,
        );
      } catch (error) {
        failedAt = 0;
        logError(
          `[${functionName}] invocation failed; ${pending.length} records will be retried`,
          error,
        );
      }
      pending = pending.slice(failedAt);
      if (attempts > maxRetries) {
        logError(
          `[${functionName}] ${pending.length} records discarded after ${maxRetries} retries, described in the failure queue`,
          pending.map((r) => r.dynamodb?.SequenceNumber),
        );
        const arn = `arn:aws:lambda:${region}:000000000000:function:${functionName}`;
        try {
          await options.onDiscard?.(batchFailure(pending, shard.id, streamArn, arn, attempts));
        } catch (error) {
          logError(`[${functionName}] sending to the failure queue failed`, error);
        }
        return { attempts, discarded: true };
      }
      if (!running) return { attempts, discarded: false, stopped: true };
      await sleep(retryDelayMs);
    }
    return { attempts, discarded: false };
  }

  const loop = (async () => {
    const streamArn = await findStream();
    if (!streamArn) return;
    for (const saved of loadShards(options.checkpointFile, streamArn)) {
      shards.set(saved.id, { ...saved });
    }
    let described = 0;
    let forceDescribe = true;
    while (running) {
      const round = ++rounds;
      let sawRecords = false;
      try {
        const catchingUp = settleWaiters.some((w) => !w.windows);
        if (forceDescribe || Date.now() - described > 1000 || catchingUp) {
          await refreshShards(streamArn);
          described = Date.now();
          forceDescribe = false;
        }
        // Windows end by the clock, with or without new records (a closed shard's too).
        for (const shard of shards.values()) {
          if (!running || !(await finishWindow(streamArn, shard))) break;
        }
        for (const shard of readable()) {
          if (!running) break;
          const { records, closed } = await readBatch(streamArn, shard);
          if (records.length > 0) sawRecords = true;
          const lastSeq = records.at(-1)?.dynamodb?.SequenceNumber;
          const batch = records
            .map((r) => toLambdaRecord(r, streamArn, region))
            .filter((r) => filter(r));
          if (batch.length > 0) {
            const outcome = await deliver(streamArn, shard, batch);
            if ('stopped' in outcome) break;
            batches++;
            const result: StreamBatchOutcome = {
              shardId: shard.id,
              records: batch.length,
              attempts: outcome.attempts,
              discarded: outcome.discarded,
            };
            log(`[${functionName}] batch of ${batch.length} from ${shard.id}`);
            const waiting = batchWaiters;
            batchWaiters = [];
            for (const w of waiting) w(result);
          }
          if (lastSeq) shard.checkpoint = lastSeq;
          if (closed) {
            shard.done = true;
            forceDescribe = true;
          }
          // The batch's window state and the checkpoint past it, together.
          if (lastSeq || closed) saveShards(options.checkpointFile, streamArn, shards.values());
        }
      } catch (error) {
        if (!running) break;
        logError(`[${functionName}] reading the stream failed`, error);
        // Start the shards again from their checkpoints.
        for (const s of shards.values()) s.iterator = undefined;
        sawRecords = true;
        await sleep(1000);
        continue;
      }
      const open = new Set(
        [...shards.values()]
          .filter((s) => holdsState(s.window))
          .map((s) => `${s.id} ${s.window?.start}`),
      );
      if (!sawRecords) {
        for (const w of settleWaiters) {
          if (!w.windows && w.after < round) w.windows = w.ignoreWindows ? new Set() : open;
        }
      }
      const ready = settleWaiters.filter(
        (w) => w.windows && ![...w.windows].some((k) => open.has(k)),
      );
      settleWaiters = settleWaiters.filter((w) => !ready.includes(w));
      for (const w of ready) w.resolve();
      if (!sawRecords) await sleep(idleWaitMs);
    }
  })();

  return {
    functionName,
    get batches() {
      return batches;
    },
    get finalInvocations() {
      return finals;
    },
    nextBatch: () => new Promise((ok) => batchWaiters.push(ok)),
    settled(timeoutMs = 15_000, { windows = true } = {}) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          settleWaiters = settleWaiters.filter((w) => w !== waiter);
          reject(new Error(`${functionName}: stream not caught up after ${timeoutMs} ms`));
        }, timeoutMs);
        const waiter = {
          after: rounds,
          ignoreWindows: !windows,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
        settleWaiters.push(waiter);
        wake?.();
      });
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
      for (const w of settleWaiters) w.resolve();
      settleWaiters = [];
    },
  };
}
