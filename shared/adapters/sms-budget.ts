import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '../clients/dynamodb.ts';
import { addWithinCap, LeasedCounter } from './leased-counter.ts';
import { table } from './table.ts';

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

async function giveBack(scope: string): Promise<void> {
  await documents.send(
    new UpdateCommand({
      TableName: table(),
      Key: counterKey(scope),
      UpdateExpression: 'ADD #n :minus',
      ExpressionAttributeNames: { '#n': 'sent' },
      ExpressionAttributeValues: { ':minus': -1 },
    }),
  );
}

export interface SmsCaps {
  maxPerRequest: number;
  maxPerHour: number;
}

export type Reservation =
  | { ok: true; release(): Promise<void> }
  | { ok: false; cap: 'request' | 'hour' };

/**
 * The district's SMS budget: a conditional counter per request and a leased one per
 * clock hour. A reservation is taken just before Publish and given back if Publish
 * fails, so a retried message counts once. Counters expire by TTL.
 */
export async function reserveSms(
  requestId: string | undefined,
  caps: SmsCaps,
  now: Date,
): Promise<Reservation> {
  const hour = `HOUR#${hourOf(now)}`;
  const request = requestId ? `REQ#${requestId}` : undefined;
  // Exact per request (no lease): a unit given back must be free for any container.
  if (
    request &&
    !(await addWithinCap(counterKey(request), 'sent', 1, caps.maxPerRequest, 30 * 86400, now))
  ) {
    return { ok: false, cap: 'request' };
  }
  if (!(await districtHours.take(hour, caps.maxPerHour, now))) {
    if (request) await giveBack(request);
    return { ok: false, cap: 'hour' };
  }
  return {
    ok: true,
    async release() {
      districtHours.giveBack(hour);
      if (request) await giveBack(request);
    },
  };
}
