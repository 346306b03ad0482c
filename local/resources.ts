/**
 * Creates the district's table, queues (each with its DLQ), notifications topic and ops
 * alert topic on the local emulators, from shared/resources.ts: the same definitions the
 * CDK stack uses.
 * Idempotent: starting again against the same servers and prefix reuses what exists.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, type SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  NOTIFICATION_TOPIC,
  QUEUES,
  type QueueDef,
  type QueueName,
  STREAM_CONSUMER,
  TABLE,
  type TableIndex,
  visibilityTimeoutSeconds,
} from '../shared/resources.ts';

export interface LocalQueue {
  def: QueueDef;
  name: string;
  url: string;
  arn: string;
  dlqName: string;
  dlqUrl: string;
  dlqArn: string;
}

export interface LocalResources {
  tableName: string;
  queues: Record<QueueName, LocalQueue>;
  alertTopicArn: string;
  alertQueueUrl: string;
}

const indexDefinition = (index: TableIndex) => ({
  IndexName: index.name,
  KeySchema: [
    { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
    { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
  ],
  Projection: index.include
    ? { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...index.include] }
    : { ProjectionType: 'ALL' as const },
});

export async function createTable(dynamodb: DynamoDBClient, tableName: string): Promise<void> {
  const attributes = new Set<string>([TABLE.partitionKey, TABLE.sortKey]);
  for (const index of TABLE.indexes) {
    attributes.add(index.partitionKey);
    attributes.add(index.sortKey);
  }
  try {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [...attributes].map((AttributeName) => ({
          AttributeName,
          AttributeType: 'S',
        })),
        KeySchema: [
          { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: TABLE.indexes.map(indexDefinition),
        StreamSpecification: { StreamEnabled: true, StreamViewType: TABLE.stream },
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await waitUntilTableExists({ client: dynamodb, maxWaitTime: 30 }, { TableName: tableName });
  // A table kept from before the stream (npm start with a data directory): turn it on.
  const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
  if (!Table?.StreamSpecification?.StreamEnabled) {
    await dynamodb.send(
      new UpdateTableCommand({
        TableName: tableName,
        StreamSpecification: { StreamEnabled: true, StreamViewType: TABLE.stream },
      }),
    );
  }
  // A table kept from before an index (npm start with a data directory): add it.
  const has = new Set((Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
  for (const index of TABLE.indexes.filter((i) => !has.has(i.name))) {
    await dynamodb.send(
      new UpdateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [index.partitionKey, index.sortKey].map((AttributeName) => ({
          AttributeName,
          AttributeType: 'S',
        })),
        GlobalSecondaryIndexUpdates: [{ Create: indexDefinition(index) }],
      }),
    );
  }
  try {
    await dynamodb.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
      }),
    );
  } catch (error) {
    // Enabling TTL twice is a ValidationException ("already enabled"): fine on a restart.
    if (!/already enabled/i.test(String((error as Error).message))) throw error;
  }
}

async function queueArn(sqs: SQSClient, url: string): Promise<string> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  const arn = out.Attributes?.QueueArn;
  if (!arn) throw new Error(`no QueueArn for ${url}`);
  return arn;
}

/** Creates a queue, or sets the attributes of the one that exists with this name. */
async function ensureQueue(
  sqs: SQSClient,
  name: string,
  attributes: Record<string, string> = {},
): Promise<{ url: string; arn: string }> {
  const created = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const url = created.QueueUrl;
  if (!url) throw new Error(`CreateQueue ${name} returned no URL`);
  if (Object.keys(attributes).length > 0) {
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: attributes }));
  }
  return { url, arn: await queueArn(sqs, url) };
}

export async function createQueues(
  sqs: SQSClient,
  prefix: string,
): Promise<Record<QueueName, LocalQueue>> {
  const entries = await Promise.all(
    QUEUES.map(async (def): Promise<[QueueName, LocalQueue]> => {
      const name = `${prefix}-${def.name}`;
      const dlqName = `${name}-dlq`;
      // 14 days, as the CDK stack keeps failed messages for ops.
      const dlq = await ensureQueue(sqs, dlqName, { MessageRetentionPeriod: '1209600' });
      const queue = await ensureQueue(sqs, name, {
        VisibilityTimeout: String(visibilityTimeoutSeconds(def)),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlq.arn,
          maxReceiveCount: String(def.maxReceiveCount),
        }),
      });
      return [
        def.name,
        { def, name, url: queue.url, arn: queue.arn, dlqName, dlqUrl: dlq.url, dlqArn: dlq.arn },
      ];
    }),
  );
  return Object.fromEntries(entries) as Record<QueueName, LocalQueue>;
}

/**
 * The table stream's failure queue: the local stream poller describes a batch it gave up
 * on there, as the event source mapping does on AWS. Kept 14 days, as in the CDK stack.
 */
export async function createStreamFailureQueue(sqs: SQSClient, prefix: string): Promise<string> {
  const name = `${prefix}-${STREAM_CONSUMER.failureQueue}`;
  return (await ensureQueue(sqs, name, { MessageRetentionPeriod: '1209600' })).url;
}

/** The ops alert topic, with a queue subscribed so that alerts can be read back locally. */
export async function createAlertTopic(
  sns: SNSClient,
  sqs: SQSClient,
  prefix: string,
): Promise<{ topicArn: string; queueUrl: string }> {
  const name = `${prefix}-alerts`;
  const topic = await sns.send(new CreateTopicCommand({ Name: name }));
  const topicArn = topic.TopicArn;
  if (!topicArn) throw new Error(`CreateTopic ${name} returned no ARN`);
  const queue = await ensureQueue(sqs, name);
  await sns.send(
    new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queue.arn }),
  );
  return { topicArn, queueUrl: queue.url };
}

/**
 * The inbound SMS topic: on AWS, End User Messaging SMS publishes replies to it; locally
 * `POST /local/sms` does. The inbound queue is subscribed with raw delivery.
 */
export async function createInboundTopic(
  sns: SNSClient,
  prefix: string,
  queueArn: string,
): Promise<string> {
  const name = `${prefix}-inbound-sms`;
  const topic = await sns.send(new CreateTopicCommand({ Name: name }));
  const topicArn = topic.TopicArn;
  if (!topicArn) throw new Error(`CreateTopic ${name} returned no ARN`);
  await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: queueArn,
      Attributes: { RawMessageDelivery: 'true' },
    }),
  );
  return topicArn;
}

/**
 * The notifications topic (NOTIFICATION_TOPIC): producers publish notification events to
 * it, and its subscribers (the notify queue, raw delivery) take them to send-notification,
 * as on AWS. Subscribing again on a restart is harmless: SNS (and fauxqs) answer an
 * existing identical subscription with its ARN.
 */
export async function createNotificationTopic(
  sns: SNSClient,
  prefix: string,
  queues: Record<QueueName, LocalQueue>,
): Promise<string> {
  const name = `${prefix}-${NOTIFICATION_TOPIC.logicalName}`;
  const topic = await sns.send(new CreateTopicCommand({ Name: name }));
  const topicArn = topic.TopicArn;
  if (!topicArn) throw new Error(`CreateTopic ${name} returned no ARN`);
  for (const sub of NOTIFICATION_TOPIC.subscribers) {
    await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: queues[sub.queue].arn,
        Attributes: { RawMessageDelivery: String(sub.rawMessageDelivery) },
      }),
    );
  }
  return topicArn;
}
