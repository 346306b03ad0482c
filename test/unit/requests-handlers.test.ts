import '../fixtures/env.ts';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as cancelRequest } from '../../functions/cancel-request.ts';
import { handler as confirmRequest } from '../../functions/confirm-request.ts';
import { handler as getRequest } from '../../functions/get-request.ts';
import { handler as postRequest } from '../../functions/post-request.ts';
import { requestIdOf } from '../../shared/ids.ts';
import { partnerMinutes } from '../../shared/services/rate-limit.ts';
import {
  conditionFailed,
  ddb,
  givenKey,
  givenRequest,
  resetAws,
  sentTo,
  sqs,
} from '../fixtures/aws.ts';
import { OPS_KEY, QUEUE_URLS, TABLE } from '../fixtures/env.ts';
import { bodyOf, call, type HttpHandler } from '../fixtures/events.ts';
import { aRequest, aTask, PTN, PTN2, REQ, requestItem } from '../fixtures/items.ts';

const PARTNER_KEY = 'pk_partner-one';
const OTHER_PARTNER_KEY = 'pk_partner-two';
const VOLUNTEER_KEY = 'vt_volunteer';

beforeEach(() => {
  resetAws();
  givenKey(PARTNER_KEY, 'partner', PTN);
  givenKey(OTHER_PARTNER_KEY, 'partner', PTN2);
  givenKey(VOLUNTEER_KEY, 'volunteer', 'vol_fedcba9876543210');
});

