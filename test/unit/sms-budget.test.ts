import '../fixtures/env.ts';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { type Reservation, reserveSms } from '../../shared/adapters/sms-budget.ts';
import { conditionFailed, ddb, resetAws } from '../fixtures/aws.ts';

const now = new Date('2026-12-03T09:00:00Z');
const REQ = 'req_1';
const COUNTER = { pk: `SMSCOUNT#REQ#${REQ}`, sk: 'SMS' };
// A cap per hour under 50: leased one unit at a time, so every unit taken is a write.
const caps = { maxPerRequest: 2, maxPerHour: 40 };

/**
 * The request's SMS counter as DynamoDB applies the adapter's writes: the reservation only
 * while `sent` is under `:cap` and the id is not in `notes` (a refusal returns the item,
 * ReturnValuesOnConditionCheckFailure ALL_OLD); the undo subtracts and deletes the id.
 * The hour's counter takes every unit unless `hourFull`.
 */
function fakeCounters({ hourFull = false, hourErrors = 0, undoFailures = 0 } = {}) {
  const request = { sent: 0, notes: new Set<string>() };
  const hour = { writes: 0 };
  let failuresLeft = undoFailures;
  let hourErrorsLeft = hourErrors;
  ddb.on(UpdateCommand).callsFake((input) => {
    if (String(input.Key.pk).startsWith('SMSCOUNT#HOUR#')) {
      if (hourErrorsLeft-- > 0) throw new Error('InternalServerError');
      hour.writes++;
      if (hourFull) throw conditionFailed();
      return {};
    }
    expect(input.Key).toEqual(COUNTER);
    const values = input.ExpressionAttributeValues;
    const [id] = values[':ids'] as Set<string>;
    if (values[':minus'] !== undefined) {
      if (failuresLeft-- > 0) throw new Error('InternalServerError');
      request.sent += values[':minus'];
      request.notes.delete(id);
      return {};
    }
    if (request.sent >= values[':cap'] || request.notes.has(values[':id'])) {
      const notes = request.notes.size ? { notes: new Set(request.notes) } : {};
      throw conditionFailed({ ...COUNTER, sent: request.sent, ...notes });
    }
    request.sent += values[':one'];
    request.notes.add(id);
    return {};
  });
  return { request, hour };
}

const reserve = (id: string) => reserveSms({ id, requestId: REQ }, caps, now);

const released = async (r: Reservation) => {
  if (!r.ok) throw new Error('not reserved');
  await r.release();
};

describe('the SMS budget of a request', () => {
  beforeEach(resetAws);

  it('counts an SMS and marks it sent in one conditional write to the request’s counter', async () => {
    fakeCounters();
    expect(await reserve('taken:tsk_1')).toMatchObject({ ok: true });
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: COUNTER,
      UpdateExpression:
        'ADD #sent :one, #notes :ids SET expiresAtEpoch = if_not_exists(expiresAtEpoch, :ttl)',
      ConditionExpression:
        '(attribute_not_exists(#sent) OR #sent < :cap) AND NOT contains(#notes, :id)',
      ExpressionAttributeNames: { '#sent': 'sent', '#notes': 'notes' },
      ExpressionAttributeValues: {
        ':one': 1,
        ':ids': new Set(['taken:tsk_1']),
        ':id': 'taken:tsk_1',
        ':cap': 2,
        ':ttl': Math.floor(now.getTime() / 1000) + 30 * 86400,
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    const requestWrites = ddb
      .commandCalls(UpdateCommand)
      .filter((c) => c.args[0].input.Key?.pk === COUNTER.pk);
    expect(requestWrites).toHaveLength(1);
    expect(ddb).not.toHaveReceivedCommand(PutCommand);
  });

  it('a repeated SMS is refused as a duplicate and takes no budget, of the request or the hour', async () => {
    const { request, hour } = fakeCounters();
    expect(await reserve('offer:off_1')).toMatchObject({ ok: true });
    expect(await reserve('offer:off_1')).toEqual({ ok: false, duplicate: true });
    expect(request).toEqual({ sent: 1, notes: new Set(['offer:off_1']) });
    expect(hour.writes).toBe(1);
  });

  it('stops at the cap per request, and still tells a repeat from a new SMS there', async () => {
    const { request, hour } = fakeCounters();
    expect(await reserve('offer:off_1')).toMatchObject({ ok: true });
    expect(await reserve('offer:off_2')).toMatchObject({ ok: true });
    expect(await reserve('offer:off_3')).toEqual({ ok: false, cap: 'request' });
    expect(await reserve('offer:off_2')).toEqual({ ok: false, duplicate: true });
    expect(request.sent).toBe(2);
    expect(hour.writes).toBe(2);
  });

  it('a released SMS (Publish failed) frees its unit and its id in one write: its retry reserves again', async () => {
    const { request } = fakeCounters();
    await reserve('offer:off_1');
    const failed = await reserve('offer:off_2');
    await released(failed);
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: COUNTER,
      UpdateExpression: 'ADD #sent :minus DELETE #notes :ids',
      ExpressionAttributeNames: { '#sent': 'sent', '#notes': 'notes' },
      ExpressionAttributeValues: { ':minus': -1, ':ids': new Set(['offer:off_2']) },
    });
    expect(request).toEqual({ sent: 1, notes: new Set(['offer:off_1']) });
    expect(await reserve('offer:off_2')).toMatchObject({ ok: true });
    expect(request.sent).toBe(2);
  });

  it('over the hour’s cap: the request’s unit and id are given back', async () => {
    const { request } = fakeCounters({ hourFull: true });
    expect(await reserve('offer:off_1')).toEqual({ ok: false, cap: 'hour' });
    expect(request).toEqual({ sent: 0, notes: new Set() });
  });

  it('the hour’s counter failing (not full): the request’s unit and id are given back, so the retry sends', async () => {
    const { request } = fakeCounters({ hourErrors: 1 });
    await expect(reserve('offer:off_1')).rejects.toThrow('InternalServerError');
    expect(request).toEqual({ sent: 0, notes: new Set() });
    expect(await reserve('offer:off_1')).toMatchObject({ ok: true });
    expect(request).toEqual({ sent: 1, notes: new Set(['offer:off_1']) });
  });

  it('a give-back that fails at first is tried again: an id left behind would never be sent', async () => {
    const { request } = fakeCounters({ undoFailures: 2 });
    await released(await reserve('offer:off_1'));
    expect(request).toEqual({ sent: 0, notes: new Set() });
    expect(await reserve('offer:off_1')).toMatchObject({ ok: true });
  });

  it('an SMS without a request takes only the hour (its marker is the caller’s)', async () => {
    const { request, hour } = fakeCounters();
    expect(await reserveSms({ id: 'alert:x' }, caps, now)).toMatchObject({ ok: true });
    expect(hour.writes).toBe(1);
    expect(request.sent).toBe(0);
  });
});
