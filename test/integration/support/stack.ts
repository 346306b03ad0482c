/**
 * A local stack for one integration test file, on the DynamoDB Local and fauxqs that
 * global-setup.ts started for the run: random HTTP port, a unique resource prefix, failed
 * queue records retried after 1 s. Start it in `beforeAll` and stop it in `afterAll`.
 */
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import type { Notification, Outbox } from '../../../local/outbox.ts';
import {
  type Alert,
  type DeepPartial,
  type LocalStack,
  type LocalStackOptions,
  startLocalStack,
} from '../../../local/stack.ts';
import type { District } from '../../../shared/district.ts';

export interface ApiOptions {
  /** Sent as `Authorization: Bearer <key>`. */
  key?: string;
  /** An object is sent as JSON; a string as is. */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ApiResponse {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the route returns
  body: any;
  headers: Headers;
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/** `stack.outbox()` lists every SMS and push; `stack.outbox.failNext(n)` and `.clear()` too. */
export type OutboxView = (() => Notification[]) &
  Pick<Outbox, 'list' | 'clear' | 'failNext' | 'disableEndpoint'>;

export interface TestStack {
  url: string;
  opsKey: string;
  district: District;
  prefix: string;
  /** The stack itself: queues, pollers, clients, env. */
  local: LocalStack;
  api(method: string, path: string, options?: ApiOptions): Promise<ApiResponse>;
  waitFor<T>(
    fn: () => T | Promise<T>,
    options?: WaitOptions,
  ): Promise<Exclude<T, undefined | null | false>>;
  outbox: OutboxView;
  alerts(): Promise<Alert[]>;
  /**
   * Resolves once the table stream's consumer has counted every change made before the
   * call (the counters read by GET /v1/stats are kept from the stream, written at the end
   * of each tumbling window); throws after the timeout.
   */
  countersCaughtUp(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Polls `fn` until it returns something other than undefined, null or false, and returns
 * that. An error thrown by `fn` counts as "not yet"; at the timeout the last error is
 * thrown (or a timeout error).
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  { timeoutMs = 15_000, intervalMs = 50 }: WaitOptions = {},
): Promise<Exclude<T, undefined | null | false>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined && value !== null && value !== false) {
        return value as Exclude<T, undefined | null | false>;
      }
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      if (lastError) throw lastError;
      throw new Error(`waitFor: nothing after ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function callApi(
  baseUrl: string,
  method: string,
  path: string,
  { key, body, headers = {} }: ApiOptions = {},
): Promise<ApiResponse> {
  const sent: Record<string, string> = { ...headers };
  if (key) sent.authorization = `Bearer ${key}`;
  let payload: string | undefined;
  if (body !== undefined) {
    payload = typeof body === 'string' ? body : JSON.stringify(body);
    sent['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${baseUrl}${path}`, { method, headers: sent, body: payload });
  const text = await res.text();
  let parsed: unknown = text || undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: the text itself
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** The stream consumer's tumbling window in tests (AWS: STREAM_CONSUMER.tumblingWindowSeconds). */
export const TEST_STREAM_WINDOW_SECONDS = 2;

/**
 * @param districtOverrides deep-merged into the demo district (e.g. `{ offers: { timeoutSeconds: 2 } }`)
 * @param options anything else startLocalStack takes (e.g. `functions` to replace some with test doubles)
 */
export async function startTestStack(
  districtOverrides?: DeepPartial<District>,
  options: Partial<LocalStackOptions> = {},
): Promise<TestStack> {
  const local = await startLocalStack({
    district: 'demo',
    districtOverrides,
    dynamodbEndpoint: inject('dynamodbEndpoint'),
    sqsEndpoint: inject('sqsEndpoint'),
    prefix: `it-${randomUUID().slice(0, 8)}`,
    port: 0,
    opsKey: `ops-${randomUUID()}`,
    retryDelaySeconds: 1,
    log: false,
    // The stream consumer writes the counters at each window's end: tests read them sooner.
    streamTumblingWindowSeconds: TEST_STREAM_WINDOW_SECONDS,
    ...options,
  });
  const outbox = Object.assign(() => local.outbox.list(), {
    list: local.outbox.list.bind(local.outbox),
    clear: local.outbox.clear.bind(local.outbox),
    failNext: local.outbox.failNext.bind(local.outbox),
    disableEndpoint: local.outbox.disableEndpoint.bind(local.outbox),
  });
  return {
    url: local.url,
    opsKey: local.opsKey,
    district: local.district,
    prefix: local.prefix,
    local,
    api: (method, path, opts) => callApi(local.url, method, path, opts),
    waitFor,
    outbox,
    alerts: local.alerts,
    countersCaughtUp: async (timeoutMs = 20_000) => {
      if (!local.stream) throw new Error('the local stack reads no table stream');
      await local.stream.settled(timeoutMs);
    },
    stop: local.stop,
  };
}
