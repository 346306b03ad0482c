/**
 * A district without SNS push (SMS provider `https`, China regions): a push endpoint is
 * refused at registration and on PATCH, and a volunteer who has one anyway (stored before)
 * is reached by SMS through the provider, never by an SNS call the function may not make.
 */
import '../fixtures/env-https.ts';
import { PublishCommand } from '@aws-sdk/client-sns';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as matchRequest } from '../../functions/match-request.ts';
import { handler as registerVolunteer } from '../../functions/register-volunteer.ts';
import { handler as sendNotification } from '../../functions/send-notification.ts';
import { handler as updateVolunteer } from '../../functions/update-volunteer.ts';
import { districtSender, httpsSmsSender } from '../../shared/adapters/notifications.ts';
import {
  ddb,
  givenKey,
  givenRequest,
  givenVolunteer,
  published,
  resetAws,
  sns,
} from '../fixtures/aws.ts';
import { OPS_KEY } from '../fixtures/env.ts';
import { SMS_ENDPOINT } from '../fixtures/env-https.ts';
import { bodyOf, call, lambdaContext, sqsEvent, sqsRecord } from '../fixtures/events.ts';
import { aRequest, aVolunteer, REQ, VOL, volunteerItem } from '../fixtures/items.ts';

const ctx = lambdaContext();
const TOKEN = 'vt_volunteer-one';
const ENDPOINT = 'arn:aws-cn:sns:cn-north-1:210987654321:endpoint/GCM/app/stored-before';

/** What the SMS provider was sent: each call's URL and JSON body. */
let provider: ReturnType<typeof vi.fn>;
const posted = () =>
  provider.mock.calls.map(([url, init]) => ({ url, body: JSON.parse(String(init.body)) }));

beforeEach(() => {
  resetAws();
  givenKey(TOKEN, 'volunteer', VOL);
  provider = vi.fn(async () => new Response('{}', { status: 200 }));
  vi.stubGlobal('fetch', provider);
});
afterEach(() => vi.unstubAllGlobals());

/** No SNS call to a phone number or a platform endpoint: the function may not make one here. */
const expectNoSnsDelivery = () => {
  for (const c of sns.commandCalls(PublishCommand)) {
    expect(c.args[0].input.TargetArn).toBeUndefined();
    expect(c.args[0].input.PhoneNumber).toBeUndefined();
  }
};

