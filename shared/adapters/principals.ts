import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '../clients/dynamodb.ts';
import { hashSecret } from '../ids.ts';
import { ENV } from '../resources.ts';
import { keys, table } from './table.ts';

export type Principal =
  | { kind: 'ops'; id: 'ops' }
  | { kind: 'partner'; id: string }
  | { kind: 'volunteer'; id: string };

let opsKeyHash: Promise<string | undefined> | undefined;

/** The ops key's hash: from Secrets Manager on AWS, from OPS_API_KEY locally. Read once. */
function loadOpsKeyHash(): Promise<string | undefined> {
  opsKeyHash ??= (async () => {
    const arn = process.env[ENV.opsKeySecretArn];
    if (arn) {
      const client = new SecretsManagerClient({});
      const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: arn }));
      return SecretString ? hashSecret(SecretString.trim()) : undefined;
    }
    const key = process.env[ENV.opsKey];
    return key ? hashSecret(key) : undefined;
  })();
  return opsKeyHash;
}

export const principals = {
  /** Who holds this key, or undefined for an unknown or revoked key. */
  async resolve(secret: string): Promise<Principal | undefined> {
    const hash = hashSecret(secret);
    if (hash === (await loadOpsKeyHash())) return { kind: 'ops', id: 'ops' };
    const { Item } = await documents.send(
      new GetCommand({ TableName: table(), Key: keys.secret(hash) }),
    );
    if (!Item || Item.revokedAt) return undefined;
    return { kind: Item.kind, id: Item.principalId } as Principal;
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
              Item: { ...keys.partner(partnerId), type: 'partner', partnerId, name, createdAt },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          {
            Put: {
              TableName: table(),
              Item: {
                ...keys.secret(keyHash),
                type: 'key',
                kind: 'partner',
                principalId: partnerId,
                createdAt,
              },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
        ],
      }),
    );
  },
};
