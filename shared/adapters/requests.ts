import {
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { documents } from '../clients/dynamodb.ts';
import {
  type HelpRequest,
  type HistoryEntry,
  type Offer,
  type OfferStatus,
  offerBeside,
  type RequestStatus,
  type Scope,
  type Task,
} from '../domain/request.ts';
import type { CreditTotals } from '../domain/request-counts.ts';
import { offerOf, taskOf } from './places.ts';
import {
  cancellationCodes,
  epochSeconds,
  fromItem,
  getAll,
  inbox,
  isConditionFailure,
  isTransactionConflict,
  keys,
  queryAll,
  table,
  type WATCHED,
  watchFragment,
  watchKey,
} from './table.ts';

/** A request with its offers and tasks: one partition, read in one query. */
export interface RequestState {
  request: HelpRequest;
  offers: Offer[];
  tasks: Task[];
}

/** Read options: strongly consistent unless `consistent: false`. */
export interface Read {
  consistent?: boolean;
}

export interface IdempotencyRecord {
  requestId: string;
  bodyHash: string;
  status: RequestStatus;
}

export const requests = {
  /**
   * Stores a new request with one conditional put. Its id is derived from the partner and
   * the Idempotency-Key (`requestIdOf`), so the put's `attribute_not_exists` condition is
   * the idempotency check: a repeated key finds the stored request, whose body hash is
   * returned to compare. The key is remembered as long as the request is kept (its TTL).
   * Counted by the table's stream consumer (functions/count-transitions.ts), not here.
   */
  async create(
    request: HelpRequest,
    idempotency: { key: string; bodyHash: string },
    retentionDays: number,
    now: Date,
  ): Promise<{ created: true } | { created: false; existing: IdempotencyRecord }> {
    const expiresAtEpoch = epochSeconds(now) + retentionDays * 86400;
    try {
      await documents.send(
        new PutCommand({
          TableName: table(),
          Item: {
            ...keys.request(request.requestId),
            type: 'request',
            ...request,
            idempotency: { key: idempotency.key, bodyHash: idempotency.bodyHash },
            gsi1pk: watchKey(request.status),
            gsi1sk: request.createdAt,
            expiresAtEpoch,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { created: true };
    } catch (e) {
      if (isConditionFailure(e)) {
        const existing = await requests.findIdempotent(request.requestId);
        if (existing) return { created: false, existing };
      }
      throw e;
    }
  },

  /** The request stored under a derived id, with the hash of the body it was posted with. */
  async findIdempotent(requestId: string): Promise<IdempotencyRecord | undefined> {
    const { Item } = await documents.send(
      new GetCommand({
        TableName: table(),
        Key: keys.request(requestId),
        ProjectionExpression: 'requestId, idempotency, #status',
        ExpressionAttributeNames: { '#status': 'status' },
        ConsistentRead: true,
      }),
    );
    return Item
      ? { requestId: Item.requestId, bodyHash: Item.idempotency?.bodyHash, status: Item.status }
      : undefined;
  },

  /**
   * `consistent: false` reads at half the price where the caller's write is conditional
   * on what it read and it re-reads strongly before answering anything but success.
   */
  async get(requestId: string, opts: Read = {}): Promise<HelpRequest | undefined> {
    const { Item } = await documents.send(
      new GetCommand({
        TableName: table(),
        Key: keys.request(requestId),
        ConsistentRead: opts.consistent ?? true,
      }),
    );
    return Item ? fromItem<HelpRequest>(Item) : undefined;
  },

  /** The request, its offers and its tasks (`consistent` as for `get`). */
  async load(requestId: string, opts: Read = {}): Promise<RequestState | undefined> {
    const state: Partial<RequestState> = { offers: [], tasks: [] };
    const items = await queryAll({
      TableName: table(),
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.request(requestId).pk },
      ConsistentRead: opts.consistent ?? true,
    });
    for (const item of items) {
      if (item.type === 'request') state.request = fromItem<HelpRequest>(item);
      if (item.type === 'task') state.tasks?.push(taskOf(item));
      const offer = offerOf(item);
      // An offer made before offers moved to `TASK#` can no longer become a task: closed.
      if (offer?.status === 'open' && String(item.sk).startsWith('OFFER#'))
        offer.status = 'expired';
      if (offer) state.offers?.push(offer);
    }
    if (!state.request) return undefined;
    const { status } = state.request;
    state.offers = state.offers?.map((o) => offerBeside(o, status));
    return state as RequestState;
  },

  /**
   * Moves a request from `from` to `to`, appending to its history. A confirm writes the
   * `credit` its tasks are credited with onto the request, so the stream consumer counts
   * the minutes and points with the move. Returns false when the request was not in
   * `from` (a race or a repeat).
   */
  async transition(
    request: Pick<HelpRequest, 'requestId'>,
    from: RequestStatus,
    to: RequestStatus,
    now: Date,
    events: HistoryEntry[] = [],
    credit?: CreditTotals,
  ): Promise<boolean> {
    return moveStatus(request, from, to, now, events, credit);
  },

  /** Widens the matching scope, once: false when another worker already moved it on. */
  async widen(requestId: string, from: Scope, to: Scope, now: Date): Promise<boolean> {
    const at = now.toISOString();
    const event: HistoryEntry =
      to === 'ops'
        ? { event: 'waiting_for_dispatch', at, from }
        : { event: 'scope_widened', at, from, to };
    const update = {
      TableName: table(),
      Key: keys.request(requestId),
      UpdateExpression: 'SET #scope = :to, updatedAt = :at, history = list_append(history, :h)',
      ConditionExpression: '#scope = :from AND #status = :received',
      ExpressionAttributeNames: { '#scope': 'scope', '#status': 'status' },
      ExpressionAttributeValues: {
        ':to': to,
        ':from': from,
        ':at': at,
        ':h': [event],
        ':received': 'received',
      },
    };
    try {
      // Reaching `ops` (waiting for manual dispatch) is counted from the stream.
      await documents.send(new UpdateCommand(update));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  },

  /** Appends an event (not a status change) to the history. */
  async appendEvent(requestId: string, event: HistoryEntry): Promise<void> {
    await documents.send(
      new UpdateCommand({
        TableName: table(),
        Key: keys.request(requestId),
        UpdateExpression: 'SET history = list_append(history, :h)',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':h': [event] },
      }),
    );
  },
};

/**
 * The status write of `transition`: one update, conditional on the status read. What it
 * counts (the status move, a request leaving manual dispatch, the credit) the stream
 * consumer reads from the item's images before and after.
 */
async function moveStatus(
  request: Pick<HelpRequest, 'requestId'>,
  from: RequestStatus,
  to: RequestStatus,
  now: Date,
  events: HistoryEntry[],
  credit: CreditTotals | undefined,
): Promise<boolean> {
  const at = now.toISOString();
  const values: Record<string, unknown> = {
    ':to': to,
    ':from': from,
    ':at': at,
    ':h': [...events, { status: to, at }],
  };
  const watch = watchFragment(to, at, values);
  const sets = [
    '#status = :to',
    'updatedAt = :at',
    'history = list_append(history, :h)',
    ...watch.set,
  ];
  if (credit) {
    sets.push('credit = :credit');
    values[':credit'] = credit;
  }
  const remove = watch.remove.length ? ` REMOVE ${watch.remove.join(', ')}` : '';
  try {
    await documents.send(
      new UpdateCommand({
        TableName: table(),
        Key: keys.request(request.requestId),
        UpdateExpression: `SET ${sets.join(', ')}${remove}`,
        ConditionExpression: '#status = :from',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: values,
      }),
    );
    return true;
  } catch (e) {
    if (isConditionFailure(e)) return false;
    throw e;
  }
}

/**
 * Requests that entered a watched status before `before`, oldest first: page after page
 * (of 100) until none is left or at least `max` are read (the last page is kept whole).
 */
export async function watched(
  status: (typeof WATCHED)[number],
  before: Date,
  max = Number.POSITIVE_INFINITY,
): Promise<HelpRequest[]> {
  const items = await queryAll(
    {
      TableName: table(),
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk < :before',
      ExpressionAttributeValues: { ':pk': watchKey(status), ':before': before.toISOString() },
      Limit: 100,
    },
    max,
  );
  return items.map((i) => fromItem<HelpRequest>(i));
}

export const offers = {
  /** Creates an open offer; false when this volunteer already had one for the request. */
  async create(offer: Offer, retentionDays: number): Promise<boolean> {
    try {
      await documents.send(
        new PutCommand({
          TableName: table(),
          Item: {
            ...keys.offer(offer.requestId, offer.volunteerId),
            type: 'offer',
            ...offer,
            gsi1pk: inbox.offers(offer.volunteerId),
            gsi1sk: offer.expiresAt,
            expiresAtEpoch: epochSeconds(new Date(offer.createdAt)) + retentionDays * 86400,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  },

  /**
   * Closes an open offer (declined, expired, withdrawn). A declined or expired offer
   * leaves the volunteer's inbox; a withdrawn one (its volunteer went off duty) keeps its
   * entry, by its expiry, so a retried off-duty event finds the offers it closed and
   * queues their requests' matches again (`inboxAfter`). False when it was no longer
   * open.
   */
  async close(
    requestId: string,
    volunteerId: string,
    to: Exclude<OfferStatus, 'open' | 'accepted'>,
    now: Date,
    opts: { onlyIfExpired?: boolean } = {},
  ): Promise<boolean> {
    const values: Record<string, unknown> = {
      ':open': 'open',
      ':to': to,
      ':at': now.toISOString(),
    };
    let condition = '#status = :open';
    if (opts.onlyIfExpired) condition += ' AND expiresAt <= :at';
    const leaveInbox = to === 'withdrawn' ? '' : ' REMOVE gsi1pk, gsi1sk';
    try {
      await documents.send(
        new UpdateCommand({
          TableName: table(),
          Key: keys.offer(requestId, volunteerId),
          UpdateExpression: `SET #status = :to, closedAt = :at${leaveInbox}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  },

  /**
   * Expires an open offer past its time and notes it in the request's history, in one
   * transaction: a crash or a repeated timer can neither lose the note nor write it
   * twice. False when the offer was not open, not yet past its time, or its request no
   * longer takes volunteers (the offer is withdrawn).
   */
  async expire(requestId: string, volunteerId: string, now: Date): Promise<boolean> {
    const at = now.toISOString();
    const event: HistoryEntry = { event: 'offer_expired', at, volunteerId };
    try {
      await documents.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: table(),
                Key: keys.offer(requestId, volunteerId),
                UpdateExpression: 'SET #status = :to, closedAt = :at REMOVE gsi1pk, gsi1sk',
                ConditionExpression: '#status = :open AND expiresAt <= :at',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: { ':open': 'open', ':to': 'expired', ':at': at },
              },
            },
            {
              Update: {
                TableName: table(),
                Key: keys.request(requestId),
                UpdateExpression: 'SET history = list_append(history, :h)',
                // A request that takes no more volunteers has its open offers withdrawn.
                ConditionExpression: '#status = :received',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: { ':h': [event], ':received': 'received' },
              },
            },
          ],
        }),
      );
      return true;
    } catch (e) {
      if (isTransactionConflict(e) && cancellationCodes(e).includes('ConditionalCheckFailed')) {
        return false;
      }
      throw e;
    }
  },

  /**
   * A volunteer's open offers, read from their inbox index (never a scan), without those
   * whose request takes no more volunteers (withdrawn: read from the requests' status,
   * eventually consistent, as the inbox index is).
   */
  async openFor(volunteerId: string, now: Date): Promise<Offer[]> {
    return offers.openAmong(await offers.inboxAfter(volunteerId, now.toISOString()), now);
  },

  /**
   * The offers in a volunteer's inbox index expiring after `after` (one page of a Query:
   * a volunteer holds few offers at a time): open ones, those withdrawn when the volunteer
   * went off duty (their entry stays, `close`), and the tasks offers became (offerOf:
   * accepted).
   */
  async inboxAfter(volunteerId: string, after: string): Promise<Offer[]> {
    const { Items } = await documents.send(
      new QueryCommand({
        TableName: table(),
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk > :after',
        ExpressionAttributeValues: { ':pk': inbox.offers(volunteerId), ':after': after },
      }),
    );
    return (Items ?? []).map((i) => offerOf(i)).filter((o): o is Offer => o !== undefined);
  },

  /**
   * Of these inbox offers, those still open at `now`, without those whose request takes
   * no more volunteers (withdrawn: read from the requests' status, eventually consistent,
   * as the inbox index is).
   */
  async openAmong(entries: Offer[], now: Date): Promise<Offer[]> {
    const at = now.toISOString();
    const open = entries.filter((o) => o.status === 'open' && o.expiresAt > at);
    if (open.length === 0) return [];
    const requestIds = [...new Set(open.map((o) => o.requestId))];
    const found = await getAll(
      requestIds.map((id) => keys.request(id)),
      { consistent: false, projection: 'requestId, #status', names: { '#status': 'status' } },
    );
    const statuses = new Map(found.map((r) => [r.requestId as string, r.status as RequestStatus]));
    return open.filter((o) => {
      const status = statuses.get(o.requestId);
      return status !== undefined && offerBeside(o, status).status === 'open';
    });
  },
};
