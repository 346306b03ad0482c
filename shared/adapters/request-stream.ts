import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type {
  CountedRequest,
  CountedVolunteer,
  RequestChange,
  VolunteerChange,
} from '../domain/request-counts.ts';
import { STREAM_CONSUMER } from '../resources.ts';

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

const keysOf = (record: DynamoDBRecord) => ({
  pk: record.dynamodb?.Keys?.pk?.S ?? '',
  sk: record.dynamodb?.Keys?.sk?.S,
});

/** Whether a record is of a request item (`REQ#<id>` / `REQ`), not an offer, task or other item. */
export function isRequestRecord(record: DynamoDBRecord): boolean {
  const { pk, sk } = keysOf(record);
  return sk === 'REQ' && pk.startsWith('REQ#');
}

/** Whether a record is of a volunteer item (`VOL#<id>` / `VOL`), not a skill entry. */
export function isVolunteerRecord(record: DynamoDBRecord): boolean {
  const { pk, sk } = keysOf(record);
  return sk === 'VOL' && pk.startsWith('VOL#');
}

/** The records the consumer's event source mapping lets through (its filters). */
export function isCountedRecord(record: DynamoDBRecord): boolean {
  const { pk, sk } = keysOf(record);
  return STREAM_CONSUMER.items.some(
    (i) =>
      sk === i.sk &&
      pk.startsWith(i.pkPrefix) &&
      (!i.newNumber ||
        record.dynamodb?.NewImage?.[i.newNumber.attribute]?.N === String(i.newNumber.equals)),
  );
}

/** What the volunteer counters read from a volunteer image: the day of their tasks today. */
function countedVolunteer(image: Image | undefined): CountedVolunteer | undefined {
  if (!image) return undefined;
  const v = unmarshall(image as Record<string, AttributeValue>);
  return {
    tasksDay: typeof v.tasksDay === 'string' ? v.tasksDay : undefined,
    tasksToday: typeof v.tasksToday === 'number' ? v.tasksToday : 0,
  };
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
 * The request and volunteer changes of a batch, in stream order, and the batch's last
 * sequence number. Records of other items are skipped (the event source mapping filters
 * them out on AWS; the local poller applies the same filter).
 */
export function countedChanges(event: TableStreamEvent): {
  changes: RequestChange[];
  volunteers: VolunteerChange[];
  lastSeq: string | undefined;
  unreadable: number;
} {
  const changes: RequestChange[] = [];
  const volunteers: VolunteerChange[] = [];
  let lastSeq: string | undefined;
  let unreadable = 0;
  for (const record of event.Records ?? []) {
    const seq = record.dynamodb?.SequenceNumber;
    if (!seq) continue;
    lastSeq = seq;
    if (isVolunteerRecord(record)) {
      volunteers.push({
        seq,
        before: countedVolunteer(record.dynamodb?.OldImage),
        after: countedVolunteer(record.dynamodb?.NewImage),
      });
      continue;
    }
    if (!isRequestRecord(record)) continue;
    const before = countedRequest(record.dynamodb?.OldImage);
    const after = countedRequest(record.dynamodb?.NewImage);
    if (record.eventName !== 'REMOVE' && !after) {
      unreadable++;
      continue;
    }
    changes.push({ seq, before, after });
  }
  return { changes, volunteers, lastSeq, unreadable };
}

/**
 * What the event source mapping sends to its on-failure destination (the failure queue)
 * for a batch it gave up on: a description of the batch, never its records. Only
 * `DDBStreamBatchInfo` is read back; the rest is for people.
 */
export interface StreamBatchFailure {
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: string;
    approximateInvokeCount: number;
  };
  responseContext: { statusCode: number; executedVersion: string; functionError?: string };
  version: string;
  timestamp: string;
  DDBStreamBatchInfo: StreamBatchInfo;
}

export interface StreamBatchInfo {
  shardId: string;
  startSequenceNumber: string;
  endSequenceNumber: string;
  /** ISO 8601, to the second for DynamoDB streams. */
  approximateArrivalOfFirstRecord: string;
  approximateArrivalOfLastRecord: string;
  batchSize: number;
  streamArn: string;
}

/**
 * The batch a failure-queue message describes. Throws on a body that is not one (a
 * message put there by hand, or a Kinesis one): replaying a guessed range could count
 * the wrong records.
 */
export function parseStreamBatchFailure(body: string): StreamBatchInfo & { failedAt?: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new Error('not JSON');
  }
  const info = (parsed as Partial<StreamBatchFailure> | null)?.DDBStreamBatchInfo;
  if (!info || typeof info !== 'object') throw new Error('no DDBStreamBatchInfo');
  for (const k of ['shardId', 'streamArn'] as const) {
    if (typeof info[k] !== 'string' || info[k] === '') throw new Error(`no ${k}`);
  }
  for (const k of ['startSequenceNumber', 'endSequenceNumber'] as const) {
    if (typeof info[k] !== 'string' || !/^\d+$/.test(info[k])) {
      throw new Error(`${k} is not a sequence number`);
    }
  }
  if (BigInt(info.startSequenceNumber) > BigInt(info.endSequenceNumber)) {
    throw new Error('startSequenceNumber is after endSequenceNumber');
  }
  const timestamp = (parsed as Partial<StreamBatchFailure>).timestamp;
  return {
    shardId: info.shardId,
    startSequenceNumber: info.startSequenceNumber,
    endSequenceNumber: info.endSequenceNumber,
    approximateArrivalOfFirstRecord: String(info.approximateArrivalOfFirstRecord ?? ''),
    approximateArrivalOfLastRecord: String(info.approximateArrivalOfLastRecord ?? ''),
    batchSize: Number(info.batchSize ?? 0),
    streamArn: info.streamArn,
    failedAt: typeof timestamp === 'string' ? timestamp : undefined,
  };
}
