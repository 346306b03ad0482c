/**
 * What the two-way SMS tests share: skilled volunteers in east-river, medicine requests
 * that need their skill, and the SMS each of them got. The stack and partner key are read
 * when a helper runs, so a test file can build them in its beforeAll.
 */
import { expect } from 'vitest';
import type { TestStack } from './stack.ts';

export interface SmsScenarioOptions {
  /** Prefix of generated phone numbers (keeps each file's numbers apart). */
  phonePrefix: string;
  /** Prefix of generated skills and idempotency keys. */
  prefix: string;
  address: string;
  requesterName: string;
}

export function smsScenario(
  context: () => { stack: TestStack; partnerKey: string },
  o: SmsScenarioOptions,
) {
  let seq = 0;
  const stack = () => context().stack;
  const newPhone = () =>
    `${o.phonePrefix}${String(Date.now() % 100000).padStart(5, '0')}${String(seq++).padStart(3, '0')}`;
  const newSkill = () => `${o.prefix}-${seq++}-${Date.now() % 100000}`;
  const to = (phone: string) =>
    stack()
      .outbox()
      .filter((n) => n.to === phone);

  async function volunteer(skill: string) {
    const phone = newPhone();
    const res = await stack().api('POST', '/v1/volunteers', {
      key: stack().opsKey,
      body: { name: '短信志愿者', phone, communityId: 'east-river', skills: [skill] },
    });
    expect(res.status).toBe(201);
    return { id: res.body.volunteerId as string, token: res.body.token as string, phone };
  }

  async function post(skill: string, requesterPhone = newPhone()) {
    const res = await stack().api('POST', '/v1/requests', {
      key: context().partnerKey,
      headers: { 'idempotency-key': `${o.prefix}-${seq++}-${Date.now()}` },
      body: {
        kind: 'medicine',
        communityId: 'east-river',
        address: o.address,
        requester: { name: o.requesterName, phone: requesterPhone },
        skills: [skill],
      },
    });
    expect(res.status).toBe(202);
    return res.body.requestId as string;
  }

  /** The reply code in the offer SMS a volunteer got. */
  async function offerCode(phone: string): Promise<string> {
    const sms = await stack().waitFor(() =>
      to(phone).find((n) => /“1 [A-Z2-9]{4}”/.test(n.message)),
    );
    return /“1 ([A-Z2-9]{4})”/.exec(sms.message)![1];
  }

  const answer = (phone: string, pattern: RegExp) =>
    stack().waitFor(() => to(phone).find((n) => pattern.test(n.message)));
  const status = async (id: string) =>
    (await stack().api('GET', `/v1/requests/${id}`, { key: context().partnerKey })).body;

  return { newPhone, newSkill, to, volunteer, post, offerCode, answer, status };
}
