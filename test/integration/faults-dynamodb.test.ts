/**
 * Fault injection on the real local stack: each block starts its own stack with one kind
 * of fault, drives a burst of requests through the API (partner posts, volunteers accept
 * and deliver, partner confirms) and then reads the table to prove every request ended
 * confirmed with no duplicate offer, task, history entry, credit or SMS, and nothing lost.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { injectDynamoFaults } from '../../local/faults.ts';
import { actors, checkAllDone, postBurst, workUntilConfirmed } from './support/burst.ts';
import { dlqsEmpty, read, target } from './support/fault-harness.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

let stack: TestStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('faults: DynamoDB', () => {
  it('DynamoDB throttling, 5xx and non-retryable failures on a fraction of calls', async () => {
    stack = await startTestStack();
    const { dynamodb } = await import('../../shared/clients/dynamodb.ts');
    const t = target(stack);
    const a = await actors(t);
    // 15 % of calls throttled or 500 (the SDK retries them), 1.5 % failing for good: the
    // API answers 500 (the partner or volunteer retries) or the consumer's record fails
    // and SQS redelivers it.
    const faults = injectDynamoFaults(dynamodb, { retryableRate: 0.15, fatalRate: 0.015, seed: 7 });
    try {
      const posted = await postBurst(t, a, 12);
      await workUntilConfirmed(t, a, posted, 90_000);
      expect(faults.retryable).toBeGreaterThan(20);
      expect(faults.fatal).toBeGreaterThan(0);
      faults.pause();
      await checkAllDone(t, read(stack), posted);
    } finally {
      faults.remove();
    }
    await dlqsEmpty(stack);
  }, 150_000);
});
