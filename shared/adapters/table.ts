import { BatchGetCommand, type BatchGetCommandOutput, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '../clients/dynamodb.ts';
import { tableName } from '../config.ts';

const placeKey = (requestId: string, volunteerId: string) => ({
  pk: `REQ#${requestId}`,
  sk: `TASK#${volunteerId}`,
});

/** Key layout of the single table (see docs/data-model.md). */
export const keys = {
  request: (requestId: string) => ({ pk: `REQ#${requestId}`, sk: 'REQ' }),
  /**
   * A volunteer's place in a request: their offer, and the task it becomes when accepted.
   * One item, so the accept updates the offer into the task rather than writing a second
   * item (docs/data-model.md). An ops assignment without an open offer puts the task there.
   */
  offer: (requestId: string, volunteerId: string) => placeKey(requestId, volunteerId),
  task: (requestId: string, volunteerId: string) => placeKey(requestId, volunteerId),
  volunteer: (volunteerId: string) => ({ pk: `VOL#${volunteerId}`, sk: 'VOL' }),
  /** A volunteer's availability entry for one skill (beside the volunteer, in its partition). */
  skillEntry: (volunteerId: string, skill: string) => ({
    pk: `VOL#${volunteerId}`,
    sk: `AVAIL#${skill}`,
  }),
  phone: (phone: string) => ({ pk: `PHONE#${phone}`, sk: 'PHONE' }),
  partner: (partnerId: string) => ({ pk: `PARTNER#${partnerId}`, sk: 'PARTNER' }),
  secret: (hash: string) => ({ pk: `KEY#${hash}`, sk: 'KEY' }),
  notification: (notificationId: string) => ({ pk: `NOTE#${notificationId}`, sk: 'NOTE' }),
  rate: (partnerId: string, minute: string) => ({ pk: `RATE#${partnerId}#${minute}`, sk: 'RATE' }),
};

/**
 * Requests waiting in a status the sweeper watches, by the time they entered it: only
 * `received` (re-matched when stuck) and `delivered` (auto-confirmed). Other statuses
 * have no entry, so the sweeper never reads them, and a `matched` request does not pay
 * for an index entry nobody reads (each entry put or removed is a write unit).
 */
export const WATCHED = ['received', 'delivered'] as const;
export const watchKey = (status: string) => `OPEN#${status}`;

/** The update fragment that keeps a request's sweeper entry in step with its status. */
export function watchFragment(status: string, at: string, values: Record<string, unknown>) {
  if (!(WATCHED as readonly string[]).includes(status))
    return { set: [], remove: ['gsi1pk', 'gsi1sk'] };
  values[':watchPk'] = watchKey(status);
  values[':watchSk'] = at;
  return { set: ['gsi1pk = :watchPk', 'gsi1sk = :watchSk'], remove: [] as string[] };
}

export const inbox = {
  offers: (volunteerId: string) => `VOLOFFER#${volunteerId}`,
  tasks: (volunteerId: string) => `VOLTASK#${volunteerId}`,
};

export const table = () => tableName();

/** Seconds since the epoch, for the TTL attribute. */
export const epochSeconds = (d: Date) => Math.floor(d.getTime() / 1000);

/** Strips the storage-only attributes from an item. */
export function fromItem<T>(item: Record<string, unknown>): T {
  const { pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, expiresAtEpoch, type, idempotency, ...rest } =
    item;
  return rest as T;
}

/** Whether an SDK error is a failed condition (a lost race or a repeated write). */
export const isConditionFailure = (e: unknown) =>
  e instanceof Error && e.name === 'ConditionalCheckFailedException';

export const isTransactionConflict = (e: unknown) =>
  e instanceof Error && e.name === 'TransactionCanceledException';

/** The cancellation reason codes of a failed transaction, in item order. */
export function cancellationCodes(e: unknown): (string | undefined)[] {
  const reasons = (e as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons.map((r) => r.Code);
}

/**
 * A write that undoes a send's mark so the retry sends (a marker, an id in a counter), tried
 * a few times beyond the SDK's own retries: a mark left behind means that notification is
 * never sent (once seen in a fault test: the send failed, then the undo failed too).
 */
export async function undoPersistently(write: () => Promise<unknown>, attempts = 3) {
  for (let attempt = 1; ; attempt++) {
    try {
      await write();
      return;
    } catch (e) {
      if (attempt >= attempts) throw e;
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
}

/** Every item a query finds, page after page (stopping once `max` are read). */
export async function queryAll(
  input: ConstructorParameters<typeof QueryCommand>[0],
  max = Number.POSITIVE_INFINITY,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(new QueryCommand({ ...input, ExclusiveStartKey }));
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey && items.length < max);
  return items;
}

/** Keys to a BatchGetItem (DynamoDB's limit). */
const BATCH_GET = 100;

/**
 * The items of these keys that exist, in no particular order: 100 keys to a
 * BatchGetItem, keys DynamoDB leaves unprocessed asked again (with a growing pause).
 */
export async function getAll(
  keys: Record<string, unknown>[],
  opts: { consistent?: boolean; projection?: string; names?: Record<string, string> } = {},
): Promise<Record<string, unknown>[]> {
  const found: Record<string, unknown>[] = [];
  for (let i = 0; i < keys.length; i += BATCH_GET) {
    let batch: Record<string, unknown>[] | undefined = keys.slice(i, i + BATCH_GET);
    for (let attempt = 0; batch?.length; attempt++) {
      if (attempt >= 8) throw new Error('BatchGetItem: keys left unprocessed 8 times');
      if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      const out: BatchGetCommandOutput = await documents.send(
        new BatchGetCommand({
          RequestItems: {
            [table()]: {
              Keys: batch,
              ConsistentRead: opts.consistent ?? true,
              ...(opts.projection && { ProjectionExpression: opts.projection }),
              ...(opts.names && { ExpressionAttributeNames: opts.names }),
            },
          },
        }),
      );
      found.push(...(out.Responses?.[table()] ?? []));
      batch = out.UnprocessedKeys?.[table()]?.Keys;
    }
  }
  return found;
}
