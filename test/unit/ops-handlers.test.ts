import '../fixtures/env.ts';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import {
  BatchGetCommand,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as exportRecords } from '../../functions/export-records.ts';
import { handler as getVolunteerRecord } from '../../functions/get-volunteer-record.ts';
import { handler as recordCredential } from '../../functions/record-credential.ts';
import { handler as revokePartnerKey } from '../../functions/revoke-partner-key.ts';
import { handler as rotatePartnerKey } from '../../functions/rotate-partner-key.ts';
import { handler as rotateVolunteerToken } from '../../functions/rotate-volunteer-token.ts';
import { handler as sweepStuckRequests } from '../../functions/sweep-stuck-requests.ts';
import { hashSecret } from '../../shared/ids.ts';
import { logger } from '../../shared/observability.ts';
import { SWEEP_MAX_PER_STATUS } from '../../shared/services/sweeper.ts';
import {
  conditionFailed,
  ddb,
  givenKey,
  givenVolunteer,
  requestUpdates,
  resetAws,
  sentTo,
  sqs,
  transactionCancelled,
  transactions,
} from '../fixtures/aws.ts';
import { OPS_KEY, QUEUE_URLS, TABLE } from '../fixtures/env.ts';
import { bodyOf, call } from '../fixtures/events.ts';
import {
  acceptedOfferItem,
  anOffer,
  aRequest,
  aTask,
  aVolunteer,
  offerItem,
  PTN,
  PTN2,
  REQ,
  requestItem,
  T0,
  TASK,
  taskItem,
  VOL,
  VOL2,
} from '../fixtures/items.ts';

const TOKEN = 'vt_volunteer-one';
const PARTNER_KEY = 'pk_partner-one';

beforeEach(() => {
  resetAws();
  givenKey(TOKEN, 'volunteer', VOL);
  givenKey(PARTNER_KEY, 'partner', PTN);
});

/** A service record as the credit stores it under its task's delivery day. */
const recordItem = (
  day: string,
  over: Partial<Record<'volunteerId' | 'name' | 'phoneMasked' | 'taskId' | 'requestId', string>> &
    Partial<Record<'minutes' | 'points', number>> = {},
) => {
  const r = {
    day,
    volunteerId: VOL,
    name: '李明',
    phoneMasked: '+86139****9000',
    communityId: 'east-garden',
    townId: 'east-town',
    taskId: TASK,
    requestId: REQ,
    kind: 'groceries',
    minutes: 30,
    points: 10,
    creditedAt: `${day}T10:00:00.000Z`,
    ...over,
  };
  return { pk: `RECORDS#${day}`, sk: `${r.volunteerId}#${r.taskId}`, type: 'record', ...r };
};

/** A partner item holding the hashes of the keys issued to it. */
const givenPartner = (partnerId: string, keyHashes?: string[]) =>
  ddb.on(GetCommand, { Key: { pk: `PARTNER#${partnerId}`, sk: 'PARTNER' } }).resolves({
    Item: {
      pk: `PARTNER#${partnerId}`,
      sk: 'PARTNER',
      type: 'partner',
      partnerId,
      name: '社区通',
      ...(keyHashes ? { keyHashes } : {}),
    },
  });

