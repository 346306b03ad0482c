/**
 * Fault injection on the real local stack: each block starts its own stack with one kind
 * of fault, drives a burst of requests through the API (partner posts, volunteers accept
 * and deliver, partner confirms) and then reads the table to prove every request ended
 * confirmed with no duplicate offer, task, history entry, credit or SMS, and nothing lost.
 */
import { afterEach, describe, it } from 'vitest';
import { actors, checkAllDone, postBurst, workUntilConfirmed } from './support/burst.ts';
import { dlqsEmpty, read, target } from './support/fault-harness.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

let stack: TestStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('faults: SNS', () => {
  it('SNS failing: failed SMS are retried and sent once', async () => {
    stack = await startTestStack();
    const t = target(stack);
    const a = await actors(t);
    stack.outbox.failNext(6, 'sms');
    const first = await postBurst(t, a, 6);
    // Fail again in the middle of the burst.
    await new Promise((r) => setTimeout(r, 500));
    stack.outbox.failNext(6, 'sms');
    const second = await postBurst(t, a, 6, 6);
    const posted = [...first, ...second];
    await workUntilConfirmed(t, a, posted);
    await checkAllDone(t, read(stack), posted, { everyOfferAnnounced: true });
    await dlqsEmpty(stack);
  });
});