describe('POST /v1/requests (post-request)', () => {
  const body = {
    kind: 'groceries',
    communityId: 'east-garden',
    address: '东园小区3号楼2单元501',
    requester: { name: '王奶奶', phone: '+8613800138000' },
    notes: '米一袋',
  };
  const post = (
    b: unknown = body,
    headers: Record<string, string> = { 'idempotency-key': 'k-1' },
  ) =>
    call(postRequest, { method: 'POST', path: '/v1/requests', key: PARTNER_KEY, body: b, headers });

  it('stores the request under an id derived from the key with one conditional put (counted from the stream, not here), queues it for matching, and answers 202', async () => {
    const res = await post();

    expect(res.statusCode).toBe(202);
    const answer = bodyOf(res);
    expect(answer).toEqual({
      requestId: expect.stringMatching(/^req_[0-9a-z]{16}$/),
      status: 'received',
    });

    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 1);
    const requestPut = ddb.commandCalls(PutCommand)[0].args[0].input;
    expect(requestPut).toMatchObject({
      TableName: TABLE,
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: {
        pk: `REQ#${answer.requestId}`,
        sk: 'REQ',
        type: 'request',
        partnerId: PTN,
        status: 'received',
        communityId: 'east-garden',
        townId: 'east-town',
        slots: 1,
        filled: 0,
        scope: 'community',
        idempotency: { key: 'k-1', bodyHash: expect.stringMatching(/^[0-9a-f]{64}$/) },
      },
    });
    // The same partner and key always name the same request; another key another one.
    expect(answer.requestId).toBe(requestIdOf(PTN, 'k-1'));
    expect(requestIdOf(PTN, 'k-2')).not.toBe(answer.requestId);
    expect(requestIdOf(PTN2, 'k-1')).not.toBe(answer.requestId);
    // No counter is written with the request.
    for (const c of ddb.calls()) {
      expect(JSON.stringify(c.args[0].input)).not.toContain('STATS#');
    }

    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: QUEUE_URLS.match });
    expect(sentTo('match')).toEqual([{ requestId: answer.requestId, first: true }]);
    expect(sentTo('timers')).toEqual([]);
  });

  it('counts the partner against its per-minute limit a lease of 10 at a time', async () => {
    await post();
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: {
        pk: expect.stringMatching(new RegExp(`^RATE#${PTN}#\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d$`)),
        sk: 'RATE',
      },
      ConditionExpression: 'attribute_not_exists(#n) OR #n <= :room',
      ExpressionAttributeValues: expect.objectContaining({ ':n': 10, ':room': 590 }),
    });
  });

  it('spends a lease in memory: ten posts write the rate counter once', async () => {
    for (let i = 0; i < 10; i++)
      expect((await post(body, { 'idempotency-key': `k-${i}` })).statusCode).toBe(202);
    expect(
      ddb.commandCalls(UpdateCommand).filter((c) => c.args[0].input.Key?.sk === 'RATE'),
    ).toHaveLength(1);
    await post(body, { 'idempotency-key': 'k-10' });
    expect(
      ddb.commandCalls(UpdateCommand).filter((c) => c.args[0].input.Key?.sk === 'RATE'),
    ).toHaveLength(2);
  });

  it('near the limit, takes one request when a whole lease no longer fits', async () => {
    ddb.on(UpdateCommand).rejectsOnce(conditionFailed()).resolves({});
    const res = await post();
    expect(res.statusCode).toBe(202);
    const rate = ddb
      .commandCalls(UpdateCommand)
      .map((c) => c.args[0].input.ExpressionAttributeValues);
    expect(rate).toEqual([
      expect.objectContaining({ ':n': 10, ':room': 590 }),
      expect.objectContaining({ ':n': 1, ':room': 599 }),
    ]);
  });

  it('answers 429 when the rate counter condition fails, storing nothing', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    const res = await post();
    expect(res.statusCode).toBe(429);
    expect(bodyOf(res).error.code).toBe('rate_limited');
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(ddb).not.toHaveReceivedCommand(PutCommand);
    expect(sentTo('match')).toEqual([]);
  });

  it('refuses a request without Idempotency-Key with 400 naming the header', async () => {
    const res = await post(body, {});
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res).error.message).toMatch(/^Idempotency-Key: /);
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('refuses an unknown communityId with 400 naming it', async () => {
    const res = await post({ ...body, communityId: 'moon-base' });
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res).error.message).toMatch(/^communityId: .*demo/);
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('refuses a window whose end has passed with 400 naming window.end', async () => {
    const res = await post({
      ...body,
      window: { start: '2020-01-01T00:00:00Z', end: '2020-01-01T01:00:00Z' },
    });
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res).error.message).toMatch(/^window\.end: /);
  });

  it('sets a window-end timer for a request with a window', async () => {
    const end = new Date(Date.now() + 3600_000).toISOString();
    const res = await post({ ...body, window: { start: new Date().toISOString(), end } });
    expect(res.statusCode).toBe(202);
    expect(sentTo('timers')).toEqual([
      { type: 'window_end', requestId: bodyOf(res).requestId, at: end },
    ]);
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      QueueUrl: QUEUE_URLS.timers,
      DelaySeconds: 900,
    });
  });

  it('stores a window given with an offset in UTC, as every time the API answers with', async () => {
    const res = await post({
      ...body,
      window: { start: '2099-01-01T08:00:00+08:00', end: '2099-01-01T10:30:00+08:00' },
    });
    expect(res.statusCode).toBe(202);
    const stored = ddb.commandCalls(PutCommand)[0].args[0].input.Item;
    expect(stored?.window).toEqual({
      start: '2099-01-01T00:00:00.000Z',
      end: '2099-01-01T02:30:00.000Z',
    });
    expect(sentTo('timers')[0]).toMatchObject({ at: '2099-01-01T02:30:00.000Z' });
  });

  it('refuses a schema error with 400 naming the field, before any write', async () => {
    const res = await post({ ...body, requester: { name: '王奶奶', phone: '12345' } });
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res).error.message).toMatch(/^requester\.phone: /);
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('is for partners only: an ops key gets 403', async () => {
    const res = await call(postRequest, {
      method: 'POST',
      key: OPS_KEY,
      body,
      headers: { 'idempotency-key': 'k' },
    });
    expect(res.statusCode).toBe(403);
  });

  describe('with an Idempotency-Key already used', () => {
    let winner: Record<string, unknown> | undefined;
    /** The first post; then the table holds what it wrote. */
    async function firstPost(b: unknown = body) {
      const first = bodyOf(await post(b));
      const requestPut = ddb.commandCalls(PutCommand)[0].args[0].input;
      ddb
        .on(GetCommand, { Key: { pk: `REQ#${first.requestId}`, sk: 'REQ' } })
        .resolves({ Item: requestPut.Item });
      winner = requestPut.Item;
      // The key is taken now: a second put with it is refused, writing nothing.
      ddb.on(PutCommand).rejects(conditionFailed());
      ddb.resetHistory();
      sqs.resetHistory();
      return first;
    }

    it('the same body (keys reordered) gets the first answer and stores nothing new', async () => {
      const first = await firstPost();
      const { notes, ...rest } = body;
      const res = await post({ notes, ...rest });
      expect(res.statusCode).toBe(202);
      expect(bodyOf(res)).toEqual(first);
      // The one put tried was refused by the key's condition: nothing new stored.
      expect(ddb).toHaveReceivedCommandTimes(PutCommand, 1);
      // Still waiting: queued again in case the first attempt failed to queue it.
      expect(sentTo('match')).toEqual([{ requestId: first.requestId }]);
    });

    it('a different body gets 409 idempotency_key_reused', async () => {
      await firstPost();
      const res = await post({ ...body, notes: '药' });
      expect(res.statusCode).toBe(409);
      expect(bodyOf(res).error.code).toBe('idempotency_key_reused');
      expect(ddb).toHaveReceivedCommandTimes(PutCommand, 1);
      expect(sentTo('match')).toEqual([]);
    });

    it('a retry after the request’s window has ended gets the first answer, not 400 window.end', async () => {
      const end = new Date(Date.now() + 60_000).toISOString();
      const withWindow = { ...body, window: { start: new Date().toISOString(), end } };
      const first = await firstPost(withWindow);
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        vi.setSystemTime(Date.parse(end) + 1000);
        const res = await post(withWindow);
        expect(res.statusCode).toBe(202);
        expect(bodyOf(res)).toEqual(first);
      } finally {
        vi.useRealTimers();
      }
    });

    it('a retry refused by the partner’s rate limit gets the first answer, not 429', async () => {
      const first = await firstPost();
      partnerMinutes.forget();
      ddb.on(UpdateCommand).rejects(conditionFailed());
      const res = await post();
      expect(res.statusCode).toBe(202);
      expect(bodyOf(res)).toEqual(first);
    });

    it('a different body refused by the rate limit still gets 409 idempotency_key_reused', async () => {
      await firstPost();
      partnerMinutes.forget();
      ddb.on(UpdateCommand).rejects(conditionFailed());
      const res = await post({ ...body, notes: '药' });
      expect(res.statusCode).toBe(409);
      expect(bodyOf(res).error.code).toBe('idempotency_key_reused');
    });

    it('a post that loses the race for the key to an identical post returns the winner’s answer', async () => {
      const first = await firstPost();
      // The winner's put landed first: this one's is refused on the key.
      resetAws();
      givenKey(PARTNER_KEY, 'partner', PTN);
      ddb
        .on(GetCommand, { Key: { pk: `REQ#${first.requestId}`, sk: 'REQ' } })
        .resolves({ Item: winner });
      ddb.on(PutCommand).rejects(conditionFailed());

      const res = await post();

      expect(ddb).toHaveReceivedCommandTimes(PutCommand, 1);
      expect(res.statusCode).toBe(202);
      expect(bodyOf(res)).toEqual(first);
      expect(sentTo('match')).toEqual([{ requestId: first.requestId }]);
    });
  });
});