describe('GET /v1/records (export-records)', () => {
  const exportCsv = (query?: Record<string, string>, key = OPS_KEY) =>
    call(exportRecords, { path: '/v1/records', key, query });

  it('sums each volunteer’s records of the period into one CSV row, one day partition per day', async () => {
    ddb
      .on(QueryCommand, { ExpressionAttributeValues: { ':pk': 'RECORDS#2022-04-01' } })
      .resolves({ Items: [recordItem('2022-04-01', { minutes: 30, points: 10 })] });
    ddb.on(QueryCommand, { ExpressionAttributeValues: { ':pk': 'RECORDS#2022-04-02' } }).resolves({
      Items: [recordItem('2022-04-02', { taskId: 'tsk_other', minutes: 20, points: 10 })],
    });

    const res = await exportCsv({ from: '2022-04-01', to: '2022-04-02' });

    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': 'attachment; filename="service-records-2022-04-01-2022-04-02.csv"',
    });
    expect(
      ddb.commandCalls(QueryCommand).map((c) => c.args[0].input.ExpressionAttributeValues),
    ).toEqual([{ ':pk': 'RECORDS#2022-04-01' }, { ':pk': 'RECORDS#2022-04-02' }]);
    expect(res.body.startsWith('\uFEFF')).toBe(true);
    expect(res.body.slice(1).split('\r\n')).toEqual([
      'volunteer_id,name,phone,town,community,tasks,service_minutes,service_hours,points,first_day,last_day',
      `${VOL},李明,+86139****9000,东城街道,东园社区,2,50,0.8,20,2022-04-01,2022-04-02`,
      '',
    ]);
  });

  it('a name a spreadsheet would run as a formula is exported as quoted text', async () => {
    ddb.on(QueryCommand, { ExpressionAttributeValues: { ':pk': 'RECORDS#2022-04-01' } }).resolves({
      Items: [recordItem('2022-04-01', { volunteerId: VOL2, name: '=HYPERLINK("x")' })],
    });
    const res = await exportCsv({ from: '2022-04-01', to: '2022-04-01' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain(`${VOL2},"'=HYPERLINK(""x"")",`);
  });

  it('a from after to is 400 naming from, and nothing is read', async () => {
    const res = await exportCsv({ from: '2022-04-03', to: '2022-04-01' });
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res).error).toMatchObject({ code: 'invalid_field' });
    expect(bodyOf(res).error.message).toMatch(/^from: /);
    expect(ddb).not.toHaveReceivedCommand(QueryCommand);
  });

  it('a to that is not a date is 400 naming to', async () => {
    const res = await exportCsv({ to: 'tomorrow' });
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res).error.message).toMatch(/^to: /);
  });

  it('is for ops only: a partner gets 403 and a volunteer gets 403', async () => {
    expect((await exportCsv(undefined, PARTNER_KEY)).statusCode).toBe(403);
    expect((await exportCsv(undefined, TOKEN)).statusCode).toBe(403);
    expect(ddb).not.toHaveReceivedCommand(QueryCommand);
  });
});