describe('POST /v1/volunteers in a district without push', () => {
  const body = { name: '李明', phone: '+8613900139000', communityId: 'west-hill' };
  const register = (b: unknown) =>
    call(registerVolunteer, { method: 'POST', path: '/v1/volunteers', key: OPS_KEY, body: b });

  it('a pushEndpoint is 400 naming pushEndpoint, saying why, and nothing is written', async () => {
    const res = await register({ ...body, pushEndpoint: ENDPOINT });

    expect(res.statusCode).toBe(400);
    const { error } = bodyOf(res);
    expect(error.code).toBe('push_unavailable');
    expect(error.message).toMatch(/^pushEndpoint: not accepted in district https-district/);
    expect(error.message).toMatch(/no push notifications.*reached by SMS/);
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('without one the volunteer is registered', async () => {
    const res = await register(body);
    expect(res.statusCode).toBe(201);
    expect(ddb).toHaveReceivedCommand(TransactWriteCommand);
  });
});

describe('PATCH /v1/volunteers/{volunteerId} in a district without push', () => {
  const patch = (b: unknown, key = TOKEN) =>
    call(updateVolunteer, {
      method: 'PATCH',
      path: `/v1/volunteers/${VOL}`,
      pathParameters: { volunteerId: VOL },
      key,
      body: b,
    });

  it('a pushEndpoint is 400 naming pushEndpoint, from the volunteer or ops, nothing read or written', async () => {
    givenVolunteer(aVolunteer());
    for (const key of [TOKEN, OPS_KEY]) {
      const res = await patch({ pushEndpoint: ENDPOINT, capacity: 4 }, key);
      expect(res.statusCode).toBe(400);
      expect(bodyOf(res).error).toMatchObject({
        code: 'push_unavailable',
        message: expect.stringMatching(/^pushEndpoint: /),
      });
    }
    expect(ddb).not.toHaveReceivedCommandWith(GetCommand, { Key: { pk: `VOL#${VOL}`, sk: 'VOL' } });
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('any other change goes through', async () => {
    givenVolunteer(aVolunteer());
    const res = await patch({ capacity: 4 });
    expect(res.statusCode).toBe(200);
    expect(ddb).toHaveReceivedCommand(UpdateCommand);
  });
});

describe('send-notification in a district without push', () => {
  const note = (over: Record<string, unknown> = {}) => ({
    notificationId: 'offer:off_x',
    to: { kind: 'volunteer', volunteerId: VOL },
    template: 'offer',
    params: { community: '东园社区', kindLabel: '代购生活物资', minutes: 2, code: 'K7PQ' },
    ...over,
  });

  it('a volunteer stored with an endpoint gets the SMS through the provider, as one without: no SNS call, no retry', async () => {
    givenVolunteer(aVolunteer({ pushEndpoint: ENDPOINT }));

    const out = await sendNotification(sqsEvent(sqsRecord(note())), ctx);

    expect(out.batchItemFailures).toEqual([]);
    expectNoSnsDelivery();
    expect(posted()).toEqual([
      {
        url: SMS_ENDPOINT,
        body: { to: '+8613900139000', text: expect.stringMatching(/东园社区.*1 K7PQ/) },
      },
    ]);
    // Its SMS marker, as any SMS's, written before the provider is called.
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ pk: 'NOTE#offer:off_x' }),
    });
  });

  it('an endpoint the producer carried (an offer made before) is not pushed to either: SMS', async () => {
    givenVolunteer(aVolunteer({ pushEndpoint: ENDPOINT }));

    const out = await sendNotification(
      sqsEvent(sqsRecord(note({ push: { endpoint: ENDPOINT } }))),
      ctx,
    );

    expect(out.batchItemFailures).toEqual([]);
    expectNoSnsDelivery();
    expect(posted()).toEqual([
      { url: SMS_ENDPOINT, body: { to: '+8613900139000', text: expect.any(String) } },
    ]);
  });

  it('a push-only notice (an offer withdrawn) to such a volunteer is skipped, as for one without an endpoint', async () => {
    givenVolunteer(aVolunteer({ pushEndpoint: ENDPOINT }));

    const out = await sendNotification(
      sqsEvent(
        sqsRecord(
          note({
            notificationId: 'withdrawn:off_x',
            template: 'offer_withdrawn',
            channel: 'push-only',
            push: { endpoint: ENDPOINT },
          }),
        ),
      ),
      ctx,
    );

    expect(out.batchItemFailures).toEqual([]);
    expect(sns).not.toHaveReceivedAnyCommand();
    expect(provider).not.toHaveBeenCalled();
  });

  it('the opt-out still holds: no SMS, and still no push', async () => {
    givenVolunteer(aVolunteer({ pushEndpoint: ENDPOINT, smsOptOut: true }));
    const out = await sendNotification(sqsEvent(sqsRecord(note())), ctx);
    expect(out.batchItemFailures).toEqual([]);
    expect(sns).not.toHaveReceivedAnyCommand();
    expect(provider).not.toHaveBeenCalled();
  });
});

describe('match-request in a district without push', () => {
  it('offers a volunteer stored with an endpoint as one without: a reply code, no push carried', async () => {
    givenRequest(aRequest());
    ddb
      .on(QueryCommand, {
        IndexName: 'avail',
        ExpressionAttributeValues: { ':pk': 'AVAIL#east-garden' },
      })
      .resolves({ Items: [volunteerItem(aVolunteer({ pushEndpoint: ENDPOINT }))] });

    await matchRequest(sqsEvent(sqsRecord({ requestId: REQ })), ctx);

    const puts = ddb.commandCalls(PutCommand).map((c) => c.args[0].input.Item ?? {});
    expect(puts.map((i) => String(i.pk))).toEqual(
      expect.arrayContaining([`REQ#${REQ}`, expect.stringMatching(/^REPLY#/)]),
    );
    expect(puts.find((i) => i.sk === `TASK#${VOL}`)).not.toHaveProperty('push');
    const [notice] = published() as { push?: unknown; params: { code?: string } }[];
    expect(notice).not.toHaveProperty('push');
    expect(notice.params.code).toMatch(/^[A-Z2-9]{4}$/);
  });
});

describe('the HTTPS sender', () => {
  it('refuses a push before any SNS call', async () => {
    await expect(
      httpsSmsSender(SMS_ENDPOINT).send(
        { channel: 'push', endpoint: ENDPOINT, notificationId: 'n1' },
        'text',
      ),
    ).rejects.toThrow(/no push in a district whose SMS provider is https/);
    expect(sns).not.toHaveReceivedAnyCommand();
    expect(provider).not.toHaveBeenCalled();
  });

  it('is never replaced by SNS when its endpoint is missing', () => {
    const endpoint = process.env.SMS_HTTPS_ENDPOINT;
    delete process.env.SMS_HTTPS_ENDPOINT;
    try {
      expect(() => districtSender()).toThrow(/SMS_HTTPS_ENDPOINT is not set/);
    } finally {
      process.env.SMS_HTTPS_ENDPOINT = endpoint;
    }
  });
});
