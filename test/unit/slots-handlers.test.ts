import '../fixtures/env.ts';
import {
  BatchGetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as acceptOffer } from '../../functions/accept-offer.ts';
import { handler as assignVolunteer } from '../../functions/assign-volunteer.ts';
import { handler as declineOffer } from '../../functions/decline-offer.ts';
import { handler as listMyOffers } from '../../functions/list-my-offers.ts';
import { handler as reportDelivered } from '../../functions/report-delivered.ts';
import {
  ddb,
  givenKey,
  givenRequest,
  givenRequestsByKey,
  givenVolunteer,
  resetAws,
  sentTo,
  transactionCancelled,
  transactions,
} from '../fixtures/aws.ts';
import { OPS_KEY } from '../fixtures/env.ts';
import { type ApiEventInput, apiEvent, bodyOf, lambdaContext } from '../fixtures/events.ts';
import {
  anOffer,
  aRequest,
  aTask,
  aVolunteer,
  OFFER,
  offerItem,
  REQ,
  requestItem,
  TASK,
  taskItem,
  VOL,
  VOL2,
} from '../fixtures/items.ts';

const TOKEN = 'vt_volunteer-one';
const TOKEN2 = 'vt_volunteer-two';

type Handler = (e: ReturnType<typeof apiEvent>, c: ReturnType<typeof lambdaContext>) => unknown;
const call = async (h: Handler, input: ApiEventInput) =>
  // biome-ignore lint/suspicious/noExplicitAny: structured API Gateway results
  (await h(apiEvent({ method: 'POST', ...input }), lambdaContext())) as any;

const accept = (offerId = OFFER, key = TOKEN) =>
  call(acceptOffer, { path: `/v1/offers/${offerId}/accept`, pathParameters: { offerId }, key });

beforeEach(() => {
  resetAws();
  givenKey(TOKEN, 'volunteer', VOL);
  givenKey(TOKEN2, 'volunteer', VOL2);
  givenVolunteer(aVolunteer());
});

