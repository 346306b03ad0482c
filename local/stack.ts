/**
 * The whole district backend on one machine: DynamoDB Local and fauxqs (started here
 * unless endpoints are given), the table, queues with DLQs, the notifications and alert
 * topics, an HTTP gateway that invokes the functions with API Gateway v2 events, and SQS
 * pollers that invoke the consumers the way Lambda's event source mapping does. SMS and
 * push are recorded in an outbox instead of being sent.
 *
 * The environment is process-wide and the shared SDK clients are created when their
 * module is first imported, so: one local stack per process, and this module must not
 * import anything that creates a client; those are imported after the env is set.
 */

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { queueDepth } from '../shared/adapters/queue-depth.ts';
import { isCountedRecord } from '../shared/adapters/request-stream.ts';
import { type District, parseDistrict } from '../shared/district.ts';
import {
  ENV,
  QUEUES,
  type QueueName,
  ROUTES,
  SCHEDULED,
  STREAM_CONSUMER,
} from '../shared/resources.ts';
import { type LocalResponse, startGateway } from './gateway.ts';
import { functionExists, type Handler, invoke, loadHandler } from './lambda.ts';
import { Outbox, recordSnsDeliveries } from './outbox.ts';
import { type Poller, startPoller } from './poller.ts';
import {
  createAlertTopic,
  createInboundTopic,
  createNotificationTopic,
  createQueues,
  createStreamFailureQueue,
  createTable,
  type LocalQueue,
} from './resources.ts';
import {
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  type RunningServer,
  startDynamoDbLocal,
  startSqsSns,
} from './servers.ts';
import { type StreamPoller, startStreamPoller } from './stream-poller.ts';
import { enforceTableAccess } from './table-access.ts';

export const DEV_OPS_KEY = 'dev-ops-key-change-me';
/** Signs local calls of the SMS provider's reply webhook (POST /v1/sms/replies). */
export const DEV_SMS_PROVIDER_SECRET = 'dev-sms-provider-secret-change-me';

/** API Gateway gives up on an integration after 30 s; the HTTP functions' timeout locally. */
const HTTP_FUNCTION_TIMEOUT_SECONDS = 29;

