/**
 * Two-way SMS through an HTTPS SMS provider (China regions, no SNS SMS): the provider
 * calls POST /v1/sms/replies with each reply, signed with the district's provider secret;
 * the reply goes to the inbound SMS topic and through receive-sms, so "1 CODE" and
 * "0 CODE" follow the same rules as the HTTP routes and as replies on SNS districts.
 */
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signProviderBody } from '../../shared/domain/signature.ts';
import { smsScenario } from './support/sms-scenario.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

let stack: TestStack;
let partnerKey = '';

beforeAll(async () => {
  // A district like tongzhou: SMS out through a domestic HTTPS provider (recorded by the
  // local outbox all the same), replies in through its webhook; no push.
  stack = await startTestStack({
    region: 'cn-north-1',
    sms: { provider: 'https', httpsEndpoint: 'https://sms-provider.replace-me.invalid/send' },
    offers: { timeoutSeconds: 120, batchSize: 3 },
  });
  partnerKey = (
    await stack.api('POST', '/v1/partners', { key: stack.opsKey, body: { name: '短信平台' } })
  ).body.apiKey;
});
afterAll(() => stack?.stop());

const { newPhone, newSkill, to, volunteer, post, offerCode, answer, status } = smsScenario(
  () => ({ stack, partnerKey }),
  {
    phonePrefix: '+86136',
    prefix: 'hook',
    address: '东河小区7号楼2单元501',
    requesterName: '钱奶奶',
  },
);

/** The provider delivering a reply: the body signed with `secret` at `timestamp`. */
function webhook(
  from: string,
  text: string,
  {
    secret = stack.local.smsProviderSecret,
    timestamp = Math.floor(Date.now() / 1000),
    receivedAt = new Date().toISOString(),
  } = {},
) {
  const body = JSON.stringify({ from, text, receivedAt });
  return stack.api('POST', '/v1/sms/replies', {
    body,
    headers: {
      'x-timestamp': String(timestamp),
      'x-signature': signProviderBody(secret, timestamp, body),
    },
  });
}

const openOffers = async (token: string, requestId: string) =>
  (await stack.api('GET', '/v1/volunteers/me/offers', { key: token })).body.offers.filter(
    (o: { requestId: string }) => o.requestId === requestId,
  );

