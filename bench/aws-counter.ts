/**
 * Counts the AWS work the functions do: an SDK middleware on the functions' shared
 * clients (shared/clients/*), the same module instances the local stack's handlers use.
 * Every DynamoDB call gets `ReturnConsumedCapacity: 'INDEXES'` (TOTAL plus the per-table /
 * per-index split, so index writes are visible); units are summed by command and by item
 * type (from the key prefixes in the input).
 *
 * DynamoDB Local reports 1 unit per item (per KB) in a transaction, where AWS charges 2:
 * `awsWrite`/`awsRead` double the units of TransactWriteItems / TransactGetItems.
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import { type AttributeValue, type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { InitializeMiddleware } from '@smithy/types';
import { TABLE } from '../shared/resources.ts';

/** The function an SDK call is made from (set by the bench's handler wrapper). */
export const currentFunction = new AsyncLocalStorage<string>();

export interface Units {
  calls: number;
  /** As DynamoDB Local reports them. */
  local: number;
  /** What AWS would charge (transactions × 2). */
  aws: number;
}

export interface Counts {
  /** `service.Command` → calls. */
  calls: Record<string, number>;
  /** By function: `service.Command` → calls; and DynamoDB units (AWS) read / written. */
  byFunction: Record<
    string,
    { calls: Record<string, number>; wcu: number; rcu: number; writes: Record<string, number> }
  >;
  /** `service.Command` → total wall ms of the calls. */
  ms: Record<string, number>;
  /** DynamoDB write units by command and by item type. */
  writeByCommand: Record<string, Units>;
  writeByItem: Record<string, Units>;
  readByCommand: Record<string, Units>;
  readByItem: Record<string, Units>;
  /** Of the write units, those consumed by global secondary indexes (Local's figure). */
  indexWriteUnits: number;
  readUnits: { local: number; aws: number };
  writeUnits: { local: number; aws: number };
  sqsMessages: number;
  sqsRequests: number;
  snsSms: number;
  snsPush: number;
  /** Publishes to the ops alert topic. */
  snsTopic: number;
  /** Publish / PublishBatch requests to the notifications topic (SNS bills per request). */
  snsNotifyRequests: number;
  /** Notification events in them: each is one SQS message to the notify queue (delivery free). */
  snsNotifyEvents: number;
  /**
   * Notification markers written: successful conditional puts of NOTE# items, and SMS ids
   * added to a request's SMS counter (`notes`, with its count: `reserveSms`).
   */
  noteMarkers: number;
  /** Markers refused because the notification was marked already (a repeated send). */
  noteDuplicates: number;
}

export const emptyCounts = (): Counts => ({
  calls: {},
  byFunction: {},
  ms: {},
  writeByCommand: {},
  writeByItem: {},
  readByCommand: {},
  readByItem: {},
  indexWriteUnits: 0,
  readUnits: { local: 0, aws: 0 },
  writeUnits: { local: 0, aws: 0 },
  sqsMessages: 0,
  sqsRequests: 0,
  snsSms: 0,
  snsPush: 0,
  snsTopic: 0,
  snsNotifyRequests: 0,
  snsNotifyEvents: 0,
  noteMarkers: 0,
  noteDuplicates: 0,
});

type Attr = { S?: string } | string | undefined;
const str = (v: Attr): string | undefined =>
  typeof v === 'string' ? v : v && typeof v === 'object' ? v.S : undefined;

/** The item type a key belongs to, from its prefixes (docs/data-model.md). */
export function itemType(pk?: string, sk?: string, index?: string): string {
  if (!pk) return 'unknown';
  const prefix = pk.split('#')[0];
  let t: string;
  switch (prefix) {
    case 'REQ':
      // A volunteer's place in a request is one item: the offer, then the task it becomes.
      t = sk?.startsWith('OFFER#')
        ? 'offer'
        : sk?.startsWith('TASK#')
          ? 'offer/task'
          : sk === 'REQ'
            ? 'request'
            : 'request partition';
      break;
    case 'VOL':
      t = 'volunteer';
      break;
    case 'IDEM':
      t = 'idempotency';
      break;
    case 'NOTE':
      t = 'notification marker';
      break;
    case 'RATE':
      t = 'rate limit';
      break;
    case 'RECORDS':
      t = 'service record';
      break;
    case 'STATS':
      t = 'counters';
      break;
    case 'KEY':
      t = 'key';
      break;
    case 'PHONE':
      t = 'phone';
      break;
    case 'PARTNER':
      t = 'partner';
      break;
    case 'AVAIL':
      t = 'volunteer (availability index)';
      break;
    case 'VOLOFFER':
      t = 'offer (inbox index)';
      break;
    case 'VOLTASK':
      t = 'task (inbox index)';
      break;
    case 'OPEN':
      t = 'request (sweeper index)';
      break;
    default:
      t = prefix.toLowerCase();
  }
  return index && !t.includes('index') ? `${t} (${index})` : t;
}

