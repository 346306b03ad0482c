/**
 * Fault injection on the real local stack: each block starts its own stack with one kind
 * of fault, drives a burst of requests through the API (partner posts, volunteers accept
 * and deliver, partner confirms) and then reads the table to prove every request ended
 * confirmed with no duplicate offer, task, history entry, credit or SMS, and nothing lost.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type CrashLog, crashBeforeDelete } from '../../local/faults.ts';
import { actors, checkAllDone, postBurst, workUntilConfirmed } from './support/burst.ts';
import { CONSUMERS, dlqsEmpty, read, target } from './support/fault-harness.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

let stack: TestStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('faults: crash before delete', () => {
  it('a consumer killed after its writes and before its delete: records come back, no duplicate', async () => {
    const log: CrashLog = { crashes: 0 };
    stack = await startTestStack(
      {},
      { functions: Object.fromEntries(CONSUMERS.map((c) => [c, crashBeforeDelete(c, log)])) },
    );
    const t = target(stack);
    const a = await actors(t);
    const posted = await postBurst(t, a, 12);
    await workUntilConfirmed(t, a, posted);
    await checkAllDone(t, read(stack), posted, { everyOfferAnnounced: true });
    expect(log.crashes).toBeGreaterThan(10);
    await dlqsEmpty(stack);
  });
});