describe('GET /v1/volunteers/{volunteerId}/record (get-volunteer-record)', () => {
  const record = (volunteerId: string, key = TOKEN) =>
    call(getVolunteerRecord, {
      path: `/v1/volunteers/${volunteerId}/record`,
      pathParameters: { volunteerId },
      key,
    });
  /** The items under one key of the inbox index (`VOLTASK#…`, `VOLOFFER#…`). */
  const givenInbox = (pk: string, page: { Items: Record<string, unknown>[] }) =>
    ddb
      .on(QueryCommand, { IndexName: 'gsi1', ExpressionAttributeValues: { ':pk': pk } })
      .resolves(page);

  it('a volunteer reads their own record: tasks from their inbox index, credited where their service record exists, totals summed from those', async () => {
    // Totals an older volunteer item still carries are not read.
    givenVolunteer(aVolunteer({ serviceMinutes: 999, points: 999 }));
    const CONFIRMED = 'req_1111222233334444';
    const AWAITING = 'req_5555666677778888';
    const LEGACY = 'req_9999aaaabbbbcccc';
    const taskOf = (requestId: string) => `tsk_${requestId.slice(4)}_${VOL.slice(4)}`;
    givenInbox(`VOLTASK#${VOL}`, {
      Items: [
        taskItem(
          aTask({
            requestId: CONFIRMED,
            taskId: taskOf(CONFIRMED),
            status: 'delivered',
            deliveredAt: '2022-04-02T09:00:00.000Z',
          }),
        ),
        taskItem(
          aTask({
            requestId: AWAITING,
            taskId: taskOf(AWAITING),
            status: 'delivered',
            deliveredAt: '2022-04-02T10:00:00.000Z',
          }),
        ),
        {
          // Credited by the code before records were the credit: its figures on the task.
          ...taskItem(
            aTask({
              requestId: LEGACY,
              taskId: taskOf(LEGACY),
              status: 'delivered',
              deliveredAt: '2022-04-01T09:00:00.000Z',
              credited: true,
            }),
          ),
          minutes: 30,
          points: 10,
        },
        taskItem(aTask({ status: 'accepted' })),
      ],
    });
    givenInbox(`VOLOFFER#${VOL}`, { Items: [] });
    ddb.on(BatchGetCommand).resolves({
      Responses: {
        [TABLE]: [
          recordItem('2022-04-02', {
            taskId: taskOf(CONFIRMED),
            requestId: CONFIRMED,
            minutes: 45,
            points: 20,
          }),
        ],
      },
    });

    const res = await record(VOL);

    expect(res.statusCode).toBe(200);
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': `VOLTASK#${VOL}` },
    });
    // The records of the delivered tasks not marked, by key: each under its delivery's day.
    const [get] = ddb.commandCalls(BatchGetCommand);
    expect(get.args[0].input.RequestItems?.[TABLE]?.Keys).toEqual([
      { pk: 'RECORDS#2022-04-02', sk: `${VOL}#${taskOf(CONFIRMED)}` },
      { pk: 'RECORDS#2022-04-02', sk: `${VOL}#${taskOf(AWAITING)}` },
    ]);
    const body = bodyOf(res);
    expect(body).toMatchObject({
      volunteerId: VOL,
      name: '李明',
      communityId: 'east-garden',
      serviceMinutes: 75,
      points: 30,
      tasksDelivered: 3,
      tasksCredited: 2,
    });
    expect(
      body.tasks.map((t: Record<string, unknown>) => [
        t.requestId,
        t.credited,
        t.minutes,
        t.points,
      ]),
    ).toEqual([
      [CONFIRMED, true, 45, 20],
      [AWAITING, false, 0, 0],
      [LEGACY, true, 30, 10],
      [REQ, false, 0, 0],
    ]);
    expect(body.tasks[0]).toEqual({
      taskId: taskOf(CONFIRMED),
      requestId: CONFIRMED,
      status: 'delivered',
      via: 'offer',
      createdAt: T0,
      deliveredAt: '2022-04-02T09:00:00.000Z',
      credited: true,
      minutes: 45,
      points: 20,
    });
  });

  it('a task accepted from an offer is read from the offer’s inbox entry, the offers there left out, newest first with the others', async () => {
    givenVolunteer(aVolunteer());
    const OLD = 'req_1111222233334444';
    const OPEN = 'req_5555666677778888';
    const ids = (requestId: string) => ({
      requestId,
      taskId: `tsk_${requestId.slice(4)}_${VOL.slice(4)}`,
    });
    givenInbox(`VOLTASK#${VOL}`, {
      Items: [taskItem(aTask({ ...ids(OLD), via: 'ops', createdAt: '2022-04-01T08:00:00.000Z' }))],
    });
    givenInbox(`VOLOFFER#${VOL}`, {
      Items: [
        offerItem(anOffer({ requestId: OPEN, offerId: `off_${OPEN.slice(4)}_${VOL.slice(4)}` })),
        acceptedOfferItem(
          anOffer({ status: 'accepted' }),
          aTask({ createdAt: '2022-04-02T08:00:00.000Z' }),
        ),
      ],
    });

    const res = await record(VOL);

    expect(res.statusCode).toBe(200);
    expect(
      bodyOf(res).tasks.map((t: { requestId: string; via: string }) => [t.requestId, t.via]),
    ).toEqual([
      [REQ, 'offer'],
      [OLD, 'ops'],
    ]);
  });

  it('a volunteer cannot read another volunteer’s record: 404, nothing read', async () => {
    givenVolunteer(aVolunteer({ volunteerId: VOL2 }));
    const res = await record(VOL2);
    expect(res.statusCode).toBe(404);
    expect(bodyOf(res).error.code).toBe('not_found');
    expect(ddb).not.toHaveReceivedCommandWith(GetCommand, {
      Key: { pk: `VOL#${VOL2}`, sk: 'VOL' },
    });
    expect(ddb).not.toHaveReceivedCommand(QueryCommand);
  });

  it('ops read any volunteer; an unknown one is 404', async () => {
    givenVolunteer(aVolunteer({ volunteerId: VOL2 }));
    expect((await record(VOL2, OPS_KEY)).statusCode).toBe(200);
    const res = await record('vol_nobodynobodynob', OPS_KEY);
    expect(res.statusCode).toBe(404);
    expect(bodyOf(res).error.code).toBe('not_found');
  });

  it('a partner gets 403', async () => {
    expect((await record(VOL, PARTNER_KEY)).statusCode).toBe(403);
  });
});

