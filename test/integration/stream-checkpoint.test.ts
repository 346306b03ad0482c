/**
 * The local stream poller keeps each shard's checkpoint and open window (its state) in a
 * file when given one, as Lambda keeps them across its own restarts: a stack restarted on
 * the same data (npm start with a data directory) goes on from where its consumer was,
 * with the window's state, instead of reading the stream from the start into a fresh
 * window (which the counters' exactly-once window writes would refuse as partly counted).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Handler } from '../../local/lambda.ts';
import { createTable } from '../../local/resources.ts';
import { LOCAL_REGION } from '../../local/servers.ts';
import { type StreamPoller, startStreamPoller } from '../../local/stream-poller.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

let stack: TestStack;
let dir: string;
beforeAll(async () => {
  stack = await startTestStack();
  dir = mkdtempSync(join(tmpdir(), 'stream-checkpoint-'));
});
afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Call {
  keys: string[];
  state: Record<string, unknown>;
  final: boolean;
}

/** A consumer that counts the records it is given in its window's state. */
function counting(calls: Call[]): Handler {
  return async (event) => {
    const e = event as {
      Records: { dynamodb: { Keys: { pk: { S: string } } } }[];
      state?: Record<string, number>;
      isFinalInvokeForWindow?: boolean;
    };
    const keys = e.Records.map((r) => r.dynamodb.Keys.pk.S);
    calls.push({ keys, state: { ...e.state }, final: e.isFinalInvokeForWindow === true });
    return { state: { seen: (e.state?.seen ?? 0) + keys.length } };
  };
}

describe('the local stream poller’s checkpoint file', () => {
  it('a poller started again on the same file reads only what came after, in the window it left open', async () => {
    const { dynamodb, streams } = stack.local.clients;
    const tableName = `${stack.prefix}-checkpoint`;
    await createTable(dynamodb, tableName);
    const put = (pk: string) =>
      dynamodb.send(
        new PutItemCommand({ TableName: tableName, Item: { pk: { S: pk }, sk: { S: 'x' } } }),
      );
    const poller = (calls: Call[]): StreamPoller =>
      startStreamPoller({
        dynamodb,
        streams,
        tableName,
        region: LOCAL_REGION,
        consumer: async () => counting(calls),
        functionName: 'checkpoint-test',
        functionTimeoutSeconds: 5,
        batchSize: 100,
        batchingWindowMs: 0,
        // Long enough that the first poller's window is still open when the second starts.
        tumblingWindowSeconds: 600,
        checkpointFile: join(dir, 'checkpoint.json'),
        logError: () => {},
      });

    const before: Call[] = [];
    const first = poller(before);
    await put('a');
    await put('b');
    await first.settled(15_000, { windows: false });
    await first.stop();
    expect(before.flatMap((c) => c.keys)).toEqual(['a', 'b']);

    await put('c');
    const after: Call[] = [];
    const second = poller(after);
    await second.settled(15_000, { windows: false });
    await second.stop();
    // Only the record written since, and the state the first poller's window had reached.
    expect(after.flatMap((c) => c.keys)).toEqual(['c']);
    expect(after[0].state).toEqual({ seen: 2 });
    expect(after.some((c) => c.final)).toBe(false);
  });
});
