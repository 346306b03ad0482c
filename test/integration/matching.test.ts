import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchActors } from './support/dispatch.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

/**
 * Matching on the real local stack, with offers that expire in 2 s and two offers per
 * open slot, so expiry, re-offer and escalation happen within a test.
 */
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    offers: { timeoutSeconds: 2, batchSize: 2 },
    kinds: {
      site_duty: { preferCategories: ['party_member'], requireCredentials: ['negative_test'] },
    },
  });
});
afterAll(() => stack?.stop());

const { volunteer, post, offers } = dispatchActors(() => stack, {
  phonePrefix: '+86137',
  keyPrefix: 'm',
});

async function partner() {
  const res = await stack.api('POST', '/v1/partners', {
    key: stack.opsKey,
    body: { name: 'hotline' },
  });
  return res.body.apiKey as string;
}

const offerFor = (token: string, requestId: string, timeoutMs = 15_000) =>
  stack.waitFor(async () => (await offers(token)).find((o) => o.requestId === requestId), {
    timeoutMs,
  });

async function request(key: string, id: string) {
  return (await stack.api('GET', `/v1/requests/${id}`, { key })).body;
}

/** Gives matching time to run, then checks a volunteer got no offer for the request. */
async function expectNoOffer(token: string, requestId: string, settleMs = 1500) {
  await new Promise((r) => setTimeout(r, settleMs));
  expect((await offers(token)).some((o) => o.requestId === requestId)).toBe(false);
}