describe('reply webhook of an HTTPS SMS provider', () => {
  it('"1 CODE" accepts the offer as the HTTP route does and answers with the address', async () => {
    const skill = newSkill();
    const v = await volunteer(skill);
    const id = await post(skill);
    const code = await offerCode(v.phone);

    const res = await webhook(v.phone, `1 ${code}`);
    expect(res.status).toBe(202);
    expect(res.body.inboundMessageId).toMatch(/^https-/);

    const ok = await answer(v.phone, /接单成功/);
    expect(ok.message).toContain('东河小区7号楼2单元501');
    const r = await stack.waitFor(async () => {
      const b = await status(id);
      return b.status === 'matched' && b;
    });
    expect(r.tasks).toEqual([expect.objectContaining({ volunteerId: v.id, status: 'accepted' })]);
  });

  it('"0 CODE" declines: the offer closes', async () => {
    const skill = newSkill();
    const v = await volunteer(skill);
    const id = await post(skill);
    const code = await offerCode(v.phone);
    expect(await openOffers(v.token, id)).toHaveLength(1);

    expect((await webhook(v.phone, `0 ${code}`)).status).toBe(202);
    await answer(v.phone, /本单不接/);
    expect(await openOffers(v.token, id)).toEqual([]);
    expect((await status(id)).status).toBe('received');
  });

  it('an unknown code gets the clear "unknown or stale" answer and changes nothing', async () => {
    const skill = newSkill();
    const v = await volunteer(skill);
    const id = await post(skill);
    await offerCode(v.phone);

    expect((await webhook(v.phone, '1 QQQQ')).status).toBe(202);
    await answer(v.phone, /未识别或已失效的回复/);
    expect((await status(id)).status).toBe('received');
    expect(await openOffers(v.token, id)).toHaveLength(1);
  });

  it('the provider retrying the same call: applied and answered once', async () => {
    const skill = newSkill();
    const v = await volunteer(skill);
    await post(skill);
    const code = await offerCode(v.phone);
    const receivedAt = new Date().toISOString();

    const first = await webhook(v.phone, `1 ${code}`, { receivedAt });
    const retry = await webhook(v.phone, `1 ${code}`, { receivedAt });
    expect(retry.body.inboundMessageId).toBe(first.body.inboundMessageId);
    await answer(v.phone, /接单成功/);
    // A later reply from the same phone is answered: both retries had their turn by then.
    await webhook(v.phone, 'hello', {});
    await answer(v.phone, /未识别或已失效的回复/);
    expect(to(v.phone).filter((n) => /接单成功/.test(n.message))).toHaveLength(1);
  });

  it('a bad or stale signature is 401 and changes nothing', async () => {
    const skill = newSkill();
    const v = await volunteer(skill);
    const id = await post(skill);
    const code = await offerCode(v.phone);
    const sent = to(v.phone).length;

    const forged = await webhook(v.phone, `1 ${code}`, { secret: 'guessed-secret' });
    expect(forged.status).toBe(401);
    expect(forged.body).toEqual({
      error: { code: 'unauthorized', message: 'X-Signature: does not match' },
    });
    const stale = await webhook(v.phone, `1 ${code}`, {
      timestamp: Math.floor(Date.now() / 1000) - 6 * 60,
    });
    expect(stale.status).toBe(401);
    expect(stale.body.error.message).toMatch(/X-Timestamp/);
    const unsigned = await stack.api('POST', '/v1/sms/replies', {
      body: { from: v.phone, text: `1 ${code}`, receivedAt: new Date().toISOString() },
    });
    expect(unsigned.status).toBe(401);

    // A signed reply from another phone, sent after them, is answered: had the refused
    // calls reached the inbound topic, they would have been handled by now too.
    const witness = newPhone();
    expect((await webhook(witness, 'ok')).status).toBe(202);
    await answer(witness, /未识别或已失效的回复/);
    expect(to(v.phone)).toHaveLength(sent);
    expect((await status(id)).status).toBe('received');
    expect(await openOffers(v.token, id)).toHaveLength(1);
  });

  it('a signed body with an unknown field is 400 naming it', async () => {
    const body = JSON.stringify({
      from: newPhone(),
      text: '1 ABCD',
      receivedAt: new Date().toISOString(),
      sign: 'x',
    });
    const timestamp = Math.floor(Date.now() / 1000);
    const res = await stack.api('POST', '/v1/sms/replies', {
      body,
      headers: {
        'x-timestamp': String(timestamp),
        'x-signature': signProviderBody(stack.local.smsProviderSecret, timestamp, body),
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/^sign: unknown field/);
  });
});

describe('no push in an HTTPS-provider district', () => {
  const endpoint = 'arn:aws-cn:sns:cn-north-1:210987654321:endpoint/GCM/app/stored-before';

  it('registering or patching a volunteer with a pushEndpoint is 400 naming it', async () => {
    const phone = newPhone();
    const body = { name: '推送志愿者', phone, communityId: 'east-river', pushEndpoint: endpoint };
    const registered = await stack.api('POST', '/v1/volunteers', { key: stack.opsKey, body });
    expect(registered.status).toBe(400);
    expect(registered.body.error).toMatchObject({
      code: 'push_unavailable',
      message: expect.stringMatching(/^pushEndpoint: .*reached by SMS/),
    });

    const v = await volunteer(newSkill());
    const patched = await stack.api('PATCH', `/v1/volunteers/${v.id}`, {
      key: v.token,
      body: { pushEndpoint: endpoint },
    });
    expect(patched.status).toBe(400);
    expect(patched.body.error.message).toMatch(/^pushEndpoint: /);
  });

  it('a volunteer stored with an endpoint before is offered by SMS with a reply code, never by push', async () => {
    const skill = newSkill();
    const v = await volunteer(skill);
    // As a volunteer registered before endpoints were refused: the endpoint on the volunteer
    // and on the availability entry matching reads.
    for (const sk of ['VOL', `AVAIL#${skill}`]) {
      await stack.local.clients.dynamodb.send(
        new UpdateItemCommand({
          TableName: stack.local.tableName,
          Key: { pk: { S: `VOL#${v.id}` }, sk: { S: sk } },
          UpdateExpression: 'SET pushEndpoint = :e',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':e': { S: endpoint } },
        }),
      );
    }

    const id = await post(skill);
    const code = await offerCode(v.phone);
    expect((await webhook(v.phone, `1 ${code}`)).status).toBe(202);
    await answer(v.phone, /接单成功/);
    await stack.waitFor(async () => (await status(id)).status === 'matched');

    expect(stack.outbox().filter((n) => n.channel === 'push')).toEqual([]);
    const { queues } = (await stack.api('GET', '/local/queues')).body;
    expect(queues.notify.dlq.visible).toBe(0);
  });
});
