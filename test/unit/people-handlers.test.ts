import '../fixtures/env.ts';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import {
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as createPartner } from '../../functions/create-partner.ts';
import { handler as getHealth } from '../../functions/get-health.ts';
import { handler as getStats } from '../../functions/get-stats.ts';
import { handler as listCommunities } from '../../functions/list-communities.ts';
import { handler as registerVolunteer } from '../../functions/register-volunteer.ts';
import { handler as routeNotFound } from '../../functions/route-not-found.ts';
import { handler as updateVolunteer } from '../../functions/update-volunteer.ts';
import { canonicalHash, hashSecret, volunteerIdOf } from '../../shared/ids.ts';
import {
  ddb,
  givenKey,
  givenVolunteer,
  resetAws,
  sentTo,
  sqs,
  transactionCancelled,
  transactions,
} from '../fixtures/aws.ts';
import { OPS_KEY } from '../fixtures/env.ts';
import { apiEvent, bodyOf, call } from '../fixtures/events.ts';
import { aVolunteer, PTN, VOL, VOL2 } from '../fixtures/items.ts';

/** The phone's registration item (`PHONE#<phone>`) as the table holds it. */
const givenPhone = (
  item: { volunteerId: string; keyHashes?: string[]; bodyHash?: string },
  phone = '+8613900139000',
) =>
  ddb
    .on(GetCommand, { Key: { pk: `PHONE#${phone}`, sk: 'PHONE' } })
    .resolves({ Item: { pk: `PHONE#${phone}`, sk: 'PHONE', type: 'phone', ...item } });

const TOKEN = 'vt_volunteer-one';
const PARTNER_KEY = 'pk_partner-one';

beforeEach(() => {
  resetAws();
  givenKey(TOKEN, 'volunteer', VOL);
  givenKey(PARTNER_KEY, 'partner', PTN);
});

