import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '../clients/dynamodb.ts';
import type { Task } from '../domain/request.ts';
import type { Volunteer } from '../domain/volunteer.ts';
import { type LegacyCredit, taskOf } from './places.ts';
import { fromItem, getAll, inbox, isConditionFailure, queryAll, table } from './table.ts';

/**
 * Service records. Each credited task writes one record item under the day it was
 * delivered (`RECORDS#<day>` / `<volunteerId>#<taskId>`): the day the service was given,
 * which the task carries from its delivery on, so the record's key is known from the task
 * alone. An export for a period reads one partition per day and never scans; a
 * volunteer's record finds their credits by key. Records keep the volunteer's name and
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

/** The day a delivered task's record is kept under: its delivery's UTC day. */
export const recordDay = (task: Pick<Task, 'deliveredAt' | 'createdAt'>) =>
  (task.deliveredAt ?? task.createdAt).slice(0, 10);

/** The key of a delivered task's record. */
export const taskRecordKey = (
  task: Pick<Task, 'deliveredAt' | 'createdAt' | 'volunteerId' | 'taskId'>,
) => recordKey(recordDay(task), task.volunteerId, task.taskId);

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
  /** When the request was confirmed. */
  confirmedAt: Date;
}

export function recordItem(r: Credit) {
  const record: ServiceRecord = {
    day: recordDay(r.task),
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
    creditedAt: r.confirmedAt.toISOString(),
  };
  return {
    TableName: table(),
    Item: { ...taskRecordKey(r.task), type: 'record', ...record },
  };
}

/**
 * Credits a delivered task of a confirmed request with its minutes and points, once: one
 * conditional Put of its service record (`attribute_not_exists`), keyed by the task, so a
 * repeated credit is refused and changes nothing. The record is the credit: neither the
 * task nor the volunteer is written (a task and its index entry would be two more units).
 */
export async function creditTask(c: Credit): Promise<void> {
  try {
    await documents.send(
      new PutCommand({ ...recordItem(c), ConditionExpression: 'attribute_not_exists(pk)' }),
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

  /** The records of these delivered tasks that exist, by task id (read by key). */
  async ofTasks(tasks: Task[]): Promise<Map<string, ServiceRecord>> {
    const items = await getAll(
      tasks.map((t) => taskRecordKey(t)),
      { consistent: false },
    );
    const found = new Map<string, ServiceRecord>();
    for (const item of items) {
      const record = fromItem<ServiceRecord>(item);
      found.set(record.taskId, record);
    }
    return found;
  },

  /**
   * A volunteer's tasks, newest first (at most `max`), from their inbox index: a task
   * accepted from an offer keeps the offer's entry (`VOLOFFER#`, read with the offers
   * still there, which are left out), one put by ops without an offer has its own
   * (`VOLTASK#`, as had every task accepted before 2026-12-03).
   */
  async tasksOf(volunteerId: string, max = 1000): Promise<(Task & LegacyCredit)[]> {
    const inboxOf = (pk: string) =>
      queryAll({
        TableName: table(),
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
      });
    const [own, offered] = await Promise.all([
      inboxOf(inbox.tasks(volunteerId)),
      inboxOf(inbox.offers(volunteerId)),
    ]);
    return [...own, ...offered.filter((i) => i.type === 'task')]
      .map((i) => taskOf(i))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .slice(0, max);
  },
};
