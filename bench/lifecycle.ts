/**
 * AWS work per request and pipeline latency, on one local stack.
 *
 * AWS work: a single-slot lifecycle (post → offers to a batch of 3 → the first offered
 * volunteer opens their inbox and accepts → delivered → the partner confirms), and a
 * 12-slot site-duty request (36 offers, 12 accepts, 12 delivered, confirm). After each,
 * the bench waits until every queue is empty (offer-expiry timers included: offers
 * expire after 3 s here) before reading the counters. Volunteers have push endpoints.
 *
 * Pipeline: from a request's 202 to its first offer item in DynamoDB (polled every 5 ms
 * with the stack's own client, not counted) and to its first notification in the outbox.
 */
import {
  type AttributeValue,
  type DynamoDBClient,
  PutItemCommand,
  ScanCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { createTable } from '../local/resources.ts';
import { type Counts, emptyCounts, itemType, type Units } from './aws-counter.ts';
import { pct, startBenchStack } from './stack-support.ts';

export const OFFER_TIMEOUT_SECONDS = 3;
const QUICK = !!process.env.BENCH_QUICK;

export interface Scenario {
  name: string;
  runs: number;
  slots: number;
  /** Averages per request. */
  calls: Record<string, number>;
  writeByCommand: Record<string, Units>;
  writeByItem: Record<string, Units>;
  readByCommand: Record<string, Units>;
  readByItem: Record<string, Units>;
  writeUnits: { local: number; aws: number };
  readUnits: { local: number; aws: number };
  indexWriteUnits: number;
  sqsMessages: number;
  sqsRequests: number;
  snsSms: number;
  snsPush: number;
  snsTopic: number;
  /** Absent in results measured before notifications went through the topic. */
  snsNotifyRequests?: number;
  snsNotifyEvents?: number;
  noteMarkers: number;
  noteDuplicates: number;
  /** SMS with the same recipient and text more than once in one run. */
  duplicateSms: number;
  /** Invocations and mean handler ms per function, per request. */
  functions: Record<string, { invocations: number; meanMs: number }>;
  /** SDK calls and DynamoDB units (AWS) per request, by the function that made them. */
  byFunction: Record<
    string,
    { calls: Record<string, number>; wcu: number; rcu: number; writes: Record<string, number> }
  >;
  httpCalls: number;
  /**
   * Key lookups per request. The bench's one process shares one key cache between all
   * functions; on AWS each function has its own containers, so `awsRcu` (in `readUnits.aws`)
   * counts one read per volunteer token and function called in a run (a busy partner's key
   * stays cached), `measuredRcu` what this process read. Absent in older results.
   */
  keyReads?: { measuredRcu: number; awsRcu: number };
  drainMs: number;
  leftover: number;
  dlq: number;
}

export interface LifecycleFigures {
  scenarios: Scenario[];
  pipeline: {
    samples: number;
    toFirstOffer: { p50Ms: number; p95Ms: number };
    toFirstNotification: { p50Ms: number; p95Ms: number };
  };
  offerTimeoutSeconds: number;
  /** Mean and largest stored size per item type at the end of the AWS-work runs (bytes, DynamoDB's rule, approximated). */
  itemSizes: Record<string, { count: number; meanBytes: number; maxBytes: number }>;
  /** What DynamoDB Local reports for small (< 1 KB) writes, plain and in transactions. */
  calibration: { write: string; reported: string }[];
}

/** DynamoDB's item size: attribute names plus values (numbers approximated). */
function sizeOf(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S);
  if (v.N !== undefined) return Math.ceil(v.N.replace(/^-|\.|^0+/g, '').length / 2) + 1;
  if (v.B !== undefined) return v.B.length;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.L) return 3 + v.L.reduce((s, x) => s + 1 + sizeOf(x), 0);
  if (v.M)
    return (
      3 + Object.entries(v.M).reduce((s, [k, x]) => s + 1 + Buffer.byteLength(k) + sizeOf(x), 0)
    );
  if (v.SS) return v.SS.reduce((s, x) => s + Buffer.byteLength(x), 0);
  return 0;
}
/** What DynamoDB Local reports for tiny writes, alone and in transactions (a scratch table). */
async function calibrate(client: DynamoDBClient, table: string) {
  await createTable(client, table);
  const K = (k: string) => ({ pk: { S: k }, sk: { S: k } });
  const upd = (k: string, expr: string, v: Record<string, AttributeValue>) => ({
    Update: {
      TableName: table,
      Key: K(k),
      UpdateExpression: expr,
      ...(Object.keys(v).length && { ExpressionAttributeValues: v }),
    },
  });
  const one = { ':x': { N: '1' } };
  const rows: { write: string; reported: string }[] = [];
  const show = (c: unknown) => JSON.stringify(c).replaceAll(`"TableName":"${table}",`, '');
  const tx = async (write: string, TransactItems: object[]) => {
    const out = await client.send(
      new TransactWriteItemsCommand({
        TransactItems: TransactItems as never,
        ReturnConsumedCapacity: 'INDEXES',
      }),
    );
    rows.push({ write, reported: show(out.ConsumedCapacity) });
  };
  const plain = async (write: string, cmd: PutItemCommand | UpdateItemCommand) => {
    const out = await client.send(cmd as never);
    rows.push({ write, reported: show((out as { ConsumedCapacity?: unknown }).ConsumedCapacity) });
  };
  await plain(
    'PutItem, new item',
    new PutItemCommand({ TableName: table, Item: K('p'), ReturnConsumedCapacity: 'INDEXES' }),
  );
  await tx('TransactWriteItems: 1 Put', [{ Put: { TableName: table, Item: K('a') } }]);
  await tx('TransactWriteItems: 2 Puts', [
    { Put: { TableName: table, Item: K('b') } },
    { Put: { TableName: table, Item: K('c') } },
  ]);
  await tx('TransactWriteItems: 1 Update', [upd('a', 'SET x = :x', one)]);
  await tx('TransactWriteItems: 3 Updates', [
    upd('a', 'SET x = :x', one),
    upd('b', 'SET x = :x', one),
    upd('c', 'SET x = :x', one),
  ]);
  await plain(
    "UpdateItem moving the item's gsi1 key",
    new UpdateItemCommand({
      TableName: table,
      Key: K('p'),
      UpdateExpression: 'SET gsi1pk = :k, gsi1sk = :k',
      ExpressionAttributeValues: { ':k': { S: 'k1' } },
      ReturnConsumedCapacity: 'INDEXES',
    }),
  );
  await plain(
    'UpdateItem moving it again',
    new UpdateItemCommand({
      TableName: table,
      Key: K('p'),
      UpdateExpression: 'SET gsi1pk = :k',
      ExpressionAttributeValues: { ':k': { S: 'k2' } },
      ReturnConsumedCapacity: 'INDEXES',
    }),
  );
  await tx('TransactWriteItems: 1 Update moving the gsi1 key', [
    upd('p', 'SET gsi1pk = :k', { ':k': { S: 'k3' } }),
  ]);
  await tx(
    'TransactWriteItems: 3 index writes (a key removed, an item put with one, a key added)',
    [
      upd('p', 'REMOVE gsi1pk, gsi1sk', {}),
      { Put: { TableName: table, Item: { ...K('d'), gsi1pk: { S: 'k' }, gsi1sk: { S: 'k' } } } },
      upd('a', 'SET gsi1pk = :k, gsi1sk = :k', { ':k': { S: 'k4' } }),
    ],
  );
  return rows;
}

