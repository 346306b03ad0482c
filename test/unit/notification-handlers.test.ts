import '../fixtures/env.ts';
import { createHmac } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as deliverCallback } from '../../functions/deliver-callback.ts';
import { handler as receiveSms } from '../../functions/receive-sms.ts';
import { handler as setPartnerCallback } from '../../functions/set-partner-callback.ts';
import {
  conditionFailed,
  ddb,
  givenKey,
  givenRequest,
  givenVolunteer,
  published,
  requestUpdates,
  resetAws,
  sentTo,
  sqs,
  transactions,
} from '../fixtures/aws.ts';
import { OPS_KEY, QUEUE_URLS } from '../fixtures/env.ts';
import { bodyOf, call, lambdaContext, sqsEvent, sqsRecord } from '../fixtures/events.ts';
import { anOffer, aRequest, aTask, aVolunteer, PTN, REQ, TASK, VOL } from '../fixtures/items.ts';

const PARTNER_KEY = 'pk_partner-one';
const TOKEN = 'vt_volunteer-one';
const ctx = lambdaContext();

beforeEach(() => {
  resetAws();
  givenKey(PARTNER_KEY, 'partner', PTN);
  givenKey(TOKEN, 'volunteer', VOL);
});

describe('PUT /v1/partners/me/callback (set-partner-callback)', () => {
  const setCallback = (body: unknown, key = PARTNER_KEY) =>
    call(setPartnerCallback, { method: 'PUT', path: '/v1/partners/me/callback', key, body });

  it('stores the URL and a new secret on the calling partner, and answers the secret once', async () => {
    const res = await setCallback({ url: 'https://partner.example.org/hooks/dispatch' });

    expect(res.statusCode).toBe(200);
    const { secret } = bodyOf(res);
    expect(secret).toMatch(/^whsec_/);
    expect(bodyOf(res)).toEqual({
      url: 'https://partner.example.org/hooks/dispatch',
      secret,
      signature: { header: 'x-dispatch-signature', timestampHeader: 'x-dispatch-timestamp' },
    });
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(UpdateCommand, {
      Key: { pk: `PARTNER#${PTN}`, sk: 'PARTNER' },
      UpdateExpression: 'SET callback = :cb',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: {
        ':cb': {
          url: 'https://partner.example.org/hooks/dispatch',
          secret,
          updatedAt: expect.any(String),
        },
      },
    });
  });

  it('each call issues a different secret', async () => {
    const a = bodyOf(await setCallback({ url: 'https://partner.example.org/a' })).secret;
    const b = bodyOf(await setCallback({ url: 'https://partner.example.org/a' })).secret;
    expect(a).not.toBe(b);
  });

  it('a plain http URL is 400 naming url, nothing written', async () => {
    const res = await setCallback({ url: 'http://partner.example.org/hook' });
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res).error).toMatchObject({ code: 'invalid_field' });
    expect(bodyOf(res).error.message).toMatch(/^url: /);
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('a partner removed since its key was issued is 404', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    const res = await setCallback({ url: 'https://partner.example.org/hook' });
    expect(res.statusCode).toBe(404);
    expect(bodyOf(res).error.code).toBe('not_found');
  });

  it('is for partners only: ops and volunteers get 403', async () => {
    expect((await setCallback({ url: 'https://x.example.org/' }, OPS_KEY)).statusCode).toBe(403);
    expect((await setCallback({ url: 'https://x.example.org/' }, TOKEN)).statusCode).toBe(403);
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });
});

