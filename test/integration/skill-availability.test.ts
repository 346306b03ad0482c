import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchActors } from './support/dispatch.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

/**
 * Per-skill availability entries on the real local stack: a skilled request reads only
 * the volunteers holding its skill, however many others its community has, and the
 * entries follow every change of the volunteer (skills, duty, capacity filled by an
 * accept and freed by a delivery).
 */
let stack: TestStack;
let documents: DynamoDBDocumentClient;
/** Every availability index query the stack makes: its partition and the items it read. */
const indexReads: { pk: string; read: number }[] = [];

beforeAll(async () => {
  stack = await startTestStack();
  // The functions run in this process on this client: count what matching reads, as
  // the matching bench does (ScannedCount is what DynamoDB bills).
  ({ documents } = await import('../../shared/clients/dynamodb.ts'));
  documents.middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      const input = args.input as {
        IndexName?: string;
        ExpressionAttributeValues?: { ':pk'?: string };
      };
      const output = out.output as { ScannedCount?: number };
      if (input.IndexName === 'avail' && output.ScannedCount !== undefined) {
        indexReads.push({
          pk: String(input.ExpressionAttributeValues?.[':pk']),
          read: output.ScannedCount,
        });
      }
      return out;
    },
    { step: 'initialize', name: 'countIndexReads' },
  );
});
afterAll(async () => {
  documents?.middlewareStack.remove('countIndexReads');
  await stack?.stop();
});

const { volunteer, post, offers } = dispatchActors(() => stack, {
  phonePrefix: '+86136',
  keyPrefix: 's',
});

async function partner() {
  const res = await stack.api('POST', '/v1/partners', { key: stack.opsKey, body: { name: 'app' } });
  return res.body.apiKey as string;
}

const offerFor = (token: string, requestId: string) =>
  stack.waitFor(async () => (await offers(token)).find((o) => o.requestId === requestId));

/**
 * Waits until matching has offered the request to this volunteer or found nobody in the
 * request's community (and widened), then checks the volunteer got no offer.
 */
async function expectNoOffer(token: string, requestId: string) {
  const offered = async () => (await offers(token)).some((o) => o.requestId === requestId);
  await stack.waitFor(async () => {
    const r = (await stack.api('GET', `/v1/requests/${requestId}`, { key: stack.opsKey })).body;
    return r.scope !== 'community' || (await offered());
  });
  expect(await offered()).toBe(false);
}

/** The volunteer's per-skill availability entries as stored: skill → index partition and sort key. */
async function entriesOf(volunteerId: string) {
  const { Items = [] } = await documents.send(
    new QueryCommand({
      TableName: stack.local.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :avail)',
      ExpressionAttributeValues: { ':pk': `VOL#${volunteerId}`, ':avail': 'AVAIL#' },
      ConsistentRead: true,
    }),
  );
  return Object.fromEntries(Items.map((i) => [String(i.sk).slice(6), `${i.gsi2pk} ${i.gsi2sk}`]));
}