describe('POST /v1/volunteers (register-volunteer)', () => {
  const body = {
    name: '李明',
    phone: '+8613900139000',
    communityId: 'west-hill',
    skills: ['driving'],
  };
  const register = (b: unknown = body, key = OPS_KEY) =>
    call(registerVolunteer, { method: 'POST', path: '/v1/volunteers', key, body: b });

  it('answers 201 with an id and a token, and stores the token only as its hash', async () => {
    const res = await register();

    expect(res.statusCode).toBe(201);
    const { volunteerId, token } = bodyOf(res);
    expect(volunteerId).toMatch(/^vol_[0-9a-z]{16}$/);
    expect(token).toMatch(/^vt_/);
    const [items] = transactions();
    const [volunteer, phone, key] = items.map((i) => i.Put);
    expect(volunteer).toMatchObject({
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: {
        pk: `VOL#${volunteerId}`,
        townId: 'west-town',
        onDuty: true,
        capacity: 3,
        gsi2pk: 'AVAIL#west-hill',
      },
    });
    expect(phone).toMatchObject({
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: { pk: 'PHONE#+8613900139000', volunteerId },
    });
    expect(key).toMatchObject({
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: { kind: 'volunteer', principalId: volunteerId },
    });
    expect(key?.Item?.pk).toBe(`KEY#${hashSecret(token)}`);
    expect(key?.Item?.pk).toMatch(/^KEY#[0-9a-f]{64}$/);
    expect(JSON.stringify(ddb.calls().map((c) => c.args[0].input))).not.toContain(token);
  });

  it('a skilled volunteer gets a per-skill availability entry in the same transaction', async () => {
    const res = await register({ ...body, skills: ['driving', 'medic'] });
    const { volunteerId } = bodyOf(res);
    const [items] = transactions();
    expect(items.slice(4).map((i) => i.Put?.Item)).toEqual([
      expect.objectContaining({
        pk: `VOL#${volunteerId}`,
        sk: 'AVAIL#driving',
        gsi2pk: 'AVAIL#west-hill#driving',
        gsi2sk: `0000-00-00#0000#${volunteerId}`,
        phone: '+8613900139000',
        skills: ['driving', 'medic'],
      }),
      expect.objectContaining({ sk: 'AVAIL#medic', gsi2pk: 'AVAIL#west-hill#medic' }),
    ]);
  });

  it('a volunteer registered off duty has no availability entry', async () => {
    await register({ ...body, onDuty: false });
    const [items] = transactions();
    const item = items[0].Put?.Item;
    expect(item?.onDuty).toBe(false);
    expect(item).not.toHaveProperty('gsi2pk');
    expect(items.some((i) => String(i.Put?.Item?.sk).startsWith('AVAIL#'))).toBe(false);
  });

  it('a phone already registered is 409 volunteer_exists, naming the volunteer it belongs to', async () => {
    ddb
      .on(TransactWriteCommand)
      .rejects(transactionCancelled('None', 'ConditionalCheckFailed', 'None', 'None'));
    givenPhone({ volunteerId: VOL2, keyHashes: [hashSecret('vt_theirs')] });
    const res = await register();
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res).error).toMatchObject({ code: 'volunteer_exists', volunteerId: VOL2 });
    expect(bodyOf(res).error.message).toMatch(/^phone: /);
    // Nothing issued to the volunteer who holds the phone.
    expect(transactions()).toHaveLength(1);
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('keeps the hash of every token issued on the phone’s registration item', async () => {
    const { token } = bodyOf(await register());
    const [[, phone]] = transactions();
    expect(phone.Put?.Item).toEqual({
      pk: 'PHONE#+8613900139000',
      sk: 'PHONE',
      type: 'phone',
      volunteerId: expect.any(String),
      keyHashes: [hashSecret(token)],
    });
  });

  describe('with an Idempotency-Key (an ops tool’s retries)', () => {
    const KEY = 'import-7f3a-line-2';
    const ID = volunteerIdOf(KEY);
    const FIRST = hashSecret('vt_first-answer-lost');
    const registerWithKey = (b: unknown = body, key = KEY) =>
      call(registerVolunteer, {
        method: 'POST',
        path: '/v1/volunteers',
        key: OPS_KEY,
        headers: { 'idempotency-key': key },
        body: b,
      });
    /** The first attempt committed: the volunteer, their phone, their first token. */
    const givenFirstAttempt = (b = body) => {
      ddb
        .on(TransactWriteCommand)
        .rejectsOnce(
          transactionCancelled('ConditionalCheckFailed', 'ConditionalCheckFailed', 'None', 'None'),
        )
        .resolves({});
      givenPhone({ volunteerId: ID, keyHashes: [FIRST], bodyHash: canonicalHash(b) });
      givenVolunteer(aVolunteer({ volunteerId: ID, phone: b.phone }));
    };

    it('derives the volunteer’s id from the key and keeps the body’s hash with the phone', async () => {
      const res = await registerWithKey();
      expect(res.statusCode).toBe(201);
      expect(bodyOf(res).volunteerId).toBe(ID);
      const [[volunteer, phone]] = transactions();
      expect(volunteer.Put?.Item?.pk).toBe(`VOL#${ID}`);
      expect(phone.Put?.Item).toMatchObject({ volunteerId: ID, bodyHash: canonicalHash(body) });
    });

    it('the same registration again after its answer was lost: 201, the same volunteer, a new token, the lost one revoked at once', async () => {
      givenFirstAttempt();

      const res = await registerWithKey({
        skills: body.skills,
        communityId: body.communityId,
        phone: body.phone,
        name: body.name,
      }); // the same JSON, keys in another order

      expect(res.statusCode).toBe(201);
      const { volunteerId, token } = bodyOf(res);
      expect(volunteerId).toBe(ID);
      expect(token).toMatch(/^vt_/);
      const [, [phone, key]] = transactions();
      expect(phone.Update).toMatchObject({
        Key: { pk: 'PHONE#+8613900139000', sk: 'PHONE' },
        ConditionExpression: 'volunteerId = :vid AND keyHashes = :read',
        ExpressionAttributeValues: {
          ':vid': ID,
          ':read': [FIRST],
          ':next': [FIRST, hashSecret(token)],
        },
      });
      expect(key.Put).toMatchObject({
        ConditionExpression: 'attribute_not_exists(pk)',
        Item: { pk: `KEY#${hashSecret(token)}`, kind: 'volunteer', principalId: ID },
      });
      const at = phone.Update?.ExpressionAttributeValues?.[':at'];
      expect(ddb).toHaveReceivedCommandExactlyOnceWith(UpdateCommand, {
        Key: { pk: `KEY#${FIRST}`, sk: 'KEY' },
        UpdateExpression: 'SET revokedAt = :at',
        ExpressionAttributeValues: { ':at': at },
      });
    });

    it('the same key with a different body is 409 idempotency_key_reused, no token issued', async () => {
      givenFirstAttempt();
      const res = await registerWithKey({ ...body, name: '李明明' });
      expect(res.statusCode).toBe(409);
      expect(bodyOf(res).error.code).toBe('idempotency_key_reused');
      expect(transactions()).toHaveLength(1);
    });

    it('the same key for another phone is 409 idempotency_key_reused', async () => {
      ddb
        .on(TransactWriteCommand)
        .rejects(transactionCancelled('ConditionalCheckFailed', 'None', 'None', 'None'));
      const res = await registerWithKey({ ...body, phone: '+8613900139111' });
      expect(res.statusCode).toBe(409);
      expect(bodyOf(res).error.code).toBe('idempotency_key_reused');
    });

    it('a phone registered under another key (or none) is still 409 volunteer_exists', async () => {
      ddb
        .on(TransactWriteCommand)
        .rejects(transactionCancelled('None', 'ConditionalCheckFailed', 'None', 'None'));
      givenPhone({ volunteerId: VOL2, keyHashes: [FIRST] });
      const res = await registerWithKey();
      expect(res.statusCode).toBe(409);
      expect(bodyOf(res).error).toMatchObject({ code: 'volunteer_exists', volunteerId: VOL2 });
      expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
    });

    it('a malformed key is 400 naming Idempotency-Key, nothing written', async () => {
      const res = await registerWithKey(body, 'has space');
      expect(res.statusCode).toBe(400);
      expect(bodyOf(res).error.message).toMatch(/^Idempotency-Key: /);
      expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
    });
  });

  it('an unknown community is 400 naming communityId', async () => {
    const res = await register({ ...body, communityId: 'nowhere' });
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res).error.message).toMatch(/^communityId: /);
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('is for ops only: a partner gets 403', async () => {
    expect((await register(body, PARTNER_KEY)).statusCode).toBe(403);
  });
});

describe('PATCH /v1/volunteers/{volunteerId} (update-volunteer)', () => {
  const patch = (volunteerId: string, b: unknown, key = TOKEN) =>
    call(updateVolunteer, {
      method: 'PATCH',
      path: `/v1/volunteers/${volunteerId}`,
      pathParameters: { volunteerId },
      key,
      body: b,
    });

  it('a volunteer cannot patch another volunteer: 404, nothing read or written', async () => {
    givenVolunteer(aVolunteer({ volunteerId: VOL2 }));
    const res = await patch(VOL2, { capacity: 5 });
    expect(res.statusCode).toBe(404);
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
    expect(ddb).not.toHaveReceivedCommandWith(GetCommand, {
      Key: { pk: `VOL#${VOL2}`, sk: 'VOL' },
    });
  });

  it('a volunteer going off duty: version-checked write with the on-duty count, offers withdrawn', async () => {
    givenVolunteer(aVolunteer({ version: 7 }));
    const res = await patch(VOL, { onDuty: false });
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toMatchObject({ volunteerId: VOL, onDuty: false });
    expect(bodyOf(res)).not.toHaveProperty('version');
    const [[update, counter]] = transactions();
    expect(update.Update).toMatchObject({
      Key: { pk: `VOL#${VOL}` },
      ConditionExpression: 'version = :prev',
      ExpressionAttributeValues: { ':prev': 7, ':next': 8, ':onDuty': false },
    });
    expect(update.Update?.UpdateExpression).toMatch(/REMOVE .*gsi2pk, gsi2sk/);
    expect(counter.Update?.ExpressionAttributeValues).toMatchObject({ ':c0': -1 });
    expect(sentTo('events')).toEqual([
      { type: 'volunteer_off_duty', volunteerId: VOL, at: expect.any(String) },
    ]);
  });

  it('off duty written but its event not queued: the client’s retry finds them off duty and queues it', async () => {
    givenVolunteer(aVolunteer({ version: 7 }));
    sqs.on(SendMessageCommand).rejectsOnce(new Error('SQS unavailable'));
    const first = await patch(VOL, { onDuty: false });
    expect(first.statusCode).toBe(500);
    expect(transactions()).toHaveLength(1); // the duty change is committed

    // The retry reads the volunteer as the first attempt left them.
    givenVolunteer(aVolunteer({ version: 8, onDuty: false }));
    const retry = await patch(VOL, { onDuty: false });
    expect(retry.statusCode).toBe(200);
    expect(bodyOf(retry)).toMatchObject({ onDuty: false });
    // Still a version-checked write (no duty change: no counter, no transaction).
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: `VOL#${VOL}`, sk: 'VOL' },
      ConditionExpression: 'version = :prev',
      ExpressionAttributeValues: expect.objectContaining({ ':prev': 8 }),
    });
    expect(transactions()).toHaveLength(1);
    // The first send was refused; the retry's went (its 200 follows the send).
    const event = { type: 'volunteer_off_duty', volunteerId: VOL, at: expect.any(String) };
    expect(sentTo('events')).toEqual([event, event]);
  });

  it('ops change a capacity with a single conditional update and no follow-up', async () => {
    givenVolunteer(aVolunteer());
    const res = await patch(VOL, { capacity: 5 }, OPS_KEY);
    expect(res.statusCode).toBe(200);
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      ConditionExpression: 'version = :prev',
      ExpressionAttributeValues: expect.objectContaining({ ':capacity': 5, ':prev': 1 }),
    });
    expect(sentTo('events')).toEqual([]);
  });

  it('new skills: the volunteer and their entries change in one version-checked transaction', async () => {
    givenVolunteer(aVolunteer({ skills: ['medic', 'driver'] }));
    const res = await patch(VOL, { skills: ['driver', 'cook'] }, OPS_KEY);
    expect(res.statusCode).toBe(200);
    const [[update, ...entries]] = transactions();
    expect(update.Update).toMatchObject({ ConditionExpression: 'version = :prev' });
    expect(entries.map((i) => i.Put?.Item?.gsi2pk ?? i.Delete?.Key?.sk)).toEqual([
      'AVAIL#east-garden#driver',
      'AVAIL#east-garden#cook',
      'AVAIL#medic',
    ]);
    expect(entries[0].Put?.Item?.skills).toEqual(['driver', 'cook']);
  });

  it('a skilled volunteer going off duty loses every entry with the on-duty count', async () => {
    givenVolunteer(aVolunteer({ skills: ['medic'] }));
    expect((await patch(VOL, { onDuty: false })).statusCode).toBe(200);
    const [[, counter, entry]] = transactions();
    expect(counter.Update?.ExpressionAttributeValues).toMatchObject({ ':c0': -1 });
    expect(entry.Delete).toMatchObject({ Key: { pk: `VOL#${VOL}`, sk: 'AVAIL#medic' } });
  });

  it('an empty patch (every field is optional) answers 200 with the volunteer and writes nothing', async () => {
    givenVolunteer(aVolunteer({ capacity: 4 }));
    const res = await patch(VOL, {});
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toMatchObject({ volunteerId: VOL, capacity: 4 });
    expect(bodyOf(res)).not.toHaveProperty('version');
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(sentTo('events')).toEqual([]);
  });

  it('an empty patch of an unknown volunteer is 404', async () => {
    expect((await patch(VOL, {}, OPS_KEY)).statusCode).toBe(404);
  });
});