type Key = Record<string, Attr> | undefined;
const typeOfKey = (k: Key) => itemType(str(k?.pk), str(k?.sk));

/** Item types a command touches, one entry per item. */
function itemsOf(command: string, input: Record<string, unknown>): string[] {
  const i = input as Record<string, any>;
  switch (command) {
    case 'PutItemCommand':
      return [typeOfKey(i.Item)];
    case 'UpdateItemCommand':
    case 'DeleteItemCommand':
    case 'GetItemCommand':
      return [typeOfKey(i.Key)];
    case 'TransactWriteItemsCommand':
      return (i.TransactItems ?? []).map((t: Record<string, any>) =>
        typeOfKey(t.Put?.Item ?? t.Update?.Key ?? t.Delete?.Key ?? t.ConditionCheck?.Key),
      );
    case 'TransactGetItemsCommand':
      return (i.TransactItems ?? []).map((t: Record<string, any>) => typeOfKey(t.Get?.Key));
    case 'BatchWriteItemCommand':
      return Object.values(i.RequestItems ?? {}).flatMap((rs) =>
        (rs as Record<string, any>[]).map((r) =>
          typeOfKey(r.PutRequest?.Item ?? r.DeleteRequest?.Key),
        ),
      );
    case 'BatchGetItemCommand':
      return Object.values(i.RequestItems ?? {}).flatMap((r) =>
        ((r as Record<string, any>).Keys ?? []).map((k: Key) => typeOfKey(k)),
      );
    case 'QueryCommand':
    case 'ScanCommand': {
      const values = Object.values((i.ExpressionAttributeValues ?? {}) as Record<string, Attr>)
        .map(str)
        .filter((s): s is string => !!s && s.includes('#'));
      return [itemType(values[0], undefined, i.IndexName)];
    }
    default:
      return ['other'];
  }
}

/** The SMS id a write marks sent in its request's SMS counter (`reserveSms`), if it is one. */
function markedSmsId(command: string, input: Record<string, unknown>): string | undefined {
  if (command !== 'UpdateItemCommand' || typeOfKey(input.Key as Key) !== 'smscount') return;
  if (!String(input.ConditionExpression ?? '').includes('NOT contains(')) return;
  return str((input.ExpressionAttributeValues as Record<string, Attr> | undefined)?.[':id']);
}

const AV_KEYS = new Set(['S', 'N', 'B', 'BOOL', 'NULL', 'L', 'M', 'SS', 'NS', 'BS']);

/** DynamoDB's size of a value (attribute names + values; numbers approximated), marshalled or not. */
export function valueBytes(v: unknown): number {
  if (v === null || v === undefined) return 1;
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (typeof v === 'number' || typeof v === 'bigint')
    return Math.ceil(String(v).replace(/^-|\.|^0+/g, '').length / 2) + 1;
  if (typeof v === 'boolean') return 1;
  if (v instanceof Uint8Array) return v.length;
  if (v instanceof Set) return [...v].reduce((s: number, x) => s + valueBytes(x), 0);
  if (Array.isArray(v)) return 3 + v.reduce((s: number, x) => s + 1 + valueBytes(x), 0);
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length === 1 && AV_KEYS.has(entries[0][0])) {
    const [t, x] = entries[0];
    if (t === 'N') return valueBytes(Number(x));
    if (t === 'M') return valueBytes(x);
    if (t === 'L') return 3 + (x as unknown[]).reduce((s: number, y) => s + 1 + valueBytes(y), 0);
    return valueBytes(x);
  }
  return 3 + entries.reduce((s, [k, x]) => s + 1 + Buffer.byteLength(k) + valueBytes(x), 0);
}

export const itemBytes = (item: Record<string, unknown>) =>
  Object.entries(item).reduce((s, [k, x]) => s + Buffer.byteLength(k) + valueBytes(x), 0);

