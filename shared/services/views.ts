import type { RequestState } from '../adapters/requests.ts';

/** A request as its partner and ops see it (the contract's GET /v1/requests/{id}). */
export function requestView({ request: r, tasks }: RequestState) {
  return {
    requestId: r.requestId,
    status: r.status,
    kind: r.kind,
    communityId: r.communityId,
    townId: r.townId,
    slots: r.slots,
    urgency: r.urgency,
    skills: r.skills,
    window: r.window,
    scope: r.scope,
    waitingForDispatch: r.status === 'received' && r.scope === 'ops',
    tasks: tasks.map((t) => ({
      taskId: t.taskId,
      volunteerId: t.volunteerId,
      status: t.status,
      via: t.via,
      createdAt: t.createdAt,
      deliveredAt: t.deliveredAt,
    })),
    history: r.history,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}
