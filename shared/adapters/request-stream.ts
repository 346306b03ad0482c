import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { CountedRequest, RequestChange } from '../domain/request-counts.ts';

/**
 * The event of the table's stream as Lambda delivers it with a tumbling window on the
 * event source mapping: the window's fields tell the function which shard the records
 * come from (a plain stream event does not), and the counters are kept per shard.
 */
export interface TableStreamEvent extends DynamoDBStreamEvent {
  shardId?: string;
  eventSourceARN?: string;
  window?: { start: string; end: string };
  state?: Record<string, unknown>;
  isFinalInvokeForWindow?: boolean;
  isWindowTerminatedEarly?: boolean;
}

type Image = NonNullable<NonNullable<DynamoDBRecord['dynamodb']>['NewImage']>;

/** Whether a record is of a request item (`REQ#<id>` / `REQ`), not an offer, task or other item. */
export function isRequestRecord(record: DynamoDBRecord): boolean {
  const keys = record.dynamodb?.Keys;
  return keys?.sk?.S === 'REQ' && (keys?.pk?.S ?? '').startsWith('REQ#');
}

/** A request image, if it holds what the counters read (anything else is not a request). */
function countedRequest(image: Image | undefined): CountedRequest | undefined {
  if (!image) return undefined;
  const r = unmarshall(image as Record<string, AttributeValue>);
  const strings = ['status', 'kind', 'communityId', 'townId', 'createdAt', 'updatedAt'];
  if (!strings.every((k) => typeof r[k] === 'string')) return undefined;
  return {
    status: r.status,
    kind: r.kind,
    communityId: r.communityId,
    townId: r.townId,
    scope: r.scope,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    delivered: typeof r.delivered === 'number' ? r.delivered : undefined,
    credit:
      r.credit && typeof r.credit === 'object'
        ? { serviceMinutes: Number(r.credit.serviceMinutes), points: Number(r.credit.points) }
        : undefined,
  };
}

/**
 * The request changes of a batch, in stream order, and the batch's last sequence number.
 * Records of other items are skipped (the event source mapping filters them out on AWS;
 * the local poller delivers them all).
 */
export function requestChanges(event: TableStreamEvent): {
  changes: RequestChange[];
  lastSeq: string | undefined;
  unreadable: number;
} {
  const changes: RequestChange[] = [];
  let lastSeq: string | undefined;
  let unreadable = 0;
  for (const record of event.Records ?? []) {
    const seq = record.dynamodb?.SequenceNumber;
    if (!seq) continue;
    lastSeq = seq;
    if (!isRequestRecord(record)) continue;
    const before = countedRequest(record.dynamodb?.OldImage);
    const after = countedRequest(record.dynamodb?.NewImage);
    if (record.eventName !== 'REMOVE' && !after) {
      unreadable++;
      continue;
    }
    changes.push({ seq, before, after });
  }
  return { changes, lastSeq, unreadable };
}
