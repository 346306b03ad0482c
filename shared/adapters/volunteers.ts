import {
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { documents } from '../clients/dynamodb.ts';
import { availabilityKeys, type Volunteer } from '../domain/volunteer.ts';
import { conflict } from '../errors.ts';
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

/** The item of a volunteer, with its availability index entry when it has one. */
export function volunteerItem(v: Volunteer): Record<string, unknown> {
  return { ...keys.volunteer(v.volunteerId), type: 'volunteer', ...v, ...availabilityKeys(v) };
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
    'serviceMinutes',
    'points',
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

export const volunteers = {
  /** Registers a volunteer with their token; one volunteer per phone number. */
  async create(v: Volunteer, token: string): Promise<void> {
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
                Item: { ...keys.phone(v.phone), type: 'phone', volunteerId: v.volunteerId },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            { Put: keyPut(hashSecret(token), 'volunteer', v.volunteerId, v.createdAt) },
            {
              Update: counterUpdate(ALL_TIME, { registered: 1, onDuty: v.onDuty ? 1 : 0 }),
            },
          ],
        }),
      );
    } catch (e) {
      if (isTransactionConflict(e) && cancellationCodes(e)[1] === 'ConditionalCheckFailed') {
        throw conflict('volunteer_exists', 'phone: a volunteer with this phone is registered');
      }
      throw e;
    }
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
      if (prev.onDuty === next.onDuty) {
        await documents.send(new UpdateCommand(volunteerUpdate(prev, next)));
      } else {
        // The district's on-duty count moves with the volunteer, in one write.
        await documents.send(
          new TransactWriteCommand({
            TransactItems: [
              { Update: volunteerUpdate(prev, next) },
              { Update: counterUpdate(ALL_TIME, { onDuty: next.onDuty ? 1 : -1 }) },
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
   * One page of available volunteers of a community, least busy first, from the sparse
   * availability index: reads at most `limit` items, whatever the district's size.
   * Skills are filtered by DynamoDB (the filtered-out items still count as read).
   */
  async availableIn(
    communityId: string,
    skills: string[],
    limit: number,
    startKey?: Record<string, unknown>,
  ): Promise<{ volunteers: Volunteer[]; nextKey?: Record<string, unknown> }> {
    const values: Record<string, unknown> = { ':pk': `AVAIL#${communityId}` };
    const filters = skills.map((s, i) => {
      values[`:s${i}`] = s;
      return `contains(skills, :s${i})`;
    });
    const page = await documents.send(
      new QueryCommand({
        TableName: table(),
        IndexName: 'gsi2',
        KeyConditionExpression: 'gsi2pk = :pk',
        FilterExpression: filters.length ? filters.join(' AND ') : undefined,
        ExpressionAttributeValues: values,
        Limit: limit,
        ExclusiveStartKey: startKey,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    return {
      volunteers: (page.Items ?? []).map((i) => fromItem<Volunteer>(i)),
      nextKey: page.LastEvaluatedKey,
    };
  },
};