describe('deliver-callback', () => {
  const URL_ = 'https://partner.example.org/hooks/dispatch';
  const SECRET = 'whsec_partner-secret';
  const AT = '2022-04-01T08:05:00.000Z';
  const message = (over: Record<string, unknown> = {}) => ({
    requestId: REQ,
    status: 'matched',
    at: AT,
    ...over,
  });
  let post: ReturnType<typeof vi.fn>;

  const givenCallback = () =>
    ddb.on(GetCommand, { Key: { pk: `PARTNER#${PTN}`, sk: 'PARTNER' } }).resolves({
      Item: { callback: { url: URL_, secret: SECRET, updatedAt: AT } },
    });
  const answering = (status: number) => {
    post = vi.fn(async () => new Response(null, { status }));
    vi.stubGlobal('fetch', post);
  };
  const sentRequest = () => post.mock.calls[0] as [string, RequestInit];

  beforeEach(() => {
    givenRequest(aRequest());
    givenCallback();
    answering(204);
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('POSTs the status to the request’s partner, signed with its secret, and marks the event sent', async () => {
    const out = await deliverCallback(sqsEvent(sqsRecord(message())), ctx);

    expect(out.batchItemFailures).toEqual([]);
    expect(post).toHaveBeenCalledTimes(1);
    const [url, init] = sentRequest();
    expect(url).toBe(URL_);
    expect(init.method).toBe('POST');
    expect(init.redirect).toBe('manual');
    const body = init.body as string;
    expect(JSON.parse(body)).toEqual({
      eventId: `${REQ}:matched`,
      type: 'request.status_changed',
      requestId: REQ,
      status: 'matched',
      at: AT,
      attempt: 1,
    });
    const headers = init.headers as Record<string, string>;
    expect(headers['x-dispatch-event-id']).toBe(`${REQ}:matched`);
    const t = headers['x-dispatch-timestamp'];
    expect(Math.abs(Number(t) - Date.now() / 1000)).toBeLessThan(5);
    const hmac = createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex');
    expect(headers['x-dispatch-signature']).toBe(`v1=${hmac}`);
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ pk: `CBSENT#${REQ}:matched`, sk: 'CBSENT' }),
    });
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it('a non-2xx answer is not marked sent and is queued again with the next attempt after the backoff', async () => {
    answering(503);

    const out = await deliverCallback(sqsEvent(sqsRecord(message({ attempt: 3 }))), ctx);

    expect(out.batchItemFailures).toEqual([]);
    expect(post).toHaveBeenCalledTimes(1);
    expect(JSON.parse(sentRequest()[1].body as string).attempt).toBe(3);
    expect(ddb).not.toHaveReceivedCommand(PutCommand);
    expect(sentTo('callbacks')).toEqual([message({ attempt: 4 })]);
    // 30 s base, doubled per attempt: 30, 60, 120 before the fourth.
    expect(sqs).toHaveReceivedCommandExactlyOnceWith(SendMessageCommand, {
      QueueUrl: QUEUE_URLS.callbacks,
      DelaySeconds: 120,
    });
  });

  it('a network error is retried like a non-2xx, the first retry after the 30 s base', async () => {
    post = vi.fn(async () => {
      throw new TypeError('fetch failed');
    });
    vi.stubGlobal('fetch', post);

    const out = await deliverCallback(sqsEvent(sqsRecord(message())), ctx);

    expect(out.batchItemFailures).toEqual([]);
    expect(sentTo('callbacks')).toEqual([message({ attempt: 2 })]);
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, { DelaySeconds: 30 });
  });

  it('the last attempt failing fails the record (for the DLQ) and queues nothing more', async () => {
    answering(500);
    const out = await deliverCallback(
      sqsEvent(sqsRecord(message({ attempt: 8 }), { messageId: 'last' })),
      ctx,
    );
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'last' }]);
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
    expect(ddb).not.toHaveReceivedCommand(PutCommand);
  });

  it('a duplicate delivery of an event already sent is a no-op: no POST, no write', async () => {
    ddb
      .on(GetCommand, { Key: { pk: `CBSENT#${REQ}:matched`, sk: 'CBSENT' } })
      .resolves({ Item: { pk: `CBSENT#${REQ}:matched`, sk: 'CBSENT' } });

    const out = await deliverCallback(sqsEvent(sqsRecord(message())), ctx);

    expect(out.batchItemFailures).toEqual([]);
    expect(post).not.toHaveBeenCalled();
    expect(ddb).not.toHaveReceivedCommand(PutCommand);
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it('a partner without a callback gets nothing, and a malformed message fails alone', async () => {
    ddb.on(GetCommand, { Key: { pk: `PARTNER#${PTN}`, sk: 'PARTNER' } }).resolves({ Item: {} });
    const out = await deliverCallback(
      sqsEvent(
        sqsRecord(message(), { messageId: 'ok' }),
        sqsRecord({ requestId: REQ }, { messageId: 'bad' }),
      ),
      ctx,
    );
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'bad' }]);
    expect(post).not.toHaveBeenCalled();
  });
});

