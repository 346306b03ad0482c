import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '../clients/dynamodb.ts';
import type { HelpRequest, HistoryEntry, Offer, Task } from '../domain/request.ts';
import { dayOf, tasksTodayOf, type Volunteer } from '../domain/volunteer.ts';
import { taskIdOf } from '../ids.ts';
import { epochSeconds, inbox, isTransactionConflict, keys, table, watchFragment } from './table.ts';
import { skillEntryWrites, volunteerUpdate } from './volunteers.ts';

type TransactItem = NonNullable<
  ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']
>[number];

/** Runs a transaction; `conflict` when a condition failed (a race or a repeat). */
async function transact(items: TransactItem[]): Promise<'ok' | 'conflict'> {
  try {
    await documents.send(new TransactWriteCommand({ TransactItems: items }));
    return 'ok';
  } catch (e) {
    if (isTransactionConflict(e)) return 'conflict';
    throw e;
  }
}

export interface TakeSlot {
  request: HelpRequest;
  volunteer: Volunteer;
  via: 'offer' | 'ops';
  /**
   * The volunteer's open offer for the request, which becomes the task (required when via
   * offer). Without one the task is put in its place.
   */
  offer: Offer | undefined;
  retentionDays: number;
  now: Date;
}

/**
 * Takes one open slot of a request for a volunteer, all or nothing: the open offer (if
 * any) becomes the task, or the task is put; the request's filled count moves from what
 * was read (so two takers of the last slot cannot both win), the task is created once,
 * and the volunteer's load moves from the version read.
 */
export async function takeSlot(t: TakeSlot): Promise<{ result: 'ok' | 'conflict'; task: Task }> {
  const { request, volunteer, now } = t;
  const at = now.toISOString();
  const task: Task = {
    taskId: taskIdOf(request.requestId, volunteer.volunteerId),
    requestId: request.requestId,
    volunteerId: volunteer.volunteerId,
    status: 'accepted',
    via: t.via,
    createdAt: at,
  };
  const filled = request.filled + 1;
  const matched = filled === request.slots;
  const history: HistoryEntry[] = [];
  if (t.via === 'ops')
    history.push({ event: 'manual_dispatch', at, volunteerId: volunteer.volunteerId });
  if (matched) history.push({ status: 'matched', at });

  const requestValues: Record<string, unknown> = {
    ':next': filled,
    ':filled': request.filled,
    ':received': 'received',
    ':at': at,
    ':h': history,
  };
  const requestSets = ['filled = :next', 'updatedAt = :at', 'history = list_append(history, :h)'];
  let requestRemoves: string[] = [];
  if (matched) {
    requestValues[':matched'] = 'matched';
    const watch = watchFragment('matched', at, requestValues);
    requestSets.push('#status = :matched', ...watch.set);
    requestRemoves = watch.remove;
  }
  const loaded: Volunteer = {
    ...volunteer,
    active: volunteer.active + 1,
    tasksDay: dayOf(now),
    tasksToday: tasksTodayOf(volunteer, now) + 1,
    updatedAt: at,
  };
  const expiresAtEpoch = epochSeconds(now) + t.retentionDays * 86400;
  const items: TransactItem[] = [
    // The offer becomes the task (one item: a second would be two more write units here).
    // Its inbox entry stays where the offer's was (`VOLOFFER#`, by the offer's expiry), so
    // it is rewritten (one unit) rather than moved to the tasks' (two); the open-offer
    // query leaves it out by status, and a volunteer's tasks are read from both.
    t.offer
      ? {
          Update: {
            TableName: table(),
            Key: keys.task(request.requestId, volunteer.volunteerId),
            UpdateExpression:
              'SET #type = :task, #status = :accepted, taskId = :taskId, via = :via, ' +
              'offeredAt = :offeredAt, createdAt = :at, closedAt = :at, expiresAtEpoch = :ttl',
            ConditionExpression:
              t.via === 'offer'
                ? '#type = :offer AND #status = :open AND expiresAt > :at'
                : '#type = :offer AND #status = :open',
            ExpressionAttributeNames: { '#type': 'type', '#status': 'status' },
            ExpressionAttributeValues: {
              ':task': 'task',
              ':offer': 'offer',
              ':accepted': 'accepted',
              ':open': 'open',
              ':taskId': task.taskId,
              ':via': t.via,
              ':at': at,
              ':offeredAt': t.offer.createdAt,
              ':ttl': expiresAtEpoch,
            },
          },
        }
      : {
          // No open offer: the task takes the volunteer's place, over a closed offer if any.
          Put: {
            TableName: table(),
            Item: {
              ...keys.task(request.requestId, volunteer.volunteerId),
              type: 'task',
              ...task,
              gsi1pk: inbox.tasks(volunteer.volunteerId),
              gsi1sk: at,
              expiresAtEpoch,
            },
            ConditionExpression:
              'attribute_not_exists(pk) OR (#type = :offer AND #status <> :open)',
            ExpressionAttributeNames: { '#type': 'type', '#status': 'status' },
            ExpressionAttributeValues: { ':offer': 'offer', ':open': 'open' },
          },
        },
  ];
  items.push(
    {
      Update: {
        TableName: table(),
        Key: keys.request(request.requestId),
        UpdateExpression: `SET ${requestSets.join(', ')}${requestRemoves.length ? ` REMOVE ${requestRemoves.join(', ')}` : ''}`,
        ConditionExpression: '#status = :received AND filled = :filled',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: requestValues,
      },
    },
    { Update: volunteerUpdate(volunteer, loaded) },
  );
  // Counted from the table's stream, not here: the request's move to `matched` and its
  // time to match, and the volunteer's first task of the day (their `tasksDay` moving).
  // A skilled volunteer's entries move with their tasks today (their sort key), or go
  // when the task fills their capacity: the price of reading only skilled volunteers.
  items.push(...skillEntryWrites(volunteer, loaded));
  return { result: await transact(items), task };
}