/** AWS's write units for each item of a TransactWriteItems (2 per started KB). */
function transactionUnits(command: string, input: Record<string, unknown>): number[] | undefined {
  const its = (input.TransactItems ?? []) as Record<string, { Item?: Record<string, unknown> }>[];
  if (command === 'TransactWriteItemsCommand')
    return its.map((t) =>
      t.Put?.Item ? 2 * Math.max(1, Math.ceil(itemBytes(t.Put.Item) / 1024)) : 2,
    );
  return undefined;
}

type Image = Record<string, AttributeValue> | undefined;

/** The table and key of each item a TransactWriteItems writes, in item order. */
function transactionKeys(input: Record<string, unknown>) {
  const its = (input.TransactItems ?? []) as Record<string, Record<string, any>>[];
  return its.map((t) => {
    const op = t.Put ?? t.Update ?? t.Delete ?? t.ConditionCheck;
    const key = t.Put ? { pk: t.Put.Item.pk, sk: t.Put.Item.sk } : op.Key;
    const attr = (v: Attr) => ({ S: str(v) ?? '' });
    return {
      table: String(op.TableName),
      key: { pk: attr(key.pk), sk: attr(key.sk) },
      writes: !t.ConditionCheck,
    };
  });
}

/**
 * AWS's index write units for one item's write, from its images before and after, per
 * index of the table (ALL projection: any change of an item in the index rewrites its
 * entry): entry added or removed 1, key moved 2 (delete and put), entry rewritten 1;
 * per started KB of the item.
 */
export function indexUnits(before: Image, after: Image): Record<string, number> {
  const units: Record<string, number> = {};
  const kb = (i: Image) => Math.max(1, Math.ceil(itemBytes(i ?? {}) / 1024));
  const same = (a: Image, b: Image) => stable(a) === stable(b);
  for (const index of TABLE.indexes) {
    // An included-only index (INCLUDE) rewrites an entry only when what it holds changes.
    const held = (i: Image) =>
      index.include && i
        ? Object.fromEntries(Object.entries(i).filter(([k]) => index.include?.includes(k)))
        : i;
    const keyOf = (i: Image) =>
      i?.[index.partitionKey] && i?.[index.sortKey]
        ? stable({ p: i[index.partitionKey], s: i[index.sortKey] })
        : undefined;
    const k0 = keyOf(before);
    const k1 = keyOf(after);
    let u = 0;
    if (k0 && k1)
      u = k0 !== k1 ? kb(before) + kb(after) : same(held(before), held(after)) ? 0 : kb(after);
    else if (k0) u = kb(before);
    else if (k1) u = kb(after);
    if (u) units[index.name] = u;
  }
  return units;
}

/** JSON with object keys sorted, so two images compare by content. */
const stable = (v: unknown): string =>
  JSON.stringify(v, (_k, x) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1)))
      : x,
  );

const add = (m: Record<string, Units>, k: string, local: number, aws: number, calls = 1) => {
  const u = m[k] ?? { calls: 0, local: 0, aws: 0 };
  u.calls += calls;
  u.local += local;
  u.aws += aws;
  m[k] = u;
};

const WRITES = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'TransactWriteItemsCommand',
  'BatchWriteItemCommand',
]);

type Capacity = {
  CapacityUnits?: number;
  Table?: { CapacityUnits?: number };
  GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
};

/** The counter every middleware adds to; `reset()` between measurements. */
export class AwsCounter {
  counts = emptyCounts();
  reset(): Counts {
    const c = this.counts;
    this.counts = emptyCounts();
    return c;
  }

  private fn() {
    const name = currentFunction.getStore() ?? '(outside a function)';
    this.counts.byFunction[name] ??= { calls: {}, wcu: 0, rcu: 0, writes: {} };
    return this.counts.byFunction[name];
  }

  private call(service: string, command: string) {
    const k = `${service}.${command.replace(/Command$/, '')}`;
    this.counts.calls[k] = (this.counts.calls[k] ?? 0) + 1;
    const f = this.fn().calls;
    f[k] = (f[k] ?? 0) + 1;
  }

