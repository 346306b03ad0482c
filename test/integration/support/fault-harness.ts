/** What every fault-injection test file shares: its actors' target, table reads, DLQ checks. */
import { expect } from 'vitest';
import { QUEUES } from '../../../shared/resources.ts';
import { scanAll, type Target } from './burst.ts';
import type { TestStack } from './stack.ts';

/** Every queue consumer, to wrap each in a fault. */
export const CONSUMERS = QUEUES.map((q) => q.consumer);

export function target(s: TestStack): Target {
  return { url: s.url, opsKey: s.opsKey, outbox: async () => s.outbox() };
}

/** Reads the whole table (a test's check, never a hot path). */
export const read = (s: TestStack) => () => scanAll(s.local.clients.dynamodb, s.local.tableName);

export async function dlqsEmpty(s: TestStack) {
  const { queues } = (await s.api('GET', '/local/queues')).body;
  for (const q of Object.values(queues) as { name: string; dlq: { visible: number } }[]) {
    expect(q.dlq.visible, `${q.name} DLQ`).toBe(0);
  }
}
