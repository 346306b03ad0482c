import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { epochSeconds, isConditionFailure, keys, table } from '../adapters/table.ts';
import { documents } from '../clients/dynamodb.ts';
import { AppError } from '../errors.ts';
import { districtView } from './context.ts';

/**
 * Per-partner limit on posted requests, a fixed window per minute kept in one counter
 * item. The HTTP API cannot throttle per client, so the application does.
 */
export async function checkRateLimit(partnerId: string, now: Date): Promise<void> {
  const limit = districtView().district.rateLimits.partnerRequestsPerMinute;
  const minute = now.toISOString().slice(0, 16);
  try {
    await documents.send(
      new UpdateCommand({
        TableName: table(),
        Key: keys.rate(partnerId, minute),
        UpdateExpression: 'ADD n :one SET expiresAtEpoch = :ttl',
        ConditionExpression: 'attribute_not_exists(n) OR n < :limit',
        ExpressionAttributeValues: { ':one': 1, ':limit': limit, ':ttl': epochSeconds(now) + 120 },
      }),
    );
  } catch (e) {
    if (isConditionFailure(e)) {
      throw new AppError(
        429,
        'rate_limited',
        `more than ${limit} requests a minute from this partner`,
      );
    }
    throw e;
  }
}
