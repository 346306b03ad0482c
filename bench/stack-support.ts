/**
 * A local stack for a benchmark: started with the bench's district overrides, every
 * function wrapped to time its invocations (as Lambda bills them: wall time of the
 * handler), the AWS counter attached to the functions' shared SDK clients, and small
 * HTTP helpers. One per process (the local stack's rule).
 */
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import type { Handler } from '../local/lambda.ts';
import { loadHandler } from '../local/lambda.ts';
import { type LocalStack, startLocalStack } from '../local/stack.ts';
import { QUEUES, ROUTES, STREAM_CONSUMER } from '../shared/resources.ts';
import { AwsCounter, currentFunction } from './aws-counter.ts';

export interface BenchStack {
  stack: LocalStack;
  counter: AwsCounter;
  /** Handler wall times in ms by function name since the last `takeTimes()`. */
  takeTimes(): Record<string, number[]>;
  api(
    method: string,
    path: string,
    opts?: { key?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any }>;
  /** Items of a request's partition with sk prefix (the stack's own client: not counted). */
  partition(requestId: string, skPrefix: string): Promise<Record<string, any>[]>;
  /**
   * Waits until every queue (and DLQ) has nothing visible, in flight or delayed, and the
   * table stream's consumer has handled every change made so far, its window's final
   * invocation (the counters' writes) included, up to a tumbling window more, unless
   * `windows` is false (the pipeline's own work only).
   */
  drained(
    timeoutMs?: number,
    countDelayed?: boolean,
    windows?: boolean,
  ): Promise<{ ms: number; leftover: number; dlq: number }>;
  waitFor<T>(
    fn: () => Promise<T | undefined> | T | undefined,
    timeoutMs?: number,
    everyMs?: number,
  ): Promise<T | undefined>;
}

export async function startBenchStack(
  districtOverrides: Record<string, unknown>,
  options: { stubConsumers?: boolean } = {},
): Promise<BenchStack> {
  let times: Record<string, number[]> = {};
  const wrap = (name: string): Handler => {
    return async (event, context) => {
      const handler = await loadHandler(name);
      const t0 = performance.now();
      try {
        return await currentFunction.run(name, () => handler(event, context));
      } finally {
        times[name] ??= [];
        times[name].push(performance.now() - t0);
      }
    };
  };
  const names = new Set([
    ...ROUTES.map((r) => r.handler),
    ...QUEUES.map((q) => q.consumer),
    STREAM_CONSUMER.handler,
  ]);
  const functions: Record<string, Handler> = Object.fromEntries(
    [...names].map((n) => [n, wrap(n)]),
  );
  // Consumers that take each message and do nothing: intake without the pipeline behind it.
  if (options.stubConsumers) {
    for (const q of QUEUES) functions[q.consumer] = async () => ({ batchItemFailures: [] });
    functions[STREAM_CONSUMER.handler] = async () => ({ state: {} });
  }
  const stack = await startLocalStack({
    district: 'demo',
    districtOverrides,
    port: 0,
    log: false,
    prefix: `bench-${process.pid}`,
    functions,
    // Every change of the table stream in a batch of its own, as in a quiet district whose
    // changes are minutes apart: the stream consumer's most invocations per request (its
    // writes are per tumbling window, below, and each run here fits in one or two).
    streamBatchingWindowMs: 0,
    // The deployed window, whatever tests use: the consumer's writes per request depend on
    // how many changes a window gathers, and this measures what AWS would bill.
    streamTumblingWindowSeconds: STREAM_CONSUMER.tumblingWindowSeconds,
  });
  // The functions' own clients, imported after startLocalStack set the environment,
  // through the same module paths the handlers and the stack use.
  const counter = new AwsCounter();
  const { dynamodb } = await import('../shared/clients/dynamodb.ts');
  const { sqs } = await import('../shared/clients/sqs.ts');
  const { sns } = await import('../shared/clients/sns.ts');
  counter.attachDynamo(dynamodb);
  counter.attachSqs(sqs);
  counter.attachSns(sns);

  const api: BenchStack['api'] = async (method, path, opts = {}) => {
    const res = await fetch(`${stack.url}${path}`, {
      method,
      headers: {
        ...(opts.key ? { authorization: `Bearer ${opts.key}` } : {}),
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...opts.headers,
      },
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
    });
    const text = await res.text();
    let body: any = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {}
    return { status: res.status, body };
  };

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const waitFor: BenchStack['waitFor'] = async (fn, timeoutMs = 10_000, everyMs = 5) => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
      if (Date.now() > end) return undefined;
      await sleep(everyMs);
    }
  };

  return {
    stack,
    counter,
    takeTimes() {
      const t = times;
      times = {};
      return t;
    },
    api,
    waitFor,
    async partition(requestId, skPrefix) {
      const out = await stack.clients.dynamodb.send(
        new QueryCommand({
          TableName: stack.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sk)',
          ExpressionAttributeValues: { ':pk': { S: `REQ#${requestId}` }, ':sk': { S: skPrefix } },
          ConsistentRead: true,
        }),
      );
      return (out.Items ?? []).map((i) =>
        Object.fromEntries(Object.entries(i).map(([k, v]) => [k, v.S ?? v.N ?? v.BOOL ?? v])),
      );
    },
    async drained(timeoutMs = 30_000, countDelayed = true, windows = true) {
      const t0 = Date.now();
      let quiet = 0;
      for (;;) {
        const res = await api('GET', '/local/queues');
        const qs = Object.values(res.body.queues as Record<string, any>);
        const leftover = qs.reduce(
          (s, q) => s + q.visible + q.inFlight + (countDelayed ? q.delayed : 0),
          0,
        );
        const dlq = qs.reduce((s, q) => s + q.dlq.visible + q.dlq.inFlight + q.dlq.delayed, 0);
        // Twice in a row, so a message sent between a receive and its delete is not missed.
        quiet = leftover === 0 ? quiet + 1 : 0;
        // The stream's consumer counts what the queues' consumers wrote: read it to the end.
        if (quiet >= 2 && stack.stream) {
          const left =
            timeoutMs -
            (Date.now() - t0) +
            (windows ? STREAM_CONSUMER.tumblingWindowSeconds * 1000 : 0);
          const settled = await stack.stream.settled(Math.max(1, left), { windows }).then(
            () => true,
            () => false,
          );
          if (!settled) return { ms: Date.now() - t0, leftover: leftover + 1, dlq };
        }
        if (quiet >= 2 || Date.now() - t0 > timeoutMs)
          return { ms: Date.now() - t0, leftover, dlq };
        await sleep(100);
      }
    },
  };
}

export const pct = (xs: number[], p: number) => {
  if (!xs.length) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
