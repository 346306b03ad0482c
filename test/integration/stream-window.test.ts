/**
 * The stats consumer's tumbling window on the local stack, as Lambda runs it: the
 * consumer's invocations in a window hand their state on and write nothing; the counters
 * change only with the window's final invocation, and then equal what the requests did.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Handler, loadHandler } from '../../local/lambda.ts';
import type { TableStreamEvent } from '../../shared/adapters/request-stream.ts';
import { STREAM_CONSUMER } from '../../shared/resources.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

/** Long enough to post, let the stream be read and look at the stats inside one window. */
const WINDOW_SECONDS = 6;

let stack: TestStack;
const calls: { event: TableStreamEvent; response: { state: Record<string, unknown> } }[] = [];

/** The real consumer, each invocation and its response kept (copies: as they were then). */
const recorded: Handler = async (event, context) => {
  const given = structuredClone(event);
  const response = await (await loadHandler(STREAM_CONSUMER.handler))(event, context);
  calls.push({ event: given, response: structuredClone(response) });
  return response;
};

beforeAll(async () => {
  stack = await startTestStack(
    {},
    {
      functions: { [STREAM_CONSUMER.handler]: recorded },
      streamTumblingWindowSeconds: WINDOW_SECONDS,
    },
  );
});
afterAll(() => stack?.stop());

const byStatus = async () => {
  const res = await stack.api('GET', '/v1/stats', { key: stack.opsKey });
  expect(res.status).toBe(200);
  return Object.fromEntries(
    Object.entries(res.body.requests.byStatus as Record<string, number>).filter(([, n]) => n),
  );
};

describe('the stream consumer’s tumbling window (local stream poller)', () => {
  it('counts appear only with the window’s final invocation, and equal the changes made', async () => {
    const stream = stack.local.stream;
    if (!stream) throw new Error('no stream poller');
    const partner = await stack.api('POST', '/v1/partners', {
      key: stack.opsKey,
      body: { name: 'window test' },
    });
    const key = partner.body.apiKey as string;
    await stack.countersCaughtUp();
    expect(await byStatus()).toEqual({});

    // Start early in a window, so what follows fits in it.
    const windowMs = WINDOW_SECONDS * 1000;
    if (Date.now() % windowMs > windowMs / 2) {
      await new Promise((r) => setTimeout(r, windowMs - (Date.now() % windowMs) + 50));
    }
    const finalsBefore = stream.finalInvocations;
    const callsBefore = calls.length;
    const ids: string[] = [];
    for (const kind of ['groceries', 'medicine', 'meal']) {
      const res = await stack.api('POST', '/v1/requests', {
        key,
        headers: { 'idempotency-key': `window-${kind}` },
        body: {
          kind,
          communityId: 'east-garden',
          address: '幸福里8号',
          requester: { name: '李阿姨', phone: '+8613800138001' },
        },
      });
      expect(res.status).toBe(202);
      ids.push(res.body.requestId);
    }
    const cancelled = await stack.api('POST', `/v1/requests/${ids[0]}/cancel`, {
      key,
      body: {},
    });
    expect(cancelled.status).toBe(200);

    // The stream read up to now, the window still open: invoked, nothing counted yet.
    await stream.settled(10_000, { windows: false });
    const counted = await byStatus();
    expect(stream.finalInvocations).toBe(finalsBefore);
    expect(calls.length).toBeGreaterThan(callsBefore);
    expect(counted).toEqual({});

    await stack.countersCaughtUp();
    expect(stream.finalInvocations).toBeGreaterThan(finalsBefore);
    const truth: Record<string, number> = {};
    for (const id of ids) {
      const { status } = (await stack.api('GET', `/v1/requests/${id}`, { key })).body;
      truth[status] = (truth[status] ?? 0) + 1;
    }
    expect(truth.cancelled).toBe(1);
    expect(await byStatus()).toEqual(truth);

    // As Lambda: each invocation of a window got the state the one before it returned,
    // the first an empty one; the final one got the last state and no records.
    const mine = calls.slice(callsBefore);
    const windows = new Map<string, typeof mine>();
    for (const c of mine) {
      const start = c.event.window?.start ?? '';
      windows.set(start, [...(windows.get(start) ?? []), c]);
    }
    const closed = [...windows.values()].filter((w) => w.at(-1)?.event.isFinalInvokeForWindow);
    expect(closed.length).toBeGreaterThan(0);
    for (const w of closed) {
      const { start, end } = w[0].event.window ?? { start: '', end: '' };
      expect(Date.parse(start) % windowMs).toBe(0);
      expect(Date.parse(end) - Date.parse(start)).toBe(windowMs);
      expect(w[0].event.state).toEqual({});
      for (let i = 1; i < w.length; i++) expect(w[i].event.state).toEqual(w[i - 1].response.state);
      const final = w.at(-1);
      expect(final?.event.Records).toEqual([]);
      expect(w.slice(0, -1).every((c) => !c.event.isFinalInvokeForWindow)).toBe(true);
    }
  }, 60_000);
});