  attachDynamo(client: DynamoDBClient) {
    // The bench's own reads of items' images (for a transaction's index units), not counted.
    const uncounted = new WeakSet<object>();
    const image = async (table: string, key: Record<string, AttributeValue>): Promise<Image> => {
      const get = new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true });
      uncounted.add(get.input);
      return (await client.send(get)).Item;
    };
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (uncounted.has(args.input as object)) return next(args);
        const command = (context as { commandName?: string }).commandName ?? 'unknown';
        const input = args.input as Record<string, unknown>;
        input.ReturnConsumedCapacity = 'INDEXES';
        this.call('dynamodb', command);
        const t0 = performance.now();
        const items = itemsOf(command, input);
        const isWrite = WRITES.has(command);
        let output: Record<string, unknown> | undefined;
        // DynamoDB Local reports a transaction's index units as if it wrote one item (bench
        // calibration), so they are computed from each item's images before and after.
        // (Another writer between the reads and the write could skew one item's figure.)
        const txKeys = command === 'TransactWriteItemsCommand' ? transactionKeys(input) : [];
        const befores = await Promise.all(txKeys.map((k) => image(k.table, k.key)));
        let txIndex: Record<string, number>[] | undefined;
        try {
          const out = await next(args);
          output = out.output as unknown as Record<string, unknown>;
          if (txKeys.length) {
            const afters = await Promise.all(txKeys.map((k) => image(k.table, k.key)));
            txIndex = txKeys.map((k, i) => (k.writes ? indexUnits(befores[i], afters[i]) : {}));
          }
          return out;
        } catch (e) {
          // A failed condition still consumes write units on AWS (1 per item written); Local does not report it.
          const err = e as { name?: string; CancellationReasons?: unknown[] };
          if (process.env.BENCH_TRACE)
            console.log(`[trace] ${command} ${items.join(',')} FAILED ${err.name}`);
          if (isWrite && /ConditionalCheckFailed|TransactionCanceled/.test(err.name ?? '')) {
            const perItem = command === 'TransactWriteItemsCommand' ? 2 : 1;
            const f = this.fn();
            f.wcu += perItem * items.length;
            for (const t of items) {
              add(this.counts.writeByItem, `${t} (failed condition)`, 0, perItem, 0);
              const k = `${t} (failed ${command.replace(/ItemCommand$|ItemsCommand$/, '')})`;
              f.writes[k] = (f.writes[k] ?? 0) + perItem;
            }
            add(this.counts.writeByCommand, `${command} (failed)`, 0, perItem * items.length);
            this.counts.writeUnits.aws += perItem * items.length;
            if (command === 'PutItemCommand' && items[0] === 'notification marker')
              this.counts.noteDuplicates++;
            // A request's SMS counter refused its id: a repeat if the id is in the item
            // returned (ALL_OLD), else the cap per request.
            const smsId = markedSmsId(command, input);
            const old = (e as { Item?: { notes?: { SS?: string[] } } }).Item;
            if (smsId && old?.notes?.SS?.includes(smsId)) this.counts.noteDuplicates++;
          }
          throw e;
        } finally {
          const msKey = `dynamodb.${command.replace(/Command$/, '')}`;
          this.counts.ms[msKey] = (this.counts.ms[msKey] ?? 0) + performance.now() - t0;
          if (output) {
            const caps = ([] as Capacity[]).concat((output.ConsumedCapacity as Capacity) ?? []);
            const transact = command.startsWith('Transact');
            if (process.env.BENCH_TRACE)
              console.log(
                `[trace] ${command} ${items.join(',')} ${JSON.stringify(output.ConsumedCapacity)}`,
              );
            const local = caps.reduce((s, c) => s + (c.CapacityUnits ?? 0), 0);
            const tableLocal = caps.reduce(
              (s, c) => s + (c.Table?.CapacityUnits ?? c.CapacityUnits ?? 0),
              0,
            );
            const gsi: Record<string, number> = {};
            if (txIndex) {
              for (const u of txIndex)
                for (const [name, n] of Object.entries(u)) gsi[name] = (gsi[name] ?? 0) + n;
            } else {
              for (const c of caps)
                for (const [name, g] of Object.entries(c.GlobalSecondaryIndexes ?? {}))
                  gsi[name] = (gsi[name] ?? 0) + (g.CapacityUnits ?? 0);
            }
            const indexLocal = Object.values(gsi).reduce((a, x) => a + x, 0);
            // AWS: a transactional write costs 2 units per item per started KB (Put: its size
            // from the input; Update/Delete/ConditionCheck: 1 KB, every item here is under
            // 1 KB, see the item sizes). DynamoDB Local's own transaction figure is not per
            // item (bench calibration), nor is its index figure (computed above from the
            // items' images: index updates are ordinary index writes).
            const perItemAws = transact ? transactionUnits(command, input) : undefined;
            const tableAws = perItemAws ? perItemAws.reduce((a, x) => a + x, 0) : tableLocal;
            const aws = tableAws + indexLocal;
            const byCmd = isWrite ? this.counts.writeByCommand : this.counts.readByCommand;
            const byItem = isWrite ? this.counts.writeByItem : this.counts.readByItem;
            add(byCmd, command, local, aws);
            // Table units split evenly over the call's items (Local does not itemise);
            // index units go to the item types that carry that index's keys.
            const n = Math.max(1, items.length);
            const fw = this.fn().writes;
            const cmdShort = command.replace(/ItemCommand$|ItemsCommand$/, '');
            items.forEach((t, i) => {
              const u = perItemAws ? perItemAws[i] : tableAws / n;
              add(byItem, t, tableLocal / n, u, 0);
              if (isWrite) fw[`${t} (${cmdShort})`] = (fw[`${t} (${cmdShort})`] ?? 0) + u;
            });
            if (isWrite) this.fn().wcu += aws;
            else this.fn().rcu += aws;
            const label = (t: string, name: string) => `${t} → ${name} index`;
            if (txIndex) {
              txIndex.forEach((u, i) => {
                for (const [name, n] of Object.entries(u)) {
                  add(byItem, label(items[i], name), n, n, 0);
                  fw[label(items[i], name)] = (fw[label(items[i], name)] ?? 0) + n;
                }
              });
            }
            for (const [name, units] of Object.entries(txIndex ? {} : gsi)) {
              if (!units) continue;
              const carriers = items.filter((t) =>
                name === 'avail'
                  ? t === 'volunteer'
                  : ['request', 'offer', 'offer/task'].includes(t),
              );
              if (!carriers.length || !isWrite) {
                add(byItem, isWrite ? `${name} index` : items[0], units, units, 0);
                continue;
              }
              for (const t of carriers) {
                add(byItem, label(t, name), units / carriers.length, units / carriers.length, 0);
                fw[label(t, name)] = (fw[label(t, name)] ?? 0) + units / carriers.length;
              }
            }
            const total = isWrite ? this.counts.writeUnits : this.counts.readUnits;
            total.local += local;
            total.aws += aws;
            if (isWrite) this.counts.indexWriteUnits += indexLocal;
            if (
              (command === 'PutItemCommand' && items[0] === 'notification marker') ||
              markedSmsId(command, input)
            )
              this.counts.noteMarkers++;
          }
        }
      },
      { step: 'initialize', priority: 'low', name: 'benchAwsCounter' },
    );
  }

  attachSqs(client: SQSClient) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = (context as { commandName?: string }).commandName ?? 'unknown';
        this.call('sqs', command);
        this.counts.sqsRequests++;
        const t0 = performance.now();
        const input = args.input as { Entries?: unknown[] };
        if (command === 'SendMessageCommand') this.counts.sqsMessages++;
        if (command === 'SendMessageBatchCommand')
          this.counts.sqsMessages += input.Entries?.length ?? 0;
        try {
          return await next(args);
        } finally {
          const k = `sqs.${command.replace(/Command$/, '')}`;
          this.counts.ms[k] = (this.counts.ms[k] ?? 0) + performance.now() - t0;
        }
      },
      { step: 'initialize', priority: 'low', name: 'benchAwsCounter' },
    );
  }

  attachSns(client: SNSClient) {
    const middleware: InitializeMiddleware<object, object> = (next, context) => async (args) => {
      const command = (context as { commandName?: string }).commandName ?? 'unknown';
      const input = args.input as {
        PhoneNumber?: string;
        TargetArn?: string;
        TopicArn?: string;
        PublishBatchRequestEntries?: unknown[];
      };
      const out = await next(args);
      // Notification events (to the notifications topic) are their own kind: a different
      // price (a publish request, fanned out to SQS for free) from SMS, push and alerts.
      const notifyTopic = process.env.NOTIFICATION_TOPIC_ARN;
      const kind = input.PhoneNumber
        ? 'sms'
        : input.TargetArn
          ? 'push'
          : notifyTopic && input.TopicArn === notifyTopic
            ? 'notifications topic'
            : 'topic';
      this.call('sns', `${command.replace(/Command$/, '')} (${kind})`);
      if (kind === 'sms') this.counts.snsSms++;
      else if (kind === 'push') this.counts.snsPush++;
      else if (kind === 'notifications topic') {
        this.counts.snsNotifyRequests++;
        this.counts.snsNotifyEvents += input.PublishBatchRequestEntries?.length ?? 1;
      } else this.counts.snsTopic++;
      return out;
    };
    // Outside the local stack's outbox middleware, which answers SMS and push itself.
    client.middlewareStack.addRelativeTo(middleware as never, {
      relation: 'before',
      toMiddleware: 'localStackOutbox',
      name: 'benchAwsCounter',
    });
  }
}
