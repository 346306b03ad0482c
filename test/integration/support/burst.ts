/**
 * A burst of requests driven through the API by a partner and volunteers who accept and
 * deliver everything they are offered, then checks, by reading the table, that every
 * request ended confirmed with no duplicate and nothing lost. Used by the fault tests.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'vitest';
import { type ApiOptions, type ApiResponse, callApi, waitFor } from './stack.ts';

export interface Target {
  url: string;
  opsKey: string;
  /** SMS and push recorded so far (the outbox). */
  outbox(): Promise<{ to: string; message: string; channel: string }[]>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Calls `retrying` had to repeat (a 5xx or no answer). */
export const retried = { count: 0 };

/** As a partner app would: retry 5xx and network errors with the same request. */
export async function retrying(
  t: Target,
  method: string,
  path: string,
  opts: ApiOptions = {},
  attempts = 60,
): Promise<ApiResponse> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      const res = await callApi(t.url, method, path, opts);
      if (res.status < 500) return res;
      last = res.body;
    } catch (error) {
      last = error;
    }
    retried.count += 1;
    await sleep(100 + i * 50);
  }
  throw new Error(
    `${method} ${path}: no answer below 500 after ${attempts} tries: ${JSON.stringify(last)}`,
  );
}

export interface Actors {
  partnerKey: string;
  volunteers: { id: string; token: string; phone: string }[];
}

let seq = 0;
const uniquePhone = (prefix: string) =>
  `${prefix}${String(process.pid % 1000).padStart(3, '0')}${String(Date.now() % 10000).padStart(4, '0')}${String(seq++).padStart(2, '0')}`;

export const COMMUNITIES = ['east-garden', 'east-river', 'west-hill', 'west-lake'];

export async function actors(t: Target, perCommunity = 2): Promise<Actors> {
  const p = await retrying(t, 'POST', '/v1/partners', { key: t.opsKey, body: { name: '社区通' } });
  expect(p.status).toBe(201);
  const volunteers: Actors['volunteers'] = [];
  for (const communityId of COMMUNITIES) {
    for (let i = 0; i < perCommunity; i++) {
      const phone = uniquePhone('+86139');
      const v = await retrying(t, 'POST', '/v1/volunteers', {
        key: t.opsKey,
        body: { name: `志愿者${volunteers.length}`, phone, communityId },
      });
      expect(v.status).toBe(201);
      volunteers.push({ id: v.body.volunteerId, token: v.body.token, phone });
    }
  }
  return { partnerKey: p.body.apiKey, volunteers };
}

export interface Posted {
  requestId: string;
  slots: number;
  requesterPhone: string;
  idempotencyKey: string;
}

export function requestBody(i: number, requesterPhone: string) {
  return {
    kind: 'groceries',
    communityId: COMMUNITIES[i % COMMUNITIES.length],
    address: `东园小区${i}号楼2单元501`,
    requester: { name: '王奶奶', phone: requesterPhone },
    slots: i % 3 === 0 ? 2 : 1,
    notes: '米一袋',
  };
}

/** Posts `n` requests at once; each is retried with its Idempotency-Key until it gets 202. */
export async function postBurst(
  t: Target,
  a: Actors,
  n: number,
  from = 0,
  onPosted: (p: Posted) => void = () => {},
): Promise<Posted[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, k) => {
      const i = from + k;
      const requesterPhone = uniquePhone('+86137');
      const idempotencyKey = `burst-${i}-${requesterPhone}`;
      const body = requestBody(i, requesterPhone);
      const res = await retrying(t, 'POST', '/v1/requests', {
        key: a.partnerKey,
        body,
        headers: { 'idempotency-key': idempotencyKey },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      const posted = {
        requestId: res.body.requestId,
        slots: body.slots,
        requesterPhone,
        idempotencyKey,
      };
      onPosted(posted);
      return posted;
    }),
  );
}

/**
 * Volunteers accept and deliver whatever they are offered; the partner confirms what is
 * delivered. Until every request is confirmed (or the deadline).
 */
