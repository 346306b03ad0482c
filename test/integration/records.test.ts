import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.ts';

let stack: TestStack;
let ops: string;
let partnerKey: string;

beforeAll(async () => {
  stack = await startTestStack();
  ops = stack.opsKey;
  const p = await stack.api('POST', '/v1/partners', { key: ops, body: { name: '社区通' } });
  partnerKey = p.body.apiKey;
});
afterAll(() => stack?.stop());

let seq = 0;
async function volunteer(name: string, phone: string, communityId: string) {
  const res = await stack.api('POST', '/v1/volunteers', {
    key: ops,
    body: { name, phone, communityId },
  });
  expect(res.status).toBe(201);
  return { id: res.body.volunteerId as string, token: res.body.token as string };
}

/** Posts a request, lets ops assign it to the volunteer, who delivers; ops confirm. */
async function served(kind: string, communityId: string, v: { id: string; token: string }) {
  const posted = await stack.api('POST', '/v1/requests', {
    key: partnerKey,
    headers: { 'idempotency-key': `rec-${seq++}` },
    body: {
      kind,
      communityId,
      address: '和平路1号',
      requester: { name: '赵大爷', phone: '+8613800138002' },
    },
  });
  expect(posted.status).toBe(202);
  const id = posted.body.requestId as string;
  const assigned = await stack.api('POST', `/v1/requests/${id}/assign`, {
    key: ops,
    body: { volunteerId: v.id },
  });
  expect(assigned.status).toBe(200);
  const done = await stack.api('POST', `/v1/tasks/${assigned.body.taskId}/delivered`, {
    key: v.token,
  });
  expect(done.status).toBe(200);
  expect((await stack.api('POST', `/v1/requests/${id}/confirm`, { key: partnerKey })).status).toBe(
    200,
  );
  return { requestId: id, taskId: assigned.body.taskId as string };
}

const record = (id: string, key: string) =>
  stack.api('GET', `/v1/volunteers/${id}/record`, { key });

describe('volunteer service records', () => {
  let wang: { id: string; token: string };
  let li: { id: string; token: string };
  let tasks: { requestId: string; taskId: string }[];

  beforeAll(async () => {
    // Off duty: nobody is offered anything; ops dispatch by hand.
    wang = await volunteer('王小明', '+8613911110001', 'east-garden');
    li = await volunteer('=李"红", 二', '+8613911110002', 'west-hill');
    await stack.api('PATCH', `/v1/volunteers/${wang.id}`, { key: ops, body: { onDuty: false } });
    await stack.api('PATCH', `/v1/volunteers/${li.id}`, { key: ops, body: { onDuty: false } });
    tasks = [
      await served('groceries', 'east-garden', wang),
      await served('site_duty', 'east-river', wang),
      await served('haircut', 'west-hill', li), // no points configured for haircut
    ];
    await stack.waitFor(async () => (await record(li.id, ops)).body.tasksCredited === 1);
    await stack.waitFor(async () => (await record(wang.id, ops)).body.tasksCredited === 2);
  });

  it('lists the tasks, minutes and points of a volunteer to ops and to that volunteer', async () => {
    const res = await record(wang.id, ops);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      volunteerId: wang.id,
      name: '王小明',
      communityId: 'east-garden',
      serviceMinutes: 2,
      points: 10 + 30,
      tasksDelivered: 2,
      tasksCredited: 2,
    });
    expect(res.body.tasks.map((t: { taskId: string }) => t.taskId).sort()).toEqual(
      [tasks[0].taskId, tasks[1].taskId].sort(),
    );
    for (const t of res.body.tasks) {
      expect(t).toMatchObject({ status: 'delivered', via: 'ops', credited: true, minutes: 1 });
    }
    const own = await record(wang.id, wang.token);
    expect(own.status).toBe(200);
    expect(own.body).toEqual(res.body);
  });

  it("is 404 for another volunteer's record, 404 for an unknown one, 403 for a partner", async () => {
    expect((await record(wang.id, li.token)).status).toBe(404);
    expect((await record('vol_0000000000000000', ops)).status).toBe(404);
    expect((await record(wang.id, partnerKey)).status).toBe(403);
  });

  it('exports the period as CSV for certificates, one row per volunteer, phones masked', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const res = await stack.api('GET', `/v1/records?from=${today}&to=${today}`, { key: ops });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toContain(
      `service-records-${today}-${today}.csv`,
    );
    // UTF-8 with a byte-order mark, so spreadsheet programs show the Chinese names.
    const raw = await fetch(`${stack.url}/v1/records?from=${today}&to=${today}`, {
      headers: { authorization: `Bearer ${ops}` },
    });
    const bytes = new Uint8Array(await raw.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = res.body as string; // fetch's text() drops the mark
    const lines = text.split('\r\n');
    expect(lines.pop()).toBe('');
    expect(lines).toEqual([
      'volunteer_id,name,phone,town,community,tasks,service_minutes,service_hours,points,first_day,last_day',
      `${wang.id},王小明,+86139****0001,东城街道,东园社区,2,2,0.0,40,${today},${today}`,
      // A name a spreadsheet would take for a formula stays text; quotes and commas are escaped.
      `${li.id},"'=李""红"", 二",+86139****0002,西山镇,西山村,1,1,0.0,0,${today},${today}`,
    ]);
    expect(text).not.toContain('13911110001');
  });

  it('exports an empty period as the header only, and rejects a bad one', async () => {
    const empty = await stack.api('GET', '/v1/records?from=2020-01-01&to=2020-01-31', { key: ops });
    expect(empty.status).toBe(200);
    expect(empty.body.split('\r\n').filter(Boolean)).toHaveLength(1);
    const reversed = await stack.api('GET', '/v1/records?from=2026-02-01&to=2026-01-01', {
      key: ops,
    });
    expect(reversed.status).toBe(400);
    expect(reversed.body.error.message).toMatch(/^from:/);
    const bad = await stack.api('GET', '/v1/records?to=soon', { key: ops });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^to:/);
    expect((await stack.api('GET', '/v1/records', { key: partnerKey })).status).toBe(403);
  });
});