describe('who gets an offer', () => {
  it('offers only volunteers with every listed skill, on duty, with free capacity', async () => {
    const key = await partner();
    const skilled = await volunteer('east-garden', { skills: ['medic', 'driver'] });
    const halfSkilled = await volunteer('east-garden', { skills: ['medic'] });
    const offDuty = await volunteer('east-garden', { skills: ['medic', 'driver'], onDuty: false });
    const id = await post(key, {
      communityId: 'east-garden',
      skills: ['medic', 'driver'],
      kind: 'medicine',
    });
    await offerFor(skilled.token, id);
    await expectNoOffer(halfSkilled.token, id, 200);
    await expectNoOffer(offDuty.token, id, 200);
  });

  it('stops offering a volunteer whose accepted tasks reach their capacity', async () => {
    const key = await partner();
    const v = await volunteer('east-river', { capacity: 1, skills: ['cap'] });
    const first = await post(key, { communityId: 'east-river', skills: ['cap'] });
    const offer = await offerFor(v.token, first);
    expect(
      (await stack.api('POST', `/v1/offers/${offer.offerId}/accept`, { key: v.token })).status,
    ).toBe(200);
    const second = await post(key, { communityId: 'east-river', skills: ['cap'] });
    await expectNoOffer(v.token, second);
  });

  it('withdraws the open offers of a volunteer who goes off duty', async () => {
    const key = await partner();
    const v = await volunteer('west-lake', { skills: ['duty'] });
    const id = await post(key, { communityId: 'west-lake', skills: ['duty'] });
    await offerFor(v.token, id);
    // Registered after the offer: only the re-match of the withdrawn offer's request offers it.
    const w = await volunteer('west-lake', { skills: ['duty'] });
    const patched = await stack.api('PATCH', `/v1/volunteers/${v.id}`, {
      key: v.token,
      body: { onDuty: false },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.onDuty).toBe(false);
    await stack.waitFor(async () => ((await offers(v.token)).length === 0 ? true : undefined));
    await offerFor(w.token, id);
    // The withdrawn offer keeps its inbox entry (for a retried off-duty event); the
    // volunteer's service record, read from the same inbox, leaves it out.
    const record = await stack.api('GET', `/v1/volunteers/${v.id}/record`, { key: v.token });
    expect(record.status).toBe(200);
    expect(record.body.tasks).toEqual([]);
    // Going off duty again (a client's retry) queues the event again: it changes nothing.
    const again = await stack.api('PATCH', `/v1/volunteers/${v.id}`, {
      key: v.token,
      body: { onDuty: false },
    });
    expect(again.status).toBe(200);
    await new Promise((r) => setTimeout(r, 500));
    expect((await offers(w.token)).filter((o) => o.requestId === id)).toHaveLength(1);
  });

  it('requires an unexpired credential for site duty and prefers party members', async () => {
    const key = await partner();
    const plain = await volunteer('west-hill', { skills: ['site'] });
    const party = await volunteer('west-hill', { skills: ['site'], categories: ['party_member'] });
    const stale = await volunteer('west-hill', { skills: ['site'], categories: ['party_member'] });
    const hour = 3600_000;
    for (const [v, until] of [
      [plain, Date.now() + 48 * hour],
      [party, Date.now() + 48 * hour],
      [stale, Date.now() - hour],
    ] as const) {
      const res = await stack.api('POST', `/v1/volunteers/${v.id}/credentials`, {
        key: stack.opsKey,
        body: { type: 'negative_test', expiresAt: new Date(until).toISOString() },
      });
      expect(res.status).toBe(200);
    }
    // One slot, two offers at a time: both credentialed volunteers, never the stale one.
    const id = await post(key, { communityId: 'west-hill', kind: 'site_duty', skills: ['site'] });
    await offerFor(party.token, id);
    await offerFor(plain.token, id);
    await expectNoOffer(stale.token, id, 200);
  });
});

describe('decline, expiry and escalation', () => {
  it('offers the next volunteer when one declines', async () => {
    const key = await partner();
    const a = await volunteer('east-garden', { skills: ['decl'] });
    const b = await volunteer('east-garden', { skills: ['decl'] });
    const c = await volunteer('east-garden', { skills: ['decl'] });
    const id = await post(key, { communityId: 'east-garden', skills: ['decl'] });
    // Two offers at a time: wait until two of the three hold one.
    const holders = await stack.waitFor(async () => {
      const held = [];
      for (const v of [a, b, c]) {
        const o = (await offers(v.token)).find((x) => x.requestId === id);
        if (o) held.push({ v, o });
      }
      return held.length === 2 ? held : undefined;
    });
    const waiting = [a, b, c].find((v) => !holders.some((h) => h.v === v))!;
    const declined = await stack.api('POST', `/v1/offers/${holders[0].o.offerId}/decline`, {
      key: holders[0].v.token,
    });
    expect(declined.status).toBe(200);
    await offerFor(waiting.token, id);
    expect((await offers(holders[0].v.token)).some((o) => o.requestId === id)).toBe(false);
  });

  it('a batch nobody answers expires by one timer: each offer expired and noted once, then the next volunteers are offered under the town scope', async () => {
    const key = await partner();
    const skill = `batch-${Date.now() % 100000}`;
    const vs = await Promise.all(
      [0, 1, 2, 3].map(() => volunteer('west-hill', { skills: [skill] })),
    );
    const id = await post(key, { communityId: 'west-hill', skills: [skill] });
    // Two offers per slot: a batch of two, then (after it expires) the other two.
    const firstBatch = await stack.waitFor(async () => {
      const holders = [];
      for (const v of vs)
        if ((await offers(v.token)).some((o) => o.requestId === id)) holders.push(v);
      return holders.length === 2 ? holders : undefined;
    });
    const rest = vs.filter((v) => !firstBatch.includes(v));
    for (const v of rest) await offerFor(v.token, id);
    const r = await request(key, id);
    const expired = r.history
      .filter((h: { event?: string }) => h.event === 'offer_expired')
      .map((h: { volunteerId: string }) => h.volunteerId);
    expect(expired.filter((v: string) => firstBatch.some((f) => f.id === v)).sort()).toEqual(
      firstBatch.map((f) => f.id).sort(),
    );
    // The community's batch went unanswered: the rest were offered from the town scope.
    expect(r.history).toContainEqual(
      expect.objectContaining({ event: 'scope_widened', from: 'community', to: 'town' }),
    );
  });

  it('a community batch that expires unanswered widens to the town at once, and the community’s other volunteers are still offered first', async () => {
    const key = await partner();
    const skill = `wide-${Date.now() % 100000}`;
    // east-river comes after east-garden in its town's config, and east-garden alone has
    // enough volunteers for matching to stop reading: the town's search must start at home.
    const home = await Promise.all(
      [0, 1, 2, 3].map(() => volunteer('east-river', { skills: [skill] })),
    );
    const neighbours = await Promise.all(
      [0, 1, 2, 3].map(() => volunteer('east-garden', { skills: [skill] })),
    );
    const id = await post(key, { communityId: 'east-river', skills: [skill] });
    type Actor = (typeof home)[number];
    const holding = async (vs: Actor[]) => {
      const held = [];
      for (const v of vs) {
        const o = (await offers(v.token)).find((x) => x.requestId === id);
        if (o) held.push({ v, o });
      }
      return held;
    };
    // Two offers per slot: two of the community, left unanswered until they expire.
    const firstBatch = await stack.waitFor(async () => {
      const held = await holding(home);
      return held.length === 2 ? held : undefined;
    });
    const rest = home.filter((v) => !firstBatch.some((h) => h.v === v));
    const second = await stack.waitFor(async () => {
      const held = await holding(rest);
      return held.length === 2 ? held : undefined;
    });
    const accepted = await stack.api('POST', `/v1/offers/${second[0].o.offerId}/accept`, {
      key: second[0].v.token,
    });
    expect(accepted.status).toBe(200);

    const r = await request(key, id);
    expect(r.status).toBe('matched');
    expect(r.scope).toBe('town');
    const events = r.history.filter((h: { event?: string }) => h.event) as {
      event: string;
      volunteerId?: string;
      from?: string;
      to?: string;
    }[];
    const widened = events.findIndex((e) => e.event === 'scope_widened');
    expect(events[widened]).toMatchObject({ from: 'community', to: 'town' });
    // Widened right after the first batch expired: no second batch in the community.
    expect(
      events
        .slice(0, widened)
        .filter((e) => e.event === 'offer_expired')
        .map((e) => e.volunteerId)
        .sort(),
    ).toEqual(firstBatch.map((h) => h.v.id).sort());
    expect(events.filter((e) => e.event === 'scope_widened')).toHaveLength(1);
    // The town's offers went to the community's other volunteers, none to its neighbours.
    await new Promise((done) => setTimeout(done, 1000));
    const neighbourPhones = new Set(neighbours.map((v) => v.phone));
    expect(stack.outbox().filter((n) => neighbourPhones.has(n.to))).toEqual([]);
  });

  it('widens community → town → district when offers expire, then alerts ops', async () => {
    const key = await partner();
    const town = await volunteer('east-river', { skills: ['esc'] });
    const district = await volunteer('west-hill', { skills: ['esc'] });
    // Nobody in east-garden has the skill: widen to the town at once.
    const id = await post(key, { communityId: 'east-garden', skills: ['esc'] });
    await offerFor(town.token, id);
    // The town's offer expires unanswered: widen to the district.
    await offerFor(district.token, id);
    // The district's offer expires too: ops are alerted for manual dispatch.
    const alert = await stack.waitFor(
      async () => (await stack.alerts()).find((a) => JSON.stringify(a).includes(id)),
      { timeoutMs: 20_000 },
    );
    expect(JSON.stringify(alert)).toContain('人工派单');
    const r = await request(key, id);
    expect(r.status).toBe('received');
    expect(r.waitingForDispatch).toBe(true);
    const events = r.history
      .filter((h: { event?: string }) => h.event)
      .map((h: { event: string }) => h.event);
    expect(events).toEqual(
      expect.arrayContaining(['scope_widened', 'offer_expired', 'waiting_for_dispatch']),
    );
    const widenings = r.history.filter((h: { event?: string }) => h.event === 'scope_widened');
    expect(widenings.map((w: { to: string }) => w.to)).toEqual(['town', 'district']);
  });

  it('expires a request whose window ends with slots open, and tells ops', async () => {
    const key = await partner();
    const start = new Date(Date.now() - 60_000).toISOString();
    const end = new Date(Date.now() + 2_000).toISOString();
    const id = await post(key, {
      communityId: 'east-garden',
      skills: ['nobody-has-this'],
      window: { start, end },
    });
    const r = await stack.waitFor(
      async () => {
        const body = await request(key, id);
        return body.status === 'expired' ? body : undefined;
      },
      { timeoutMs: 20_000 },
    );
    expect(r.history.at(-1)).toMatchObject({ status: 'expired' });
    await stack.waitFor(async () =>
      (await stack.alerts()).find(
        (a) => JSON.stringify(a).includes(`过期`) && JSON.stringify(a).includes(id),
      ),
    );
  });
});

describe('manual dispatch', () => {
  it('assigns any registered volunteer, even off duty, and races an accept for the last slot', async () => {
    const key = await partner();
    const grabber = await volunteer('west-lake', { skills: ['race'] });
    const offDuty = await volunteer('west-lake', { onDuty: false });
    const id = await post(key, { communityId: 'west-lake', skills: ['race'] });
    const offer = await offerFor(grabber.token, id);
    const [accept, assign] = await Promise.all([
      stack.api('POST', `/v1/offers/${offer.offerId}/accept`, { key: grabber.token }),
      stack.api('POST', `/v1/requests/${id}/assign`, {
        key: stack.opsKey,
        body: { volunteerId: offDuty.id },
      }),
    ]);
    expect([accept.status, assign.status].sort()).toEqual([200, 409]);
    const r = await request(key, id);
    expect(r.status).toBe('matched');
    expect(r.tasks).toHaveLength(1);
    if (assign.status === 200) {
      expect(r.history.some((h: { event?: string }) => h.event === 'manual_dispatch')).toBe(true);
    }
    const again = await stack.api('POST', `/v1/requests/${id}/assign`, {
      key: stack.opsKey,
      body: { volunteerId: offDuty.id },
    });
    expect(again.status).toBe(409);
  });

  it('cancel withdraws open offers and tells the assigned volunteer', async () => {
    const key = await partner();
    const a = await volunteer('east-river', { skills: ['multi'] });
    const b = await volunteer('east-river', { skills: ['multi'] });
    const id = await post(key, { communityId: 'east-river', skills: ['multi'], slots: 2 });
    const oa = await offerFor(a.token, id);
    await offerFor(b.token, id);
    expect(
      (await stack.api('POST', `/v1/offers/${oa.offerId}/accept`, { key: a.token })).status,
    ).toBe(200);
    expect((await stack.api('POST', `/v1/requests/${id}/cancel`, { key })).status).toBe(200);
    await stack.waitFor(async () => ((await offers(b.token)).length === 0 ? true : undefined));
    const told = await stack.waitFor(() =>
      stack.outbox().find((n) => n.to === a.phone && n.message.includes('已取消')),
    );
    expect(told.channel).toBe('sms');
  });
});
