import type { Offer, Task } from '../domain/request.ts';
import { fromItem } from './table.ts';

/**
 * A volunteer's place in a request (`REQ#<id>` / `TASK#<volunteerId>`) is one item: their
 * offer, and the task it becomes when accepted (or a task put there by ops). These read
 * the offer and the task out of it.
 */

/** The task an item holds (an accepted offer carries its offer's fields too: left out). */
export function taskOf(item: Record<string, unknown>): Task & LegacyCredit {
  const t = fromItem<Task & LegacyCredit>(item);
  return {
    taskId: t.taskId,
    requestId: t.requestId,
    volunteerId: t.volunteerId,
    status: t.status,
    via: t.via,
    createdAt: t.createdAt,
    ...(t.deliveredAt !== undefined && { deliveredAt: t.deliveredAt }),
    ...(t.note !== undefined && { note: t.note }),
    ...(t.photoKeys !== undefined && { photoKeys: t.photoKeys }),
    ...(t.credited !== undefined && { credited: t.credited }),
    ...(t.minutes !== undefined && { minutes: t.minutes }),
    ...(t.points !== undefined && { points: t.points }),
  };
}

/** A task's minutes and points, on tasks credited before the service record was the credit. */
export interface LegacyCredit {
  minutes?: number;
  points?: number;
}

/**
 * The offer an item holds: an offer, or a task that was one (accepted: its offer fields
 * are still on it, `createdAt` then being the accept's and `offeredAt` the offer's). An
 * ops task made without an offer holds none.
 */
export function offerOf(item: Record<string, unknown>): Offer | undefined {
  if (item.type === 'offer') return fromItem<Offer>(item);
  if (item.type !== 'task' || typeof item.offerId !== 'string') return undefined;
  const o = fromItem<Offer & { offeredAt?: string }>(item);
  return {
    offerId: o.offerId,
    requestId: o.requestId,
    volunteerId: o.volunteerId,
    status: 'accepted',
    scope: o.scope,
    kind: o.kind,
    communityId: o.communityId,
    createdAt: o.offeredAt ?? o.createdAt,
    expiresAt: o.expiresAt,
    ...(o.code !== undefined && { code: o.code }),
    ...(o.push !== undefined && { push: o.push }),
  };
}
