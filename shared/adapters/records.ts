import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '../clients/dynamodb.ts';
import type { Task } from '../domain/request.ts';
import type { Volunteer } from '../domain/volunteer.ts';
import { fromItem, inbox, isConditionFailure, keys, queryAll, table } from './table.ts';

/**
 * Service records. Each credited task writes one record item under the day its request
 * was confirmed (`RECORDS#<day>` / `<volunteerId>#<taskId>`), so an export for a period
 * reads one partition per day and never scans. Records keep the volunteer's name and
 * community for certificates and only a masked phone number; they have no TTL
 * (certificates are asked for long after the work).
 */
export interface ServiceRecord {
  day: string;
  volunteerId: string;
  name: string;
  phoneMasked: string;
  communityId: string;
  townId: string;
  taskId: string;
  requestId: string;
  kind: string;
  minutes: number;
  points: number;
  creditedAt: string;
}

export const recordKey = (day: string, volunteerId: string, taskId: string) => ({
  pk: `RECORDS#${day}`,
  sk: `${volunteerId}#${taskId}`,
});

/** `+8613800138000` → `+86138****8000`. */
export const maskPhone = (phone: string) =>
  phone.length > 8 ? `${phone.slice(0, 6)}****${phone.slice(-4)}` : '****';

/** A credit: a delivered task of a confirmed request, with what it is credited. */
export interface Credit {
  task: Task;
  volunteer: Volunteer;
  kind?: string;
  minutes: number;
  points: number;
  /** When the request was confirmed: the record's day, the same on every retry. */
  now: Date;
}

export function recordItem(r: Credit) {
  const day = r.now.toISOString().slice(0, 10);
  const record: ServiceRecord = {
    day,
    volunteerId: r.volunteer.volunteerId,
    name: r.volunteer.name,
    phoneMasked: maskPhone(r.volunteer.phone),
    communityId: r.volunteer.communityId,
    townId: r.volunteer.townId,
    taskId: r.task.taskId,
    requestId: r.task.requestId,
    kind: r.kind ?? 'other',
    minutes: r.minutes,
    points: r.points,
    creditedAt: r.now.toISOString(),
  };
  return {
    TableName: table(),
    Item: { ...recordKey(day, r.volunteer.volunteerId, r.task.taskId), type: 'record', ...record },
  };
}

/**
 * Credits a delivered task of a confirmed request with its minutes and points, once.
 * Two single-item writes, not a transaction (which bills twice per item): the record
 * first, then the task marked credited. Both are conditional and idempotent, and both
 * use the confirm's time, so a retry after a crash between them writes the same record
 * (refused, already there) and then marks the task: no record is ever missing or
 * doubled, and a credited task always has its record. A volunteer's totals are summed
 * from their tasks when read, so the volunteer item is not written at all.
 */
export async function creditTask(c: Credit): Promise<void> {
  try {
    await documents.send(
      new PutCommand({ ...recordItem(c), ConditionExpression: 'attribute_not_exists(pk)' }),
    );
  } catch (e) {
    if (!isConditionFailure(e)) throw e;
  }
  try {
    await documents.send(
      new UpdateCommand({
        TableName: table(),
        Key: keys.task(c.task.requestId, c.task.volunteerId),
        UpdateExpression: 'SET credited = :true, minutes = :m, points = :p',
        ConditionExpression: '#status = :delivered AND attribute_not_exists(credited)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':true': true,
          ':delivered': 'delivered',
          ':m': c.minutes,
          ':p': c.points,
        },
      }),
    );
  } catch (e) {
    // Credited already: a repeated event.
    if (!isConditionFailure(e)) throw e;
  }
}

export const records = {
  /** The records credited on one day (UTC), every page. */
  async ofDay(day: string): Promise<ServiceRecord[]> {
    const items = await queryAll({
      TableName: table(),
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `RECORDS#${day}` },
    });
    return items.map((i) => fromItem<ServiceRecord>(i));
  },

  /** A volunteer's tasks, newest first, from their inbox index (at most `max`). */
  async tasksOf(volunteerId: string, max = 1000): Promise<Task[]> {
    const items = await queryAll(
      {
        TableName: table(),
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': inbox.tasks(volunteerId) },
        ScanIndexForward: false,
      },
      max,
    );
    return items.slice(0, max).map((i) => fromItem<Task>(i));
  },
};