describe('POST /v1/partners (create-partner)', () => {
  it('answers 201 with a key stored only as its hash', async () => {
    const res = await call(createPartner, {
      method: 'POST',
      path: '/v1/partners',
      key: OPS_KEY,
      body: { name: '社区通' },
    });
    expect(res.statusCode).toBe(201);
    const { partnerId, apiKey } = bodyOf(res);
    expect(partnerId).toMatch(/^ptn_/);
    const [[partner, key]] = transactions();
    expect(partner.Put).toMatchObject({
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: { pk: `PARTNER#${partnerId}`, name: '社区通' },
    });
    expect(key.Put?.Item).toMatchObject({
      pk: `KEY#${hashSecret(apiKey)}`,
      kind: 'partner',
      principalId: partnerId,
    });
    expect(JSON.stringify(transactions())).not.toContain(apiKey);
  });

  it('a partner cannot create partners: 403', async () => {
    const res = await call(createPartner, {
      method: 'POST',
      key: PARTNER_KEY,
      body: { name: 'x' },
    });
    expect(res.statusCode).toBe(403);
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
  });
});

describe('GET /v1/communities (list-communities)', () => {
  it('lists the district’s communities with their towns to any principal', async () => {
    const res = await call(listCommunities, { path: '/v1/communities', key: TOKEN });
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toMatchObject({
      district: 'demo',
      communities: [
        { communityId: 'east-garden', townId: 'east-town', name: '东园社区' },
        { communityId: 'east-river', townId: 'east-town', name: '东河社区' },
        { communityId: 'west-hill', townId: 'west-town', name: '西山村' },
        { communityId: 'west-lake', townId: 'west-town', name: '西湖社区' },
      ],
    });
  });

  it('requires a key: 401', async () => {
    expect((await call(listCommunities, { path: '/v1/communities' })).statusCode).toBe(401);
  });
});