describe('POST /v1/offers/{offerId}/accept (accept-offer)', () => {
  it('takes the slot in one transaction and shows the address and requester to the taker', async () => {
    givenRequest(aRequest(), [anOffer()]);

    const res = await accept();

    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toEqual({
      taskId: TASK,
      requestId: REQ,
      address: '东园小区3号楼2单元501',
      requester: { name: '王奶奶', phone: '+8613800138000' },
    });
    const [items] = transactions();
    // The open offer becomes the task: one item, its inbox entry left where it is (the
    // offer's: rewritten, not moved).
    expect(items[0].Update).toMatchObject({
      Key: { pk: `REQ#${REQ}`, sk: `TASK#${VOL}` },
      ConditionExpression: '#type = :offer AND #status = :open AND expiresAt > :at',
      ExpressionAttributeValues: {
        ':task': 'task',
        ':accepted': 'accepted',
        ':taskId': TASK,
        ':via': 'offer',
        ':offeredAt': anOffer().createdAt,
      },
    });
    expect(items[0].Update?.UpdateExpression).not.toContain('gsi1');
    expect(items[1].Update).toMatchObject({
      Key: { pk: `REQ#${REQ}`, sk: 'REQ' },
      ConditionExpression: '#status = :received AND filled = :filled',
      ExpressionAttributeValues: { ':filled': 0, ':next': 1, ':matched': 'matched' },
    });
    expect(items[2].Update).toMatchObject({
      Key: { pk: `VOL#${VOL}`, sk: 'VOL' },
      ConditionExpression: 'version = :prev',
      ExpressionAttributeValues: { ':prev': 1, ':active': 1 },
    });
    // No task item of its own, and no counter: the request's move to matched and the
    // volunteer's first task today are counted from the table's stream.
    expect(items).toHaveLength(3);
    expect(items.some((i) => i.Put)).toBe(false);
    expect(items.filter((i) => String(i.Update?.Key?.pk).startsWith('STATS#'))).toEqual([]);
    expect(sentTo('events')).toEqual([
      {
        type: 'task_taken',
        requestId: REQ,
        volunteerId: VOL,
        volunteerName: '李明',
        at: expect.any(String),
      },
    ]);
  });

  it('a skilled volunteer’s per-skill entries move to their new task count in the same transaction', async () => {
    // The handler runs on the clock: one task earlier today.
    const today = new Date().toISOString().slice(0, 10);
    givenVolunteer(aVolunteer({ skills: ['medic', 'driver'], tasksDay: today, tasksToday: 1 }));
    givenRequest(aRequest(), [anOffer()]);

    expect((await accept()).statusCode).toBe(200);

    const [items] = transactions();
    const entries = items.filter((i) => String(i.Put?.Item?.sk ?? '').startsWith('AVAIL#'));
    expect(entries.map((i) => i.Put?.Item)).toEqual([
      expect.objectContaining({
        pk: `VOL#${VOL}`,
        sk: 'AVAIL#medic',
        gsi2pk: 'AVAIL#east-garden#medic',
        gsi2sk: `${today}#0002#${VOL}`,
        tasksToday: 2,
      }),
      expect.objectContaining({ sk: 'AVAIL#driver', gsi2pk: 'AVAIL#east-garden#driver' }),
    ]);
    // Unconditional: the volunteer's version check decides for the whole transaction.
    expect(entries.every((i) => i.Put?.ConditionExpression === undefined)).toBe(true);
    expect(items.some((i) => i.Update?.ConditionExpression === 'version = :prev')).toBe(true);
  });

  it('an accept that fills a skilled volunteer’s capacity deletes their entries with it', async () => {
    givenVolunteer(aVolunteer({ skills: ['medic'], capacity: 1 }));
    givenRequest(aRequest(), [anOffer()]);

    expect((await accept()).statusCode).toBe(200);

    const [items] = transactions();
    expect(items.at(-1)?.Delete).toMatchObject({ Key: { pk: `VOL#${VOL}`, sk: 'AVAIL#medic' } });
    expect(items.some((i) => i.Put?.Item?.sk === 'AVAIL#medic')).toBe(false);
  });

  it('a second accept of the last slot gets 409 offer_taken after its transaction is cancelled', async () => {
    const pk = { ':pk': `REQ#${REQ}` };
    const before = [requestItem(aRequest()), offerItem(anOffer())];
    const after = [
      requestItem(aRequest({ status: 'matched', filled: 1 })),
      offerItem(anOffer()),
      taskItem(aTask({ volunteerId: VOL2 })),
    ];
    ddb
      .on(QueryCommand, { ExpressionAttributeValues: pk })
      .resolvesOnce({ Items: before })
      .resolves({ Items: after });
    ddb
      .on(TransactWriteCommand)
      .rejects(transactionCancelled('None', 'ConditionalCheckFailed', 'None', 'None'));

    const res = await accept();

    expect(res.statusCode).toBe(409);
    expect(bodyOf(res).error.code).toBe('offer_taken');
    expect(res.body).not.toContain('东园小区');
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
    expect(sentTo('events')).toEqual([]);
  });

  it('an accept of a site duty that keeps losing races for its slots is re-read and retried until it takes one', async () => {
    // Other volunteers' accepts land between each read and write: the filled count moves.
    const pk = { ':pk': `REQ#${REQ}` };
    const filled = (n: number) => ({
      Items: [requestItem(aRequest({ slots: 12, filled: n })), offerItem(anOffer())],
    });
    const reads = ddb.on(QueryCommand, { ExpressionAttributeValues: pk });
    for (let n = 0; n < 6; n++) reads.resolvesOnce(filled(n));
    reads.resolves(filled(6));
    const lost = transactionCancelled('None', 'ConditionalCheckFailed', 'None');
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(lost)
      .rejectsOnce(lost)
      .rejectsOnce(lost)
      .rejectsOnce(lost)
      .rejectsOnce(lost)
      .rejectsOnce(lost)
      .resolves({});

    const res = await accept();

    expect(res.statusCode).toBe(200);
    expect(bodyOf(res).address).toBe('东园小区3号楼2单元501');
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 7);
  });

  it('an accept that loses every race is 409 busy, retried a bounded number of times', async () => {
    const pk = { ':pk': `REQ#${REQ}` };
    ddb
      .on(QueryCommand, { ExpressionAttributeValues: pk })
      .resolves({ Items: [requestItem(aRequest({ slots: 12 })), offerItem(anOffer())] });
    ddb
      .on(TransactWriteCommand)
      .rejects(transactionCancelled('None', 'ConditionalCheckFailed', 'None'));

    const res = await accept();

    expect(res.statusCode).toBe(409);
    expect(bodyOf(res).error.code).toBe('busy');
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 8);
    expect(sentTo('events')).toEqual([]);
  });

  it('an offer still open under the old layout (`OFFER#`) is 409 offer_expired, nothing written', async () => {
    givenVolunteer(aVolunteer());
    ddb.on(QueryCommand, { ExpressionAttributeValues: { ':pk': `REQ#${REQ}` } }).resolves({
      Items: [requestItem(aRequest()), { ...offerItem(anOffer()), sk: `OFFER#${VOL}` }],
    });

    const res = await accept();

    expect(res.statusCode).toBe(409);
    expect(bodyOf(res).error.code).toBe('offer_expired');
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('someone else’s offer is 404, and nothing is read', async () => {
    const res = await accept(`off_${REQ.slice(4)}_${VOL2.slice(4)}`);
    expect(res.statusCode).toBe(404);
    expect(ddb).not.toHaveReceivedCommand(QueryCommand);
  });

  it('a malformed offer id is 404', async () => {
    expect((await accept('off_nope')).statusCode).toBe(404);
  });

  it('an offer past its time is 409 offer_expired', async () => {
    givenRequest(aRequest(), [anOffer({ expiresAt: new Date(Date.now() - 1000).toISOString() })]);
    const res = await accept();
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res).error.code).toBe('offer_expired');
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('a volunteer at capacity gets 409 at_capacity', async () => {
    givenVolunteer(aVolunteer({ active: 3, capacity: 3 }));
    givenRequest(aRequest(), [anOffer()]);
    const res = await accept();
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res).error.code).toBe('at_capacity');
  });

  it('repeating a successful accept returns the same task without a second write', async () => {
    givenRequest(
      aRequest({ status: 'matched', filled: 1 }),
      [anOffer({ status: 'accepted' })],
      [aTask()],
    );
    const res = await accept();
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res).taskId).toBe(TASK);
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('is for volunteers only: ops get 403', async () => {
    expect((await accept(OFFER, OPS_KEY)).statusCode).toBe(403);
  });
});