describe('receive-sms', () => {
  const PHONE = '+8613900139000';
  const CODE = 'K7PQ';
  const sms = (messageBody: string, over: Record<string, unknown> = {}) => ({
    originationNumber: PHONE,
    messageBody,
    inboundMessageId: 'in-1',
    destinationNumber: '+8610690000',
    ...over,
  });
  const givenCode = (target: Record<string, unknown>, phone = PHONE) =>
    ddb.on(GetCommand, { Key: { pk: `REPLY#${CODE}`, sk: 'REPLY' } }).resolves({
      Item: {
        pk: `REPLY#${CODE}`,
        sk: 'REPLY',
        code: CODE,
        target,
        phone,
        expiresAtEpoch: Math.floor(Date.now() / 1000) + 3600,
      },
    });
  const offerCode = () => givenCode({ kind: 'offer', requestId: REQ, volunteerId: VOL });

  beforeEach(() => {
    givenVolunteer(aVolunteer());
  });

  it('"1 code" from the offer’s phone accepts the offer and answers the address by SMS', async () => {
    offerCode();
    givenRequest(aRequest(), [anOffer()]);

    const out = await receiveSms(sqsEvent(sqsRecord(sms(' 1 k7pq '))), ctx);

    expect(out.batchItemFailures).toEqual([]);
    expect(ddb).toHaveReceivedCommandWith(GetCommand, {
      Key: { pk: `REPLY#${CODE}`, sk: 'REPLY' },
      ConsistentRead: true,
    });
    const [items] = transactions();
    expect(items[0].Update).toMatchObject({
      Key: { pk: `REQ#${REQ}`, sk: `TASK#${VOL}` },
      ExpressionAttributeValues: { ':task': 'task', ':taskId': TASK, ':accepted': 'accepted' },
    });
    expect(published()).toEqual([
      {
        notificationId: 'reply:in-1',
        to: { kind: 'volunteer', volunteerId: VOL },
        template: 'reply_accepted',
        params: { address: '东园小区3号楼2单元501', name: '王奶奶', phone: '+8613800138000' },
        requestId: REQ,
        channel: 'sms',
        reply: true,
      },
    ]);
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

  it('the same inbound message delivered again takes no second slot and answers under the same id', async () => {
    offerCode();
    givenRequest(
      aRequest({ status: 'matched', filled: 1 }),
      [anOffer({ status: 'accepted' })],
      [aTask()],
    );

    const out = await receiveSms(sqsEvent(sqsRecord(sms('1 K7PQ'))), ctx);

    expect(out.batchItemFailures).toEqual([]);
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(published()).toEqual([
      expect.objectContaining({ notificationId: 'reply:in-1', template: 'reply_accepted' }),
    ]);
  });

  it('a code sent to another phone is not understood: reply_unknown to the sender, nothing changed', async () => {
    givenCode({ kind: 'offer', requestId: REQ, volunteerId: VOL }, '+8613700137000');
    givenRequest(aRequest(), [anOffer()]);

    const out = await receiveSms(sqsEvent(sqsRecord(sms('1 K7PQ'))), ctx);

    expect(out.batchItemFailures).toEqual([]);
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
    expect(published()).toEqual([
      {
        notificationId: 'reply:in-1',
        to: { kind: 'phone', phone: PHONE },
        template: 'reply_unknown',
        params: {},
        channel: 'sms',
        reply: true,
      },
    ]);
  });

  it('declining an offer already accepted is rejected with the reason, in words', async () => {
    offerCode();
    // Accepted: the offer's item is its task now.
    givenRequest(
      aRequest({ status: 'matched', filled: 1 }),
      [anOffer({ status: 'accepted' })],
      [aTask()],
    );

    const out = await receiveSms(sqsEvent(sqsRecord(sms('0 K7PQ'))), ctx);

    expect(out.batchItemFailures).toEqual([]);
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
    expect(published()).toEqual([
      expect.objectContaining({
        notificationId: 'reply:in-1',
        to: { kind: 'volunteer', volunteerId: VOL },
        template: 'reply_rejected',
        params: { code: CODE, reason: '已接单，不能拒绝' },
      }),
    ]);
  });

  it('"9 code" in an SNS envelope confirms the delivered request as its partner', async () => {
    givenCode({ kind: 'confirm', requestId: REQ }, '+8613800138000');
    givenRequest(aRequest({ status: 'delivered' }));
    const envelope = {
      Type: 'Notification',
      Message: JSON.stringify(sms('9 K7PQ', { originationNumber: '+8613800138000' })),
    };

    const out = await receiveSms(sqsEvent(sqsRecord(envelope)), ctx);

    expect(out.batchItemFailures).toEqual([]);
    const [move] = requestUpdates();
    expect(move).toMatchObject({
      Key: { pk: `REQ#${REQ}`, sk: 'REQ' },
      ConditionExpression: '#status = :from',
      ExpressionAttributeValues: { ':from': 'delivered', ':to': 'confirmed' },
    });
    expect(sentTo('events')).toEqual([
      { type: 'request_confirmed', requestId: REQ, at: expect.any(String) },
    ]);
    expect(published()).toEqual([
      expect.objectContaining({
        notificationId: 'reply:in-1',
        to: { kind: 'requester', requestId: REQ },
        template: 'reply_confirmed',
      }),
    ]);
  });

  it('"9" with an offer code does not fit the code: reply_unknown, nothing accepted', async () => {
    offerCode();
    givenRequest(aRequest(), [anOffer()]);
    await receiveSms(sqsEvent(sqsRecord(sms('9 K7PQ'))), ctx);
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(published()).toEqual([expect.objectContaining({ template: 'reply_unknown' })]);
  });
});
