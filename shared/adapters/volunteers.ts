import {
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { documents } from '../clients/dynamodb.ts';
import {
  type AvailableVolunteer,
  availabilityKeys,
  type SkillEntry,
  skillEntries,
  skillEntryChanges,
  skillPartition,
  type Volunteer,
} from '../domain/volunteer.ts';
import { hashSecret } from '../ids.ts';
import { ALL_TIME, counterUpdate } from './counters.ts';
import { keyPut } from './principals.ts';
import {
  cancellationCodes,
  fromItem,
  isConditionFailure,
  isTransactionConflict,
  keys,
  table,
} from './table.ts';

const AVAILABILITY_INDEX = 'avail';
const RETIRED_AVAILABILITY_INDEX = 'gsi2';

/** DynamoDB's refusal to query an index being backfilled, or one the table lacks. */
export const isIndexNotReady = (e: unknown) =>
  e instanceof Error &&
  e.name === 'ValidationException' &&
  /backfilling global secondary index|does not have the specified index/i.test(e.message);

type TransactItem = NonNullable<
  ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']
>[number];

/** The item of a volunteer, with its availability index entry when it has one. */
export function volunteerItem(v: Volunteer): Record<string, unknown> {
  return { ...keys.volunteer(v.volunteerId), type: 'volunteer', ...v, ...availabilityKeys(v) };
}

const skillEntryItem = (volunteerId: string, e: SkillEntry): Record<string, unknown> => ({
  ...keys.skillEntry(volunteerId, e.skill),
  type: 'availability',
  ...e.entry,
  gsi2pk: e.gsi2pk,
  gsi2sk: e.gsi2sk,
});

/** Every item a new volunteer is stored as: their own and one per-skill entry per skill. */
export function volunteerItems(v: Volunteer): Record<string, unknown>[] {
  return [
    volunteerItem(v),
    ...skillEntryChanges(undefined, v).put.map((e) => skillEntryItem(v.volunteerId, e)),
  ];
}

/**
 * The writes that keep a volunteer's per-skill availability entries in step with a
 * change from `prev` to `next`. They are unconditional: they must go in the same
 * transaction as the volunteer's own version-checked update, which decides for them.
 */
export function skillEntryWrites(prev: Volunteer | undefined, next: Volunteer): TransactItem[] {
  const { put, remove } = skillEntryChanges(prev, next);
  return [
    ...put.map((e) => ({
      Put: { TableName: table(), Item: skillEntryItem(next.volunteerId, e) },
    })),
    ...remove.map((skill) => ({
      Delete: { TableName: table(), Key: keys.skillEntry(next.volunteerId, skill) },
    })),
  ];
}

/**
 * The update of a volunteer to `next`, conditional on the version read, keeping the
 * availability index entry in step. Used alone and inside slot transactions.
 */
export function volunteerUpdate(prev: Volunteer, next: Volunteer) {
  const avail = availabilityKeys(next);
  const fields = [
    'onDuty',
    'skills',
    'capacity',
    'location',
    'active',
    'tasksDay',
    'tasksToday',
    'credentials',
    'pushEndpoint',
    'smsOptOut',
    'quietHours',
    'language',
    'updatedAt',
  ] as const;
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ':prev': prev.version, ':next': prev.version + 1 };
  const sets = ['version = :next'];
  const removes: string[] = [];
  for (const f of fields) {
    names[`#${f}`] = f;
    if (next[f] === undefined) removes.push(`#${f}`);
    else {
      sets.push(`#${f} = :${f}`);
      values[`:${f}`] = next[f];
    }
  }
  if (avail) {
    sets.push('gsi2pk = :g2pk', 'gsi2sk = :g2sk');
    values[':g2pk'] = avail.gsi2pk;
    values[':g2sk'] = avail.gsi2sk;
  } else removes.push('gsi2pk', 'gsi2sk');
  return {
    TableName: table(),
    Key: keys.volunteer(prev.volunteerId),
    UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
    ConditionExpression: 'version = :prev',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/**
 * A phone's registration (`PHONE#<e164>`): the volunteer it belongs to, the hashes of
 * every token issued to them (registered before 2026-12-03: none, their first token
 * untracked), and the hash of the body it was registered with under an Idempotency-Key.
 */
export interface PhoneRegistration {
  volunteerId: string;
  keyHashes?: string[];
  bodyHash?: string;
}

export const volunteers = {
  /**
   * Registers a volunteer with their token; one volunteer per phone number. False, with
   * nothing written, when the volunteer id (derived from an Idempotency-Key) or the phone
   * is already taken: `registration(phone)` tells which.
   */
  async create(v: Volunteer, token: string, bodyHash?: string): Promise<boolean> {
    const keyHash = hashSecret(token);
    try {
      await documents.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: table(),
                Item: volunteerItem(v),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: table(),
                Item: {
                  ...keys.phone(v.phone),
                  type: 'phone',
                  volunteerId: v.volunteerId,
                  // Every token issued to the volunteer, so a new one revokes them.
                  keyHashes: [keyHash],
                  ...(bodyHash && { bodyHash }),
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            { Put: keyPut(keyHash, 'volunteer', v.volunteerId, v.createdAt) },
            {
              Update: counterUpdate(ALL_TIME, { registered: 1, onDuty: v.onDuty ? 1 : 0 }),
            },
            // Last, so the volunteer's and the phone's cancellation reasons stay at 0 and 1.
            ...skillEntryWrites(undefined, v),
          ],
        }),
      );
      return true;
    } catch (e) {
      const [volunteer, phone] = isTransactionConflict(e) ? cancellationCodes(e) : [];
      if (volunteer === 'ConditionalCheckFailed' || phone === 'ConditionalCheckFailed') {
        return false;
      }
      throw e;
    }
  },

  /** Who a phone is registered to (strongly consistent), or undefined. */
  async registration(phone: string): Promise<PhoneRegistration | undefined> {
    const { Item } = await documents.send(
      new GetCommand({ TableName: table(), Key: keys.phone(phone), ConsistentRead: true }),
    );
    return Item
      ? { volunteerId: Item.volunteerId, keyHashes: Item.keyHashes, bodyHash: Item.bodyHash }
      : undefined;
  },

  /** `consistent: false` (half the read units) where a stale copy is re-read or harmless. */
  async get(
    volunteerId: string,
    opts: { consistent?: boolean } = {},
  ): Promise<Volunteer | undefined> {
    const { Item } = await documents.send(
      new GetCommand({
        TableName: table(),
        Key: keys.volunteer(volunteerId),
        ConsistentRead: opts.consistent ?? true,
      }),
    );
    return Item ? fromItem<Volunteer>(Item) : undefined;
  },

  /** Writes `next` if nobody changed the volunteer since `prev` was read. */
  async replace(prev: Volunteer, next: Volunteer): Promise<boolean> {
    try {
      const entries = skillEntryWrites(prev, next);
      if (prev.onDuty === next.onDuty && entries.length === 0) {
        await documents.send(new UpdateCommand(volunteerUpdate(prev, next)));
      } else {
        // The district's on-duty count and the per-skill entries move with the
        // volunteer, in one write.
        await documents.send(
          new TransactWriteCommand({
            TransactItems: [
              { Update: volunteerUpdate(prev, next) },
              ...(prev.onDuty === next.onDuty
                ? []
                : [{ Update: counterUpdate(ALL_TIME, { onDuty: next.onDuty ? 1 : -1 }) }]),
              ...entries,
            ],
          }),
        );
      }
      return true;
    } catch (e) {
      if (isConditionFailure(e) || isTransactionConflict(e)) return false;
      throw e;
    }
  },

  /**
   * Upgrade backfill: writes every per-skill availability entry `v` should have
   * (`skillEntries(v)`), in one transaction with the volunteer's own version-checked
   * update to itself, so a volunteer changed since `v` was read cancels it: the caller
   * re-reads and calls again. Puts overwrite, so a second run rewrites the same entries.
   * Returns how many entries were written (0, and no write at all, when none is due: no
   * skills, off duty or full; the writes that change that will add them), or 'changed'.
   */
  async restoreSkillEntries(v: Volunteer): Promise<number | 'changed'> {
    const due = skillEntries(v).length;
    if (due === 0) return 0;
    try {
      await documents.send(
        new TransactWriteCommand({
          TransactItems: [{ Update: volunteerUpdate(v, v) }, ...skillEntryWrites(undefined, v)],
        }),
      );
      return due;
    } catch (e) {
      // Cancelled by the version check or by a concurrent transaction on one of the items.
      const codes = cancellationCodes(e);
      if (
        isTransactionConflict(e) &&
        codes.some((c) => c === 'ConditionalCheckFailed' || c === 'TransactionConflict')
      ) {
        return 'changed';
      }
      throw e;
    }
  },

  /**
   * One page of available volunteers of a community, least busy first, from the sparse
   * availability index: reads at most `limit` items, whatever the district's size.
   * With skills it reads the per-skill entries of the first skill, so only volunteers
   * holding it are read; DynamoDB filters the other skills (those filtered out still
   * count as read: list the rarest skill first).
   */
  async availableIn(
    communityId: string,
    skills: string[],
    limit: number,
    startKey?: Record<string, unknown>,
  ): Promise<{ available: AvailableVolunteer[]; nextKey?: Record<string, unknown> }> {
    const [first, ...others] = skills;
    const values: Record<string, unknown> = {
      ':pk': first ? skillPartition(communityId, first) : `AVAIL#${communityId}`,
    };
    const filters = others.map((s, i) => {
      values[`:s${i}`] = s;
      return `contains(skills, :s${i})`;
    });
    const query = (IndexName: string) =>
      documents.send(
        new QueryCommand({
          TableName: table(),
          IndexName,
          KeyConditionExpression: 'gsi2pk = :pk',
          FilterExpression: filters.length ? filters.join(' AND ') : undefined,
          ExpressionAttributeValues: values,
          Limit: limit,
          ExclusiveStartKey: startKey,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
    let page: Awaited<ReturnType<typeof query>>;
    try {
      page = await query(AVAILABILITY_INDEX);
    } catch (e) {
      // First deploy of the upgrade to `avail`: DynamoDB is still filling it (or has not
      // made it yet), and the index it replaces, with the same keys, is still there.
      if (!isIndexNotReady(e)) throw e;
      page = await query(RETIRED_AVAILABILITY_INDEX);
    }
    return {
      available: (page.Items ?? []).map((i) => fromItem<AvailableVolunteer>(i)),
      nextKey: page.LastEvaluatedKey,
    };
  },
};