export async function workUntilConfirmed(
  t: Target,
  a: Actors,
  posted: Posted[],
  timeoutMs = 60_000,
): Promise<void> {
  const confirmed = new Set<string>();
  const deadline = Date.now() + timeoutMs;
  while (confirmed.size < posted.length) {
    if (Date.now() > deadline) {
      const left = posted.filter((p) => !confirmed.has(p.requestId));
      // What the partner sees of each stuck request, so a failure says where it stopped.
      const seen = await Promise.all(
        left.map(async (p) => {
          const r = await callApi(t.url, 'GET', `/v1/requests/${p.requestId}`, {
            key: a.partnerKey,
          }).catch((e) => ({ body: String(e) }));
          return `${p.requestId}: ${JSON.stringify(r.body)}`;
        }),
      );
      throw new Error(`not confirmed in time:\n${seen.join('\n')}`);
    }
    await Promise.all(
      a.volunteers.map(async (v) => {
        const list = await retrying(t, 'GET', '/v1/volunteers/me/offers', { key: v.token });
        for (const offer of list.body.offers ?? []) {
          const acc = await retrying(t, 'POST', `/v1/offers/${offer.offerId}/accept`, {
            key: v.token,
          });
          if (acc.status !== 200) continue;
          const done = await retrying(t, 'POST', `/v1/tasks/${acc.body.taskId}/delivered`, {
            key: v.token,
            body: { note: '已放门口' },
          });
          expect(done.status, JSON.stringify(done.body)).toBe(200);
        }
      }),
    );
    await Promise.all(
      posted
        .filter((p) => !confirmed.has(p.requestId))
        .map(async (p) => {
          const r = await retrying(t, 'GET', `/v1/requests/${p.requestId}`, { key: a.partnerKey });
          if (r.body.status === 'delivered') {
            const c = await retrying(t, 'POST', `/v1/requests/${p.requestId}/confirm`, {
              key: a.partnerKey,
            });
            expect(c.status).toBe(200);
            confirmed.add(p.requestId);
          } else if (r.body.status === 'confirmed') confirmed.add(p.requestId);
        }),
    );
    await sleep(150);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: table items are checked field by field
type Item = Record<string, any>;

export async function scanAll(client: DynamoDBClient, tableName: string): Promise<Item[]> {
  const docs = DynamoDBDocumentClient.from(client);
  const items: Item[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await docs.send(
      new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey }),
    );
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}

export interface CheckOptions {
  /** Every offer's SMS went out (false when offers may be accepted before a retry announces them). */
  everyOfferAnnounced?: boolean;
  /** Check SMS against the outbox (false when the outbox was lost with a killed process). */
  outbox?: boolean;
}

/**
 * Reads the whole table and checks that every posted request is confirmed, once, with its
 * slots' tasks delivered and credited once (one service record each), history without repeats, volunteers' load and
 * credit consistent, counters exact, and one SMS per SMS marker.
 */
export async function checkAllDone(
  t: Target,
  read: () => Promise<Item[]>,
  posted: Posted[],
  opts: CheckOptions = {},
): Promise<void> {
  // Credits and the last notifications follow the confirm through the queues (a failed
  // one after a retry): check until everything holds, or fail with the last difference.
  await waitFor(() => checkOnce(t, read, posted, opts).then(() => true), {
    timeoutMs: 30_000,
    intervalMs: 500,
  });
}

async function checkOnce(
  t: Target,
  read: () => Promise<Item[]>,
  posted: Posted[],
  opts: CheckOptions,
): Promise<void> {
  const totalTasks = posted.reduce((n, p) => n + p.slots, 0);
  const items = await read();
  const byPk = new Map<string, Item[]>();
  for (const i of items) byPk.set(i.pk, [...(byPk.get(i.pk) ?? []), i]);

  const outbox = await t.outbox();
  // Where each SMS was marked sent: an SMS of a request by its id in the request's SMS
  // counter (`notes`), any other by its own `NOTE#<id>` item.
  const smsIds = new Map<string, string[]>();
  for (const i of items) {
    if (i.type === 'notification') smsIds.set(i.pk.slice('NOTE#'.length), [i.pk]);
    if (i.pk.startsWith('SMSCOUNT#REQ#')) {
      const notes = (i.notes ?? new Set()) as Set<string>;
      // The budget a request holds is its SMS marked sent: a repeat took none.
      expect(i.sent ?? 0, i.pk).toBe(notes.size);
      for (const id of notes) smsIds.set(id, [...(smsIds.get(id) ?? []), i.pk]);
    }
  }
  const marked = (id: string) => smsIds.has(id);
  for (const p of posted) {
    const part = byPk.get(`REQ#${p.requestId}`) ?? [];
    const request = part.find((i) => i.type === 'request');
    expect(request, p.requestId).toBeDefined();
    expect(request?.status).toBe('confirmed');
    expect(request?.filled).toBe(p.slots);
    expect(request?.delivered).toBe(p.slots);
    const statuses = ((request?.history ?? []) as Item[])
      .filter((h) => h.status)
      .map((h) => h.status);
    expect(statuses, p.requestId).toEqual(['received', 'matched', 'delivered', 'confirmed']);
    const tasks = part.filter((i) => i.type === 'task');
    expect(tasks).toHaveLength(p.slots);
    for (const task of tasks) expect(task.status).toBe('delivered');
    // Each slot taken by accepting an offer: the offer became the task (one item).
    expect(tasks.filter((t) => t.offerId && t.offeredAt)).toHaveLength(p.slots);
    expect(part.filter((i) => i.type === 'offer' && i.status === 'accepted')).toEqual([]);
    // The requester: one SMS per volunteer taking a slot, one when the goods are at the door.
    const toRequester = outbox.filter((n) => n.to === p.requesterPhone);
    if (opts.outbox !== false)
      expect(
        toRequester.map((n) => n.message),
        `${p.requestId}: ${[...byPk.keys()].filter((k) => k.includes(p.requestId.slice(4))).join(' ')}`,
      ).toHaveLength(p.slots + 1);
    for (const task of tasks) expect(marked(`taken:${task.taskId}`)).toBe(true);
    expect(marked(`delivered:${p.requestId}`)).toBe(true);
    if (opts.everyOfferAnnounced) {
      for (const o of part.filter((i) => i.offerId)) {
        expect(marked(`offer:${o.offerId}`), o.offerId).toBe(true);
      }
    }
  }

  // Exactly one SMS per SMS marker: nothing sent twice, nothing marked unsent; each id
  // marked in one place only. (Push has no marker; these volunteers have no endpoint, so
  // everything here goes by SMS.)
  const markers = [...smsIds].filter(([id]) => !id.startsWith('alert:'));
  for (const [id, where] of markers) expect(where, id).toHaveLength(1);
  const sms = outbox.filter((n) => n.channel === 'sms');
  if (opts.outbox !== false) expect(sms.length).toBe(markers.length);

  // Volunteers: no task left open. Credit: every delivered task (all of a confirmed
  // request) has exactly one service record, under its delivery's day, with its points,
  // and no record is without its task.
  const tasks = items.filter((i) => i.type === 'task');
  for (const v of items.filter((i) => i.type === 'volunteer')) {
    expect(v.active, v.volunteerId).toBe(0);
  }
  const records = items.filter((i) => i.type === 'record');
  expect(records).toHaveLength(tasks.length);
  for (const task of tasks) {
    const mine = records.filter((r) => r.taskId === task.taskId);
    expect(mine, task.taskId).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      pk: `RECORDS#${String(task.deliveredAt).slice(0, 10)}`,
      volunteerId: task.volunteerId,
      points: 10,
    });
    expect(task.credited, task.taskId).toBeUndefined();
  }

  // Counters kept by the writes: every request counted once, in its final status, in the
  // day buckets and in the hour buckets alike.
  for (const bucket of [/^STATS#\d{4}-\d{2}-\d{2}$/, /^STATS#\d{4}-\d{2}-\d{2}T\d{2}$/]) {
    const counters = items.filter((i) => bucket.test(i.pk));
    const sum = (field: string) => counters.reduce((n, d) => n + (d[field] ?? 0), 0);
    expect(sum('status.confirmed'), String(bucket)).toBe(posted.length);
    for (const s of ['received', 'matched', 'delivered']) expect(sum(`status.${s}`)).toBe(0);
    expect(sum('personTimes'), String(bucket)).toBe(totalTasks);
    expect(sum('points'), String(bucket)).toBe(totalTasks * 10);
  }
}
