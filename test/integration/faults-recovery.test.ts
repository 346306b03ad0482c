/**
 * Recovery paths: the DLQ ops command (list, inspect with personal data masked, redrive of
 * messages that were already applied: a no-op) and the sweeper (a request stored but never
 * queued gets matched; a delivered request is auto-confirmed after the district's hours,
 * once, with one credit).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PurgeQueueCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HelpRequest } from '../../shared/domain/request.ts';
import { scanAll } from './support/burst.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

const run = promisify(execFile);
let stack: TestStack;
let partnerKey: string;

beforeAll(async () => {
  stack = await startTestStack({ autoConfirmHours: 1 }, { scheduleEverySeconds: 0 });
  partnerKey = (await stack.api('POST', '/v1/partners', { key: stack.opsKey, body: { name: 'p' } }))
    .body.apiKey;
});
afterAll(() => stack?.stop());

let seq = 0;
async function volunteer(communityId: string) {
  const phone = `+86136${String(Date.now() % 100000).padStart(5, '0')}${String(seq++).padStart(3, '0')}`;
  const r = await stack.api('POST', '/v1/volunteers', {
    key: stack.opsKey,
    body: { name: '志愿者', phone, communityId },
  });
  expect(r.status).toBe(201);
  return { id: r.body.volunteerId as string, token: r.body.token as string, phone };
}

async function offerFor(token: string, requestId: string, timeoutMs = 10_000) {
  return stack.waitFor(
    async () => {
      const r = await stack.api('GET', '/v1/volunteers/me/offers', { key: token });
      return r.body.offers.find((o: { requestId: string }) => o.requestId === requestId);
    },
    { timeoutMs },
  );
}

const dlq = (...args: string[]) =>
  run(
    'node_modules/.bin/tsx',
    ['scripts/dlq.ts', ...args, '--prefix', stack.prefix, '--endpoint', stack.local.endpoints.sqs],
    {
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_REGION: 'us-east-1',
      },
    },
  );

async function queuesIdle() {
  return stack.waitFor(async () => {
    const { queues } = (await stack.api('GET', '/local/queues')).body;
    return Object.values(queues).every(
      (q) =>
        (q as { visible: number; inFlight: number }).visible +
          (q as { inFlight: number }).inFlight ===
        0,
    );
  });
}

describe('DLQ ops command', () => {
  it('lists depths, inspects with numbers masked, and redrives already-applied messages as no-ops', async () => {
    const v = await volunteer('east-river');
    const posted = await stack.api('POST', '/v1/requests', {
      key: partnerKey,
      body: {
        kind: 'medicine',
        communityId: 'east-river',
        address: '东河小区1号',
        requester: { name: '孙奶奶', phone: '+8613800138555' },
      },
      headers: { 'idempotency-key': 'dlq-1' },
    });
    const id = posted.body.requestId as string;
    const offer = await offerFor(v.token, id);
    const acc = await stack.api('POST', `/v1/offers/${offer.offerId}/accept`, { key: v.token });
    expect(acc.status).toBe(200);
    await stack.waitFor(() => stack.outbox().filter((n) => n.to === '+8613800138555').length === 1);
    await queuesIdle();
    const before = await scanAll(stack.local.clients.dynamodb, stack.local.tableName);
    const sentBefore = stack.outbox().length;

    // Messages that were applied already, as if they had failed late and been dead-lettered.
    const put = (queue: 'match' | 'notify' | 'events', body: unknown) =>
      stack.local.clients.sqs.send(
        new SendMessageCommand({
          QueueUrl: stack.local.queues[queue].dlqUrl,
          MessageBody: JSON.stringify(body),
        }),
      );
    await put('match', { requestId: id });
    await put('notify', {
      notificationId: `offer:${offer.offerId}`,
      to: { kind: 'volunteer', volunteerId: v.id },
      template: 'offer',
      params: { community: '东河社区', kindLabel: '送药', minutes: 2, contact: '+8613800138555' },
      requestId: id,
    });
    await put('events', {
      type: 'task_taken',
      requestId: id,
      volunteerId: v.id,
      at: new Date().toISOString(),
    });
    await put('events', {
      type: 'task_taken',
      requestId: id,
      volunteerId: v.id,
      at: new Date().toISOString(),
    });

    const listed = (await dlq('list')).stdout;
    expect(listed).toMatch(/match\s+1 waiting/);
    expect(listed).toMatch(/notify\s+1 waiting/);
    expect(listed).toMatch(/events\s+2 waiting/);
    expect(listed).toMatch(/timers\s+0 waiting/);

    const shown = (await dlq('inspect', 'notify')).stdout;
    expect(shown).toContain(`offer:${offer.offerId}`);
    expect(shown).not.toContain('+8613800138555');
    expect(shown).toContain('****8555');
    await new Promise((r) => setTimeout(r, 5500)); // inspected messages become visible again

    expect((await dlq('redrive', 'events', '--max', '1')).stdout).toContain('redrove 1');
    for (const q of ['match', 'notify', 'events']) {
      expect((await dlq('redrive', q)).stdout).toMatch(/redrove 1 message/);
    }
    expect((await dlq('list')).stdout).not.toMatch(/[1-9]\d* waiting/);
    await queuesIdle();
    await new Promise((r) => setTimeout(r, 1000));

    // Nothing changed: no offer, task, history entry or SMS more than before.
    const after = await scanAll(stack.local.clients.dynamodb, stack.local.tableName);
    const part = (items: typeof after) =>
      items
        .filter((i) => i.pk === `REQ#${id}`)
        .map((i) => JSON.stringify({ ...i, updatedAt: undefined }))
        .sort();
    expect(part(after)).toEqual(part(before));
    expect(stack.outbox().length).toBe(sentBefore);
    const { queues } = (await stack.api('GET', '/local/queues')).body;
    for (const q of Object.values(queues) as { dlq: { visible: number } }[])
      expect(q.dlq.visible).toBe(0);
  }, 60_000);

  it('inspect masks addresses, names, phone numbers and SMS texts; ids and types stay readable', async () => {
    const ADDRESS = '东河小区1号楼2单元301';
    const TEXT = '我在东河小区1号楼，电话13800138555';
    const put = (queue: 'notify' | 'inbound', body: unknown) =>
      stack.local.clients.sqs.send(
        new SendMessageCommand({
          QueueUrl: stack.local.queues[queue].dlqUrl,
          MessageBody: JSON.stringify(body),
        }),
      );
    // The accepted-offer reply carries the address and the requester: only after accept.
    await put('notify', {
      notificationId: 'reply:in-dlq',
      to: { kind: 'volunteer', volunteerId: 'vol_dlq' },
      template: 'reply_accepted',
      params: { address: ADDRESS, name: '孙奶奶', phone: '+8613800138555' },
      requestId: 'req_dlq',
      reply: true,
    });
    await put('inbound', {
      originationNumber: '+8613600136666',
      messageBody: TEXT,
      inboundMessageId: 'in-dlq',
    });

    const shown = [
      (await dlq('inspect', 'notify')).stdout,
      (await dlq('inspect', 'inbound')).stdout,
    ];
    const bodies = shown
      .flatMap((out) => out.split('\n'))
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(JSON.parse(line).body));
    expect(bodies).toEqual([
      {
        notificationId: 'reply:in-dlq',
        to: { kind: 'volunteer', volunteerId: 'vol_dlq' },
        template: 'reply_accepted',
        params: {
          address: `<address ${ADDRESS.length} chars>`,
          name: '<name 3 chars>',
          phone: '+86138****8555',
        },
        requestId: 'req_dlq',
        reply: true,
      },
      {
        originationNumber: '+86136****6666',
        messageBody: `<text ${TEXT.length} chars>`,
        inboundMessageId: 'in-dlq',
      },
    ]);
    for (const secret of ['东河小区', '孙奶奶', '13800138555', '13600136666']) {
      expect(shown.join('\n'), secret).not.toContain(secret);
    }
    // Left as they were found; emptied here for the tests after.
    for (const q of ['notify', 'inbound'] as const) {
      await stack.local.clients.sqs.send(
        new PurgeQueueCommand({ QueueUrl: stack.local.queues[q].dlqUrl }),
      );
    }
  }, 30_000);

  it('prints its usage for an unknown queue', async () => {
    await expect(dlq('redrive', 'nope')).rejects.toMatchObject({
      stdout: expect.stringContaining('usage'),
    });
  });
});

describe('sweeper', () => {
  it('matches a request that was stored but never queued, and auto-confirms a delivered one once', async () => {
    const { requests } = await import('../../shared/adapters/requests.ts');
    const { sweep } = await import('../../shared/services/sweeper.ts');
    const v = await volunteer('west-hill');
    const at = new Date();
    const { newId } = await import('../../shared/ids.ts');
    const requestId = newId('req');
    const request: HelpRequest = {
      requestId,
      partnerId: 'p-sweep',
      status: 'received',
      kind: 'groceries',
      communityId: 'west-hill',
      townId: 'west-town',
      address: '西山村5组',
      requester: { name: '周爷爷', phone: '+8613800138666' },
      slots: 1,
      filled: 0,
      delivered: 0,
      skills: [],
      urgency: 'normal',
      scope: 'community',
      history: [{ status: 'received', at: at.toISOString() }],
      createdAt: at.toISOString(),
      updatedAt: at.toISOString(),
    };
    // As intake writes it, then "crashes" before queueing the match message.
    const stored = await requests.create(request, { key: 'never-queued', bodyHash: 'x' }, 30, at);
    expect(stored.created).toBe(true);
    await new Promise((r) => setTimeout(r, 1500));
    const none = await stack.api('GET', '/v1/volunteers/me/offers', { key: v.token });
    expect(
      none.body.offers.find((o: { requestId: string }) => o.requestId === requestId),
    ).toBeUndefined();

    // The scheduled run (real clock): too early to call it stuck.
    const scheduled = (await stack.local.runScheduled('sweep-stuck-requests')) as {
      rematched: number;
    };
    expect(scheduled.rematched).toBe(0);

    // Ten minutes later it is stuck: the sweep queues it and matching offers it.
    const report = await sweep(new Date(Date.now() + 10 * 60_000));
    expect(report.rematched).toBeGreaterThanOrEqual(1);
    const offer = await offerFor(v.token, requestId);
    const acc = await stack.api('POST', `/v1/offers/${offer.offerId}/accept`, { key: v.token });
    expect(acc.status).toBe(200);
    const done = await stack.api('POST', `/v1/tasks/${acc.body.taskId}/delivered`, {
      key: v.token,
      body: {},
    });
    expect(done.status).toBe(200);

    // Within the district's autoConfirmHours (1): not confirmed.
    expect((await sweep(new Date(Date.now() + 30 * 60_000))).autoConfirmed).toBe(0);
    // Past it: confirmed once, and the volunteer credited once.
    const later = new Date(Date.now() + 2 * 3600_000);
    const first = await sweep(later);
    expect(first.autoConfirmed).toBe(1);
    expect((await sweep(later)).autoConfirmed).toBe(0);
    const r = await requests.get(requestId);
    expect(r?.status).toBe('confirmed');
    expect(r?.history.filter((h) => 'event' in h && h.event === 'auto_confirmed')).toHaveLength(1);
    expect(r?.history.filter((h) => 'status' in h && h.status === 'confirmed')).toHaveLength(1);
    const records = await stack.waitFor(async () => {
      const items = await scanAll(stack.local.clients.dynamodb, stack.local.tableName);
      const mine = items.filter((i) => i.type === 'record' && i.requestId === requestId);
      return mine.length > 0 ? mine : undefined;
    });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ volunteerId: v.id, taskId: acc.body.taskId, points: 10 });
  }, 60_000);
});
