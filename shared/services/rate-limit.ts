import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { epochSeconds, isConditionFailure, keys, table } from '../adapters/table.ts';
import { documents } from '../clients/dynamodb.ts';
import { AppError } from '../errors.ts';
import { districtView } from './context.ts';

/**
 * Per-partner limit on posted requests, a fixed window per minute counted in one item.
 * The HTTP API cannot throttle per client, so the application does.
 *
 * A container takes the partner's allowance from the counter a lease at a time (up to 10
 * requests, a fiftieth of the limit) and spends it in memory, so a busy partner costs one
 * counter write per lease instead of one per request. The counter never passes the
 * limit: a lease is taken only while it fits, then single requests until the limit. The
 * cost is precision the other way: requests leased by a container that then goes quiet
 * are lost for that minute, so a partner at its limit may be refused up to 9 requests
 * early per warm container.
 */
const leases = new Map<string, { minute: string; left: number }>();

export function leaseSize(limit: number): number {
  return Math.max(1, Math.min(10, Math.floor(limit / 50)));
}

export async function checkRateLimit(partnerId: string, now: Date): Promise<void> {
  const limit = districtView().district.rateLimits.partnerRequestsPerMinute;
  const minute = now.toISOString().slice(0, 16);
  const lease = leases.get(partnerId);
  if (lease?.minute === minute && lease.left > 0) {
    lease.left--;
    return;
  }
  const size = leaseSize(limit);
  if (await reserve(partnerId, minute, size, limit, now)) {
    const current = leases.get(partnerId);
    if (current?.minute === minute) current.left += size - 1;
    else leases.set(partnerId, { minute, left: size - 1 });
    return;
  }
  if (size > 1 && (await reserve(partnerId, minute, 1, limit, now))) return;
  throw new AppError(429, 'rate_limited', `more than ${limit} requests a minute from this partner`);
}

/** Forgets every lease (tests: each starts from the counter item). */
export function forgetLeases(): void {
  leases.clear();
}

/** Adds `n` to the partner's counter for the minute if it stays within the limit. */
async function reserve(
  partnerId: string,
  minute: string,
  n: number,
  limit: number,
  now: Date,
): Promise<boolean> {
  try {
    await documents.send(
      new UpdateCommand({
        TableName: table(),
        Key: keys.rate(partnerId, minute),
        UpdateExpression: 'ADD n :n SET expiresAtEpoch = :ttl',
        ConditionExpression: 'attribute_not_exists(n) OR n <= :room',
        ExpressionAttributeValues: { ':n': n, ':room': limit - n, ':ttl': epochSeconds(now) + 120 },
      }),
    );
    return true;
  } catch (e) {
    if (isConditionFailure(e)) return false;
    throw e;
  }
}
