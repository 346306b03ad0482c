import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.ts';

let stack: TestStack;
const OPS = { key: '' };

beforeAll(async () => {
  stack = await startTestStack();
  OPS.key = stack.opsKey;
});
afterAll(() => stack?.stop());

let phoneSeq = 0;
const newPhone = () =>
  `+86139${String(Date.now() % 100000).padStart(5, '0')}${String(phoneSeq++).padStart(3, '0')}`;

async function partner(): Promise<string> {
  const res = await stack.api('POST', '/v1/partners', { key: OPS.key, body: { name: '社区通' } });
  expect(res.status).toBe(201);
  return res.body.apiKey;
}

async function volunteer(communityId: string, extra: Record<string, unknown> = {}) {
  const phone = newPhone();
  const res = await stack.api('POST', '/v1/volunteers', {
    key: OPS.key,
    body: { name: `志愿者${phoneSeq}`, phone, communityId, ...extra },
  });
  expect(res.status).toBe(201);
  return { id: res.body.volunteerId as string, token: res.body.token as string, phone };
}

let keySeq = 0;
async function post(
  key: string,
  body: Record<string, unknown>,
  idem = `k-${Date.now()}-${keySeq++}`,
) {
  return stack.api('POST', '/v1/requests', { key, body, headers: { 'idempotency-key': idem } });
}

const groceries = (communityId: string, extra: Record<string, unknown> = {}) => ({
  kind: 'groceries',
  communityId,
  address: '东园小区3号楼2单元501',
  requester: { name: '王奶奶', phone: '+8613800138000' },
  notes: '米一袋，鸡蛋两斤',
  ...extra,
});

async function offersOf(token: string) {
  const res = await stack.api('GET', '/v1/volunteers/me/offers', { key: token });
  expect(res.status).toBe(200);
  return res.body.offers as { offerId: string; requestId: string }[];
}

async function offerFor(token: string, requestId: string) {
  return stack.waitFor(async () => (await offersOf(token)).find((o) => o.requestId === requestId));
}

async function getRequest(key: string, id: string) {
  return stack.api('GET', `/v1/requests/${id}`, { key });
}

describe('a request from post to confirm', () => {
  it('moves received → matched → delivered → confirmed, telling each person in Chinese', async () => {
    const key = await partner();
    const v1 = await volunteer('east-garden');
    const v2 = await volunteer('east-garden');

    const posted = await post(key, groceries('east-garden'));
    expect(posted.status).toBe(202);
    expect(posted.body.status).toBe('received');
    const id = posted.body.requestId as string;

    const offer1 = await offerFor(v1.token, id);
    const offer2 = await offerFor(v2.token, id);
    expect(JSON.stringify(await offersOf(v1.token))).not.toContain('东园小区');

    const offerSms = await stack.waitFor(() =>
      stack.outbox().find((n) => n.to === v1.phone && n.channel === 'sms'),
    );
    expect(offerSms.message).toContain('代购生活物资');
    expect(offerSms.message).not.toContain('东园小区');

    const accepted = await stack.api('POST', `/v1/offers/${offer1.offerId}/accept`, {
      key: v1.token,
    });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({
      requestId: id,
      address: '东园小区3号楼2单元501',
      requester: { name: '王奶奶', phone: '+8613800138000' },
    });

    const late = await stack.api('POST', `/v1/offers/${offer2.offerId}/accept`, { key: v2.token });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('offer_taken');

    const matched = await getRequest(key, id);
    expect(matched.body.status).toBe('matched');
    expect(matched.body.tasks).toEqual([
      expect.objectContaining({
        taskId: accepted.body.taskId,
        volunteerId: v1.id,
        status: 'accepted',
      }),
    ]);

    const told = await stack.waitFor(() =>
      stack.outbox().find((n) => n.to === '+8613800138000' && n.message.includes('接单')),
    );
    expect(told.channel).toBe('sms');
    // The filled request's other offer is withdrawn.
    await stack.waitFor(async () => (await offersOf(v2.token)).length === 0 || undefined);

    const early = await stack.api('POST', `/v1/requests/${id}/confirm`, { key });
    expect(early.status).toBe(409);

    const done = await stack.api('POST', `/v1/tasks/${accepted.body.taskId}/delivered`, {
      key: v1.token,
      body: { note: '已放门口' },
    });
    expect(done.status).toBe(200);
    expect(done.body.status).toBe('delivered');
    expect((await getRequest(key, id)).body.status).toBe('delivered');

    const atDoor = await stack.waitFor(() =>
      stack.outbox().find((n) => n.to === '+8613800138000' && n.message.includes('门口')),
    );
    expect(atDoor.message).toContain('开门取物');

    const cancelLate = await stack.api('POST', `/v1/requests/${id}/cancel`, { key });
    expect(cancelLate.status).toBe(409);

    const confirmed = await stack.api('POST', `/v1/requests/${id}/confirm`, { key });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.status).toBe('confirmed');
    const again = await stack.api('POST', `/v1/requests/${id}/confirm`, { key });
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('confirmed');

    const final = await getRequest(key, id);
    const statuses = final.body.history
      .filter((h: { status?: string }) => h.status)
      .map((h: { status: string }) => h.status);
    expect(statuses).toEqual(['received', 'matched', 'delivered', 'confirmed']);
    for (const h of final.body.history) expect(Date.parse(h.at)).not.toBeNaN();
  });
});

