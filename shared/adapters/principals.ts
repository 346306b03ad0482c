import { GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '../clients/dynamodb.ts';
import { hashSecret } from '../ids.ts';
import { ENV } from '../resources.ts';
import { TtlCache } from '../ttl-cache.ts';
import { isConditionFailure, isTransactionConflict, keys, table } from './table.ts';

export type Principal =
  | { kind: 'ops'; id: 'ops' }
  | { kind: 'partner'; id: string }
  | { kind: 'volunteer'; id: string };

let opsKeyHash: Promise<string | undefined> | undefined;

/** Keys this container has looked up (by hash). */
export const knownKeys = new TtlCache<{ principal: Principal; revokedAt?: string }>(
  Number(process.env[ENV.keyCacheSeconds] ?? 30) * 1000,
);

/** The ops key's hash: from Secrets Manager on AWS, from OPS_API_KEY locally. Read once. */
function loadOpsKeyHash(): Promise<string | undefined> {
  opsKeyHash ??= (async () => {
    const arn = process.env[ENV.opsKeySecretArn];
    if (arn) {
      // Loaded on first use (once per container, deployed only): the SDK client is cold-start
      // time every HTTP function would pay at import.
      const { GetSecretValueCommand, SecretsManagerClient } = await import(
        '@aws-sdk/client-secrets-manager'
      );
      const client = new SecretsManagerClient({});
      const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: arn }));
      return SecretString ? hashSecret(SecretString.trim()) : undefined;
    }
    const key = process.env[ENV.opsKey];
    return key ? hashSecret(key) : undefined;
  })();
  return opsKeyHash;
}

/** The record of a newly issued key: its hash only, never the key. */
export function keyPut(
  keyHash: string,
  kind: 'partner' | 'volunteer',
  principalId: string,
  createdAt: string,
) {
  return {
    TableName: table(),
    Item: { ...keys.secret(keyHash), type: 'key', kind, principalId, createdAt },
    ConditionExpression: 'attribute_not_exists(pk)',
  };
}

export const principals = {
  /**
   * Who holds this key, or undefined for an unknown or revoked key. A key found is
   * remembered by this container for `knownKeys.ttlMs` (see ttl-cache.ts for why).
   */
  async resolve(secret: string): Promise<Principal | undefined> {
    const hash = hashSecret(secret);
    if (hash === (await loadOpsKeyHash())) return { kind: 'ops', id: 'ops' };
    let known = knownKeys.get(hash);
    if (!known) {
      const { Item } = await documents.send(
        new GetCommand({ TableName: table(), Key: keys.secret(hash) }),
      );
      if (!Item) return undefined;
      known = {
        principal: { kind: Item.kind, id: Item.principalId } as Principal,
        revokedAt: Item.revokedAt,
      };
      knownKeys.set(hash, known);
    }
    // A rotated key may stay valid until a future `revokedAt` (the grace period).
    if (known.revokedAt && known.revokedAt <= new Date().toISOString()) return undefined;
    return known.principal;
  },

  /** Stores a partner and the hash of its key; the key itself is never stored. */
  async createPartner(partnerId: string, name: string, apiKey: string, now: Date): Promise<void> {
    const createdAt = now.toISOString();
    const keyHash = hashSecret(apiKey);
    await documents.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: table(),
              // keyHashes: every key issued to the partner, so rotate and revoke find them.
              Item: {
                ...keys.partner(partnerId),
                type: 'partner',
                partnerId,
                name,
                createdAt,
                keyHashes: [keyHash],
              },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          { Put: keyPut(keyHash, 'partner', partnerId, createdAt) },
        ],
      }),
    );
  },

  /**
   * Issues a new key to a partner. Its earlier keys stop working at `now + graceSeconds`
   * (at once with 0). Conditional on the key list read, so two rotations cannot both
   * win. undefined for an unknown partner.
   */
  async rotatePartnerKey(
    partnerId: string,
    apiKey: string,
    graceSeconds: number,
    now: Date,
  ): Promise<{ oldKeysValidUntil: string } | undefined> {
    const issued = await issueKey('partner', partnerId, apiKey, graceSeconds, now, async () => {
      const partner = await getPartner(partnerId);
      if (!partner) return undefined;
      return {
        key: keys.partner(partnerId),
        hashes: partner.keyHashes,
        tracked: 'keyHashes = :read',
        untracked: 'attribute_exists(pk) AND attribute_not_exists(keyHashes)',
        values: {},
      };
    });
    return issued && { oldKeysValidUntil: issued.until };
  },

  /**
   * Issues a new token to a volunteer, as `rotatePartnerKey` does a partner's key: the
   * hashes of the volunteer's tokens are kept on their phone's registration item
   * (`PHONE#<phone>`), and the update of that list is conditional on the list read (and
   * on the phone being this volunteer's), with the new token's key item in the same
   * transaction. Earlier tokens stop working at `now + graceSeconds`. `tracked: false`
   * for a volunteer registered before the list was kept: their first token is not in it
   * and keeps working. undefined when the phone is not registered to this volunteer.
   */
  async rotateVolunteerToken(
    volunteerId: string,
    phone: string,
    token: string,
    graceSeconds: number,
    now: Date,
  ): Promise<{ oldTokensValidUntil: string; tracked: boolean } | undefined> {
    const issued = await issueKey('volunteer', volunteerId, token, graceSeconds, now, async () => {
      const { Item: registration } = await documents.send(
        new GetCommand({ TableName: table(), Key: keys.phone(phone), ConsistentRead: true }),
      );
      if (registration?.volunteerId !== volunteerId) return undefined;
      return {
        key: keys.phone(phone),
        hashes: registration.keyHashes,
        tracked: 'volunteerId = :vid AND keyHashes = :read',
        untracked: 'volunteerId = :vid AND attribute_not_exists(keyHashes)',
        values: { ':vid': volunteerId },
      };
    });
    return issued && { oldTokensValidUntil: issued.until, tracked: issued.tracked };
  },

  /** Revokes every key of a partner at once. Returns how many were still valid, or undefined for an unknown partner. */
  async revokePartnerKeys(partnerId: string, now: Date): Promise<number | undefined> {
    const partner = await getPartner(partnerId);
    if (!partner) return undefined;
    let revoked = 0;
    for (const hash of (partner.keyHashes ?? []) as string[]) {
      if (await revokeKey(hash, now.toISOString())) revoked++;
    }
    return revoked;
  },
};