describe('POST /v1/offers/{offerId}/decline (decline-offer)', () => {
  const decline = (offerId = OFFER) =>
    call(declineOffer, {
      path: `/v1/offers/${offerId}/decline`,
      pathParameters: { offerId },
      key: TOKEN,
    });

  it('closes the open offer conditionally and asks for the next volunteer', async () => {
    givenRequest(aRequest(), [anOffer()]);
    const res = await decline();
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toEqual({ offerId: OFFER, status: 'declined' });
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: `REQ#${REQ}`, sk: `TASK#${VOL}` },
      ConditionExpression: '#status = :open',
      ExpressionAttributeValues: expect.objectContaining({ ':to': 'declined' }),
    });
    expect(sentTo('events')).toEqual([
      { type: 'offer_declined', requestId: REQ, volunteerId: VOL, at: expect.any(String) },
    ]);
  });

  it('an accepted offer cannot be declined: 409 offer_accepted', async () => {
    givenRequest(aRequest(), [anOffer({ status: 'accepted' })]);
    const res = await decline();
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res).error.code).toBe('offer_accepted');
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('an offer still open on a filled request reads withdrawn: declining it writes and asks for nothing', async () => {
    givenRequest(aRequest({ status: 'matched', filled: 1 }), [anOffer()]);
    const res = await decline();
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toEqual({ offerId: OFFER, status: 'withdrawn' });
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
    expect(sentTo('events')).toEqual([]);
  });

  it('an unknown offer is 404', async () => {
    expect((await decline()).statusCode).toBe(404);
  });
});

