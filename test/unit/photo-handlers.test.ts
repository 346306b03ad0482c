import '../fixtures/env.ts';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler as createPhotoUpload } from '../../functions/create-photo-upload.ts';
import { conditionFailed, ddb, givenKey, givenRequest, resetAws } from '../fixtures/aws.ts';
import { OPS_KEY } from '../fixtures/env.ts';
import { bodyOf, call } from '../fixtures/events.ts';
import { aRequest, aTask, PTN, REQ, TASK, VOL, VOL2 } from '../fixtures/items.ts';

const BUCKET = 'dispatch-photos-test';
const TOKEN = 'vt_volunteer-one';
const TOKEN2 = 'vt_volunteer-two';
const PARTNER_KEY = 'pk_partner-one';

const upload = (body: unknown = { contentType: 'image/jpeg' }, key = TOKEN, taskId = TASK) =>
  call(createPhotoUpload, {
    method: 'POST',
    route: '/v1/tasks/{taskId}/photos',
    path: `/v1/tasks/${taskId}/photos`,
    pathParameters: { taskId },
    key,
    body,
  });

beforeAll(() => {
  // The bucket is read when a URL is made, so it can be set after the imports.
  process.env.PHOTO_BUCKET = BUCKET;
});

beforeEach(() => {
  resetAws();
  givenKey(TOKEN, 'volunteer', VOL);
  givenKey(TOKEN2, 'volunteer', VOL2);
  givenKey(PARTNER_KEY, 'partner', PTN);
});

describe('POST /v1/tasks/{taskId}/photos (create-photo-upload)', () => {
  it('notes the photo on the volunteer’s task and answers a five-minute presigned PUT to that key', async () => {
    givenRequest(aRequest({ status: 'matched', filled: 1 }), [], [aTask()]);

    const res = await upload();

    expect(res.statusCode).toBe(201);
    const { photoKey, uploadUrl, expiresAt, ...rest } = bodyOf(res);
    expect(rest).toEqual({
      taskId: TASK,
      method: 'PUT',
      headers: { 'content-type': 'image/jpeg' },
    });
    expect(photoKey).toMatch(new RegExp(`^photos/${REQ}/${VOL}/[0-9a-f-]{36}\\.jpg$`));
    const url = new URL(uploadUrl);
    expect(url.protocol).toBe('https:');
    expect(`${url.host}${url.pathname}`).toMatch(
      new RegExp(
        `^(${BUCKET}\\.s3\\.us-east-1\\.amazonaws\\.com/|s3\\.us-east-1\\.amazonaws\\.com/${BUCKET}/)${photoKey}$`,
      ),
    );
    expect(url.searchParams.get('X-Amz-Expires')).toBe('300');
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(290_000);
    expect(Date.parse(expiresAt) - Date.now()).toBeLessThanOrEqual(300_000);
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(UpdateCommand, {
      Key: { pk: `REQ#${REQ}`, sk: `TASK#${VOL}` },
      UpdateExpression: 'SET photoKeys = list_append(if_not_exists(photoKeys, :none), :key)',
      ConditionExpression:
        'attribute_exists(pk) AND (attribute_not_exists(photoKeys) OR size(photoKeys) < :max)',
      ExpressionAttributeValues: { ':none': [], ':key': [photoKey], ':max': 5 },
    });
  });

  it('a png is keyed .png and signed for its type', async () => {
    givenRequest(aRequest({ status: 'matched', filled: 1 }), [], [aTask()]);
    const res = await upload({ contentType: 'image/png' });
    expect(res.statusCode).toBe(201);
    expect(bodyOf(res).photoKey).toMatch(/\.png$/);
    expect(bodyOf(res).headers).toEqual({ 'content-type': 'image/png' });
  });

  it('a volunteer cannot add a photo to another volunteer’s task: 404, nothing read or written', async () => {
    givenRequest(aRequest({ status: 'matched', filled: 1 }), [], [aTask()]);

    const res = await upload(undefined, TOKEN2);

    expect(res.statusCode).toBe(404);
    expect(bodyOf(res).error.code).toBe('not_found');
    expect(ddb).not.toHaveReceivedCommand(QueryCommand);
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('a task id of the volunteer on a request they have no task on is 404', async () => {
    givenRequest(aRequest(), [], []);
    const res = await upload();
    expect(res.statusCode).toBe(404);
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('a cancelled task is 409 task_cancelled', async () => {
    givenRequest(aRequest({ status: 'cancelled' }), [], [aTask({ status: 'cancelled' })]);
    const res = await upload();
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res).error.code).toBe('task_cancelled');
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('a task with five photos already is 409 too_many_photos', async () => {
    givenRequest(aRequest({ status: 'matched', filled: 1 }), [], [aTask()]);
    ddb.on(UpdateCommand).rejects(conditionFailed());
    const res = await upload();
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res).error.code).toBe('too_many_photos');
    expect(bodyOf(res).error.message).toMatch(/^taskId: /);
  });

  it('a content type that is not an image we take is 400 naming contentType', async () => {
    const res = await upload({ contentType: 'image/gif' });
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res).error.message).toMatch(/^contentType: /);
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('is for volunteers only: the partner and ops get 403', async () => {
    expect((await upload(undefined, PARTNER_KEY)).statusCode).toBe(403);
    expect((await upload(undefined, OPS_KEY)).statusCode).toBe(403);
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });
});
