/**
 * The local process that runs the gateway, every function, the queue pollers and the
 * SQS/SNS emulator (its queues on disk) killed with SIGKILL in the middle of a burst of
 * requests, then restarted on the same data. Every request the partner posted (retrying
 * with its Idempotency-Key while the process was down) gets its 202, is stored, matched,
 * delivered and confirmed, with no duplicate: the API answered 202 only after the write,
 * and queue messages survive in the persisted queues.
 *
 * DynamoDB Local runs in this test's process and survives the kill, as DynamoDB survives a
 * crashed Lambda: DynamoDB Local acknowledges a TransactWriteItems before its SQLite commit
 * is on disk, so killing its JVM loses acknowledged writes (measured: 6 of 55 transactions
 * acknowledged just before a SIGKILL were gone after the restart), which AWS's DynamoDB
 * never does. That would test the emulator, not this system.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  actors,
  checkAllDone,
  type Posted,
  postBurst,
  retried,
  scanAll,
  type Target,
  workUntilConfirmed,
} from './support/burst.ts';
import { callApi } from './support/stack.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'dispatch-crash-'));
const opsKey = `ops-crash-${process.pid}`;
let child: ChildProcess | undefined;
// The durable store: the suite's DynamoDB Local, which outlives the killed process.
const dynamodbEndpoint = inject('dynamodbEndpoint');
const prefix = `crash-${process.pid}`;

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
    s.on('error', fail);
  });
}

interface Ready {
  url: string;
  dynamodb: string;
  table: string;
}

/** Starts the child in its own process group, so one kill reaches Node, tsx and Java. */
function start(port: number): Promise<Ready> {
  const proc = spawn('node_modules/.bin/tsx', ['test/integration/support/crash-child.ts'], {
    env: {
      ...process.env,
      PORT: String(port),
      OPS_API_KEY: opsKey,
      DATA_DIR: dataDir,
      DYNAMODB_ENDPOINT: dynamodbEndpoint,
      STACK_PREFIX: prefix,
    },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = proc;
  return new Promise((ok, fail) => {
    let out = '';
    proc.stdout?.on('data', (d) => {
      out += d;
      const m = /READY (\{.*\})/.exec(out);
      if (m) ok(JSON.parse(m[1]));
    });
    proc.stderr?.on('data', () => {});
    proc.on('exit', (code) => fail(new Error(`child exited with ${code} before READY: ${out}`)));
  });
}

function killHard() {
  const c = child;
  if (c?.pid) {
    try {
      process.kill(-c.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  child = undefined;
  return exited(c);
}

const exited = (c: ChildProcess | undefined) =>
  new Promise((r) =>
    !c || c.exitCode !== null || c.signalCode !== null ? r(undefined) : c.once('exit', r),
  );

afterAll(async () => {
  const c = child;
  if (c?.pid) {
    try {
      process.kill(-c.pid, 'SIGTERM');
      await Promise.race([
        new Promise((r) => c.once('exit', r)),
        new Promise((r) => setTimeout(r, 5000)),
      ]);
    } catch {
      // gone
    }
    await killHard();
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('faults: the whole process killed', () => {
  it('kill -9 mid-burst, restart on the same data: every 202 request completes, once', async () => {
    const port = await freePort();
    const ready = await start(port);
    const t: Target = {
      url: ready.url,
      opsKey,
      outbox: async () => (await callApi(ready.url, 'GET', '/local/outbox')).body.notifications,
    };
    const a = await actors(t);
    const first = await postBurst(t, a, 8);

    // Second wave in flight when the process dies (at its first 202); the partner keeps
    // retrying the rest with their Idempotency-Keys.
    let firstAnswer: () => void = () => {};
    const answered = new Promise<void>((r) => {
      firstAnswer = r;
    });
    const retriesBefore = retried.count;
    const second = postBurst(t, a, 12, 8, () => firstAnswer());
    await answered;
    await killHard();
    const down = await callApi(ready.url, 'GET', '/v1/health').catch(() => 'refused');
    expect(down).toBe('refused');
    const again = await start(port);
    expect(again.url).toBe(ready.url);

    const posted: Posted[] = [...first, ...(await second), ...(await postBurst(t, a, 4, 20))];
    expect(new Set(posted.map((p) => p.requestId)).size).toBe(24);
    expect(retried.count - retriesBefore).toBeGreaterThan(0); // some posts met the dead process
    const dynamodb = new DynamoDBClient({
      endpoint: again.dynamodb,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      await workUntilConfirmed(t, a, posted, 90_000).catch(async (error: Error) => {
        // Every stored item that names a stuck request: where it stopped, and what is missing.
        const stuck = new Set(String(error.message).match(/req_[a-z0-9]+/g));
        const items = await scanAll(dynamodb, again.table);
        const related = items.filter((i) =>
          [...stuck].some((id) => JSON.stringify(i).includes(id)),
        );
        const idem = posted.filter((p) => stuck.has(p.requestId)).map((p) => p.idempotencyKey);
        throw new Error(
          `${error.message}\nidempotency keys: ${idem.join(', ')}\nitems: ${JSON.stringify(related)}`,
        );
      });
      // The outbox lives in the killed process's memory: SMS counts are not checked here,
      // the notification markers are.
      await checkAllDone(t, () => scanAll(dynamodb, again.table), posted, { outbox: false });
      const items = await scanAll(dynamodb, again.table);
      expect(items.filter((i) => i.type === 'request')).toHaveLength(24);
    } finally {
      dynamodb.destroy();
    }
  }, 180_000);
});
