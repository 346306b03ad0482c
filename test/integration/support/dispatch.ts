/**
 * The matching tests' actors: volunteers registered by ops, groceries requests posted by
 * a partner, and a volunteer's open offers. The stack is read when a helper runs, so a
 * test file can start it in its beforeAll.
 */
import { expect } from 'vitest';
import type { TestStack } from './stack.ts';

export function dispatchActors(
  stack: () => TestStack,
  o: { phonePrefix: string; keyPrefix: string },
) {
  let seq = 0;
  const phone = () =>
    `${o.phonePrefix}${String(process.pid % 1000).padStart(3, '0')}${String(seq++).padStart(5, '0')}`;

  async function volunteer(communityId: string, extra: Record<string, unknown> = {}) {
    const p = phone();
    const res = await stack().api('POST', '/v1/volunteers', {
      key: stack().opsKey,
      body: { name: '志愿者', phone: p, communityId, ...extra },
    });
    expect(res.status).toBe(201);
    return { id: res.body.volunteerId as string, token: res.body.token as string, phone: p };
  }

  async function post(key: string, body: Record<string, unknown>) {
    const res = await stack().api('POST', '/v1/requests', {
      key,
      body: {
        kind: 'groceries',
        address: '某小区1号楼',
        requester: { name: '张', phone: '+8613800000001' },
        ...body,
      },
      headers: { 'idempotency-key': `${o.keyPrefix}-${seq++}-${Date.now()}` },
    });
    expect(res.status).toBe(202);
    return res.body.requestId as string;
  }

  async function offers(token: string) {
    return (await stack().api('GET', '/v1/volunteers/me/offers', { key: token })).body.offers as {
      offerId: string;
      requestId: string;
    }[];
  }

  return { phone, volunteer, post, offers };
}