describe('cancel', () => {
  it('withdraws open offers and is 200 again on a cancelled request', async () => {
    const key = await partner();
    const v = await volunteer('west-lake');
    const id = (await post(key, groceries('west-lake'))).body.requestId;
    await offerFor(v.token, id);

    const cancelled = await stack.api('POST', `/v1/requests/${id}/cancel`, { key });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    await stack.waitFor(async () => (await offersOf(v.token)).length === 0 || undefined);

    const again = await stack.api('POST', `/v1/requests/${id}/cancel`, { key });
    expect(again.status).toBe(200);
    const confirm = await stack.api('POST', `/v1/requests/${id}/confirm`, { key });
    expect(confirm.status).toBe(409);
    expect((await getRequest(key, id)).body.status).toBe('cancelled');
  });

  it('frees the assigned volunteer and tells them', async () => {
    const key = await partner();
    const v = await volunteer('west-hill', { capacity: 1 });
    const id = (await post(key, groceries('west-hill'))).body.requestId;
    const offer = await offerFor(v.token, id);
    const accepted = await stack.api('POST', `/v1/offers/${offer.offerId}/accept`, {
      key: v.token,
    });
    expect(accepted.status).toBe(200);

    expect((await stack.api('POST', `/v1/requests/${id}/cancel`, { key })).status).toBe(200);
    const notice = await stack.waitFor(() =>
      stack.outbox().find((n) => n.to === v.phone && n.message.includes('已取消')),
    );
    expect(notice.message).toContain('无需前往');
    // With capacity 1, the volunteer gets the next request only once freed.
    const next = (await post(key, groceries('west-hill'))).body.requestId;
    expect((await offerFor(v.token, next)).requestId).toBe(next);
  });
});

describe('idempotency and ownership', () => {
  it('returns the first answer for the same key and body, 409 for another body', async () => {
    const key = await partner();
    const first = await post(key, groceries('east-river'), 'same-key');
    const second = await post(key, groceries('east-river'), 'same-key');
    expect(second.status).toBe(202);
    expect(second.body.requestId).toBe(first.body.requestId);
    const other = await post(key, groceries('east-river', { notes: '换成药' }), 'same-key');
    expect(other.status).toBe(409);
  });

  it('hides a partner’s request from another partner (404)', async () => {
    const a = await partner();
    const b = await partner();
    const id = (await post(a, groceries('east-river'))).body.requestId;
    expect((await getRequest(a, id)).status).toBe(200);
    const res = await getRequest(b, id);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
    expect((await stack.api('POST', `/v1/requests/${id}/cancel`, { key: b })).status).toBe(404);
  });

  it('rejects a missing key (401) and the wrong kind of key (403)', async () => {
    const v = await volunteer('east-river');
    expect((await stack.api('POST', '/v1/partners', { body: { name: 'x' } })).status).toBe(401);
    const wrong = await stack.api('POST', '/v1/partners', { key: v.token, body: { name: 'x' } });
    expect(wrong.status).toBe(403);
    expect(wrong.body.error.code).toBe('forbidden');
  });

  it('names the field of bad input and writes nothing', async () => {
    const key = await partner();
    const bad = await post(key, groceries('no-such-community'), 'fix-me');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('communityId');
    const phone = await post(
      key,
      groceries('east-river', { requester: { name: '李', phone: '138' } }),
      'fix-me',
    );
    expect(phone.status).toBe(400);
    expect(phone.body.error.message).toContain('requester.phone');
    // A rejected request can be corrected and sent again with the same key.
    const fixed = await post(key, groceries('east-river'), 'fix-me');
    expect(fixed.status).toBe(202);
  });
});

describe('grabbing the last slots', () => {
  it('lets exactly N of many concurrent accepts win a request with N slots', async () => {
    const key = await partner();
    const vs = await Promise.all(
      [1, 2, 3, 4, 5].map(() => volunteer('east-river', { skills: ['driver'] })),
    );
    const id = (await post(key, groceries('east-river', { slots: 2, skills: ['driver'] }))).body
      .requestId;
    const offers = await Promise.all(vs.map((v) => offerFor(v.token, id)));
    const results = await Promise.all(
      offers.map((o, i) =>
        stack.api('POST', `/v1/offers/${o.offerId}/accept`, { key: vs[i].token }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 409, 409, 409]);
    for (const r of results.filter((x) => x.status === 409)) {
      expect(r.body.error.code).toBe('offer_taken');
    }
    const request = await getRequest(key, id);
    expect(request.body.status).toBe('matched');
    expect(request.body.tasks).toHaveLength(2);
  });
});