describe('GET /v1/requests/{requestId} (get-request)', () => {
  const get = (key: string, requestId = REQ) =>
    call(getRequest, {
      path: `/v1/requests/${requestId}`,
      route: '/v1/requests/{requestId}',
      pathParameters: { requestId },
      key,
    });

  it('shows a partner its own request with tasks and history, without address or requester', async () => {
    givenRequest(aRequest({ status: 'matched', filled: 1 }), [], [aTask()]);
    const res = await get(PARTNER_KEY);
    expect(res.statusCode).toBe(200);
    const view = bodyOf(res);
    expect(view).toMatchObject({
      requestId: REQ,
      status: 'matched',
      kind: 'groceries',
      communityId: 'east-garden',
      slots: 1,
      tasks: [{ taskId: aTask().taskId, volunteerId: aTask().volunteerId, status: 'accepted' }],
      history: [{ status: 'received', at: aRequest().createdAt }],
    });
    expect(res.body).not.toContain('东园小区');
    expect(res.body).not.toContain('13800138000');
  });

  it('answers 404 to another partner, as if the request did not exist', async () => {
    givenRequest(aRequest());
    const res = await get(OTHER_PARTNER_KEY);
    expect(res.statusCode).toBe(404);
    expect(bodyOf(res).error.code).toBe('not_found');
  });

  it('answers 404 for an unknown request', async () => {
    const res = await get(PARTNER_KEY, 'req_zzzzzzzzzzzzzzzz');
    expect(res.statusCode).toBe(404);
  });

  it('shows ops any request', async () => {
    givenRequest(aRequest({ partnerId: PTN2 }));
    expect((await get(OPS_KEY)).statusCode).toBe(200);
  });

  it('answers 403 to a volunteer', async () => {
    givenRequest(aRequest());
    expect((await get(VOLUNTEER_KEY)).statusCode).toBe(403);
  });

  it('answers 401 without a key, reading nothing', async () => {
    const res = await call(getRequest, { pathParameters: { requestId: REQ } });
    expect(res.statusCode).toBe(401);
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
  });
});