describe('partner keys', () => {
  const health = (key: string) => stack.api('GET', '/v1/communities', { key });

  it('rotates with a grace period: old and new keys work until it ends', async () => {
    const p = await stack.api('POST', '/v1/partners', { key: ops, body: { name: '热线' } });
    const old = p.body.apiKey as string;
    const rotated = await stack.api('POST', `/v1/partners/${p.body.partnerId}/keys`, { key: ops });
    expect(rotated.status).toBe(201);
    expect(rotated.body.apiKey).not.toBe(old);
    const until = Date.parse(rotated.body.oldKeysValidUntil) - Date.now();
    expect(until).toBeGreaterThan(59 * 60_000);
    expect(until).toBeLessThanOrEqual(60 * 60_000);
    expect((await health(old)).status).toBe(200);
    expect((await health(rotated.body.apiKey)).status).toBe(200);
  });

  it('rotates with no grace: the old key gets 401 at once', async () => {
    const p = await stack.api('POST', '/v1/partners', { key: ops, body: { name: '热线' } });
    const old = p.body.apiKey as string;
    const rotated = await stack.api('POST', `/v1/partners/${p.body.partnerId}/keys`, {
      key: ops,
      body: { graceMinutes: 0 },
    });
    expect(rotated.status).toBe(201);
    const refused = await health(old);
    expect(refused.status).toBe(401);
    expect((await health(rotated.body.apiKey)).status).toBe(200);
  });

  it('revokes every key of a partner at once, including one in its grace period', async () => {
    const p = await stack.api('POST', '/v1/partners', { key: ops, body: { name: '热线' } });
    const first = p.body.apiKey as string;
    const second = (await stack.api('POST', `/v1/partners/${p.body.partnerId}/keys`, { key: ops }))
      .body.apiKey as string;
    const revoked = await stack.api('POST', `/v1/partners/${p.body.partnerId}/revoke`, {
      key: ops,
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ partnerId: p.body.partnerId, revokedKeys: 2 });
    expect((await health(first)).status).toBe(401);
    expect((await health(second)).status).toBe(401);
    // Revoking again is harmless.
    const again = await stack.api('POST', `/v1/partners/${p.body.partnerId}/revoke`, { key: ops });
    expect(again.body.revokedKeys).toBe(0);
  });

  it('is ops only, 404 for an unknown partner, 400 for a bad grace', async () => {
    expect(
      (await stack.api('POST', '/v1/partners/ptn_0000000000000000/keys', { key: ops })).status,
    ).toBe(404);
    expect(
      (await stack.api('POST', '/v1/partners/ptn_0000000000000000/revoke', { key: ops })).status,
    ).toBe(404);
    const p = await stack.api('POST', '/v1/partners', { key: ops, body: { name: '热线' } });
    const own = await stack.api('POST', `/v1/partners/${p.body.partnerId}/keys`, {
      key: p.body.apiKey,
    });
    expect(own.status).toBe(403);
    const bad = await stack.api('POST', `/v1/partners/${p.body.partnerId}/keys`, {
      key: ops,
      body: { graceMinutes: -1 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('graceMinutes');
  });
});