describe('a skilled request among many unskilled volunteers', () => {
  it('reads only the skilled volunteer, not the community', async () => {
    const key = await partner();
    for (let i = 0; i < 40; i++) await volunteer('east-garden');
    const driver = await volunteer('east-garden', { skills: ['driver'] });
    const medic = await volunteer('east-garden', { skills: ['medic'] });
    const { Count: available } = await documents.send(
      new QueryCommand({
        TableName: stack.local.tableName,
        IndexName: 'avail',
        KeyConditionExpression: 'gsi2pk = :pk',
        ExpressionAttributeValues: { ':pk': 'AVAIL#east-garden' },
        Select: 'COUNT',
      }),
    );
    expect(available).toBe(42);
    indexReads.length = 0;

    const id = await post(key, { communityId: 'east-garden', skills: ['medic'] });
    await offerFor(medic.token, id);

    // Its community holds 42 available volunteers; the match read the one medic.
    expect(indexReads.length).toBeGreaterThan(0);
    expect(indexReads.every((q) => q.pk === 'AVAIL#east-garden#medic')).toBe(true);
    expect(indexReads.reduce((n, q) => n + q.read, 0)).toBe(indexReads.length);
    expect((await offers(driver.token)).some((o) => o.requestId === id)).toBe(false);
  });

  it('a two-skill request reads its first skill and filters the other', async () => {
    const key = await partner();
    const both = await volunteer('east-river', { skills: ['nurse', 'boatman'] });
    const nurse = await volunteer('east-river', { skills: ['nurse'] });
    await volunteer('east-river', { skills: ['boatman'] });
    indexReads.length = 0;
    const id = await post(key, { communityId: 'east-river', skills: ['nurse', 'boatman'] });
    await offerFor(both.token, id);
    expect(indexReads.filter((q) => q.pk.startsWith('AVAIL#east-river'))).toEqual([
      { pk: 'AVAIL#east-river#nurse', read: 2 },
    ]);
    expect((await offers(nurse.token)).some((o) => o.requestId === id)).toBe(false);
  });
});

describe('entries follow the volunteer', () => {
  it('skills, capacity (accept, deliver) and duty keep the entries and matching right', async () => {
    const key = await partner();
    const v = await volunteer('west-hill', { skills: ['cook'], capacity: 1 });
    expect(Object.keys(await entriesOf(v.id))).toEqual(['cook']);

    // New skills: the old entry goes, the new one comes.
    const patched = await stack.api('PATCH', `/v1/volunteers/${v.id}`, {
      key: stack.opsKey,
      body: { skills: ['barber'] },
    });
    expect(patched.status).toBe(200);
    expect(await entriesOf(v.id)).toEqual({
      barber: `AVAIL#west-hill#barber 0000-00-00#0000#${v.id}`,
    });
    await expectNoOffer(v.token, await post(key, { communityId: 'west-hill', skills: ['cook'] }));
    const first = await post(key, { communityId: 'west-hill', skills: ['barber'] });
    const offer = await offerFor(v.token, first);

    // The accept fills their one slot: no entry, no offer.
    const accepted = await stack.api('POST', `/v1/offers/${offer.offerId}/accept`, {
      key: v.token,
    });
    expect(accepted.status).toBe(200);
    expect(await entriesOf(v.id)).toEqual({});
    await expectNoOffer(v.token, await post(key, { communityId: 'west-hill', skills: ['barber'] }));

    // Delivered: free again, the entry is back and sorted after their task today.
    const delivered = await stack.api('POST', `/v1/tasks/${accepted.body.taskId}/delivered`, {
      key: v.token,
    });
    expect(delivered.status).toBe(200);
    const today = new Date().toISOString().slice(0, 10);
    expect(await entriesOf(v.id)).toEqual({
      barber: `AVAIL#west-hill#barber ${today}#0001#${v.id}`,
    });
    await offerFor(v.token, await post(key, { communityId: 'west-hill', skills: ['barber'] }));

    // Off duty: no entry, no offer; back on duty: offered again.
    const off = await stack.api('PATCH', `/v1/volunteers/${v.id}`, {
      key: v.token,
      body: { onDuty: false },
    });
    expect(off.status).toBe(200);
    expect(await entriesOf(v.id)).toEqual({});
    await expectNoOffer(v.token, await post(key, { communityId: 'west-hill', skills: ['barber'] }));
    const on = await stack.api('PATCH', `/v1/volunteers/${v.id}`, {
      key: v.token,
      body: { onDuty: true },
    });
    expect(on.status).toBe(200);
    expect(Object.keys(await entriesOf(v.id))).toEqual(['barber']);
    await offerFor(v.token, await post(key, { communityId: 'west-hill', skills: ['barber'] }));
  });

  it('a volunteer without skills has no per-skill entry', async () => {
    const v = await volunteer('west-lake');
    expect(await entriesOf(v.id)).toEqual({});
  });
});