describe('cancel and confirm', () => {
  /** The status writes of the request: conditional updates of its item. */
  const requestMoves = () =>
    ddb
      .commandCalls(UpdateCommand)
      .map((c) => c.args[0].input)
      .filter((u) => u.Key?.pk === `REQ#${REQ}` && u.Key?.sk === 'REQ');
  const act = (h: HttpHandler, verb: string, key = PARTNER_KEY) =>
    call(h, {
      method: 'POST',
      path: `/v1/requests/${REQ}/${verb}`,
      route: `/v1/requests/{requestId}/${verb}`,
      pathParameters: { requestId: REQ },
      key,
    });

  it('cancel moves a received request with a status-conditional write and queues the follow-up', async () => {
    givenRequest(aRequest());
    const res = await act(cancelRequest, 'cancel');
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toEqual({ requestId: REQ, status: 'cancelled' });
    // One update of the request alone: no transaction, no counter (the stream counts it).
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
    const [move] = requestMoves();
    expect(move).toMatchObject({
      Key: { pk: `REQ#${REQ}`, sk: 'REQ' },
      ConditionExpression: '#status = :from',
      ExpressionAttributeValues: { ':from': 'received', ':to': 'cancelled' },
    });
    expect(sentTo('events')).toEqual([
      { type: 'request_closed', requestId: REQ, at: expect.any(String) },
    ]);
  });

  it('cancel of a matched request is allowed', async () => {
    givenRequest(aRequest({ status: 'matched' }));
    expect((await act(cancelRequest, 'cancel')).statusCode).toBe(200);
    expect(requestMoves()[0].ExpressionAttributeValues?.[':from']).toBe('matched');
  });

  it('a cancel with a body over 64 KiB is 413 payload_too_large, though the route reads no body', async () => {
    givenRequest(aRequest({ status: 'received' }));
    const res = await call(cancelRequest, {
      method: 'POST',
      path: `/v1/requests/${REQ}/cancel`,
      pathParameters: { requestId: REQ },
      key: PARTNER_KEY,
      body: { padding: 'x'.repeat(70_000) },
    });
    expect(res.statusCode).toBe(413);
    expect(bodyOf(res).error.code).toBe('payload_too_large');
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('repeating cancel on a cancelled request is 200 with no second write', async () => {
    givenRequest(aRequest({ status: 'cancelled' }));
    const res = await act(cancelRequest, 'cancel');
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res).status).toBe('cancelled');
    expect(requestMoves()).toEqual([]);
  });

  it('cancel of a delivered request is 409 already_delivered', async () => {
    givenRequest(aRequest({ status: 'delivered' }));
    const res = await act(cancelRequest, 'cancel');
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res).error.code).toBe('already_delivered');
    expect(requestMoves()).toEqual([]);
    expect(sentTo('events')).toEqual([]);
  });

  it('cancel of an expired request is 409 request_expired', async () => {
    givenRequest(aRequest({ status: 'expired' }));
    const res = await act(cancelRequest, 'cancel');
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res).error.code).toBe('request_expired');
  });

  it('cancel that loses a race to another cancel re-reads and answers 200', async () => {
    ddb
      .on(QueryCommand, { ExpressionAttributeValues: { ':pk': `REQ#${REQ}` } })
      .resolvesOnce({ Items: [requestItem(aRequest())] })
      .resolves({ Items: [requestItem(aRequest({ status: 'cancelled' }))] });
    ddb.on(UpdateCommand, { Key: { pk: `REQ#${REQ}`, sk: 'REQ' } }).rejects(conditionFailed());
    const res = await act(cancelRequest, 'cancel');
    expect(res.statusCode).toBe(200);
    expect(requestMoves()).toHaveLength(1);
    // The first read was eventually consistent; after the lost race, a strong one decided.
    expect(ddb.commandCalls(QueryCommand).map((c) => c.args[0].input.ConsistentRead)).toEqual([
      false,
      true,
    ]);
  });

  it('another partner cannot cancel: 404', async () => {
    givenRequest(aRequest());
    expect((await act(cancelRequest, 'cancel', OTHER_PARTNER_KEY)).statusCode).toBe(404);
    expect(requestMoves()).toEqual([]);
  });

  it('confirm moves a delivered request to confirmed with the credit it adds up to, and queues crediting', async () => {
    givenRequest(
      aRequest({ status: 'delivered', delivered: 1 }),
      [],
      [
        aTask({
          status: 'delivered',
          createdAt: '2026-12-03T08:00:00.000Z',
          deliveredAt: '2026-12-03T08:42:00.000Z',
        }),
      ],
    );
    const res = await act(confirmRequest, 'confirm', OPS_KEY);
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toEqual({ requestId: REQ, status: 'confirmed' });
    // The minutes and points ride on the request, for the stream consumer to count.
    const [move] = requestMoves();
    expect(move.UpdateExpression).toContain('credit = :credit');
    expect(move.ExpressionAttributeValues).toMatchObject({
      ':from': 'delivered',
      ':to': 'confirmed',
      ':credit': { serviceMinutes: 42, points: 10 },
    });
    expect(sentTo('events')).toEqual([
      { type: 'request_confirmed', requestId: REQ, at: expect.any(String) },
    ]);
  });

  it('confirm before delivery is 409 not_delivered', async () => {
    givenRequest(aRequest({ status: 'matched' }));
    const res = await act(confirmRequest, 'confirm');
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res).error).toMatchObject({ code: 'not_delivered' });
    expect(bodyOf(res).error.message).toContain('matched');
  });

  it('repeating confirm on a confirmed request is 200 with no second write', async () => {
    givenRequest(aRequest({ status: 'confirmed' }));
    const res = await act(confirmRequest, 'confirm');
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res).status).toBe('confirmed');
    expect(requestMoves()).toEqual([]);
  });
});
