import {
  type CfnElement,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  Tags,
} from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import {
  AttributeType,
  BillingMode,
  ProjectionType,
  StreamViewType,
  Table,
  TableEncryption,
} from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  HttpMethods,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { SqsSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import type { District } from '#shared/district.ts';
import {
  ENV,
  FUNCTION_ACCESS,
  type FunctionAccess,
  HTTP_HANDLERS,
  QUEUES,
  type QueueName,
  SCHEDULED,
  STREAM_CONSUMER,
  TABLE,
  TABLE_ACTIONS,
} from '#shared/resources.ts';
import { AlertTopic } from '../constructs/alert-topic.ts';
import { DispatchApi } from '../constructs/dispatch-api.ts';
import {
  DispatchFunction,
  METRICS_NAMESPACE,
  SERVICE_NAME,
} from '../constructs/dispatch-function.ts';
import { deliveriesFailedAlarm, NotificationTopic } from '../constructs/notification-topic.ts';
import { QueueWorker } from '../constructs/queue-worker.ts';
import { ScheduledWorker } from '../constructs/scheduled-worker.ts';
import { StreamWorker } from '../constructs/stream-worker.ts';
import { acknowledge } from './nag.ts';

/** Timeout of the HTTP functions: API Gateway gives up at 30 s; they should answer well before. */
export const HTTP_FUNCTION_TIMEOUT_SECONDS = 10;

/** Timeout of scheduled functions (a sweep pages through open requests). */
export const SCHEDULED_FUNCTION_TIMEOUT_SECONDS = 60;

export interface DistrictStackProps extends StackProps {
  district: District;
}

export const stackNameOf = (districtId: string) => `Dispatch-${districtId}`;

/** Everything one district runs, built from `shared/resources.ts` and the district config. */
export class DistrictStack extends Stack {
  readonly district: District;
  readonly table: Table;
  /** The table's indexes in this deploy (TABLE.indexes, and the retired ones while upgrading). */
  readonly indexNames: readonly string[];
  readonly workers: ReadonlyMap<QueueName, QueueWorker>;
  /** The table stream's consumer: the request counters. */
  readonly counting: StreamWorker;
  readonly functions: ReadonlyMap<string, DispatchFunction>;
  /** The scheduled functions' rules, dead-letter queues and alarms, by handler. */
  readonly scheduled: ReadonlyMap<string, ScheduledWorker>;
  readonly api: DispatchApi;
  readonly alerts: AlertTopic;
  readonly notifications: NotificationTopic;
  readonly opsKey: Secret;
  readonly smsProviderSecret: Secret;
  readonly inboundTopic: Topic;
  readonly photos: Bucket;

  constructor(scope: Construct, id: string, props: DistrictStackProps) {
    super(scope, id, {
      description: `Volunteer dispatch for ${props.district.name} (${props.district.id})`,
      ...props,
    });
    const { district } = props;
    this.district = district;
    Tags.of(this).add('district', district.id);
    const retained = district.demo ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

    // Storage: one table, keys and indexes from TABLE.
    this.table = new Table(this, 'Table', {
      partitionKey: { name: TABLE.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: !district.demo,
      removalPolicy: retained,
      timeToLiveAttribute: TABLE.ttlAttribute,
      encryption: TableEncryption.AWS_MANAGED,
      stream: StreamViewType[TABLE.stream],
    });
    // The first deploy of an upgrade that replaces an index keeps the old one beside the new
    // (`-c keepRetiredIndexes=true`): DynamoDB adds or drops one index per update.
    const keepRetired = String(this.node.tryGetContext('keepRetiredIndexes')) === 'true';
    const indexes = [...TABLE.indexes, ...(keepRetired ? TABLE.retiredIndexes : [])];
    this.indexNames = indexes.map((i) => i.name);
    for (const index of indexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
        ...(index.include
          ? { projectionType: ProjectionType.INCLUDE, nonKeyAttributes: [...index.include] }
          : { projectionType: ProjectionType.ALL }),
      });
    }

    this.alerts = new AlertTopic(this, 'Alerts', district);

    // Proof photos (door drops): private, encrypted, TLS only, gone after the retention days.
    this.photos = new Bucket(this, 'Photos', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(district.retentionDays) }],
      cors: [
        {
          allowedMethods: [HttpMethods.PUT],
          allowedOrigins: ['*'],
          allowedHeaders: ['content-type'],
        },
      ],
      removalPolicy: retained,
      // A demo district is torn down whole (cdk destroy): empty the bucket first, or the
      // delete fails with BucketNotEmpty. Real districts keep (retain) it and its photos.
      autoDeleteObjects: district.demo,
    });
    acknowledge(
      this.photos,
      'AwsSolutions-S1',
      'Objects are written only through presigned URLs issued per task by one function ' +
        '(logged with the task id); CloudTrail data events can be enabled per account. A ' +
        'server access log bucket per district would hold more personal data than it protects.',
    );

    // The ops key: generated here, read by the HTTP functions, shown to ops via the CLI.
    this.opsKey = new Secret(this, 'OpsApiKey', {
      description: `${district.id}: the ops API key (Authorization: Bearer <key> on ops routes)`,
      generateSecretString: { passwordLength: 40, excludePunctuation: true },
      removalPolicy: retained,
    });
    acknowledge(
      this.opsKey,
      'AwsSolutions-SMG4',
      'The ops key is handed to people, not to a service: rotating it needs ops to pick up ' +
        'the new value, so rotation is a documented manual step (docs/deploy.md: ' +
        'put-secret-value), not an automatic rotation Lambda.',
    );

    // The SMS provider secret: signs the provider's reply webhook (POST /v1/sms/replies).
    // Generated here; ops give it to the provider, or put the provider's own value.
    this.smsProviderSecret = new Secret(this, 'SmsProviderSecret', {
      description:
        `${district.id}: the HTTPS SMS provider's signing secret for reply webhooks ` +
        '(X-Signature: sha256=HMAC-SHA256 of "<timestamp>.<body>")',
      generateSecretString: { passwordLength: 40, excludePunctuation: true },
      removalPolicy: retained,
    });
    acknowledge(
      this.smsProviderSecret,
      'AwsSolutions-SMG4',
      'The secret is shared with an outside SMS provider, entered in its console: rotating ' +
        'it needs that manual step, so rotation is documented (docs/deploy.md: ' +
        'put-secret-value; the previous value is accepted for an hour), not a rotation Lambda.',
    );

    // Queues and their consumers.
    const workers = new Map<QueueName, QueueWorker>();
    for (const def of QUEUES) {
      workers.set(
        def.name,
        new QueueWorker(this, `Queue-${def.name}`, {
          def,
          district,
          alarmAction: this.alerts.alarmAction,
        }),
      );
    }
    this.workers = workers;
    this.inboundTopic = this.inboundSms(workers.get('inbound')!);

    // The one notification path: producers publish here, the notify queue is subscribed.
    this.notifications = new NotificationTopic(this, 'Notifications', {
      district,
      queues: new Map([...workers].map(([q, w]) => [q, w.queue])),
      alarmAction: this.alerts.alarmAction,
    });

    // HTTP functions.
    const functions = new Map<string, DispatchFunction>();
    for (const name of HTTP_HANDLERS) {
      functions.set(
        name,
        new DispatchFunction(this, `Fn-${name}`, {
          name,
          district,
          timeoutSeconds: HTTP_FUNCTION_TIMEOUT_SECONDS,
        }),
      );
    }
    for (const w of workers.values()) functions.set(w.def.consumer, w.consumer);

    // The table stream's consumer: counts request transitions (the stats' counters).
    this.counting = new StreamWorker(this, 'Counting', {
      table: this.table,
      district,
      alarmAction: this.alerts.alarmAction,
    });
    functions.set(STREAM_CONSUMER.handler, this.counting.consumer);

    // Scheduled functions: an EventBridge rule each, at the rate SCHEDULED gives, with
    // retries and a dead-letter queue (alarmed).
    const scheduled = new Map<string, ScheduledWorker>();
    for (const { handler, everyMinutes } of SCHEDULED) {
      const f = new DispatchFunction(this, `Fn-${handler}`, {
        name: handler,
        district,
        timeoutSeconds: SCHEDULED_FUNCTION_TIMEOUT_SECONDS,
      });
      scheduled.set(
        handler,
        new ScheduledWorker(this, `Scheduled-${handler}`, {
          consumer: f,
          everyMinutes,
          district,
          alarmAction: this.alerts.alarmAction,
        }),
      );
      functions.set(handler, f);
    }
    this.scheduled = scheduled;
    this.functions = functions;

    // Errors and Throttles alarms on every function. The HTTP functions' are here (API
    // Gateway retries nothing); the queue, stream and scheduled workers add their own.
    for (const name of HTTP_HANDLERS) {
      functions.get(name)!.addAlarms('request', district.id, this.alerts.alarmAction);
    }

    // Least privilege: exactly FUNCTION_ACCESS, with the matching environment.
    for (const [name, f] of functions) {
      const access = FUNCTION_ACCESS[name];
      if (!access) throw new Error(`FUNCTION_ACCESS has no entry for ${name}`);
      this.grantAccess(name, f, access, workers);
    }

    this.api = new DispatchApi(this, 'Http', {
      district,
      handlers: new Map([...functions].map(([n, f]) => [n, f.fn])),
      alarmAction: this.alerts.alarmAction,
    });

    this.dashboard(workers, functions);
    this.smsAlarms();

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'HTTP API base URL' });
    new CfnOutput(this, 'OpsKeySecretArn', {
      value: this.opsKey.secretArn,
      description: 'aws secretsmanager get-secret-value --secret-id <this> to read the ops key',
    });
    new CfnOutput(this, 'OpsKeySecretName', { value: this.opsKey.secretName });
    new CfnOutput(this, 'AlertTopicArn', { value: this.alerts.topic.topicArn });
    new CfnOutput(this, 'NotificationTopicArn', {
      value: this.notifications.topic.topicArn,
      description: 'Notification events (who, what, which request, which channel) to deliver',
    });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'StreamFailureQueueUrl', {
      value: this.counting.failures.queueUrl,
      description:
        'Stream batches the counter consumer gave up on: npm run stream-replay -- list --queue-url <this>',
    });
    new CfnOutput(this, 'PhotoBucketName', { value: this.photos.bucketName });
    new CfnOutput(this, 'InboundSmsTopicArn', {
      value: this.inboundTopic.topicArn,
      description:
        'Set as the two-way SMS destination of the origination number (End User Messaging SMS)',
    });
    new CfnOutput(this, 'SmsReplyWebhookUrl', {
      value: `${this.api.url}v1/sms/replies`,
      description:
        "HTTPS SMS provider: set as the reply (上行短信) webhook in the provider's console",
    });
    new CfnOutput(this, 'SmsProviderSecretArn', {
      value: this.smsProviderSecret.secretArn,
      description: 'The secret the HTTPS SMS provider signs reply webhooks with',
    });
  }

  private grantAccess(
    name: string,
    f: DispatchFunction,
    access: (typeof FUNCTION_ACCESS)[string],
    workers: ReadonlyMap<QueueName, QueueWorker>,
  ): void {
    const fn = f.fn;
    if (access.table !== 'none') {
      fn.addEnvironment(ENV.table, this.table.tableName);
      this.grantTable(f, access.table);
    }
    if (access.photos) {
      fn.addEnvironment(ENV.photoBucket, this.photos.bucketName);
      // One action on one prefix: presigning a PUT or a GET needs nothing else.
      f.role.addToPrincipalPolicy(
        new PolicyStatement({
          sid: access.photos === 'put' ? 'PhotoUpload' : 'PhotoView',
          actions: [access.photos === 'put' ? 's3:PutObject' : 's3:GetObject'],
          resources: [this.photos.arnForObjects('photos/*')],
        }),
      );
      acknowledge(
        f.role,
        `AwsSolutions-IAM5[Resource::<${this.getLogicalId(this.photos.node.defaultChild as CfnElement)}.Arn>/photos/*]`,
        'Proof photos are keyed photos/<request>/<volunteer>/<uuid> in the district photo ' +
          'bucket; the function presigns one object at a time under that prefix only.',
      );
    }
    for (const q of access.sends) {
      const queue = workers.get(q)?.queue;
      if (!queue) throw new Error(`${name} sends to unknown queue ${q}`);
      fn.addEnvironment(ENV.queueUrl(q), queue.queueUrl);
      queue.grantSendMessages(fn);
    }
    if (access.sns.includes('alert')) {
      fn.addEnvironment(ENV.alertTopicArn, this.alerts.topic.topicArn);
      this.alerts.grantPublish(f.role);
    }
    if (access.sns.includes('notify')) {
      fn.addEnvironment(ENV.notificationTopicArn, this.notifications.topic.topicArn);
      this.notifications.grantPublish(f.role);
    }
    if (access.sns.includes('inbound')) {
      fn.addEnvironment(ENV.inboundSmsTopicArn, this.inboundTopic.topicArn);
      // sns:Publish on this topic, and the key actions SNS needs to encrypt with its key.
      this.inboundTopic.grantPublish(f.role);
      acknowledge(
        f.role,
        'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        'Publishing to an SSE-KMS topic needs kms:GenerateDataKey* and kms:Decrypt (as AWS ' +
          'documents for SNS publishers); the grant is on the inbound SMS topic key only.',
      );
    }
    if (access.sns.includes('deliver')) this.grantDeliver(f);
    if (access.opsKey) {
      fn.addEnvironment(ENV.opsKeySecretArn, this.opsKey.secretArn);
      this.opsKey.grantRead(fn);
    }
    if (access.smsProviderSecret) {
      fn.addEnvironment(ENV.smsProviderSecretArn, this.smsProviderSecret.secretArn);
      this.smsProviderSecret.grantRead(fn);
    }
  }

  /**
   * The table, least privilege: exactly TABLE_ACTIONS[level] (never Scan). Item actions on
   * the table's ARN only; Query on the table and on each of its indexes by name (no
   * `index/*` wildcard). The stream consumer's stream reads are granted by its mapping.
   */
  private grantTable(f: DispatchFunction, level: Exclude<FunctionAccess['table'], 'none'>): void {
    const actions: readonly string[] = TABLE_ACTIONS[level];
    const items = actions.filter((a) => a !== 'dynamodb:Query');
    if (items.length > 0) {
      f.role.addToPrincipalPolicy(
        new PolicyStatement({
          sid: level === 'count' ? 'CountersUpdate' : 'TableItems',
          actions: [...items],
          resources: [this.table.tableArn],
        }),
      );
    }
    if (actions.includes('dynamodb:Query')) {
      f.role.addToPrincipalPolicy(
        new PolicyStatement({
          sid: 'TableQuery',
          actions: ['dynamodb:Query'],
          resources: [
            this.table.tableArn,
            ...this.indexNames.map((name) => `${this.table.tableArn}/index/${name}`),
          ],
        }),
      );
    }
  }

  /**
   * SMS and push. SNS: Publish to a phone number has no resource ARN, so IAM needs
   * Resource `*` for it (the one wildcard resource in the stack, for sns:Publish only).
   * China regions have no SNS SMS or mobile push: the function gets the domestic
   * provider's endpoint instead and no SNS permission at all.
   */
  private grantDeliver(f: DispatchFunction): void {
    const { sms } = this.district;
    if (sms.provider === 'https') {
      if (!sms.httpsEndpoint) {
        throw new Error(`district ${this.district.id}: sms.provider https needs sms.httpsEndpoint`);
      }
      f.fn.addEnvironment('SMS_PROVIDER', 'https');
      f.fn.addEnvironment('SMS_HTTPS_ENDPOINT', sms.httpsEndpoint);
      return;
    }
    f.fn.addEnvironment('SMS_PROVIDER', 'sns');
    if (sms.senderId) f.fn.addEnvironment('SMS_SENDER_ID', sms.senderId);
    if (sms.originationNumber) f.fn.addEnvironment('SMS_ORIGINATION_NUMBER', sms.originationNumber);
    f.role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'SnsDeliverSmsAndPush',
        actions: ['sns:Publish'],
        resources: ['*'],
      }),
    );
    acknowledge(
      f.role,
      'AwsSolutions-IAM5[Resource::*]',
      'sns:Publish to a phone number (SMS) has no resource ARN to scope to, so IAM requires ' +
        'Resource * for it; the statement allows sns:Publish only. DynamoDB, SQS and every ' +
        'other grant in this stack is scoped to its resource ARNs.',
    );
  }

  /**
   * SMS spend, before the limit: the notifier counts each SMS it sends (Powertools metric
   * `SmsSent`) and each one the caps stopped (`SmsOverCap`). Alarms: a day's SMS over 80%
   * of the monthly spend limit's daily share at `sms.pricePerMessageUsd`; any SMS stopped
   * by a cap; with SNS SMS, SNS's own month-to-date spend over 80% of the limit.
   */
  private smsAlarms(): void {
    const { sms, id } = this.district;
    const metric = (metricName: string, period: Duration) =>
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { district: id, service: SERVICE_NAME },
        statistic: 'Sum',
        period,
      });
    const perDay = Math.max(
      1,
      Math.floor((0.8 * sms.monthlySpendLimitUsd) / sms.pricePerMessageUsd / 30),
    );
    const alarms = [
      new Alarm(this, 'SmsDailySpend', {
        alarmDescription: `${id}: more than ${perDay} SMS in a day (80% of the daily share of the ${sms.monthlySpendLimitUsd} USD monthly SMS spend limit)`,
        metric: metric('SmsSent', Duration.days(1)),
        threshold: perDay,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      new Alarm(this, 'SmsOverCap', {
        alarmDescription: `${id}: SMS stopped by the caps (sms.maxPerRequest ${sms.maxPerRequest}, sms.maxPerHour ${sms.maxPerHour})`,
        metric: metric('SmsOverCap', Duration.minutes(5)),
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    ];
    if (sms.provider === 'sns') {
      alarms.push(
        new Alarm(this, 'SnsSmsMonthToDateSpend', {
          alarmDescription: `${id}: SNS SMS spend this month over 80% of ${sms.monthlySpendLimitUsd} USD`,
          metric: new Metric({
            namespace: 'AWS/SNS',
            metricName: 'SMSMonthToDateSpentUSD',
            statistic: 'Maximum',
            period: Duration.hours(1),
          }),
          threshold: 0.8 * sms.monthlySpendLimitUsd,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
      );
    }
    for (const alarm of alarms) alarm.addAlarmAction(this.alerts.alarmAction);
  }

  /**
   * Replies to SMS: AWS End User Messaging SMS publishes a two-way number's inbound
   * messages to this topic, which feeds the inbound queue (raw delivery) and receive-sms.
   * Encrypted with a key of its own that the SMS service may use.
   */
  private inboundSms(worker: QueueWorker): Topic {
    const key = new Key(this, 'InboundSmsKey', {
      description: `${this.district.id}: encrypts the inbound SMS topic`,
      enableKeyRotation: true,
      removalPolicy: this.district.demo ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    key.grant(
      new ServicePrincipal('sms-voice.amazonaws.com'),
      'kms:Decrypt',
      'kms:GenerateDataKey*',
    );
    const topic = new Topic(this, 'InboundSms', {
      displayName: `${this.district.name} SMS replies`,
      masterKey: key,
      enforceSSL: true,
    });
    topic.grantPublish(new ServicePrincipal('sms-voice.amazonaws.com'));
    topic.addSubscription(new SqsSubscription(worker.queue, { rawMessageDelivery: true }));
    // As on the notifications topic: a reply SNS could not deliver to the queue is a
    // volunteer's or requester's answer lost.
    deliveriesFailedAlarm(
      this,
      'InboundSmsDeliveriesFailed',
      topic,
      `${this.district.id}: SMS replies the inbound SMS topic could not deliver to its queue`,
      this.alerts.alarmAction,
    );
    return topic;
  }

  private dashboard(
    workers: ReadonlyMap<QueueName, QueueWorker>,
    functions: ReadonlyMap<string, DispatchFunction>,
  ): void {
    const d = new Dashboard(this, 'Dashboard', {
      dashboardName: `dispatch-${this.district.id}`,
      defaultInterval: Duration.hours(3),
    });
    const period = Duration.minutes(1);
    const queues = [...workers.values()];
    const fns = [...functions.entries()];
    const api = this.api.api;
    d.addWidgets(
      new TextWidget({ markdown: `# ${this.district.name} (${this.district.id})`, width: 24 }),
    );
    d.addWidgets(
      new GraphWidget({
        title: 'Queue depth (visible)',
        left: queues.map((w) =>
          w.queue.metricApproximateNumberOfMessagesVisible({ period, label: w.def.name }),
        ),
        width: 8,
      }),
      new GraphWidget({
        title: 'Age of oldest message (s)',
        left: queues.map((w) =>
          w.queue.metricApproximateAgeOfOldestMessage({ period, label: w.def.name }),
        ),
        width: 8,
      }),
      new GraphWidget({
        title: 'Dead-letter queues (visible)',
        left: [
          ...queues.map((w) =>
            w.dlq.metricApproximateNumberOfMessagesVisible({ period, label: w.def.name }),
          ),
          ...[...this.scheduled].map(([handler, s]) =>
            s.dlq.metricApproximateNumberOfMessagesVisible({ period, label: handler }),
          ),
        ],
        width: 8,
      }),
    );
    d.addWidgets(
      new GraphWidget({
        title: 'Function errors',
        left: fns.map(([n, f]) => f.fn.metricErrors({ period, label: n })),
        width: 12,
      }),
      new GraphWidget({
        title: 'Function throttles',
        left: fns.map(([n, f]) => f.fn.metricThrottles({ period, label: n })),
        width: 12,
      }),
    );
    d.addWidgets(
      new GraphWidget({
        title: 'API 4xx / 5xx',
        left: [
          api.metricClientError({ period, label: '4xx' }),
          api.metricServerError({ period, label: '5xx' }),
        ],
        right: [
          new MathExpression({
            expression: '100 * e5 / MAX([cnt, 1])',
            usingMetrics: {
              e5: api.metricServerError({ period }),
              cnt: api.metricCount({ period }),
            },
            label: '5xx %',
            period,
          }),
        ],
        width: 12,
      }),
      new GraphWidget({
        title: 'API latency (ms)',
        left: [
          api.metricLatency({ period, statistic: 'p50', label: 'p50' }),
          api.metricLatency({ period, statistic: 'p99', label: 'p99' }),
          api.metricIntegrationLatency({ period, statistic: 'p99', label: 'integration p99' }),
        ],
        width: 12,
      }),
    );
  }
}