async function getPartner(partnerId: string) {
  const { Item } = await documents.send(
    new GetCommand({ TableName: table(), Key: keys.partner(partnerId), ConsistentRead: true }),
  );
  return Item;
}

/** Sets a key's `revokedAt` to `at` unless it is already revoked earlier. True when it moved. */
async function revokeKey(hash: string, at: string): Promise<boolean> {
  try {
    await documents.send(
      new UpdateCommand({
        TableName: table(),
        Key: keys.secret(hash),
        UpdateExpression: 'SET revokedAt = :at',
        ConditionExpression:
          'attribute_exists(pk) AND (attribute_not_exists(revokedAt) OR revokedAt > :at)',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
    // Other warm containers learn of it when their entry expires.
    knownKeys.forget(hash);
    return true;
  } catch (e) {
    if (isConditionFailure(e)) return false;
    throw e;
  }
}

/** The item that keeps a principal's key hashes, as read, and what its update is conditional on. */
interface KeyHolder {
  key: Record<string, string>;
  /** The hashes read; undefined on an item that has kept none yet. */
  hashes: string[] | undefined;
  /** The update's condition when `hashes` were read (`:read`), and when there were none. */
  tracked: string;
  untracked: string;
  values: Record<string, unknown>;
}

/**
 * A partner's key or a volunteer's token issued: the holder's list of hashes extended,
 * conditional on the list read (so two issues cannot both win: the loser reads again),
 * with the new key's item in the same transaction; then the earlier keys revoked as of
 * `now + graceSeconds`. undefined when `readHolder` finds no holder.
 */
async function issueKey(
  kind: 'partner' | 'volunteer',
  principalId: string,
  secret: string,
  graceSeconds: number,
  now: Date,
  readHolder: () => Promise<KeyHolder | undefined>,
): Promise<{ until: string; tracked: boolean } | undefined> {
  const createdAt = now.toISOString();
  const until = new Date(now.getTime() + graceSeconds * 1000).toISOString();
  const keyHash = hashSecret(secret);
  for (let attempt = 0; attempt < 5; attempt++) {
    const holder = await readHolder();
    if (!holder) return undefined;
    const old = holder.hashes ?? [];
    const tracked = holder.hashes !== undefined;
    try {
      await documents.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: table(),
                Key: holder.key,
                UpdateExpression: 'SET keyHashes = :next, keysRotatedAt = :at',
                ConditionExpression: tracked ? holder.tracked : holder.untracked,
                ExpressionAttributeValues: {
                  ...holder.values,
                  ':next': [...old, keyHash],
                  ':at': createdAt,
                  ...(tracked ? { ':read': old } : {}),
                },
              },
            },
            { Put: keyPut(keyHash, kind, principalId, createdAt) },
          ],
        }),
      );
    } catch (e) {
      if (isTransactionConflict(e)) continue;
      throw e;
    }
    for (const hash of old) await revokeKey(hash, until);
    return { until, tracked };
  }
  throw new Error(`could not issue a new key to ${principalId}: too many concurrent changes`);
}
