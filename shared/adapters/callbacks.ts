import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '../clients/dynamodb.ts';
import { TtlCache } from '../ttl-cache.ts';
import { epochSeconds, isConditionFailure, keys, table } from './table.ts';

export interface PartnerCallback {
  url: string;
  /** The HMAC key; stored (encrypted at rest) because every callback is signed with it. */
  secret: string;
  updatedAt: string;
}

const sentKey = (eventId: string) => ({ pk: `CBSENT#${eventId}`, sk: 'CBSENT' });

/** Partners with and without a callback, as this container last read them. */
export const configured = new TtlCache<boolean>(30_000);

export const callbacks = {
  /** Sets the partner's callback; false for an unknown partner. */
  async set(partnerId: string, callback: PartnerCallback): Promise<boolean> {
    try {
      await documents.send(
        new UpdateCommand({
          TableName: table(),
          Key: keys.partner(partnerId),
          UpdateExpression: 'SET callback = :cb',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':cb': callback },
        }),
      );
      configured.forget(partnerId);
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  },

  /**
   * Whether the partner has a callback, as this container saw it in the last 30 s: asked
   * at every status change of every request, and the answer rarely changes. A URL just
   * set reaches other warm containers within that time (this one forgets at once); the
   * sender reads the URL and secret afresh, so a callback is never signed with an old one.
   */
  async configured(partnerId: string): Promise<boolean> {
    const known = configured.get(partnerId);
    if (known !== undefined) return known;
    const has = Boolean(await callbacks.of(partnerId));
    configured.set(partnerId, has);
    return has;
  },

  async of(partnerId: string): Promise<PartnerCallback | undefined> {
    const { Item } = await documents.send(
      new GetCommand({
        TableName: table(),
        Key: keys.partner(partnerId),
        ProjectionExpression: 'callback',
      }),
    );
    return Item?.callback as PartnerCallback | undefined;
  },

  /** Whether this event was delivered (a 2xx) already. */
  async wasSent(eventId: string): Promise<boolean> {
    const { Item } = await documents.send(
      new GetCommand({ TableName: table(), Key: sentKey(eventId), ConsistentRead: true }),
    );
    return Boolean(Item);
  },

  async markSent(eventId: string, now: Date): Promise<void> {
    await documents.send(
      new PutCommand({
        TableName: table(),
        Item: {
          ...sentKey(eventId),
          type: 'callback-sent',
          at: now.toISOString(),
          expiresAtEpoch: epochSeconds(now) + 7 * 86400,
        },
      }),
    );
  },
};