describe('POST /v1/volunteers/{volunteerId}/credentials (record-credential)', () => {
  const credential = (body: unknown, key = OPS_KEY, volunteerId = VOL) =>
    call(recordCredential, {
      method: 'POST',
      path: `/v1/volunteers/${volunteerId}/credentials`,
      pathParameters: { volunteerId },
      key,
      body,
    });

  it('adds the credential beside the others with a version-checked update', async () => {
    givenVolunteer(
      aVolunteer({ version: 4, credentials: { driving: '2030-01-01T00:00:00.000Z' } }),
    );

    const res = await credential({ type: 'first_aid', expiresAt: '2026-12-31T00:00:00+08:00' });

    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toMatchObject({
      volunteerId: VOL,
      credentials: {
        driving: '2030-01-01T00:00:00.000Z',
        first_aid: '2026-12-30T16:00:00.000Z',
      },
    });
    expect(bodyOf(res)).not.toHaveProperty('version');
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(UpdateCommand, {
      Key: { pk: `VOL#${VOL}`, sk: 'VOL' },
      ConditionExpression: 'version = :prev',
      ExpressionAttributeValues: expect.objectContaining({
        ':prev': 4,
        ':next': 5,
        ':credentials': {
          driving: '2030-01-01T00:00:00.000Z',
          first_aid: '2026-12-30T16:00:00.000Z',
        },
      }),
    });
  });

  it('a lost version race is read again and retried; five lost races are 409 busy', async () => {
    givenVolunteer(aVolunteer());
    ddb.on(UpdateCommand).rejects(conditionFailed());
    const res = await credential({ type: 'first_aid', expiresAt: '2026-12-31T00:00:00Z' });
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res).error.code).toBe('busy');
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 5);
  });

  it('an expiresAt that is not a time is 400 naming expiresAt, nothing written', async () => {
    givenVolunteer(aVolunteer());
    const res = await credential({ type: 'first_aid', expiresAt: 'next year' });
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res).error.message).toMatch(/^expiresAt: /);
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('an unknown volunteer is 404', async () => {
    const res = await credential({ type: 'first_aid', expiresAt: '2026-12-31T00:00:00Z' });
    expect(res.statusCode).toBe(404);
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('is for ops only: the volunteer themself gets 403', async () => {
    givenVolunteer(aVolunteer());
    const res = await credential({ type: 'first_aid', expiresAt: '2026-12-31T00:00:00Z' }, TOKEN);
    expect(res.statusCode).toBe(403);
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });
});

describe('POST /v1/partners/{partnerId}/keys (rotate-partner-key)', () => {
  const OLD = hashSecret('pk_old-key');
  const rotate = (body?: unknown, key = OPS_KEY, partnerId = PTN) =>
    call(rotatePartnerKey, {
      method: 'POST',
      path: `/v1/partners/${partnerId}/keys`,
      pathParameters: { partnerId },
      key,
      body,
    });

  it('issues a new key conditional on the key list read; old keys stay valid for 60 minutes', async () => {
    givenPartner(PTN, [OLD]);

    const res = await rotate();

    expect(res.statusCode).toBe(201);
    const { partnerId, apiKey, oldKeysValidUntil } = bodyOf(res);
    expect(partnerId).toBe(PTN);
    expect(apiKey).toMatch(/^pk_/);
    const [[update, put]] = transactions();
    expect(update.Update).toMatchObject({
      Key: { pk: `PARTNER#${PTN}`, sk: 'PARTNER' },
      ConditionExpression: 'keyHashes = :read',
      ExpressionAttributeValues: { ':read': [OLD], ':next': [OLD, hashSecret(apiKey)] },
    });
    expect(put.Put).toMatchObject({
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: { pk: `KEY#${hashSecret(apiKey)}`, kind: 'partner', principalId: PTN },
    });
    expect(JSON.stringify(transactions())).not.toContain(apiKey);
    const rotatedAt = Date.parse(update.Update?.ExpressionAttributeValues?.[':at'] as string);
    expect(Date.parse(oldKeysValidUntil) - rotatedAt).toBe(60 * 60_000);
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(UpdateCommand, {
      Key: { pk: `KEY#${OLD}`, sk: 'KEY' },
      ConditionExpression:
        'attribute_exists(pk) AND (attribute_not_exists(revokedAt) OR revokedAt > :at)',
      ExpressionAttributeValues: { ':at': oldKeysValidUntil },
    });
  });

  it('graceMinutes 0 revokes the old keys at the rotation time', async () => {
    givenPartner(PTN, [OLD]);
    const res = await rotate({ graceMinutes: 0 });
    expect(res.statusCode).toBe(201);
    const at = transactions()[0][0].Update?.ExpressionAttributeValues?.[':at'];
    expect(bodyOf(res).oldKeysValidUntil).toBe(at);
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: `KEY#${OLD}`, sk: 'KEY' },
      ExpressionAttributeValues: { ':at': at },
    });
  });

  it('a concurrent rotation is read again and the write retried on the new list', async () => {
    const OTHER = hashSecret('pk_concurrent');
    ddb
      .on(GetCommand, { Key: { pk: `PARTNER#${PTN}`, sk: 'PARTNER' } })
      .resolvesOnce({ Item: { pk: `PARTNER#${PTN}`, sk: 'PARTNER', keyHashes: [OLD] } })
      .resolves({ Item: { pk: `PARTNER#${PTN}`, sk: 'PARTNER', keyHashes: [OLD, OTHER] } });
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(transactionCancelled('ConditionalCheckFailed', 'None'))
      .resolves({});

    const res = await rotate();

    expect(res.statusCode).toBe(201);
    const reads = transactions().map((t) => t[0].Update?.ExpressionAttributeValues?.[':read']);
    expect(reads).toEqual([[OLD], [OLD, OTHER]]);
    expect(ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input.Key?.pk)).toEqual([
      `KEY#${OLD}`,
      `KEY#${OTHER}`,
    ]);
  });

  it('an unknown partner is 404 and no key is issued', async () => {
    const res = await rotate(undefined, OPS_KEY, PTN2);
    expect(res.statusCode).toBe(404);
    expect(bodyOf(res).error.code).toBe('not_found');
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('a negative graceMinutes is 400 naming graceMinutes', async () => {
    givenPartner(PTN, [OLD]);
    const res = await rotate({ graceMinutes: -1 });
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res).error.message).toMatch(/^graceMinutes: /);
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('a partner cannot rotate keys, not even its own: 403', async () => {
    givenPartner(PTN, [OLD]);
    expect((await rotate(undefined, PARTNER_KEY)).statusCode).toBe(403);
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
  });
});

