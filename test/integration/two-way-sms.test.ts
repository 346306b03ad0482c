/**
 * Two-way SMS on the local stack: a volunteer answers an offer SMS with "1 CODE" or
 * "0 CODE" through the inbound SMS topic, handled by the same accept/decline services as
 * the HTTP routes (so an SMS accept racing an HTTP accept of the last slot has exactly
 * one winner); unknown or stale replies get a clear answer; a resident confirms a
 * door-drop delivery with "9 CODE" as the partner's confirm route would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smsScenario } from './support/sms-scenario.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

let stack: TestStack;
let partnerKey = '';

beforeAll(async () => {
  stack = await startTestStack({ offers: { timeoutSeconds: 120, batchSize: 3 } });
  partnerKey = (
    await stack.api('POST', '/v1/partners', { key: stack.opsKey, body: { name: '双向短信' } })
  ).body.apiKey;
});
afterAll(() => stack?.stop());

const { newPhone, newSkill, volunteer, post, offerCode, answer, status } = smsScenario(
  () => ({ stack, partnerKey }),
  {
    phonePrefix: '+86134',
    prefix: 'sms',
    address: '东河小区5号楼1单元302',
    requesterName: '孙爷爷',
  },
);

const reply = (phone: string, text: string) => stack.local.receiveSms(phone, text);

describe('two-way SMS', () => {
  it('"1 CODE" accepts the offer as the HTTP route does and answers with the address', async () => {
    const skill = newSkill();
    const v = await volunteer(skill);
    const id = await post(skill);
    const code = await offerCode(v.phone);
    await reply(v.phone, `1 ${code.toLowerCase()}`);
    const ok = await answer(v.phone, /接单成功/);
    expect(ok.message).toContain('东河小区5号楼1单元302');
    expect(ok.message).toContain('孙爷爷');
    const r = await stack.waitFor(async () => {
      const b = await status(id);
      return b.status === 'matched' && b;
    });
    expect(r.tasks).toEqual([expect.objectContaining({ volunteerId: v.id, status: 'accepted' })]);
  });

  it('"0 CODE" declines: the offer closes and goes to the next volunteer', async () => {
    const skill = newSkill();
    const v = await volunteer(skill);
    const id = await post(skill);
    const code = await offerCode(v.phone);
    await reply(v.phone, `０ ${code}`); // a full-width digit, as some phones send
    await answer(v.phone, /本单不接/);
    const offers = await stack.api('GET', '/v1/volunteers/me/offers', { key: v.token });
    expect(offers.body.offers.filter((o: { requestId: string }) => o.requestId === id)).toEqual([]);
  });

  it('unknown, malformed or someone else’s code gets a clear answer and changes nothing', async () => {
    const skill = newSkill();
    const v = await volunteer(skill);
    const stranger = newPhone();
    const id = await post(skill);
    const code = await offerCode(v.phone);
    await reply(stranger, `1 ${code}`); // the code is only valid from the phone it went to
    await reply(v.phone, 'ok thanks');
    await answer(stranger, /未识别或已失效的回复/);
    await answer(v.phone, /未识别或已失效的回复/);
    expect((await status(id)).status).toBe('received');
  });

  it('an SMS accept racing an HTTP accept of the last slot: exactly one wins, the other is told', async () => {
    for (let round = 0; round < 3; round++) {
      const skill = newSkill();
      const bySms = await volunteer(skill);
      const byHttp = await volunteer(skill);
      const id = await post(skill);
      const code = await offerCode(bySms.phone);
      const offer = await stack.waitFor(async () => {
        const res = await stack.api('GET', '/v1/volunteers/me/offers', { key: byHttp.token });
        return (res.body.offers as { offerId: string; requestId: string }[]).find(
          (o) => o.requestId === id,
        );
      });
      const [http] = await Promise.all([
        stack.api('POST', `/v1/offers/${offer.offerId}/accept`, { key: byHttp.token }),
        reply(bySms.phone, `1 ${code}`),
      ]);
      const smsAnswer = await answer(bySms.phone, /接单成功|无法处理/);
      const r = await stack.waitFor(async () => {
        const b = await status(id);
        return b.status === 'matched' && b;
      });
      expect(r.tasks).toHaveLength(1);
      if (http.status === 200) {
        expect(r.tasks[0].volunteerId).toBe(byHttp.id);
        expect(smsAnswer.message).toBe(`【社区志愿】${code}无法处理：已被他人接单`);
      } else {
        expect(http.status).toBe(409);
        expect(http.body.error.code).toBe('offer_taken');
        expect(r.tasks[0].volunteerId).toBe(bySms.id);
        expect(smsAnswer.message).toContain('接单成功');
      }
    }
  }, 60_000);

  it('door drop: the resident gets a code with "goods at your door" and "9 CODE" confirms', async () => {
    const skill = newSkill();
    const v = await volunteer(skill);
    const resident = newPhone();
    const id = await post(skill, resident);
    const code = await offerCode(v.phone);
    await reply(v.phone, `1 ${code}`);
    await answer(v.phone, /接单成功/);
    const taskId = (await stack.waitFor(async () => (await status(id)).tasks[0])).taskId;
    const done = await stack.api('POST', `/v1/tasks/${taskId}/delivered`, {
      key: v.token,
      body: { note: '已放门口' },
    });
    expect(done.status).toBe(200);
    const atDoor = await answer(resident, /门口/);
    const confirmCode = /“9 ([A-Z2-9]{4})”/.exec(atDoor.message)?.[1];
    expect(confirmCode).toBeDefined();
    expect(atDoor.message.length).toBeLessThanOrEqual(70);
    // A volunteer cannot confirm with it: the code belongs to the resident's phone.
    await reply(v.phone, `9 ${confirmCode}`);
    await answer(v.phone, /未识别或已失效的回复/);
    expect((await status(id)).status).toBe('delivered');

    await reply(resident, `9 ${confirmCode}`);
    await answer(resident, /已确认收货/);
    const r = await stack.waitFor(async () => {
      const b = await status(id);
      return b.status === 'confirmed' && b;
    });
    expect(r.history.map((h: { status?: string }) => h.status).filter(Boolean)).toEqual([
      'received',
      'matched',
      'delivered',
      'confirmed',
    ]);
  });
});
