/**
 * Fault injection on the real local stack: each block starts its own stack with one kind
 * of fault, drives a burst of requests through the API (partner posts, volunteers accept
 * and deliver, partner confirms) and then reads the table to prove every request ended
 * confirmed with no duplicate offer, task, history entry, credit or SMS, and nothing lost.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { deliverTwice } from '../../local/faults.ts';
import { QUEUES } from '../../shared/resources.ts';
import {
  actors,
  checkAllDone,
  postBurst,
  scanAll,
  type Target,
  workUntilConfirmed,
} from './support/burst.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

let stack: TestStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

const CONSUMERS = QUEUES.map((q) => q.consumer);

function target(s: TestStack): Target {
  return { url: s.url, opsKey: s.opsKey, outbox: async () => s.outbox() };
}

const read = (s: TestStack) => () => scanAll(s.local.clients.dynamodb, s.local.tableName);

async function dlqsEmpty(s: TestStack) {
  const { queues } = (await s.api('GET', '/local/queues')).body;
  for (const q of Object.values(queues) as { name: string; dlq: { visible: number } }[]) {
    expect(q.dlq.visible, `${q.name} DLQ`).toBe(0);
  }
}

describe('faults: duplicate delivery', () => {
  it('every SQS message delivered twice, concurrently: no duplicate, nothing lost', async () => {
    stack = await startTestStack(
      {},
      { functions: Object.fromEntries(CONSUMERS.map((c) => [c, deliverTwice(c)])) },
    );
    const t = target(stack);
    const a = await actors(t);
    const posted = await postBurst(t, a, 12);
    await workUntilConfirmed(t, a, posted);
    await checkAllDone(t, read(stack), posted, { everyOfferAnnounced: true });
    await dlqsEmpty(stack);
  });
});