type Plain = Record<string, unknown>;
export type DeepPartial<T> = T extends (infer U)[]
  ? U[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

export interface LocalStackOptions {
  /** A district config, or the id of `infra/districts/<id>.json`. Default `$DISTRICT` or `demo`. */
  district?: District | string;
  /** Deep-merged into the raw config before it is parsed (arrays replace). */
  districtOverrides?: DeepPartial<District> | Plain;
  /** HTTP port; 0 picks a free one. Default `$PORT` or 3000. */
  port?: number;
  /** Interface the gateway listens on. Default 127.0.0.1 (the /local routes have no auth). */
  host?: string;
  /** The ops key. Default `$OPS_API_KEY` or DEV_OPS_KEY. */
  opsKey?: string;
  /** The SMS provider secret (reply webhook signatures). Default `$SMS_PROVIDER_SECRET` or DEV_SMS_PROVIDER_SECRET. */
  smsProviderSecret?: string;
  /** Use a running DynamoDB (Local) instead of starting one. */
  dynamodbEndpoint?: string;
  /** Use a running fauxqs (SQS and SNS on one endpoint) instead of starting one. */
  sqsEndpoint?: string;
  /** Prefix of every table, queue and topic name. Default `local-<districtId>`. */
  prefix?: string;
  /** Failed queue records become visible again after this many seconds (default: the queue's visibility timeout, as in Lambda). */
  retryDelaySeconds?: number;
  /** Print requests, batches and notifications (true: to stdout), or give each line to a function. */
  log?: boolean | ((line: string) => void);
  /**
   * Replace functions by name (`get-stats`, `match-request`…) with test doubles, for
   * routes and queue consumers alike. The others are imported from functions/.
   */
  functions?: Record<string, Handler>;
  /** Keep DynamoDB Local's and fauxqs's data under this directory (only for servers started here). */
  dataDir?: string;
  /**
   * Run each scheduled function (`SCHEDULED` in shared/resources.ts, e.g. the sweeper) every
   * this many seconds; 0 never (call `runScheduled` instead). Default: its schedule.
   */
  scheduleEverySeconds?: number;
  /**
   * Pollers receive with this visibility timeout instead of the queue's: a message whose
   * poller died comes back this soon (crash tests). Default: the queue's, as in Lambda.
   */
  receiveVisibilityTimeoutSeconds?: number;
  /**
   * The table stream's batching window (ms) for the stream consumer; default 250 (Lambda's
   * is STREAM_CONSUMER.batchingWindowSeconds: locally, counters should not lag seconds).
   */
  streamBatchingWindowMs?: number;
  /**
   * The stream consumer's tumbling window (s): its counts are written at each window's end.
   * Default STREAM_CONSUMER.tumblingWindowSeconds, as on AWS; tests use a shorter one.
   */
  streamTumblingWindowSeconds?: number;
}

export interface Alert {
  subject?: string;
  message: string;
  at: string;
  messageId: string;
}

export interface LocalStack {
  /** Base URL of the HTTP API, e.g. `http://127.0.0.1:3000`. */
  url: string;
  port: number;
  district: District;
  prefix: string;
  opsKey: string;
  /** True when the ops key is the printed development default. */
  opsKeyIsDefault: boolean;
  /** The secret the SMS provider signs reply webhooks with. */
  smsProviderSecret: string;
  /** True when the SMS provider secret is the printed development default. */
  smsProviderSecretIsDefault: boolean;
  /** The environment variables the stack set for the functions. */
  env: Record<string, string>;
  endpoints: { dynamodb: string; sqs: string; sns: string };
  tableName: string;
  queues: Record<QueueName, LocalQueue>;
  alertTopicArn: string;
  /** Where functions publish notification events; the notify queue is subscribed (raw). */
  notificationTopicArn: string;
  /** Where replies to SMS arrive (End User Messaging SMS publishes them on AWS). */
  inboundSmsTopicArn: string;
  /** A person answers an SMS: published to the inbound topic as AWS would. Returns its id. */
  receiveSms(from: string, text: string): Promise<string>;
  /** SMS and push the functions published. */
  outbox: Outbox;
  /** Ops alerts published to the alert topic, oldest first (reads the subscribed queue). */
  alerts(): Promise<Alert[]>;
  pollers: Partial<Record<QueueName, Poller>>;
  /** Reads the table's stream into its consumer (count-transitions), as its mapping would. */
  stream?: StreamPoller;
  /** Where the stream poller describes the batches it gave up on (`npm run stream-replay`). */
  streamFailureQueueUrl: string;
  /** Invokes a scheduled function (e.g. `sweep-stuck-requests`) now, as its rule would. */
  runScheduled(handler: string): Promise<unknown>;
  /** The stack's own SDK clients (not the functions' ones), pointed at the local servers. */
  clients: {
    dynamodb: DynamoDBClient;
    streams: DynamoDBStreamsClient;
    sqs: SQSClient;
    sns: SNSClient;
  };
  stop(): Promise<void>;
}

function isPlain(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepMerge(base: unknown, patch: unknown): unknown {
  if (!isPlain(base) || !isPlain(patch)) return patch === undefined ? base : patch;
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(patch)) out[k] = deepMerge(base[k], v);
  return out;
}

export function loadDistrict(
  district: District | string | undefined,
  overrides?: DeepPartial<District> | Plain,
): District {
  let raw: unknown;
  let source: string;
  if (typeof district === 'object') {
    raw = district;
    source = `district ${district.id}`;
  } else {
    const id = district ?? process.env.DISTRICT ?? 'demo';
    if (!/^[a-z0-9][a-z0-9-]*$/.test(id)) throw new Error(`bad district id ${id}`);
    const url = new URL(`../infra/districts/${id}.json`, import.meta.url);
    source = `infra/districts/${id}.json`;
    try {
      raw = JSON.parse(readFileSync(url, 'utf8'));
    } catch (error) {
      throw new Error(`cannot read ${source}: ${(error as Error).message}`);
    }
  }
  return parseDistrict(overrides ? deepMerge(raw, overrides) : raw, source);
}

function logSink(log: LocalStackOptions['log']): (line: string) => void {
  if (typeof log === 'function') return log;
  if (log) return (line) => console.log(line);
  return () => {};
}

const logError = (line: string, error: unknown) => console.error(line, error);

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const log = logSink(options.log);
  const district = loadDistrict(options.district, options.districtOverrides);
  const prefix = options.prefix ?? `local-${district.id}`;
  const opsKeyIsDefault = !options.opsKey && !process.env.OPS_API_KEY;
  const opsKey = options.opsKey ?? process.env.OPS_API_KEY ?? DEV_OPS_KEY;
  const smsProviderSecretIsDefault =
    !options.smsProviderSecret && !process.env[ENV.smsProviderSecret];
  const smsProviderSecret =
    options.smsProviderSecret ?? process.env[ENV.smsProviderSecret] ?? DEV_SMS_PROVIDER_SECRET;
  const port = options.port ?? Number(process.env.PORT ?? 3000);

  // Everything started here, stopped in reverse order by cleanup().
  const stoppers: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const stop of stoppers.splice(0).reverse()) {
      try {
        await stop();
      } catch (error) {
        logError('[local] stopping failed', error);
      }
    }
  };

  try {
    const [dynamo, sqsServer] = await Promise.all([
      options.dynamodbEndpoint
        ? undefined
        : startDynamoDbLocal({ dataDir: options.dataDir }).then((s) => {
            stoppers.push(s.stop);
            return s;
          }),
      options.sqsEndpoint
        ? undefined
        : startSqsSns({ dataDir: options.dataDir }).then((s) => {
            stoppers.push(s.stop);
            return s;
          }),
    ] as Promise<RunningServer | undefined>[]);
    const endpoints = {
      dynamodb: options.dynamodbEndpoint ?? dynamo!.endpoint,
      sqs: options.sqsEndpoint ?? sqsServer!.endpoint,
      sns: options.sqsEndpoint ?? sqsServer!.endpoint,
    };

    const clientConfig = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
    const clients = {
      dynamodb: new DynamoDBClient({ ...clientConfig, endpoint: endpoints.dynamodb }),
      streams: new DynamoDBStreamsClient({ ...clientConfig, endpoint: endpoints.dynamodb }),
      sqs: new SQSClient({ ...clientConfig, endpoint: endpoints.sqs }),
      sns: new SNSClient({ ...clientConfig, endpoint: endpoints.sns }),
    };
    stoppers.push(async () => {
      for (const c of Object.values(clients)) c.destroy();
    });

    const tableName = `${prefix}-main`;
    const [, queues, alertTopic, streamFailureQueueUrl] = await Promise.all([
      createTable(clients.dynamodb, tableName),
      createQueues(clients.sqs, prefix),
      createAlertTopic(clients.sns, clients.sqs, prefix),
      createStreamFailureQueue(clients.sqs, prefix),
    ]);

    const notificationTopicArn = await createNotificationTopic(clients.sns, prefix, queues);

    // The functions' environment, set before any function or shared client is imported.
    const env: Record<string, string> = {
      AWS_REGION: LOCAL_REGION,
      AWS_DEFAULT_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
      AWS_ENDPOINT_URL_SQS: endpoints.sqs,
      AWS_ENDPOINT_URL_SNS: endpoints.sns,
      [ENV.table]: tableName,
      [ENV.districtConfig]: JSON.stringify(district),
      [ENV.opsKey]: opsKey,
      [ENV.smsProviderSecret]: smsProviderSecret,
      [ENV.alertTopicArn]: alertTopic.topicArn,
      [ENV.notificationTopicArn]: notificationTopicArn,
      DISTRICT_ID: district.id,
      // Partner callbacks to a local receiver (http://127.0.0.1:…); deployed stacks take https only.
      ALLOW_HTTP_CALLBACKS: 'true',
      POWERTOOLS_SERVICE_NAME: 'volunteer-dispatch',
      POWERTOOLS_LOG_LEVEL: options.log === true ? 'INFO' : 'WARN',
      POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
    };
    for (const q of QUEUES) env[ENV.queueUrl(q.name)] = queues[q.name].url;
    const inboundSmsTopicArn = await createInboundTopic(clients.sns, prefix, queues.inbound.arn);
    env[ENV.inboundSmsTopicArn] = inboundSmsTopicArn;
    // Proof photos: a bucket on fauxqs's S3, presigned URLs point at it.
    const photoBucket = `${prefix}-photos`.toLowerCase();
    const s3 = new S3Client({
      ...clientConfig,
      endpoint: endpoints.sqs,
      forcePathStyle: true,
    });
    try {
      await s3.send(new CreateBucketCommand({ Bucket: photoBucket }));
    } catch (error) {
      const name = (error as Error).name;
      if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw error;
    }
    s3.destroy();
    env[ENV.photoBucket] = photoBucket;
    env.AWS_ENDPOINT_URL_S3 = endpoints.sqs;

    const receiveSms = async (from: string, text: string) => {
      const inboundMessageId = randomUUID();
      await clients.sns.send(
        new PublishCommand({
          TopicArn: inboundSmsTopicArn,
          Message: JSON.stringify({
            originationNumber: from,
            destinationNumber: district.sms.originationNumber ?? '+10000000000',
            messageKeyword: 'KEYWORD_LOCAL',
            messageBody: text,
            inboundMessageId,
          }),
        }),
      );
      return inboundMessageId;
    };
    // Locally the ops key is the plain env var, never a secret; no other endpoint applies.
    delete process.env[ENV.opsKeySecretArn];
    delete process.env[ENV.smsProviderSecretArn];
    delete process.env[ENV.endpoint];
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    Object.assign(process.env, env);

    // The functions' own SNS client, with SMS and push answered by the outbox.
    const outbox = new Outbox();
    const { sns: functionsSns } = await import('../shared/clients/sns.ts');
    const removeRecorder = recordSnsDeliveries(
      functionsSns,
      outbox,
      log,
      district.notifications.templates,
    );
    stoppers.push(async () => removeRecorder());

    // The functions' own DynamoDB client, refusing what IAM would refuse them on AWS.
    const { dynamodb: functionsDynamodb } = await import('../shared/clients/dynamodb.ts');
    const removeTableAccess = enforceTableAccess(functionsDynamodb, {
      prefix,
      tableName,
      region: LOCAL_REGION,
    });
    stoppers.push(async () => removeTableAccess());

    const handlerOf = async (name: string) => options.functions?.[name] ?? loadHandler(name);
    const invokeHttp = async (handler: string, event: APIGatewayProxyEventV2) =>
      invoke(await handlerOf(handler), event, {
        functionName: `${prefix}-${handler}`,
        timeoutSeconds: HTTP_FUNCTION_TIMEOUT_SECONDS,
        region: LOCAL_REGION,
      });

    // Alerts: drained from the subscribed queue on demand, one drain at a time.
    const alertLog: Alert[] = [];
    let draining: Promise<void> = Promise.resolve();
    const drainAlerts = async () => {
      for (;;) {
        const out = await clients.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: alertTopic.queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 0,
          }),
        );
        const messages = out.Messages ?? [];
        if (messages.length === 0) return;
        for (const m of messages) alertLog.push(parseAlert(m.Body ?? '', m.MessageId ?? ''));
        await clients.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: alertTopic.queueUrl,
            Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          }),
        );
      }
    };
    const alerts = async () => {
      draining = draining.then(drainAlerts, drainAlerts);
      await draining;
      return [...alertLog];
    };

    const queueDepths = async () =>
      Object.fromEntries(
        await Promise.all(
          QUEUES.map(async (q) => {
            const queue = queues[q.name];
            return [
              q.name,
              {
                name: queue.name,
                ...(await queueDepth(clients.sqs, queue.url)),
                dlq: await queueDepth(clients.sqs, queue.dlqUrl),
              },
            ];
          }),
        ),
      );

    const local = async (
      method: string,
      path: string,
      query: URLSearchParams,
      body: () => Promise<Buffer | undefined>,
    ): Promise<LocalResponse | undefined> => {
      if (path !== '/local' && !path.startsWith('/local/')) return undefined;
      if (path === '/local/sms' && method === 'POST') {
        // A reply SMS from a phone: {"from": "+86…", "text": "1 K7PQ"}.
        let sms: { from?: unknown; text?: unknown } = {};
        try {
          sms = JSON.parse((await body())?.toString('utf8') ?? '{}');
        } catch {
          // answered below
        }
        if (typeof sms.from !== 'string' || typeof sms.text !== 'string') {
          return {
            status: 400,
            body: { error: { code: 'invalid_field', message: 'body: {"from", "text"} strings' } },
          };
        }
        return { status: 202, body: { inboundMessageId: await receiveSms(sms.from, sms.text) } };
      }
      if (method !== 'GET')
        return {
          status: 405,
          body: { error: { code: 'method_not_allowed', message: `${method} ${path}: use GET` } },
        };
      switch (path) {
        case '/local/outbox': {
          const channel = query.get('channel');
          return {
            status: 200,
            body: {
              notifications: outbox.list({
                to: query.get('to') ?? undefined,
                channel: channel === 'sms' || channel === 'push' ? channel : undefined,
              }),
            },
          };
        }
        case '/local/alerts':
          return { status: 200, body: { alerts: await alerts() } };
        case '/local/queues':
          return { status: 200, body: { queues: await queueDepths() } };
        default:
          return {
            status: 404,
            body: {
              error: {
                code: 'not_found',
                message: `${path}: local routes are /local/outbox, /local/alerts, /local/queues, POST /local/sms`,
              },
            },
          };
      }
    };

    const gateway = await startGateway({
      port,
      host: options.host,
      invokeHttp,
      local,
      log,
      logError,
    });
    stoppers.push(gateway.stop);

    const pollers: Partial<Record<QueueName, Poller>> = {};
    for (const q of QUEUES) {
      if (!options.functions?.[q.consumer] && !functionExists(q.consumer)) {
        console.warn(
          `[local] functions/${q.consumer}.ts is missing: queue ${q.name} is not polled`,
        );
        continue;
      }
      const poller = startPoller({
        sqs: clients.sqs,
        queueUrl: queues[q.name].url,
        queueArn: queues[q.name].arn,
        region: LOCAL_REGION,
        batchSize: q.batchSize,
        consumer: () => handlerOf(q.consumer),
        functionName: `${prefix}-${q.consumer}`,
        functionTimeoutSeconds: q.functionTimeoutSeconds,
        retryDelaySeconds: options.retryDelaySeconds,
        receiveVisibilityTimeoutSeconds: options.receiveVisibilityTimeoutSeconds,
        log,
        logError,
      });
      pollers[q.name] = poller;
      stoppers.push(poller.stop);
    }

    // The table's stream and its consumer, as the DynamoDB event source mapping runs it.
    const windowSeconds =
      options.streamTumblingWindowSeconds ?? STREAM_CONSUMER.tumblingWindowSeconds;
    if (!(windowSeconds > 0)) {
      throw new Error(
        `the stream's tumbling window must be a number of seconds > 0, not ${windowSeconds}`,
      );
    }
    let stream: StreamPoller | undefined;
    const streamHandler = STREAM_CONSUMER.handler;
    if (options.functions?.[streamHandler] || functionExists(streamHandler)) {
      stream = startStreamPoller({
        dynamodb: clients.dynamodb,
        streams: clients.streams,
        tableName,
        region: LOCAL_REGION,
        consumer: () => handlerOf(streamHandler),
        functionName: `${prefix}-${streamHandler}`,
        functionTimeoutSeconds: STREAM_CONSUMER.functionTimeoutSeconds,
        batchSize: STREAM_CONSUMER.batchSize,
        batchingWindowMs: options.streamBatchingWindowMs ?? 250,
        tumblingWindowSeconds: windowSeconds,
        // The mapping's filters (infra): request and volunteer items only.
        filter: isCountedRecord,
        retryDelayMs:
          options.retryDelaySeconds !== undefined ? options.retryDelaySeconds * 1000 : undefined,
        maxRetries: STREAM_CONSUMER.retryAttempts,
        // Kept with the data, so a restart on it goes on where the consumer was.
        checkpointFile: options.dataDir
          ? join(options.dataDir, `${prefix}-stream-checkpoint.json`)
          : undefined,
        onDiscard: async (failure) => {
          await clients.sqs.send(
            new SendMessageCommand({
              QueueUrl: streamFailureQueueUrl,
              MessageBody: JSON.stringify(failure),
            }),
          );
        },
        log,
        logError,
      });
      stoppers.push(stream.stop);
    } else {
      console.warn(
        `[local] functions/${streamHandler}.ts is missing: the table stream is not read`,
      );
    }

    // Scheduled functions: an EventBridge rule on AWS, a timer here.
    const runScheduled = async (handler: string) => {
      const def = SCHEDULED.find((s) => s.handler === handler);
      if (!def) throw new Error(`${handler} is not a scheduled function`);
      const event = {
        version: '0',
        id: randomUUID(),
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: '000000000000',
        time: new Date().toISOString(),
        region: LOCAL_REGION,
        resources: [],
        detail: {},
      };
      return invoke(await handlerOf(handler), event, {
        functionName: `${prefix}-${handler}`,
        timeoutSeconds: HTTP_FUNCTION_TIMEOUT_SECONDS,
        region: LOCAL_REGION,
      });
    };
    for (const s of SCHEDULED) {
      const every = options.scheduleEverySeconds ?? s.everyMinutes * 60;
      if (every <= 0 || (!options.functions?.[s.handler] && !functionExists(s.handler))) continue;
      let running: Promise<unknown> | undefined;
      const timer = setInterval(() => {
        if (running) return; // one run at a time, as a rule would not overlap locally
        running = runScheduled(s.handler)
          .then((r) => log(`[${prefix}-${s.handler}] ${JSON.stringify(r)}`))
          .catch((e) => logError(`[${prefix}-${s.handler}] failed`, e))
          .finally(() => {
            running = undefined;
          });
      }, every * 1000);
      timer.unref();
      stoppers.push(async () => {
        clearInterval(timer);
        await running;
      });
    }

    let stopping: Promise<void> | undefined;
    return {
      url: gateway.url,
      port: gateway.port,
      district,
      prefix,
      opsKey,
      opsKeyIsDefault,
      smsProviderSecret,
      smsProviderSecretIsDefault,
      env,
      endpoints,
      tableName,
      queues,
      alertTopicArn: alertTopic.topicArn,
      notificationTopicArn,
      inboundSmsTopicArn,
      receiveSms,
      outbox,
      alerts,
      pollers,
      stream,
      streamFailureQueueUrl,
      runScheduled,
      clients,
      stop: () => {
        stopping ??= cleanup();
        return stopping;
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** An SNS → SQS delivery is the SNS envelope (no raw delivery): unwrap it. */
function parseAlert(body: string, messageId: string): Alert {
  try {
    const envelope = JSON.parse(body) as {
      Subject?: string;
      Message?: string;
      Timestamp?: string;
      MessageId?: string;
    };
    if (typeof envelope.Message === 'string') {
      return {
        subject: envelope.Subject ?? undefined,
        message: envelope.Message,
        at: envelope.Timestamp ?? new Date().toISOString(),
        messageId: envelope.MessageId ?? messageId,
      };
    }
  } catch {
    // not an envelope: fall through
  }
  return { message: body, at: new Date().toISOString(), messageId };
}

/** Every route of the API, for printing. */
export const routeList = () => ROUTES.map((r) => `${r.method.padEnd(5)} ${r.path}`);
