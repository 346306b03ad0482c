import type { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { documents } from '../clients/dynamodb.ts';
import { LeasedCounter } from './leased-counter.ts';
import { epochSeconds, isConditionFailure, table, undoPersistently } from './table.ts';

/** The clock hour an SMS counts in (UTC), e.g. `2026-11-23T09`. */
export const hourOf = (now: Date) => now.toISOString().slice(0, 13);

const counterKey = (scope: string) => ({ pk: `SMSCOUNT#${scope}`, sk: 'SMS' });

/**
 * The district's SMS per clock hour, leased by each warm container (a cost brake: never
 * passed, possibly reached a few SMS early; see LeasedCounter).
 */
export const districtHours = new LeasedCounter({
  key: counterKey,
  ttlSeconds: 2 * 86400,
  field: 'sent',
});

/**
 * Counts an SMS of a request and marks it sent, in one conditional write to the request's
 * counter: `sent` under the cap and the SMS id not yet in `notes`. One condition for
 * both, so a repeated delivery of the same SMS never takes a unit of the request's budget
 * (a budget taken before a separate marker let concurrent repeats crowd out a real SMS).
 * Ids are 30-45 bytes: at the default cap of 8 the item stays under 1 KB, one write unit;
 * a district cap above about 20 would make a request's later SMS cost two.
 */
async function markRequestSms(
  requestId: string,
  smsId: string,
  cap: number,
  now: Date,
): Promise<'taken' | 'duplicate' | 'over-cap'> {
  try {
    await documents.send(
      new UpdateCommand({
        TableName: table(),
        Key: counterKey(`REQ#${requestId}`),
        UpdateExpression:
          'ADD #sent :one, #notes :ids SET expiresAtEpoch = if_not_exists(expiresAtEpoch, :ttl)',
        ConditionExpression:
          '(attribute_not_exists(#sent) OR #sent < :cap) AND NOT contains(#notes, :id)',
        ExpressionAttributeNames: { '#sent': 'sent', '#notes': 'notes' },
        ExpressionAttributeValues: {
          ':one': 1,
          ':ids': new Set([smsId]),
          ':id': smsId,
          ':cap': cap,
          ':ttl': epochSeconds(now) + 30 * 86400,
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return 'taken';
  } catch (e) {
    if (!isConditionFailure(e)) throw e;
    const old = (e as ConditionalCheckFailedException).Item;
    const notes = old ? unmarshall(old).notes : undefined;
    return notes instanceof Set && notes.has(smsId) ? 'duplicate' : 'over-cap';
  }
}

/** Undoes `markRequestSms` for an SMS not sent, so its retry sends. */
function unmarkRequestSms(requestId: string, smsId: string): Promise<void> {
  return undoPersistently(() =>
    documents.send(
      new UpdateCommand({
        TableName: table(),
        Key: counterKey(`REQ#${requestId}`),
        UpdateExpression: 'ADD #sent :minus DELETE #notes :ids',
        ExpressionAttributeNames: { '#sent': 'sent', '#notes': 'notes' },
        ExpressionAttributeValues: { ':minus': -1, ':ids': new Set([smsId]) },
      }),
    ),
  );
}

export interface SmsCaps {
  maxPerRequest: number;
  maxPerHour: number;
}

export type Reservation =
  | { ok: true; release(): Promise<void> }
  | { ok: false; cap: 'request' | 'hour' }
  /** The request's counter has this SMS already: sent, or being sent, by another delivery. */
  | { ok: false; duplicate: true };

/**
 * The district's SMS budget: an exact counter per request and a leased one per clock
 * hour. A reservation is taken just before Publish and given back if Publish fails, so a
 * retried message counts once. Counters expire by TTL.
 *
 * An SMS of a request (`requestId`) is also marked sent by its reservation: the request's
 * counter keeps the ids it counted, so the same SMS is never reserved twice (`duplicate`)
 * and needs no marker of its own. A crash between the reservation and Publish leaves the
 * id: at most once, never twice. An SMS without a request must be guarded by its own
 * marker (`sendOnce`).
 */
export async function reserveSms(
  sms: { id: string; requestId?: string },
  caps: SmsCaps,
  now: Date,
): Promise<Reservation> {
  const hour = `HOUR#${hourOf(now)}`;
  const { id, requestId } = sms;
  // Exact per request (no lease): a unit given back must be free for any container.
  if (requestId) {
    const marked = await markRequestSms(requestId, id, caps.maxPerRequest, now);
    if (marked === 'duplicate') return { ok: false, duplicate: true };
    if (marked === 'over-cap') return { ok: false, cap: 'request' };
  }
  let withinHour: boolean;
  try {
    withinHour = await districtHours.take(hour, caps.maxPerHour, now);
  } catch (e) {
    // The mark must go with it, or the retry would find it and never send this SMS.
    if (requestId) await unmarkRequestSms(requestId, id);
    throw e;
  }
  if (!withinHour) {
    if (requestId) await unmarkRequestSms(requestId, id);
    return { ok: false, cap: 'hour' };
  }
  return {
    ok: true,
    async release() {
      districtHours.giveBack(hour);
      if (requestId) await unmarkRequestSms(requestId, id);
    },
  };
}