describe('POST /v1/tasks/{taskId}/delivered (report-delivered)', () => {
  const deliver = (body?: unknown, taskId = TASK, key = TOKEN) =>
    call(reportDelivered, {
      path: `/v1/tasks/${taskId}/delivered`,
      pathParameters: { taskId },
      key,
      body,
    });

  it('marks the last task delivered, moves the request to delivered and frees the volunteer', async () => {
    givenVolunteer(aVolunteer({ active: 1 }));
    givenRequest(aRequest({ status: 'matched', filled: 1 }), [], [aTask()]);

    const res = await deliver({ note: '放门口了' });

    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toMatchObject({ taskId: TASK, status: 'delivered', note: '放门口了' });
    const [[task, request, volunteer]] = transactions();
    expect(task.Update).toMatchObject({
      Key: { sk: `TASK#${VOL}` },
      ConditionExpression: '#status = :accepted',
    });
    expect(request.Update).toMatchObject({
      ConditionExpression: 'delivered = :prev AND #status = :status',
      ExpressionAttributeValues: { ':prev': 0, ':next': 1, ':to': 'delivered' },
    });
    expect(volunteer.Update?.ExpressionAttributeValues).toMatchObject({ ':active': 0 });
    expect(sentTo('events')).toEqual([
      { type: 'task_delivered', requestId: REQ, volunteerId: VOL, at: expect.any(String) },
    ]);
  });

  it('a delivery writes a skilled volunteer’s entries only when it frees a full volunteer', async () => {
    const entryWrites = () =>
      transactions()
        .at(-1)!
        .filter((i) => String(i.Put?.Item?.sk ?? i.Delete?.Key?.sk ?? '').startsWith('AVAIL#'));
    givenRequest(aRequest({ status: 'matched', filled: 1 }), [], [aTask()]);

    givenVolunteer(aVolunteer({ skills: ['medic'], active: 1, capacity: 3 }));
    expect((await deliver()).statusCode).toBe(200);
    expect(entryWrites()).toEqual([]);

    givenVolunteer(aVolunteer({ skills: ['medic'], active: 1, capacity: 1 }));
    expect((await deliver()).statusCode).toBe(200);
    expect(entryWrites().map((i) => i.Put?.Item?.gsi2pk)).toEqual(['AVAIL#east-garden#medic']);
  });

  it('accepts an empty body', async () => {
    givenRequest(aRequest({ status: 'matched', filled: 1 }), [], [aTask()]);
    expect((await deliver()).statusCode).toBe(200);
  });

  it('a task of a cancelled request is 409 task_cancelled', async () => {
    givenRequest(aRequest({ status: 'cancelled' }), [], [aTask({ status: 'cancelled' })]);
    const res = await deliver();
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res).error.code).toBe('task_cancelled');
  });

  it('another volunteer’s task is 404', async () => {
    givenRequest(aRequest({ status: 'matched' }), [], [aTask()]);
    expect((await deliver(undefined, TASK, TOKEN2)).statusCode).toBe(404);
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
  });
});

describe('POST /v1/requests/{requestId}/assign (assign-volunteer)', () => {
  const assign = (volunteerId = VOL) =>
    call(assignVolunteer, {
      path: `/v1/requests/${REQ}/assign`,
      pathParameters: { requestId: REQ },
      key: OPS_KEY,
      body: { volunteerId },
    });

  it('takes an open slot for any volunteer, even off duty, marked as manual dispatch', async () => {
    givenVolunteer(aVolunteer({ onDuty: false }));
    givenRequest(aRequest());
    const res = await assign();
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toMatchObject({ taskId: TASK, volunteerId: VOL, via: 'ops' });
    const [items] = transactions();
    // No open offer: the task is put in the volunteer's place (over a closed offer, if any).
    expect(items[0].Put).toMatchObject({
      Item: { sk: `TASK#${VOL}`, type: 'task', taskId: TASK, via: 'ops', gsi1pk: `VOLTASK#${VOL}` },
      ConditionExpression: 'attribute_not_exists(pk) OR (#type = :offer AND #status <> :open)',
    });
    expect(items[1].Update).toMatchObject({
      Key: { sk: 'REQ' },
      ConditionExpression: '#status = :received AND filled = :filled',
    });
    expect(items[1].Update?.ExpressionAttributeValues?.[':h']).toContainEqual(
      expect.objectContaining({ event: 'manual_dispatch', volunteerId: VOL }),
    );
  });

  it('is 409 no_open_slot when every slot is taken', async () => {
    givenRequest(aRequest({ filled: 1 }), [], [aTask({ volunteerId: VOL2 })]);
    const res = await assign();
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res).error.code).toBe('no_open_slot');
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('is 404 naming volunteerId for an unknown volunteer', async () => {
    givenRequest(aRequest());
    const res = await assign(VOL2);
    expect(res.statusCode).toBe(404);
    expect(bodyOf(res).error.message).toMatch(/^volunteerId: /);
  });

  it('is for ops only: a volunteer gets 403', async () => {
    const res = await call(assignVolunteer, {
      pathParameters: { requestId: REQ },
      key: TOKEN,
      body: { volunteerId: VOL },
    });
    expect(res.statusCode).toBe(403);
  });
});

