/**
 * Door-drop proof photos on the local stack (S3 on fauxqs): the volunteer gets a
 * presigned upload URL for their own task and PUTs the image; the request's partner and
 * ops see it through GET /v1/requests/{id}; nobody else gets a URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.stop());

let seq = 0;
const newPhone = () =>
  `+86133${String(Date.now() % 100000).padStart(5, '0')}${String(seq++).padStart(3, '0')}`;

async function partner() {
  return (await stack.api('POST', '/v1/partners', { key: stack.opsKey, body: { name: '照片' } }))
    .body.apiKey as string;
}

async function volunteer(skill: string) {
  const res = await stack.api('POST', '/v1/volunteers', {
    key: stack.opsKey,
    body: { name: '拍照志愿者', phone: newPhone(), communityId: 'west-hill', skills: [skill] },
  });
  return res.body as { volunteerId: string; token: string };
}

describe('proof photos', () => {
  it('a volunteer uploads a photo of the door drop; its partner and ops see it, others do not', async () => {
    const key = await partner();
    const other = await partner();
    const skill = `photo-${Date.now() % 100000}`;
    const v = await volunteer(skill);
    const stranger = await volunteer(`${skill}-x`);
    const posted = await stack.api('POST', '/v1/requests', {
      key,
      headers: { 'idempotency-key': `photo-${seq++}` },
      body: {
        kind: 'groceries',
        communityId: 'west-hill',
        address: '西山村12号',
        requester: { name: '周奶奶', phone: newPhone() },
        skills: [skill],
      },
    });
    const id = posted.body.requestId as string;
    const offer = await stack.waitFor(async () => {
      const res = await stack.api('GET', '/v1/volunteers/me/offers', { key: v.token });
      return (res.body.offers as { offerId: string; requestId: string }[]).find(
        (o) => o.requestId === id,
      );
    });
    const task = await stack.api('POST', `/v1/offers/${offer.offerId}/accept`, { key: v.token });
    const taskId = task.body.taskId as string;

    const upload = await stack.api('POST', `/v1/tasks/${taskId}/photos`, {
      key: v.token,
      body: { contentType: 'image/jpeg' },
    });
    expect(upload.status).toBe(201);
    expect(upload.body).toMatchObject({ taskId, method: 'PUT' });
    expect(upload.body.uploadUrl).toContain('X-Amz-Signature=');
    const image = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 0xff, 0xd9]);
    const put = await fetch(upload.body.uploadUrl, {
      method: 'PUT',
      headers: upload.body.headers,
      body: image,
    });
    expect(put.ok).toBe(true);

    // Another volunteer, another partner: no URL, no photo.
    const notMine = await stack.api('POST', `/v1/tasks/${taskId}/photos`, {
      key: stranger.token,
      body: { contentType: 'image/jpeg' },
    });
    expect(notMine.status).toBe(404);
    expect((await stack.api('GET', `/v1/requests/${id}`, { key: other })).status).toBe(404);
    const badType = await stack.api('POST', `/v1/tasks/${taskId}/photos`, {
      key: v.token,
      body: { contentType: 'application/pdf' },
    });
    expect(badType.status).toBe(400);

    for (const viewer of [key, stack.opsKey]) {
      const seen = await stack.api('GET', `/v1/requests/${id}`, { key: viewer });
      const urls = seen.body.tasks[0].photos as string[];
      expect(urls).toHaveLength(1);
      const got = await fetch(urls[0]);
      expect(got.ok).toBe(true);
      expect(Buffer.from(await got.arrayBuffer())).toEqual(image);
    }
  });
});
