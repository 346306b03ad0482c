/**
 * Faults of the table stream's consumer (count-transitions): a burst of requests goes
 * through its whole life while every stream batch is delivered twice, or the consumer dies
 * after its writes the first time it sees each batch. The counters GET /v1/stats reads
 * must still equal what the table holds, exactly: each change counted once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type CrashLog, streamCrashAfterWrite, streamDeliveredTwice } from '../../local/faults.ts';
import { STREAM_CONSUMER } from '../../shared/resources.ts';
import { actors, checkAllDone, postBurst, workUntilConfirmed } from './support/burst.ts';
import { read, target } from './support/fault-harness.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

let stack: TestStack | undefined;
// One ops key for both stacks of this file: a function container remembers the key it read.
const opsKey = `ops-stream-faults-${Date.now()}`;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

/** What the counters must say, from the request items themselves. */
async function truth(s: TestStack) {
  const items = (await read(s)()).filter((i) => i.type === 'request');
  const byStatus: Record<string, number> = {};
  for (const r of items) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
  return {
    requests: items.length,
    byStatus,
    personTimes: items.reduce((n, r) => n + Number(r.delivered ?? 0), 0),
    serviceMinutes: items.reduce((n, r) => n + Number(r.credit?.serviceMinutes ?? 0), 0),
    points: items.reduce((n, r) => n + Number(r.credit?.points ?? 0), 0),
  };
}

async function counted(s: TestStack) {
  await s.countersCaughtUp();
  const { body } = await s.api('GET', '/v1/stats', { key: s.opsKey });
  const byStatus = Object.fromEntries(
    Object.entries(body.requests.byStatus as Record<string, number>).filter(([, n]) => n !== 0),
  );
  return {
    requests: Object.values(byStatus).reduce((a, b) => a + b, 0),
    byStatus,
    personTimes: body.personTimes,
    serviceMinutes: body.serviceMinutes,
    points: body.points,
  };
}

async function burstThroughLife(s: TestStack) {
  const t = target(s);
  const a = await actors(t);
  const posted = await postBurst(t, a, 8);
  await workUntilConfirmed(t, a, posted);
  await checkAllDone(t, read(s), posted, {});
  return posted;
}

describe('faults: the table stream consumer', () => {
  it('every stream batch delivered twice: each change counted once', async () => {
    const log: CrashLog = { crashes: 0 };
    stack = await startTestStack(
      {},
      {
        opsKey,
        functions: {
          [STREAM_CONSUMER.handler]: streamDeliveredTwice(STREAM_CONSUMER.handler, log),
        },
      },
    );
    const posted = await burstThroughLife(stack);
    const expected = await truth(stack);
    expect(expected.byStatus).toEqual({ confirmed: posted.length });
    expect(await counted(stack)).toEqual(expected);
    expect(log.crashes).toBeGreaterThan(0);
  });

  it('the consumer killed after its writes, the batch delivered again: each change counted once', async () => {
    const log: CrashLog = { crashes: 0 };
    stack = await startTestStack(
      {},
      {
        opsKey,
        functions: {
          [STREAM_CONSUMER.handler]: streamCrashAfterWrite(STREAM_CONSUMER.handler, log),
        },
        // Redeliveries after 0.2 s, so the burst's batches overlap the retried ones.
        retryDelaySeconds: 0.2,
      },
    );
    const posted = await burstThroughLife(stack);
    const expected = await truth(stack);
    expect(expected.byStatus).toEqual({ confirmed: posted.length });
    expect(await counted(stack)).toEqual(expected);
    expect(log.crashes).toBeGreaterThan(2);
  });
});
