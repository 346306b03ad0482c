import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  type IAlarmAction,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { District } from '#shared/district.ts';
import { type QueueDef, visibilityTimeoutSeconds } from '#shared/resources.ts';
import { deadLetterQueue, notEmptyAlarm } from './dead-letter-queue.ts';
import { DispatchFunction } from './dispatch-function.ts';

export interface QueueWorkerProps {
  def: QueueDef;
  district: District;
  alarmAction: IAlarmAction;
  environment?: Record<string, string>;
}

/**
 * A work queue and its consumer, all settings from `QUEUES` in shared/resources.ts:
 * a dead-letter queue after `maxReceiveCount` receives, a visibility timeout of six times
 * the consumer's timeout, partial batch failures, and alarms on the DLQ (any message), on
 * the age of the oldest message in the work queue, and on the consumer's errors and throttles.
 */
export class QueueWorker extends Construct {
  readonly def: QueueDef;
  readonly queue: Queue;
  readonly dlq: Queue;
  readonly consumer: DispatchFunction;
  readonly dlqAlarm: Alarm;
  readonly ageAlarm: Alarm;

  constructor(scope: Construct, id: string, props: QueueWorkerProps) {
    super(scope, id);
    const { def, district } = props;
    this.def = def;
    const removalPolicy = district.demo ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

    this.dlq = deadLetterQueue(this, 'Dlq', district);
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(visibilityTimeoutSeconds(def)),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.dlq, maxReceiveCount: def.maxReceiveCount },
      removalPolicy,
    });

    this.consumer = new DispatchFunction(this, 'Consumer', {
      name: def.consumer,
      district,
      timeoutSeconds: def.functionTimeoutSeconds,
      environment: props.environment,
    });
    this.consumer.fn.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: def.batchSize,
        reportBatchItemFailures: true,
      }),
    );

    this.dlqAlarm = notEmptyAlarm(
      this,
      'DlqNotEmpty',
      this.dlq,
      `${district.id}: messages in the ${def.name} dead-letter queue (failed ${def.maxReceiveCount} times)`,
    );
    this.ageAlarm = new Alarm(this, 'OldestMessageAge', {
      alarmDescription: `${district.id}: oldest ${def.name} message older than ${def.maxAgeSeconds}s`,
      metric: this.queue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: def.maxAgeSeconds,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    for (const alarm of [this.dlqAlarm, this.ageAlarm]) {
      alarm.addAlarmAction(props.alarmAction);
      alarm.addOkAction(props.alarmAction);
    }
    // Retried invocations: errors or throttles for 15 minutes (FUNCTION_ALARM_RULES).
    this.consumer.addAlarms('retried', district.id, props.alarmAction);
  }
}