describe('GET /v1/stats (get-stats)', () => {
  const stats = (query?: Record<string, string>, key = OPS_KEY) =>
    call(getStats, { path: '/v1/stats', key, query });

  it('sums the daily counters of the period, over every shard of each day, and reads the all-time ones (counters from before hour buckets: an edge day counted whole, and said so)', async () => {
    const day = (pk: string, Items: Record<string, unknown>[]) =>
      ddb.on(QueryCommand, { ExpressionAttributeValues: { ':pk': pk } }).resolves({ Items });
    // A day's counters are spread over shard items (and an older single `DAY` item): summed.
    day('STATS#2022-04-01', [
      { pk: 'STATS#2022-04-01', sk: 'DAY', 'status.received': 1, 'kind.groceries': 1 },
      {
        pk: 'STATS#2022-04-01',
        sk: 'DAY#3',
        'status.received': 2,
        'status.matched': 1,
        'kind.groceries': 3,
        'community.east-garden': 4,
        personTimes: 2,
      },
    ]);
    day('STATS#2022-04-02', [
      { pk: 'STATS#2022-04-02', sk: 'DAY#0', 'status.received': 1, serviceMinutes: 10 },
      { pk: 'STATS#2022-04-02', sk: 'DAY#7', 'kind.medicine': 1, serviceMinutes: 20 },
    ]);
    day('STATS#all', [{ pk: 'STATS#all', sk: 'DAY#1', registered: 10, onDuty: 6 }]);

    const res = await stats({ from: '2022-04-01T00:00:00Z', to: '2022-04-02T23:00:00Z' });

    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toMatchObject({
      // 2022-04-02 has no hour buckets (its request is not marked counted by hour): the
      // whole day is counted, from its day bucket, and `to` answers the day's end.
      from: '2022-04-01T00:00:00.000Z',
      to: '2022-04-03T00:00:00.000Z',
      requests: {
        byStatus: { received: 4, matched: 1, delivered: 0, confirmed: 0, cancelled: 0, expired: 0 },
        byKind: { groceries: 4, medicine: 1 },
        byCommunity: { 'east-garden': 4 },
      },
      volunteers: { registered: 10, onDuty: 6 },
      personTimes: 2,
      serviceMinutes: 30,
    });
  });

  it('the default 24 hours before `to`, in whole hours: the edge days by hour, the period answered as counted', async () => {
    const items = (pk: string, Items: Record<string, unknown>[]) =>
      ddb
        .on(QueryCommand, { ExpressionAttributeValues: { ':pk': pk } })
        .resolves({ Items: Items.map((i) => ({ pk, sk: 'SHARD#a', ...i })) });
    ddb.on(QueryCommand).resolves({ Items: [] });
    // Yesterday: three requests, one before the period (08:50), one in its first hour
    // (09:10: `from`, 09:30, is rounded down) and one at 23:40.
    items('STATS#2022-04-01', [
      { 'status.confirmed': 3, 'kind.meal': 3, receivedByHour: 3, personTimes: 3 },
      { sk: 'DAY#3', volunteersActive: 2 },
    ]);
    items('STATS#2022-04-01T08', [{ 'status.confirmed': 1, 'kind.meal': 1, personTimes: 1 }]);
    items('STATS#2022-04-01T09', [{ 'status.confirmed': 1, 'kind.meal': 1, personTimes: 1 }]);
    items('STATS#2022-04-01T23', [{ 'status.confirmed': 1, 'kind.meal': 1, personTimes: 1 }]);
    // Today: one request in the period (08:05), one after it (10:30: none yet, say).
    items('STATS#2022-04-02', [
      { 'status.received': 1, 'kind.medicine': 1, receivedByHour: 1 },
      { sk: 'DAY#0', volunteersActive: 1 },
    ]);
    items('STATS#2022-04-02T08', [{ 'status.received': 1, 'kind.medicine': 1 }]);
    items('STATS#all', [{ sk: 'DAY#1', registered: 10, onDuty: 6 }]);

    // `from` left out: the 24 hours before `to` (`to` left out too is now).
    const res = await stats({ to: '2022-04-02T09:30:00.000Z' });

    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toMatchObject({
      from: '2022-04-01T09:00:00.000Z',
      to: '2022-04-02T10:00:00.000Z',
      requests: {
        byStatus: { received: 1, confirmed: 2 },
        byKind: { meal: 2, medicine: 1 },
      },
      // Volunteer-days of both days the period touches.
      volunteers: { registered: 10, onDuty: 6, active: 3 },
      personTimes: 2,
    });
    // Two days, 15 + 10 hours and `all`: each one Query.
    expect(ddb).toHaveReceivedCommandTimes(QueryCommand, 2 + 25 + 1);
  });

  it('a period longer than 366 days is 400 naming from, without reading anything', async () => {
    const res = await stats({ from: '2021-01-01T00:00:00Z', to: '2022-01-03T00:00:00Z' });
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res).error.message).toMatch(/^from: period longer than 366 days/);
    const centuries = await stats({ from: '0001-01-01T00:00:00Z', to: '2022-01-01T00:00:00Z' });
    expect(centuries.statusCode).toBe(400);
    expect(ddb).not.toHaveReceivedCommand(QueryCommand);
    const year = await stats({ from: '2021-01-01T00:00:00Z', to: '2022-01-02T00:00:00Z' });
    expect(year.statusCode).toBe(200);
  });

  it('a from that is not a time is 400 naming from', async () => {
    const res = await stats({ from: 'yesterday' });
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res).error.message).toMatch(/^from: /);
  });

  it('a partner gets 403', async () => {
    expect((await stats(undefined, PARTNER_KEY)).statusCode).toBe(403);
  });
});

