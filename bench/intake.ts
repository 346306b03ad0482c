/**
 * Intake: `POST /v1/requests` on a local stack of its own (default offer timeout, a
 * partner rate limit high enough not to interfere), driven by bench/load.ts in a separate
 * process. The stack process also runs the pollers: matching, notifications and events
 * for the requests accepted run on the same event loop (and the same 2 cores as
 * DynamoDB Local's JVM and the load generator) while intake is measured.
 *
 * 1. open loop at 100 requests/s for 10 s; 2. wait for the queues to drain;
 * 3. closed loop, 32 clients for 10 s (saturation).
 */
import { spawn } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  type DynamoDBClient,
  GetItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { createTable } from '../local/resources.ts';
import type { LoadFigures, LoadOptions } from './load.ts';
import { pct, startBenchStack } from './stack-support.ts';

export interface IntakeFigures {
  /** false: the queue consumers were stubbed (they take each message and do nothing). */
  pipeline: boolean;
  fixed: LoadFigures;
  /** post-request handler wall time during the fixed load, and the stack process's event-loop delay. */
  handler: { p50Ms: number; p95Ms: number };
  eventLoopDelay: { p50Ms: number; p95Ms: number; maxMs: number };
  /** Mean wall ms per SDK call during the fixed load, by service and command (all functions). */
  sdkMeanMs: Record<string, { calls: number; meanMs: number }>;
  fixedDrain: { ms: number; leftover: number; dlq: number; requests: number };
  saturation: LoadFigures;
  /** DynamoDB Local alone, 32 concurrent callers for 3 s each: writes per second. */
  ddbProbe?: { write: string; perSecond: number; meanMs: number }[];
}

/** How fast DynamoDB Local takes writes on this machine: distinct items vs one hot item. */
async function probeDynamo(client: DynamoDBClient, table: string) {
  await createTable(client, table);
  const rows: { write: string; perSecond: number; meanMs: number }[] = [];
  const run = async (write: string, op: (i: number) => Promise<unknown>) => {
    let n = 0;
    let ms = 0;
    const end = performance.now() + 3000;
    await Promise.all(
      Array.from({ length: 32 }, async (_, w) => {
        while (performance.now() < end) {
          const t0 = performance.now();
          await op(w * 1_000_000 + n++);
          ms += performance.now() - t0;
        }
      }),
    );
    rows.push({ write, perSecond: n / 3, meanMs: ms / n });
  };
  const K = (k: string) => ({ pk: { S: k }, sk: { S: 'X' } });
  const inc = (k: string) => ({
    TableName: table,
    Key: K(k),
    UpdateExpression: 'ADD n :one',
    ExpressionAttributeValues: { ':one': { N: '1' } },
  });
  await run('GetItem, distinct items', (i) =>
    client.send(new GetItemCommand({ TableName: table, Key: K(`g${i % 100}`) })),
  );
  await run('UpdateItem, distinct items', (i) => client.send(new UpdateItemCommand(inc(`d${i}`))));
  await run('UpdateItem, one hot item (like RATE#partner#minute)', () =>
    client.send(new UpdateItemCommand(inc('hot'))),
  );
  await run('TransactWriteItems, 3 distinct items', (i) =>
    client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { Update: inc(`t${i}a`) },
          { Update: inc(`t${i}b`) },
          { Update: inc(`t${i}c`) },
        ],
      }),
    ),
  );
  await run('TransactWriteItems, 2 distinct + 1 hot item (like STATS#day)', (i) =>
    client
      .send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Update: inc(`s${i}a`) },
            { Update: inc(`s${i}b`) },
            { Update: inc('stats') },
          ],
        }),
      )
      .catch((e) => e),
  );
  return rows;
}

const loadScript = fileURLToPath(new URL('./load.ts', import.meta.url));
const tsx = fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url));

function runLoad(o: LoadOptions): Promise<LoadFigures> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsx, loadScript, JSON.stringify(o)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0) reject(new Error(`load generator exited ${code}: ${out}`));
      else resolve(JSON.parse(line) as LoadFigures);
    });
  });
}