describe('GET /v1/volunteers/me/offers (list-my-offers)', () => {
  it('reads the volunteer’s inbox index and shows open offers without address or requester', async () => {
    const open = anOffer();
    const stale = anOffer({
      volunteerId: VOL,
      requestId: 'req_1111111111111111',
      status: 'declined',
    });
    ddb.on(QueryCommand, { IndexName: 'gsi1' }).resolves({
      Items: [
        // Even if an item carried personal data, the answer must not.
        { ...offerItem(open), address: '东园小区3号楼', requester: { name: '王奶奶' } },
        offerItem(stale),
      ],
    });
    givenRequestsByKey(aRequest());

    const res = await call(listMyOffers, {
      method: 'GET',
      path: '/v1/volunteers/me/offers',
      key: TOKEN,
    });

    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toEqual({
      offers: [
        {
          offerId: OFFER,
          requestId: REQ,
          kind: 'groceries',
          communityId: 'east-garden',
          expiresAt: open.expiresAt,
        },
      ],
    });
    expect(res.body).not.toContain('东园小区');
    expect(res.body).not.toContain('王奶奶');
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      IndexName: 'gsi1',
      ExpressionAttributeValues: expect.objectContaining({ ':pk': `VOLOFFER#${VOL}` }),
    });
  });

  it('leaves out an offer still open on a request that is filled or closed: it reads withdrawn', async () => {
    const FILLED = 'req_2222222222222222';
    const CANCELLED = 'req_3333333333333333';
    ddb.on(QueryCommand, { IndexName: 'gsi1' }).resolves({
      Items: [
        offerItem(anOffer()),
        offerItem(
          anOffer({ requestId: FILLED, offerId: `off_${FILLED.slice(4)}_${VOL.slice(4)}` }),
        ),
        offerItem(
          anOffer({ requestId: CANCELLED, offerId: `off_${CANCELLED.slice(4)}_${VOL.slice(4)}` }),
        ),
      ],
    });
    givenRequestsByKey(
      aRequest(),
      aRequest({ requestId: FILLED, status: 'matched', filled: 1 }),
      aRequest({ requestId: CANCELLED, status: 'cancelled' }),
    );

    const res = await call(listMyOffers, {
      method: 'GET',
      path: '/v1/volunteers/me/offers',
      key: TOKEN,
    });

    expect(res.statusCode).toBe(200);
    expect(bodyOf(res).offers.map((o: { requestId: string }) => o.requestId)).toEqual([REQ]);
    // One read of the three requests' status, eventually consistent like the inbox.
    const [get] = ddb.commandCalls(BatchGetCommand).map((c) => c.args[0].input);
    expect(Object.values(get.RequestItems ?? {})[0]).toMatchObject({
      Keys: [
        { pk: `REQ#${REQ}`, sk: 'REQ' },
        { pk: `REQ#${FILLED}`, sk: 'REQ' },
        { pk: `REQ#${CANCELLED}`, sk: 'REQ' },
      ],
      ConsistentRead: false,
    });
  });
});
