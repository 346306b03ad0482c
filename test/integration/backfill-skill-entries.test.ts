import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../scripts/backfill-skill-entries.ts';
import { skillEntries, type Volunteer } from '../../shared/domain/volunteer.ts';
import { dispatchActors } from './support/dispatch.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

/**
 * The upgrade backfill on the real local stack: volunteers stored before per-skill
 * availability entries (their `AVAIL#<skill>` items deleted here, as a district deployed
 * before that change holds them) are not offered skilled requests; after
 * `npm run backfill-skills` their entries are exactly what `skillEntries` says and they
 * are; a second run changes nothing but the volunteers' versions.
 */
let stack: TestStack;
let documents: DynamoDBDocumentClient;

beforeAll(async () => {
  stack = await startTestStack();
  ({ documents } = await import('../../shared/clients/dynamodb.ts'));
});
afterAll(() => stack?.stop());

const { volunteer, post } = dispatchActors(() => stack, {
  phonePrefix: '+86135',
  keyPrefix: 'b',
});

async function offered(token: string, requestId: string) {
  const res = await stack.api('GET', '/v1/volunteers/me/offers', { key: token });
  return (res.body.offers as { requestId: string }[]).some((o) => o.requestId === requestId);
}

/** Waits until matching gave up on the request's community (widened), then checks no offer. */
async function expectNoOffer(tokens: string[], requestId: string) {
  await stack.waitFor(async () => {
    const r = (await stack.api('GET', `/v1/requests/${requestId}`, { key: stack.opsKey })).body;
    return r.scope !== 'community';
  });
  for (const token of tokens) expect(await offered(token, requestId)).toBe(false);
}

async function volunteerItem(volunteerId: string) {
  const { Item } = await documents.send(
    new GetCommand({
      TableName: stack.local.tableName,
      Key: { pk: `VOL#${volunteerId}`, sk: 'VOL' },
      ConsistentRead: true,
    }),
  );
  return Item as Record<string, unknown>;
}

/** The volunteer's per-skill entry items as stored, by sort key. */
async function entryItems(volunteerId: string) {
  const { Items = [] } = await documents.send(
    new QueryCommand({
      TableName: stack.local.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :avail)',
      ExpressionAttributeValues: { ':pk': `VOL#${volunteerId}`, ':avail': 'AVAIL#' },
      ConsistentRead: true,
    }),
  );
  return Items;
}

/** The entry items `skillEntries` says the volunteer, as stored now, should have. */
async function dueItems(volunteerId: string) {
  const { pk, sk, type, gsi2pk, gsi2sk, ...v } = await volunteerItem(volunteerId);
  return skillEntries(v as unknown as Volunteer).map((e) => ({
    pk: `VOL#${volunteerId}`,
    sk: `AVAIL#${e.skill}`,
    type: 'availability',
    ...e.entry,
    gsi2pk: e.gsi2pk,
    gsi2sk: e.gsi2sk,
  }));
}

async function volunteerStats() {
  return (await stack.api('GET', '/v1/stats', { key: stack.opsKey })).body.volunteers;
}

async function backfill() {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(
    [],
    (l) => out.push(l),
    (l) => err.push(l),
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('npm run backfill-skills on a district deployed before per-skill entries', () => {
  let key: string;
  let medic: { id: string; token: string };
  let both: { id: string; token: string };
  let offDuty: { id: string; token: string };
  let plain: { id: string; token: string };

  beforeAll(async () => {
    key = (await stack.api('POST', '/v1/partners', { key: stack.opsKey, body: { name: 'app' } }))
      .body.apiKey;
    medic = await volunteer('east-river', { skills: ['medic'] });
    both = await volunteer('east-river', { skills: ['medic', 'driver'] });
    offDuty = await volunteer('east-river', { skills: ['medic'] });
    plain = await volunteer('east-river');
    const off = await stack.api('PATCH', `/v1/volunteers/${offDuty.id}`, {
      key: offDuty.token,
      body: { onDuty: false },
    });
    expect(off.status).toBe(200);

    // The pre-upgrade table: volunteers without any per-skill entry.
    for (const v of [medic, both, offDuty, plain]) {
      for (const item of await entryItems(v.id)) {
        await documents.send(
          new DeleteCommand({
            TableName: stack.local.tableName,
            Key: { pk: item.pk, sk: item.sk },
          }),
        );
      }
      expect(await entryItems(v.id)).toEqual([]);
    }
  });

  it('restores the entries skillEntries says, and skilled requests find the volunteers again', async () => {
    await expectNoOffer(
      [medic.token, both.token],
      await post(key, { communityId: 'east-river', skills: ['medic'] }),
    );
    const stats = await volunteerStats();

    const run = await backfill();

    expect(run.code).toBe(0);
    expect(run.out).toBe(
      'done: 4 volunteers read, 3 with skills, 2 restored, 3 entries written, 0 retried, 0 failed',
    );
    expect(run.err).toContain(`backfilling per-skill availability entries in ${stack.prefix}`);
    expect(`${run.out}\n${run.err}`).not.toMatch(/\+86135\d{8}/);

    expect((await entryItems(medic.id)).map((i) => i.sk)).toEqual(['AVAIL#medic']);
    expect((await entryItems(both.id)).map((i) => i.sk)).toEqual(['AVAIL#driver', 'AVAIL#medic']);
    for (const v of [medic, both, offDuty, plain]) {
      const due = await dueItems(v.id);
      const stored = await entryItems(v.id);
      expect(stored).toHaveLength(due.length);
      expect(stored).toEqual(expect.arrayContaining(due));
    }
    expect(await entryItems(offDuty.id)).toEqual([]);
    expect(await entryItems(plain.id)).toEqual([]);
    // The counters are not touched.
    expect(await volunteerStats()).toEqual(stats);

    const medicRequest = await post(key, { communityId: 'east-river', skills: ['medic'] });
    await stack.waitFor(() => offered(medic.token, medicRequest));
    await stack.waitFor(() => offered(both.token, medicRequest));
    const driverRequest = await post(key, { communityId: 'east-river', skills: ['driver'] });
    await stack.waitFor(() => offered(both.token, driverRequest));
    expect(await offered(medic.token, driverRequest)).toBe(false);
  });

  it('a second run (as `tsx scripts/backfill-skill-entries.ts`) rewrites the same entries', async () => {
    const before = await Promise.all([medic, both, offDuty, plain].map((v) => entryItems(v.id)));
    const versions = await Promise.all(
      [medic, both, offDuty, plain].map(async (v) => (await volunteerItem(v.id)).version),
    );
    const stats = await volunteerStats();

    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'scripts/backfill-skill-entries.ts', '--concurrency', '2'],
      { env: process.env, cwd: new URL('../..', import.meta.url).pathname },
    );

    expect(stdout.trim()).toBe(
      'done: 4 volunteers read, 3 with skills, 2 restored, 3 entries written, 0 retried, 0 failed',
    );
    const after = await Promise.all([medic, both, offDuty, plain].map((v) => entryItems(v.id)));
    expect(after).toEqual(before);
    // Only the restored volunteers were written, each once: their version went up by one.
    expect(
      await Promise.all(
        [medic, both, offDuty, plain].map(async (v) => (await volunteerItem(v.id)).version),
      ),
    ).toEqual(versions.map((n, i) => (i < 2 ? Number(n) + 1 : n)));
    expect(await volunteerStats()).toEqual(stats);

    const again = await post(key, { communityId: 'east-river', skills: ['driver'] });
    await stack.waitFor(() => offered(both.token, again));
  });
});