describe('GET /v1/health and unmatched routes', () => {
  it('health is 200 {ok: true} without a key', async () => {
    const res = await getHealth();
    expect(res).toMatchObject({ statusCode: 200 });
    expect(bodyOf(res)).toEqual({ ok: true });
  });

  it('an unknown path is 404 not_found', async () => {
    const res = await routeNotFound(apiEvent({ method: 'GET', path: '/v1/nothing-here' }));
    expect(res.statusCode).toBe(404);
    expect(bodyOf(res).error.code).toBe('not_found');
  });

  it('a known path with another method is 405 with an Allow header', async () => {
    const res = await routeNotFound(apiEvent({ method: 'DELETE', path: '/v1/requests/req_1' }));
    expect(res.statusCode).toBe(405);
    expect(bodyOf(res).error.code).toBe('method_not_allowed');
    expect(res.headers).toMatchObject({ allow: 'GET' });
  });

  it('lists every allowed method of a path', async () => {
    const res = await routeNotFound(apiEvent({ method: 'PUT', path: '/v1/volunteers' }));
    expect(res.statusCode).toBe(405);
    expect(res.headers).toMatchObject({ allow: 'POST' });
  });

  it('a path one segment longer than a route is 404, not 405', async () => {
    const res = await routeNotFound(apiEvent({ method: 'GET', path: '/v1/requests/a/b' }));
    expect(res.statusCode).toBe(404);
  });
});