export async function benchIntake(
  log: (s: string) => void,
  pipeline = true,
): Promise<IntakeFigures> {
  const b = await startBenchStack(
    { rateLimits: { partnerRequestsPerMinute: 1_000_000 } },
    { stubConsumers: !pipeline },
  );
  const { stack, api } = b;
  try {
    const ops = stack.opsKey;
    const partner = await api('POST', '/v1/partners', { key: ops, body: { name: 'bench intake' } });
    const key = partner.body.apiKey as string;
    for (let i = 0; i < 10; i++)
      await api('POST', '/v1/volunteers', {
        key: ops,
        body: {
          name: `志愿者${i}`,
          phone: `+861370000${String(i).padStart(4, '0')}`,
          communityId: 'west-lake',
          pushEndpoint: `arn:aws:sns:us-east-1:000000000000:endpoint/GCM/volunteer-app/i${i}`,
          capacity: 50,
        },
      });
    const body = {
      kind: 'medicine',
      communityId: 'west-lake',
      address: '西湖社区5号楼1单元302',
      requester: { name: '张爷爷', phone: '+8613800138002' },
      notes: '降压药一盒',
    };
    // Warm-up: load the handlers, open connections, and let DynamoDB Local's JVM compile
    // its hot paths: its CPU per call fell 1.4x (transactions) to 2.6x (GetItem) between
    // the first and the second 3,000 calls in a probe on this machine.
    await runLoad({
      url: stack.url,
      key,
      mode: 'closed',
      concurrency: 32,
      seconds: 10,
      body,
      tag: 'warm',
    });
    await b.drained(60_000, false, false);
    const label = pipeline ? 'with the pipeline running' : 'consumers stubbed';

    log(`  intake (${label}): 100 requests/s for 10 s`);
    b.takeTimes();
    b.counter.reset();
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const fixed = await runLoad({
      url: stack.url,
      key,
      mode: 'open',
      rps: 100,
      seconds: 10,
      body,
      tag: 'fixed',
    });
    loop.disable();
    const posts = b.takeTimes()['post-request'] ?? [];
    const c = b.counter.reset();
    const sdkMeanMs = Object.fromEntries(
      Object.entries(c.ms).map(([k, ms]) => [
        k,
        { calls: c.calls[k] ?? 0, meanMs: ms / (c.calls[k] || 1) },
      ]),
    );
    log(
      `    SDK call mean ms: ${Object.entries(sdkMeanMs)
        .map(([k, v]) => `${k} ${v.meanMs.toFixed(1)} (${v.calls})`)
        .join(', ')}`,
    );
    const handler = { p50Ms: pct(posts, 50), p95Ms: pct(posts, 95) };
    const eventLoopDelay = {
      p50Ms: loop.percentile(50) / 1e6,
      p95Ms: loop.percentile(95) / 1e6,
      maxMs: loop.max / 1e6,
    };
    log(
      `    post-request handler p50 ${handler.p50Ms.toFixed(1)} ms, p95 ${handler.p95Ms.toFixed(1)} ms; event-loop delay p95 ${eventLoopDelay.p95Ms.toFixed(1)} ms`,
    );
    log(
      `    ${fixed.acceptedPerSecond.toFixed(0)} accepted/s, p50 ${fixed.p50Ms.toFixed(1)} ms, p95 ${fixed.p95Ms.toFixed(1)} ms`,
    );
    // Offer-expiry timers (120 s) are not waited for, nor the stream consumer's window end
    // (its counter writes are not pipeline work).
    const drain = await b.drained(pipeline ? 120_000 : 30_000, false, false);
    log(
      `    queues drained ${(drain.ms / 1000).toFixed(1)} s after the load ended (${drain.leftover} left)`,
    );
    log(`  intake (${label}): saturation, 32 clients for 10 s`);
    const saturation = await runLoad({
      url: stack.url,
      key,
      mode: 'closed',
      concurrency: 32,
      seconds: 10,
      body,
      tag: 'sat',
    });
    log(
      `    ${saturation.acceptedPerSecond.toFixed(0)} accepted/s, p50 ${saturation.p50Ms.toFixed(1)} ms, p95 ${saturation.p95Ms.toFixed(1)} ms`,
    );
    const ddbProbe = pipeline
      ? undefined
      : await probeDynamo(stack.clients.dynamodb, `${stack.prefix}-probe`);
    for (const p of ddbProbe ?? [])
      log(
        `    DynamoDB Local, ${p.write}: ${p.perSecond.toFixed(0)}/s, mean ${p.meanMs.toFixed(1)} ms`,
      );
    return {
      ddbProbe,
      pipeline,
      fixed,
      handler,
      eventLoopDelay,
      sdkMeanMs,
      fixedDrain: { ...drain, requests: fixed.accepted },
      saturation,
    };
  } finally {
    await stack.stop();
  }
}
