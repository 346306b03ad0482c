import type { Task } from '../domain/request.ts';
import type { Volunteer } from '../domain/volunteer.ts';
import { fromItem, inbox, queryAll, table } from './table.ts';

/**
 * Service records. Each credited task writes one record item under the day it was
 * credited (`RECORDS#<day>` / `<volunteerId>#<taskId>`), in the credit's transaction, so
 * an export for a period reads one partition per day and never scans. Records keep the
 * volunteer's name and community for certificates and only a masked phone number; they
 * have no TTL (certificates are asked for long after the work).
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

export function recordItem(r: {
  task: Task;
  volunteer: Volunteer;
  kind?: string;
  minutes: number;
  points: number;
  now: Date;
}) {
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
