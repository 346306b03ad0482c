/**
 * The one definition of the district's storage, queues and functions.
 * The CDK stack and the local stack both build from it, so the two cannot drift.
 * No AWS imports here: plain data.
 */

import { AVAILABLE_FIELDS } from './domain/volunteer.ts';

export const TABLE = {
  /** Logical name; the physical name is `${prefix}-main` locally and CDK-generated on AWS. */
  logicalName: 'main',
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAtEpoch',
  /**
   * The table's change stream, with both images: the request counters are kept from it
   * (STREAM_CONSUMER), so a request's transitions write no counter themselves.
   */
  stream: 'NEW_AND_OLD_IMAGES',
  indexes: [
    /**
     * Per-volunteer inbox: offers and the tasks they became (`VOLOFFER#id`, by the offer's
     * expiry), tasks put by ops (`VOLTASK#id`, by time); the sweeper's `OPEN#<status>`.
     */
    { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
    /**
     * Availability: on-duty volunteers with free capacity per community (and per skill),
     * fewest tasks first. It holds only what matching reads (AVAILABLE_FIELDS), so a write
     * that changes nothing of it (a delivery moving `active`, a credential) writes no entry.
     */
    {
      name: 'avail',
      partitionKey: 'gsi2pk',
      sortKey: 'gsi2sk',
      include: AVAILABLE_FIELDS,
    },
  ] as readonly TableIndex[],
  /**
   * Indexes of earlier versions: kept by the stack only when deployed with
   * `-c keepRetiredIndexes=true`, the first of the two deploys that move a district onto a
   * new index (DynamoDB adds or drops one index per table update; docs/deploy.md).
   */
  retiredIndexes: [
    /** The availability index with every attribute (ALL): replaced by `avail`. */
    { name: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  ] as readonly TableIndex[],
} as const;

export interface TableIndex {
  name: string;
  partitionKey: string;
  sortKey: string;
  /** The attributes projected besides the keys; every attribute (ALL) when absent. */
  include?: readonly string[];
}

export type QueueName = 'match' | 'notify' | 'events' | 'timers' | 'callbacks' | 'inbound';

export interface QueueDef {
  name: QueueName;
  /** The function that consumes it (file in functions/). */
  consumer: string;
  batchSize: number;
  /** The consuming function's timeout; the queue's visibility timeout is six times this. */
  functionTimeoutSeconds: number;
  maxReceiveCount: number;
  /** Alarm when the oldest message is older than this. */
  maxAgeSeconds: number;
}

export const QUEUES: readonly QueueDef[] = [
  {
    name: 'match',
    consumer: 'match-request',
    batchSize: 10,
    functionTimeoutSeconds: 20,
    maxReceiveCount: 5,
    maxAgeSeconds: 120,
  },
  {
    name: 'notify',
    consumer: 'send-notification',
    batchSize: 10,
    functionTimeoutSeconds: 15,
    maxReceiveCount: 5,
    maxAgeSeconds: 120,
  },
  {
    name: 'events',
    consumer: 'apply-request-event',
    batchSize: 10,
    functionTimeoutSeconds: 20,
    maxReceiveCount: 5,
    maxAgeSeconds: 120,
  },
  {
    name: 'timers',
    consumer: 'handle-timer',
    batchSize: 10,
    functionTimeoutSeconds: 20,
    maxReceiveCount: 5,
    maxAgeSeconds: 1200,
  },
  {
    // Signed webhooks to partners: a failed POST is queued again with a growing delay
    // (district `callbacks`); after the last attempt it is failed until it reaches the DLQ.
    name: 'callbacks',
    consumer: 'deliver-callback',
    batchSize: 5,
    functionTimeoutSeconds: 30,
    maxReceiveCount: 3,
    maxAgeSeconds: 1200,
  },
  {
    // Replies to SMS ("1 CODE", "0 CODE", "9 CODE"): the district's inbound SMS topic,
    // subscribed with raw delivery.
    name: 'inbound',
    consumer: 'receive-sms',
    batchSize: 10,
    functionTimeoutSeconds: 20,
    maxReceiveCount: 5,
    maxAgeSeconds: 120,
  },
];

export const visibilityTimeoutSeconds = (q: QueueDef) => q.functionTimeoutSeconds * 6;

/**
 * The consumer of the table's stream (TABLE.stream): counts request transitions into the
 * district's counters, batched, exactly once per record (functions/count-transitions.ts).
 * The event source mapping on AWS and the local stream poller both take these settings.
 */
export const STREAM_CONSUMER = {
  handler: 'count-transitions',
  /**
   * Only request items (`REQ#<id>` / `REQ`) and volunteer items (`VOL#<id>` / `VOL`, for
   * volunteers active per day) are delivered to it: one filter each. Of a volunteer, only
   * a change that leaves `tasksToday` at 1: every first task of a day does, and most other
   * volunteer writes (duty, later tasks) then invoke nothing.
   */
  items: [
    { pkPrefix: 'REQ#', sk: 'REQ' },
    { pkPrefix: 'VOL#', sk: 'VOL', newNumber: { attribute: 'tasksToday', equals: 1 } },
  ] as readonly {
    pkPrefix: string;
    sk: string;
    newNumber?: { attribute: string; equals: number };
  }[],
  batchSize: 100,
  /** Lambda gathers records this long before invoking (fewer, fuller batches: fewer writes). */
  batchingWindowSeconds: 5,
  /**
   * The mapping's tumbling window: the consumer sums a window's changes in its state and
   * writes the counters once at the window's end (one write per day touched, however many
   * batches), so stats lag the requests by up to this plus the batching window. A minute
   * keeps GET /v1/stats fresh enough for a morning report or a glance during a shift; a
   * longer window would save more writes in a quiet district, with staler stats. (With a
   * window Lambda also puts the shard id in the event, and the counters are kept per
   * shard: docs/data-model.md, counters.)
   */
  tumblingWindowSeconds: 60,
  functionTimeoutSeconds: 30,
  /** Retries of a failing batch (bisected) before it goes to the failure queue. */
  retryAttempts: 10,
  /**
   * The failure queue (the mapping's on-failure destination), by its local name
   * `<prefix>-stream-failures`; CDK names it on AWS (output StreamFailureQueueUrl).
   */
  failureQueue: 'stream-failures',
  /** Alarm when the consumer is this far behind the stream (IteratorAge). */
  maxIteratorAgeSeconds: 300,
} as const;

/**
 * The one notification path: producers publish each notification event (NotifyMessage in
 * shared/schemas/messages.ts) to this per-district topic, and its subscribers deliver it.
 * The notify queue is subscribed with raw delivery, so send-notification reads the same
 * body the producer published. Every publish carries `attributes` as SNS message
 * attributes, so a district can add a subscriber that filters on them (e.g. only
 * `channel` = `sms`) without touching the producers.
 */
export const NOTIFICATION_TOPIC = {
  /** Logical name; the physical name is `${prefix}-notifications` locally. */
  logicalName: 'notifications',
  subscribers: [{ queue: 'notify', rawMessageDelivery: true }],
  /** Message attributes set on every publish: the event's channel, recipient kind, template. */
  attributes: ['channel', 'kind', 'template'],
} as const satisfies {
  logicalName: string;
  subscribers: readonly { queue: QueueName; rawMessageDelivery: boolean }[];
  attributes: readonly string[];
};

/** Environment variable names every function reads (see shared/config.ts). */
export const ENV = {
  table: 'TABLE_NAME',
  queueUrl: (q: QueueName) => `QUEUE_URL_${q.toUpperCase()}`,
  districtConfig: 'DISTRICT_CONFIG',
  opsKeySecretArn: 'OPS_API_KEY_SECRET_ARN',
  opsKey: 'OPS_API_KEY',
  /** How long a container trusts a key it looked up (seconds, default 30; 0: every call reads). */
  keyCacheSeconds: 'KEY_CACHE_SECONDS',
  alertTopicArn: 'ALERT_TOPIC_ARN',
  notificationTopicArn: 'NOTIFICATION_TOPIC_ARN',
  /** The inbound SMS topic, for the provider's reply webhook (receive-sms-webhook). */
  inboundSmsTopicArn: 'INBOUND_SMS_TOPIC_ARN',
  /** The SMS provider's signing secret: its Secrets Manager ARN on AWS, the value locally. */
  smsProviderSecretArn: 'SMS_PROVIDER_SECRET_ARN',
  smsProviderSecret: 'SMS_PROVIDER_SECRET',
  photoBucket: 'PHOTO_BUCKET',
  endpoint: 'AWS_ENDPOINT_URL',
} as const;

/**
 * Who may call a route. `sms-provider`: the district's SMS provider, authenticated by an
 * HMAC signature of the body with the provider secret instead of a Bearer key.
 */
export type Principal = 'ops' | 'partner' | 'volunteer' | 'sms-provider' | 'anyone';

export interface RouteDef {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT';
  /** API Gateway route path, `{param}` style. */
  path: string;
  /** The function that serves it (file in functions/). */
  handler: string;
  who: Principal[];
  /** Local-only routes are served by the local stack and never deployed. */
}

export const ROUTES: readonly RouteDef[] = [
  { method: 'GET', path: '/v1/health', handler: 'get-health', who: ['anyone'] },
  {
    method: 'GET',
    path: '/v1/communities',
    handler: 'list-communities',
    who: ['ops', 'partner', 'volunteer'],
  },
  { method: 'POST', path: '/v1/partners', handler: 'create-partner', who: ['ops'] },
  { method: 'POST', path: '/v1/volunteers', handler: 'register-volunteer', who: ['ops'] },
  {
    method: 'PATCH',
    path: '/v1/volunteers/{volunteerId}',
    handler: 'update-volunteer',
    who: ['ops', 'volunteer'],
  },
  {
    method: 'POST',
    path: '/v1/volunteers/{volunteerId}/credentials',
    handler: 'record-credential',
    who: ['ops'],
  },
  {
    // A new app token for a volunteer (one lost, or a phone lost); the earlier ones revoked.
    method: 'POST',
    path: '/v1/volunteers/{volunteerId}/tokens',
    handler: 'rotate-volunteer-token',
    who: ['ops'],
  },
  { method: 'POST', path: '/v1/requests', handler: 'post-request', who: ['partner'] },
  {
    method: 'GET',
    path: '/v1/requests/{requestId}',
    handler: 'get-request',
    who: ['ops', 'partner'],
  },
  {
    method: 'POST',
    path: '/v1/requests/{requestId}/cancel',
    handler: 'cancel-request',
    who: ['ops', 'partner'],
  },
  {
    method: 'POST',
    path: '/v1/requests/{requestId}/confirm',
    handler: 'confirm-request',
    who: ['ops', 'partner'],
  },
  {
    method: 'POST',
    path: '/v1/requests/{requestId}/assign',
    handler: 'assign-volunteer',
    who: ['ops'],
  },
  {
    method: 'GET',
    path: '/v1/volunteers/me/offers',
    handler: 'list-my-offers',
    who: ['volunteer'],
  },
  {
    method: 'POST',
    path: '/v1/offers/{offerId}/accept',
    handler: 'accept-offer',
    who: ['volunteer'],
  },
  {
    method: 'POST',
    path: '/v1/offers/{offerId}/decline',
    handler: 'decline-offer',
    who: ['volunteer'],
  },
  {
    method: 'POST',
    path: '/v1/tasks/{taskId}/delivered',
    handler: 'report-delivered',
    who: ['volunteer'],
  },
  {
    method: 'POST',
    path: '/v1/tasks/{taskId}/photos',
    handler: 'create-photo-upload',
    who: ['volunteer'],
  },
  { method: 'GET', path: '/v1/stats', handler: 'get-stats', who: ['ops'] },
  {
    method: 'GET',
    path: '/v1/volunteers/{volunteerId}/record',
    handler: 'get-volunteer-record',
    who: ['ops', 'volunteer'],
  },
  { method: 'GET', path: '/v1/records', handler: 'export-records', who: ['ops'] },
  {
    method: 'POST',
    path: '/v1/partners/{partnerId}/keys',
    handler: 'rotate-partner-key',
    who: ['ops'],
  },
  {
    method: 'POST',
    path: '/v1/partners/{partnerId}/revoke',
    handler: 'revoke-partner-key',
    who: ['ops'],
  },
  {
    method: 'PUT',
    path: '/v1/partners/me/callback',
    handler: 'set-partner-callback',
    who: ['partner'],
  },
  {
    // Replies to SMS (上行短信) from a domestic HTTPS SMS provider, which delivers them by
    // webhook; published to the inbound SMS topic like End User Messaging SMS replies.
    method: 'POST',
    path: '/v1/sms/replies',
    handler: 'receive-sms-webhook',
    who: ['sms-provider'],
  },
];

/** Serves every path no route matches: 404 not_found, or 405 for a known path. */
export const FALLBACK_HANDLER = 'route-not-found';

/** Functions run on a schedule (EventBridge rule on AWS, a timer in the local stack). */
export const SCHEDULED: readonly { handler: string; everyMinutes: number }[] = [
  { handler: 'sweep-stuck-requests', everyMinutes: 5 },
];

export const HTTP_HANDLERS = [...new Set([...ROUTES.map((r) => r.handler), FALLBACK_HANDLER])];
export const QUEUE_HANDLERS = QUEUES.map((q) => q.consumer);
export const SCHEDULED_HANDLERS = SCHEDULED.map((s) => s.handler);
export const STREAM_HANDLERS = [STREAM_CONSUMER.handler];
export const ALL_HANDLERS = [
  ...HTTP_HANDLERS,
  ...QUEUE_HANDLERS,
  ...SCHEDULED_HANDLERS,
  ...STREAM_HANDLERS,
];

/** What each function may touch: the CDK stack grants exactly this and nothing more. */
export interface FunctionAccess {
  /** `count`: the stream consumer: reads the table's stream and UpdateItem on the table, nothing else. */
  table: 'none' | 'read' | 'readwrite' | 'count';
  sends: QueueName[];
  /**
   * `deliver`: SNS Publish to phone numbers and platform endpoints; `alert`: the ops alert
   * topic; `notify`: the district's notifications topic (NOTIFICATION_TOPIC); `inbound`:
   * the inbound SMS topic (replies to SMS).
   */
  sns: ('deliver' | 'alert' | 'notify' | 'inbound')[];
  /** Reads the ops key secret to authenticate ops. */
  opsKey: boolean;
  /** Reads the SMS provider secret to check the signature of its reply webhook. */
  smsProviderSecret?: boolean;
  /** The proof-photo bucket: `put` presigns uploads, `read` presigns viewing. */
  photos?: 'put' | 'read';
}

/**
 * The DynamoDB actions each `FunctionAccess.table` level allows: IAM grants exactly these
 * (the item actions on the table's ARN, Query on the table and on each of its indexes by
 * name), and the local stack refuses any other call a function makes, as IAM would.
 * A transaction (TransactWriteItems) needs the action of each of its items (Put: PutItem,
 * Update: UpdateItem, Delete: DeleteItem, ConditionCheck: ConditionCheckItem), and no
 * function uses a ConditionCheck item. No level has Scan, BatchWriteItem or DescribeTable:
 * no function calls them (the ops backfill script scans with the operator's credentials).
 */
export const TABLE_ACTIONS = {
  none: [],
  read: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
  /**
   * DeleteItem: `sendOnce` removes a send marker when the send failed (so the retry
   * sends), and a volunteer write deletes the skill entries the volunteer no longer has.
   */
  readwrite: [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
  ],
  /** The stream consumer adds to counter items; its event source mapping reads the stream. */
  count: ['dynamodb:UpdateItem'],
} as const satisfies Record<FunctionAccess['table'], readonly string[]>;

const http = (table: FunctionAccess['table'], sends: QueueName[] = []): FunctionAccess => ({
  table,
  sends,
  sns: [],
  opsKey: true,
});

export const FUNCTION_ACCESS: Record<string, FunctionAccess> = {
  'get-health': { table: 'none', sends: [], sns: [], opsKey: false },
  'route-not-found': { table: 'none', sends: [], sns: [], opsKey: false },
  'list-communities': http('read'),
  'create-partner': http('readwrite'),
  'register-volunteer': http('readwrite'),
  'update-volunteer': http('readwrite', ['events']),
  'record-credential': http('readwrite'),
  'post-request': http('readwrite', ['match']),
  'get-request': { ...http('read'), photos: 'read' },
  'create-photo-upload': { ...http('readwrite'), photos: 'put' },
  'cancel-request': http('readwrite', ['events']),
  'confirm-request': http('readwrite', ['events']),
  'assign-volunteer': http('readwrite', ['events']),
  'list-my-offers': http('read'),
  'accept-offer': http('readwrite', ['events']),
  'decline-offer': http('readwrite', ['events']),
  'report-delivered': http('readwrite', ['events']),
  'get-stats': http('read'),
  'get-volunteer-record': http('read'),
  'export-records': http('read'),
  'rotate-partner-key': http('readwrite'),
  'rotate-volunteer-token': http('readwrite'),
  'revoke-partner-key': http('readwrite'),
  'set-partner-callback': http('readwrite'),
  // No table and no ops key: it checks the provider's signature and publishes the reply.
  'receive-sms-webhook': {
    table: 'none',
    sends: [],
    sns: ['inbound'],
    opsKey: false,
    smsProviderSecret: true,
  },
  'match-request': {
    table: 'readwrite',
    sends: ['timers'],
    sns: ['alert', 'notify'],
    opsKey: false,
  },
  'send-notification': { table: 'readwrite', sends: [], sns: ['deliver', 'alert'], opsKey: false },
  'apply-request-event': {
    table: 'readwrite',
    sends: ['match', 'callbacks'],
    sns: ['notify'],
    opsKey: false,
  },
  'receive-sms': { table: 'readwrite', sends: ['events'], sns: ['notify'], opsKey: false },
  'deliver-callback': { table: 'readwrite', sends: ['callbacks'], sns: [], opsKey: false },
  'sweep-stuck-requests': {
    table: 'readwrite',
    sends: ['match', 'timers', 'events'],
    sns: [],
    opsKey: false,
  },
  'handle-timer': {
    table: 'readwrite',
    sends: ['match', 'timers', 'events'],
    sns: ['alert', 'notify'],
    opsKey: false,
  },
  'count-transitions': { table: 'count', sends: [], sns: [], opsKey: false },
};