/**
 * Marks a task delivered, counts it on the request (which becomes `delivered` with its
 * last task) and frees the volunteer's slot, all or nothing. The person-time and the
 * request's move are counted from the table's stream (the request's `delivered` goes up).
 */
export async function deliverTask(
  request: HelpRequest,
  task: Task,
  volunteer: Volunteer,
  note: string | undefined,
  now: Date,
): Promise<{ result: 'ok' | 'conflict'; requestDelivered: boolean }> {
  const at = now.toISOString();
  const delivered = request.delivered + 1;
  const requestDelivered = request.status === 'matched' && delivered === request.slots;
  const requestValues: Record<string, unknown> = {
    ':next': delivered,
    ':prev': request.delivered,
    ':status': request.status,
    ':at': at,
  };
  const requestSets = ['delivered = :next', 'updatedAt = :at'];
  if (requestDelivered) {
    requestValues[':to'] = 'delivered';
    requestValues[':h'] = [{ status: 'delivered', at }];
    requestSets.push(
      '#status = :to',
      'history = list_append(history, :h)',
      ...watchFragment('delivered', at, requestValues).set,
    );
  }
  const freed: Volunteer = {
    ...volunteer,
    active: Math.max(0, volunteer.active - 1),
    updatedAt: at,
  };
  const result = await transact([
    {
      Update: {
        TableName: table(),
        Key: keys.task(request.requestId, task.volunteerId),
        UpdateExpression: `SET #status = :delivered, deliveredAt = :at${note ? ', note = :note' : ''}`,
        ConditionExpression: '#status = :accepted',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':delivered': 'delivered',
          ':accepted': 'accepted',
          ':at': at,
          ...(note ? { ':note': note } : {}),
        },
      },
    },
    {
      Update: {
        TableName: table(),
        Key: keys.request(request.requestId),
        UpdateExpression: `SET ${requestSets.join(', ')}`,
        ConditionExpression: 'delivered = :prev AND #status = :status',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: requestValues,
      },
    },
    { Update: volunteerUpdate(volunteer, freed) },
    // Entries are written only if the volunteer was full and is free again.
    ...skillEntryWrites(volunteer, freed),
  ]);
  return { result, requestDelivered };
}

/** Cancels an accepted task of a cancelled request and frees its volunteer's slot. */
export async function releaseTask(
  task: Task,
  volunteer: Volunteer,
  now: Date,
): Promise<'ok' | 'conflict'> {
  const at = now.toISOString();
  const freed: Volunteer = {
    ...volunteer,
    active: Math.max(0, volunteer.active - 1),
    updatedAt: at,
  };
  return transact([
    {
      Update: {
        TableName: table(),
        Key: keys.task(task.requestId, task.volunteerId),
        UpdateExpression: 'SET #status = :cancelled, cancelledAt = :at',
        ConditionExpression: '#status = :accepted',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':cancelled': 'cancelled',
          ':accepted': 'accepted',
          ':at': at,
        },
      },
    },
    { Update: volunteerUpdate(volunteer, freed) },
    ...skillEntryWrites(volunteer, freed),
  ]);
}