const itemSize = (item: Record<string, AttributeValue>) =>
  Object.entries(item).reduce((s, [k, v]) => s + Buffer.byteLength(k) + sizeOf(v), 0);

const sumUnits = (a: Record<string, Units>, b: Record<string, Units>) => {
  for (const [k, u] of Object.entries(b)) {
    a[k] ??= { calls: 0, local: 0, aws: 0 };
    const t = a[k];
    t.calls += u.calls;
    t.local += u.local;
    t.aws += u.aws;
  }
};
const divUnits = (m: Record<string, Units>, n: number) =>
  Object.fromEntries(
    Object.entries(m).map(([k, u]) => [
      k,
      { calls: u.calls / n, local: u.local / n, aws: u.aws / n },
    ]),
  );

export async function benchLifecycle(log: (s: string) => void): Promise<LifecycleFigures> {
  const b = await startBenchStack({
    rateLimits: { partnerRequestsPerMinute: 100_000 },
    offers: { timeoutSeconds: OFFER_TIMEOUT_SECONDS, batchSize: 3 },
  });
  const { stack, api, counter } = b;
  try {
    const ops = stack.opsKey;
    const partner = await api('POST', '/v1/partners', { key: ops, body: { name: 'bench' } });
    if (partner.status !== 201) throw new Error(`create partner: ${JSON.stringify(partner)}`);
    const key = partner.body.apiKey as string;
    let phoneSeq = 0;
    const volunteers = new Map<string, { id: string; token: string; phone: string }>();
    const register = async (communityId: string, n: number) => {
      for (let i = 0; i < n; i++) {
        const phone = `+86139${String(10_000_000 + phoneSeq++).slice(-8)}`;
        const res = await api('POST', '/v1/volunteers', {
          key: ops,
          body: {
            name: `志愿者${phoneSeq}`,
            phone,
            communityId,
            pushEndpoint: `arn:aws:sns:us-east-1:000000000000:endpoint/GCM/volunteer-app/${phoneSeq}`,
            capacity: 10,
          },
        });
        if (res.status !== 201) throw new Error(`register volunteer: ${JSON.stringify(res)}`);
        volunteers.set(res.body.volunteerId, {
          id: res.body.volunteerId,
          token: res.body.token,
          phone,
        });
      }
    };
    await register('east-garden', 6);
    await register('east-river', 40);
    await register('west-hill', 6);
    await b.drained();

    let seq = 0;
    const post = (body: Record<string, unknown>) =>
      api('POST', '/v1/requests', {
        key,
        body,
        headers: { 'idempotency-key': `bench-${Date.now()}-${seq++}` },
      });
    const groceries = (communityId: string) => ({
      kind: 'groceries',
      communityId,
      address: '东园小区3号楼2单元501',
      requester: { name: '王奶奶', phone: '+8613800138000' },
      notes: '米一袋，鸡蛋两斤',
    });

    /** (function, volunteer token) pairs of a run: each a key read on AWS (see keyReads). */
    const volunteerKeyUses = new Set<string>();
    /** One request through its whole life; returns the HTTP calls made. */
    const lifecycle = async (communityId: string, slots: number) => {
      let http = 0;
      const body =
        slots === 1
          ? groceries(communityId)
          : {
              kind: 'site_duty',
              communityId,
              address: '东河社区核酸检测点',
              requester: { name: '东河社区居委会', phone: '+8613800138001' },
              slots,
              notes: '维持秩序，查验健康码',
            };
      const posted = await post(body);
      http++;
      if (posted.status !== 202) throw new Error(`post: ${JSON.stringify(posted)}`);
      const id = posted.body.requestId as string;
      const wanted = slots * 3;
      const offers = await b.waitFor(
        async () => {
          const o = await b.partition(id, 'TASK#');
          return o.length >= wanted ? o : undefined;
        },
        10_000,
        20,
      );
      if (!offers) throw new Error(`request ${id}: fewer than ${wanted} offers`);
      const tasks: { taskId: string; token: string }[] = [];
      for (const offer of offers) {
        if (tasks.length === slots) break;
        const v = volunteers.get(String(offer.sk).slice('TASK#'.length))!;
        // The volunteer opens the app (after the push) and grabs the order.
        const inbox = await api('GET', '/v1/volunteers/me/offers', { key: v.token });
        http++;
        volunteerKeyUses.add(`list-my-offers ${v.token}`);
        const mine = (inbox.body.offers as { offerId: string; requestId: string }[]).find(
          (o) => o.requestId === id,
        );
        if (!mine) continue;
        const accepted = await api('POST', `/v1/offers/${mine.offerId}/accept`, { key: v.token });
        http++;
        volunteerKeyUses.add(`accept-offer ${v.token}`);
        if (accepted.status === 200) tasks.push({ taskId: accepted.body.taskId, token: v.token });
      }
      if (tasks.length !== slots)
        throw new Error(`request ${id}: ${tasks.length}/${slots} accepted`);
      for (const t of tasks) {
        const done = await api('POST', `/v1/tasks/${t.taskId}/delivered`, {
          key: t.token,
          body: { note: '已放门口' },
        });
        http++;
        volunteerKeyUses.add(`report-delivered ${t.token}`);
        if (done.status !== 200) throw new Error(`delivered: ${JSON.stringify(done)}`);
      }
      const confirmed = await api('POST', `/v1/requests/${id}/confirm`, { key });
      http++;
      if (confirmed.status !== 200) throw new Error(`confirm: ${JSON.stringify(confirmed)}`);
      return http;
    };

    const scenario = async (name: string, communityId: string, slots: number, runs: number) => {
      // One warm-up run (module loading, first connections), not counted. Its window is
      // not waited for: its records may share the first run's window, whose final write is
      // one per bucket however many records it holds (if the window closes during the first
      // run, that run carries its writes: an overcount, never an undercount).
      await lifecycle(communityId, slots);
      await b.drained(undefined, undefined, false);
      const total = emptyCounts();
      const fnTimes: Record<string, number[]> = {};
      let http = 0;
      let drainMs = 0;
      let leftover = 0;
      let dlq = 0;
      let duplicateSms = 0;
      let awsKeyReads = 0;
      const addCounts = (c: Counts) => {
        for (const [k, v] of Object.entries(c.calls)) total.calls[k] = (total.calls[k] ?? 0) + v;
        for (const [f, v] of Object.entries(c.byFunction)) {
          total.byFunction[f] ??= { calls: {}, wcu: 0, rcu: 0, writes: {} };
          const t = total.byFunction[f];
          t.wcu += v.wcu;
          t.rcu += v.rcu;
          for (const [k, n] of Object.entries(v.calls)) t.calls[k] = (t.calls[k] ?? 0) + n;
          for (const [k, n] of Object.entries(v.writes)) t.writes[k] = (t.writes[k] ?? 0) + n;
        }
        sumUnits(total.writeByCommand, c.writeByCommand);
        sumUnits(total.writeByItem, c.writeByItem);
        sumUnits(total.readByCommand, c.readByCommand);
        sumUnits(total.readByItem, c.readByItem);
        for (const k of [
          'indexWriteUnits',
          'sqsMessages',
          'sqsRequests',
          'snsSms',
          'snsPush',
          'snsTopic',
          'snsNotifyRequests',
          'snsNotifyEvents',
          'noteMarkers',
          'noteDuplicates',
        ] as const)
          (total[k] as number) += c[k];
        total.writeUnits.local += c.writeUnits.local;
        total.writeUnits.aws += c.writeUnits.aws;
        total.readUnits.local += c.readUnits.local;
        total.readUnits.aws += c.readUnits.aws;
      };
      for (let r = 0; r < runs; r++) {
        counter.reset();
        volunteerKeyUses.clear();
        b.takeTimes();
        const outboxBefore = stack.outbox.list().length;
        http += await lifecycle(communityId, slots);
        awsKeyReads += volunteerKeyUses.size;
        // Not waiting for the stream consumer's window to end: the runs follow each other as
        // a busy district's requests do, and share its windows (their writes counted below).
        const d = await b.drained(undefined, undefined, false);
        drainMs += d.ms;
        leftover += d.leftover;
        dlq = d.dlq;
        addCounts(counter.reset());
        const fresh = stack.outbox
          .list()
          .slice(outboxBefore)
          .filter((n) => n.channel === 'sms');
        const seen = new Set<string>();
        for (const n of fresh) {
          const k = `${n.to}\n${n.message}`;
          if (seen.has(k)) duplicateSms++;
          seen.add(k);
        }
        for (const [f, ts] of Object.entries(b.takeTimes())) {
          fnTimes[f] ??= [];
          fnTimes[f].push(...ts);
        }
      }
      // The last windows' final invocations: the counters' writes of the runs.
      await b.drained();
      addCounts(counter.reset());
      for (const [f, ts] of Object.entries(b.takeTimes())) {
        fnTimes[f] ??= [];
        fnTimes[f].push(...ts);
      }
      const per = (x: number) => x / runs;
      // Key reads as AWS would make them (eventually consistent, 0.5 RCU), not as this
      // process's shared cache did.
      const measuredKeyRcu = total.readByItem.key?.aws ?? 0;
      total.readUnits.aws += awsKeyReads * 0.5 - measuredKeyRcu;
      total.readByItem.key = {
        calls: awsKeyReads,
        local: total.readByItem.key?.local ?? 0,
        aws: awsKeyReads * 0.5,
      };
      const s: Scenario = {
        name,
        runs,
        slots,
        calls: Object.fromEntries(Object.entries(total.calls).map(([k, v]) => [k, per(v)])),
        writeByCommand: divUnits(total.writeByCommand, runs),
        writeByItem: divUnits(total.writeByItem, runs),
        readByCommand: divUnits(total.readByCommand, runs),
        readByItem: divUnits(total.readByItem, runs),
        writeUnits: { local: per(total.writeUnits.local), aws: per(total.writeUnits.aws) },
        readUnits: { local: per(total.readUnits.local), aws: per(total.readUnits.aws) },
        indexWriteUnits: per(total.indexWriteUnits),
        sqsMessages: per(total.sqsMessages),
        sqsRequests: per(total.sqsRequests),
        snsSms: per(total.snsSms),
        snsPush: per(total.snsPush),
        snsTopic: per(total.snsTopic),
        snsNotifyRequests: per(total.snsNotifyRequests),
        snsNotifyEvents: per(total.snsNotifyEvents),
        noteMarkers: per(total.noteMarkers),
        noteDuplicates: per(total.noteDuplicates),
        duplicateSms,
        functions: Object.fromEntries(
          Object.entries(fnTimes).map(([f, ts]) => [
            f,
            { invocations: ts.length / runs, meanMs: ts.reduce((a, x) => a + x, 0) / ts.length },
          ]),
        ),
        byFunction: Object.fromEntries(
          Object.entries(total.byFunction).map(([f, v]) => [
            f,
            {
              wcu: per(v.wcu),
              rcu: per(v.rcu),
              calls: Object.fromEntries(Object.entries(v.calls).map(([k, n]) => [k, per(n)])),
              writes: Object.fromEntries(Object.entries(v.writes).map(([k, n]) => [k, per(n)])),
            },
          ]),
        ),
        httpCalls: per(http),
        keyReads: { measuredRcu: per(measuredKeyRcu), awsRcu: per(awsKeyReads * 0.5) },
        drainMs: per(drainMs),
        leftover,
        dlq,
      };
      log(
        `  ${name}: ${s.writeUnits.aws.toFixed(1)} WCU, ${s.readUnits.aws.toFixed(1)} RCU (AWS), ${s.sqsMessages.toFixed(1)} SQS messages, ${s.snsSms.toFixed(1)} SMS, ${s.snsPush.toFixed(1)} push per request`,
      );
      return s;
    };

    log('  AWS work per request');
    const single = await scenario(
      'single-slot groceries, offer batch 3',
      'east-garden',
      1,
      QUICK ? 1 : 8,
    );
    const site = await scenario(
      '12-slot site duty, offer batch 3',
      'east-river',
      12,
      QUICK ? 1 : 3,
    );

    const itemSizes: LifecycleFigures['itemSizes'] = {};
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await stack.clients.dynamodb.send(
        new ScanCommand({ TableName: stack.tableName, ExclusiveStartKey: start }),
      );
      for (const item of page.Items ?? []) {
        const t = itemType(item.pk?.S, item.sk?.S);
        const size = itemSize(item);
        itemSizes[t] ??= { count: 0, meanBytes: 0, maxBytes: 0 };
        const e = itemSizes[t];
        e.meanBytes = (e.meanBytes * e.count + size) / (e.count + 1);
        e.count++;
        e.maxBytes = Math.max(e.maxBytes, size);
      }
      start = page.LastEvaluatedKey;
    } while (start);

    const calibration = await calibrate(stack.clients.dynamodb, `${stack.prefix}-calibration`);

    // Pipeline: 202 → first offer item, → first notification; then cancel.
    log('  pipeline latency');
    const toOffer: number[] = [];
    const toNote: number[] = [];
    const samples = QUICK ? 5 : 40;
    for (let i = 0; i < samples; i++) {
      const before = stack.outbox.list().length;
      const posted = await post(groceries('west-hill'));
      const t202 = Date.now();
      const id = posted.body.requestId as string;
      const seenOffer = await b.waitFor(async () => {
        const o = await b.partition(id, 'TASK#');
        return o.length ? Date.now() : undefined;
      });
      const note = await b.waitFor(() => stack.outbox.list().slice(before)[0]);
      if (seenOffer) toOffer.push(seenOffer - t202);
      if (note) toNote.push(Date.parse(note.at) - t202);
      await api('POST', `/v1/requests/${id}/cancel`, { key, body: {} });
      // Not drained per sample (its offer-expiry timers fire 3 s later, harmlessly).
      await new Promise((r) => setTimeout(r, 150));
    }
    return {
      scenarios: [single, site],
      pipeline: {
        samples,
        toFirstOffer: { p50Ms: pct(toOffer, 50), p95Ms: pct(toOffer, 95) },
        toFirstNotification: { p50Ms: pct(toNote, 50), p95Ms: pct(toNote, 95) },
      },
      offerTimeoutSeconds: OFFER_TIMEOUT_SECONDS,
      itemSizes,
      calibration,
    };
  } finally {
    await stack.stop();
  }
}
