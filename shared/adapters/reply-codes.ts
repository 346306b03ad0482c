import { randomInt } from 'node:crypto';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '../clients/dynamodb.ts';
import { epochSeconds, isConditionFailure, table } from './table.ts';

/** No 0/O, 1/I/L: codes are read off a basic phone's screen and typed back. */
const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const CODE_LENGTH = 4;

/** What a reply code answers: an offer to a volunteer, or a requester's door-drop confirm. */
export type ReplyTarget =
  | { kind: 'offer'; requestId: string; volunteerId: string }
  | { kind: 'confirm'; requestId: string };

const key = (code: string) => ({ pk: `REPLY#${code}`, sk: 'REPLY' });

export const newReplyCode = () =>
  Array.from({ length: CODE_LENGTH }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join(
    '',
  );

/** Codes as a person may type them: any case, spaces around. */
export const normalizeCode = (code: string) => code.trim().toUpperCase();

export const replyCodes = {
  /**
   * A short code, unique among live codes, for a reply SMS ("1 K7PQ"). It stays valid
   * until `validUntil` (and a day more, to answer late replies clearly); an expired
   * code may be claimed again.
   */
  async claim(target: ReplyTarget, phone: string, validUntil: Date, now: Date): Promise<string> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const code = newReplyCode();
      try {
        await documents.send(
          new PutCommand({
            TableName: table(),
            Item: {
              ...key(code),
              type: 'reply-code',
              code,
              target,
              phone,
              createdAt: now.toISOString(),
              expiresAtEpoch: epochSeconds(validUntil) + 86400,
            },
            ConditionExpression: 'attribute_not_exists(pk) OR expiresAtEpoch < :now',
            ExpressionAttributeValues: { ':now': epochSeconds(now) },
          }),
        );
        return code;
      } catch (e) {
        if (!isConditionFailure(e)) throw e;
      }
    }
    throw new Error('no free reply code after 20 attempts');
  },

  /** The code's target, when it is live and was sent to `phone`. */
  async find(code: string, phone: string, now: Date): Promise<ReplyTarget | undefined> {
    const { Item } = await documents.send(
      new GetCommand({ TableName: table(), Key: key(normalizeCode(code)), ConsistentRead: true }),
    );
    if (!Item || Item.phone !== phone || Number(Item.expiresAtEpoch) < epochSeconds(now)) {
      return undefined;
    }
    return Item.target as ReplyTarget;
  },
};