describe('POST /v1/volunteers/{volunteerId}/tokens (rotate-volunteer-token)', () => {
  const OLD = hashSecret('vt_lost');
  const PHONE = { pk: 'PHONE#+8613900139000', sk: 'PHONE' };
  const rotate = (body?: unknown, key = OPS_KEY, volunteerId = VOL) =>
    call(rotateVolunteerToken, {
      method: 'POST',
      path: `/v1/volunteers/${volunteerId}/tokens`,
      pathParameters: { volunteerId },
      key,
      body,
    });
  const givenPhone = (item: Record<string, unknown>) =>
    ddb.on(GetCommand, { Key: PHONE }).resolves({ Item: { ...PHONE, type: 'phone', ...item } });

  it('issues a new token conditional on the token list read; the old ones are revoked at once', async () => {
    givenVolunteer(aVolunteer());
    givenPhone({ volunteerId: VOL, keyHashes: [OLD] });

    const res = await rotate();

    expect(res.statusCode).toBe(201);
    const { volunteerId, token, oldTokensValidUntil, ...rest } = bodyOf(res);
    expect(volunteerId).toBe(VOL);
    expect(token).toMatch(/^vt_/);
    expect(rest).toEqual({});
    const [[update, put]] = transactions();
    expect(update.Update).toMatchObject({
      Key: PHONE,
      ConditionExpression: 'volunteerId = :vid AND keyHashes = :read',
      ExpressionAttributeValues: { ':vid': VOL, ':read': [OLD], ':next': [OLD, hashSecret(token)] },
    });
    expect(put.Put).toMatchObject({
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: { pk: `KEY#${hashSecret(token)}`, kind: 'volunteer', principalId: VOL },
    });
    expect(JSON.stringify(transactions())).not.toContain(token);
    expect(oldTokensValidUntil).toBe(update.Update?.ExpressionAttributeValues?.[':at']);
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(UpdateCommand, {
      Key: { pk: `KEY#${OLD}`, sk: 'KEY' },
      ConditionExpression:
        'attribute_exists(pk) AND (attribute_not_exists(revokedAt) OR revokedAt > :at)',
      ExpressionAttributeValues: { ':at': oldTokensValidUntil },
    });
  });

  it('graceMinutes keeps the old tokens working that long', async () => {
    givenVolunteer(aVolunteer());
    givenPhone({ volunteerId: VOL, keyHashes: [OLD] });
    const res = await rotate({ graceMinutes: 30 });
    expect(res.statusCode).toBe(201);
    const at = transactions()[0][0].Update?.ExpressionAttributeValues?.[':at'] as string;
    expect(Date.parse(bodyOf(res).oldTokensValidUntil) - Date.parse(at)).toBe(30 * 60_000);
  });

  it('a volunteer registered before tokens were listed: the list is started, and the answer says the first token still works', async () => {
    givenVolunteer(aVolunteer());
    givenPhone({ volunteerId: VOL });
    const res = await rotate();
    expect(res.statusCode).toBe(201);
    expect(bodyOf(res)).toMatchObject({ oldTokenUntracked: true });
    expect(transactions()[0][0].Update).toMatchObject({
      ConditionExpression: 'volunteerId = :vid AND attribute_not_exists(keyHashes)',
    });
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('a concurrent issue is read again and the write retried on the new list', async () => {
    const OTHER = hashSecret('vt_concurrent');
    givenVolunteer(aVolunteer());
    ddb
      .on(GetCommand, { Key: PHONE })
      .resolvesOnce({ Item: { ...PHONE, volunteerId: VOL, keyHashes: [OLD] } })
      .resolves({ Item: { ...PHONE, volunteerId: VOL, keyHashes: [OLD, OTHER] } });
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(transactionCancelled('ConditionalCheckFailed', 'None'))
      .resolves({});
    const res = await rotate();
    expect(res.statusCode).toBe(201);
    const reads = transactions().map((t) => t[0].Update?.ExpressionAttributeValues?.[':read']);
    expect(reads).toEqual([[OLD], [OLD, OTHER]]);
  });

  it('an unknown volunteer is 404 and no token is issued', async () => {
    const res = await rotate(undefined, OPS_KEY, VOL2);
    expect(res.statusCode).toBe(404);
    expect(bodyOf(res).error.code).toBe('not_found');
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('a volunteer, even for themself, or a partner gets 403', async () => {
    givenVolunteer(aVolunteer());
    givenPhone({ volunteerId: VOL, keyHashes: [OLD] });
    expect((await rotate(undefined, TOKEN)).statusCode).toBe(403);
    expect((await rotate(undefined, PARTNER_KEY)).statusCode).toBe(403);
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
  });
});

describe('POST /v1/partners/{partnerId}/revoke (revoke-partner-key)', () => {
  const A = hashSecret('pk_a');
  const B = hashSecret('pk_b');
  const revoke = (partnerId = PTN, key = OPS_KEY) =>
    call(revokePartnerKey, {
      method: 'POST',
      path: `/v1/partners/${partnerId}/revoke`,
      pathParameters: { partnerId },
      key,
    });

  it('revokes every key of the partner now, counting only those still valid', async () => {
    givenPartner(PTN, [A, B]);
    ddb.on(UpdateCommand, { Key: { pk: `KEY#${B}` } }).rejects(conditionFailed());

    const res = await revoke();

    expect(res.statusCode).toBe(200);
    const { revokedAt } = bodyOf(res);
    expect(bodyOf(res)).toEqual({ partnerId: PTN, revokedKeys: 1, revokedAt });
    for (const hash of [A, B]) {
      expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
        Key: { pk: `KEY#${hash}`, sk: 'KEY' },
        UpdateExpression: 'SET revokedAt = :at',
        ConditionExpression:
          'attribute_exists(pk) AND (attribute_not_exists(revokedAt) OR revokedAt > :at)',
        ExpressionAttributeValues: { ':at': revokedAt },
      });
    }
  });

  it('an unknown partner is 404', async () => {
    const res = await revoke(PTN2);
    expect(res.statusCode).toBe(404);
    expect(bodyOf(res).error.code).toBe('not_found');
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('a partner cannot revoke keys: 403', async () => {
    givenPartner(PTN, [A]);
    expect((await revoke(PTN, PARTNER_KEY)).statusCode).toBe(403);
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });
});

describe('sweep-stuck-requests', () => {
  const NOW = new Date('2022-04-10T12:00:00.000Z');
  const REQ_B = 'req_bbbbbbbbbbbbbbbb';
  const REQ_C = 'req_cccccccccccccccc';
  const REQ_D = 'req_dddddddddddddddd';

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const givenWatched = (status: string, items: Record<string, unknown>[]) =>
    ddb
      .on(QueryCommand, {
        IndexName: 'gsi1',
        ExpressionAttributeValues: { ':pk': `OPEN#${status}` },
      })
      .resolves({ Items: items });

  it('queues a match for a request stuck in received, read from the watch index', async () => {
    givenWatched('received', [requestItem(aRequest())]);

    const report = await sweepStuckRequests();

    expect(report).toEqual({ rematched: 1, expired: 0, autoConfirmed: 0 });
    // Stuck: older than twice the offer timeout (120 s) and a minute.
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk < :before',
      ExpressionAttributeValues: { ':pk': 'OPEN#received', ':before': '2022-04-10T11:55:00.000Z' },
    });
    expect(sentTo('match')).toEqual([{ requestId: REQ }]);
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('a stuck request whose window passed gets its window timer; one waiting for ops is left alone', async () => {
    givenWatched('received', [
      requestItem(
        aRequest({
          requestId: REQ_B,
          window: { start: T0, end: '2022-04-10T11:00:00.000Z' },
        }),
      ),
      requestItem(aRequest({ requestId: REQ_C, scope: 'ops' })),
    ]);

    const report = await sweepStuckRequests();

    expect(report).toEqual({ rematched: 0, expired: 1, autoConfirmed: 0 });
    expect(sentTo('timers')).toEqual([
      { type: 'window_end', requestId: REQ_B, at: '2022-04-10T11:00:00.000Z' },
    ]);
    expect(sentTo('match')).toEqual([]);
  });

  /**
   * The watch index of `status` holding `items` (oldest first), read as DynamoDB reads it:
   * `Limit` items a page, a LastEvaluatedKey while more are left.
   */
  const givenWatchedPages = (status: string, items: Record<string, unknown>[]) =>
    ddb
      .on(QueryCommand, {
        IndexName: 'gsi1',
        ExpressionAttributeValues: { ':pk': `OPEN#${status}` },
      })
      .callsFake((input: { ExclusiveStartKey?: { at: number }; Limit?: number }) => {
        const from = input.ExclusiveStartKey?.at ?? 0;
        const to = from + (input.Limit ?? 1000);
        return {
          Items: items.slice(from, to),
          ...(to < items.length && { LastEvaluatedKey: { at: to } }),
        };
      });
  const watchReads = (status: string) =>
    ddb
      .commandCalls(QueryCommand)
      .filter((c) => c.args[0].input.ExpressionAttributeValues?.[':pk'] === `OPEN#${status}`);
  /** Requests waiting for manual dispatch: `received`, scope ops, no window, never stuck. */
  const waitingForOps = (n: number) =>
    Array.from({ length: n }, (_, i) =>
      requestItem(aRequest({ requestId: `req_ops${String(i).padStart(12, '0')}`, scope: 'ops' })),
    );

  it('reads every page of the watch index: a request stuck behind 150 waiting for ops is queued for matching', async () => {
    givenWatchedPages('received', [...waitingForOps(150), requestItem(aRequest())]);
    const error = vi.spyOn(logger, 'error');

    const report = await sweepStuckRequests();

    expect(report).toEqual({ rematched: 1, expired: 0, autoConfirmed: 0 });
    expect(sentTo('match')).toEqual([{ requestId: REQ }]);
    const reads = watchReads('received');
    expect(reads).toHaveLength(2);
    expect(reads[1].args[0].input.ExclusiveStartKey).toEqual({ at: 100 });
    expect(error).not.toHaveBeenCalled();
    error.mockRestore();
  });

  it('reads every page of delivered requests too: the one past the first page is auto-confirmed', async () => {
    const others = Array.from({ length: 120 }, (_, i) =>
      requestItem(
        aRequest({ requestId: `req_del${String(i).padStart(12, '0')}`, status: 'delivered' }),
      ),
    );
    givenWatchedPages('delivered', [
      ...others,
      requestItem(aRequest({ requestId: REQ_D, status: 'delivered' })),
    ]);
    givenDeliveredPartition();

    const report = await sweepStuckRequests();

    // The others' partitions read empty here (deleted meanwhile): only REQ_D is confirmed.
    expect(report.autoConfirmed).toBe(1);
    expect(watchReads('delivered')).toHaveLength(2);
    expect(requestUpdates().map((u) => u.Key)).toContainEqual({ pk: `REQ#${REQ_D}`, sk: 'REQ' });
  });

  it(`stops at ${SWEEP_MAX_PER_STATUS} requests a status and says so at ERROR, with the count`, async () => {
    givenWatchedPages('received', [
      ...waitingForOps(SWEEP_MAX_PER_STATUS),
      requestItem(aRequest()),
    ]);
    const error = vi.spyOn(logger, 'error').mockImplementation(() => {});

    const report = await sweepStuckRequests();

    expect(report.rematched).toBe(0);
    expect(sentTo('match')).toEqual([]);
    // Read until one more than the cap was found, not further.
    expect(watchReads('received')).toHaveLength(Math.ceil((SWEEP_MAX_PER_STATUS + 1) / 100));
    expect(error).toHaveBeenCalledTimes(1);
    expect(error).toHaveBeenCalledWith(
      expect.stringContaining('cap'),
      expect.objectContaining({ status: 'received', examined: SWEEP_MAX_PER_STATUS }),
    );
    error.mockRestore();
  });

  it(`${SWEEP_MAX_PER_STATUS} requests exactly are all examined, without an error`, async () => {
    givenWatchedPages('received', [
      ...waitingForOps(SWEEP_MAX_PER_STATUS - 1),
      requestItem(aRequest()),
    ]);
    const error = vi.spyOn(logger, 'error');

    expect((await sweepStuckRequests()).rematched).toBe(1);
    expect(error).not.toHaveBeenCalled();
    error.mockRestore();
  });

  /** The request's partition, read for its tasks: the confirm counts their credit. */
  const givenDeliveredPartition = () =>
    ddb.on(QueryCommand, { ExpressionAttributeValues: { ':pk': `REQ#${REQ_D}` } }).resolves({
      Items: [
        requestItem(aRequest({ requestId: REQ_D, status: 'delivered' })),
        taskItem(
          aTask({ requestId: REQ_D, status: 'delivered', deliveredAt: '2022-04-01T08:30:00.000Z' }),
        ),
      ],
    });

  it('auto-confirms a request delivered longer than 48 h ago: credit queued first, then a conditional transition', async () => {
    givenWatched('delivered', [requestItem(aRequest({ requestId: REQ_D, status: 'delivered' }))]);
    givenDeliveredPartition();
    const order: string[] = [];
    sqs.on(SendMessageCommand).callsFake(() => {
      order.push('event');
      return { MessageId: 'm' };
    });
    ddb.on(UpdateCommand, { Key: { pk: `REQ#${REQ_D}`, sk: 'REQ' } }).callsFake(() => {
      order.push('transition');
      return {};
    });

    const report = await sweepStuckRequests();

    expect(report).toEqual({ rematched: 0, expired: 0, autoConfirmed: 1 });
    expect(order).toEqual(['event', 'transition', 'event']);
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      IndexName: 'gsi1',
      ExpressionAttributeValues: { ':pk': 'OPEN#delivered', ':before': '2022-04-08T12:00:00.000Z' },
    });
    const [move] = requestUpdates();
    expect(move).toMatchObject({
      Key: { pk: `REQ#${REQ_D}`, sk: 'REQ' },
      ConditionExpression: '#status = :from',
      ExpressionAttributeValues: {
        ':from': 'delivered',
        ':to': 'confirmed',
        ':h': [
          { event: 'auto_confirmed', at: NOW.toISOString(), afterHours: 48 },
          { status: 'confirmed', at: NOW.toISOString() },
        ],
        // The task's credit (30 minutes, 10 points) rides on the request, for the counters.
        ':credit': { serviceMinutes: 30, points: 10 },
      },
    });
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
    const confirmed = { type: 'request_confirmed', requestId: REQ_D, at: NOW.toISOString() };
    expect(sentTo('events')).toEqual([confirmed, confirmed]);
    // The first one, sent before the transition, is held back a minute.
    const eventSends = sqs
      .commandCalls(SendMessageCommand)
      .map((c) => c.args[0].input)
      .filter((i) => i.QueueUrl === QUEUE_URLS.events);
    expect(eventSends.map((i) => i.DelaySeconds)).toEqual([60, undefined]);
  });

  it('a request confirmed meanwhile loses the conditional transition: not counted, no second event', async () => {
    givenWatched('delivered', [requestItem(aRequest({ requestId: REQ_D, status: 'delivered' }))]);
    givenDeliveredPartition();
    ddb.on(UpdateCommand, { Key: { pk: `REQ#${REQ_D}`, sk: 'REQ' } }).rejects(conditionFailed());

    const report = await sweepStuckRequests();

    expect(report.autoConfirmed).toBe(0);
    expect(requestUpdates()).toHaveLength(1);
    // Only the held-back credit event, sent before the transition (crediting is conditional).
    expect(sqs).toHaveReceivedCommandExactlyOnceWith(SendMessageCommand, {
      QueueUrl: QUEUE_URLS.events,
      DelaySeconds: 60,
    });
  });
});
