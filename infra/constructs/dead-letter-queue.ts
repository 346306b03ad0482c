import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { District } from '#shared/district.ts';

/**
 * Where work a consumer gave up on waits for ops: encrypted, TLS only, kept 14 days (the
 * longest SQS allows: time to inspect and redrive), deleted with a demo district only.
 */
export function deadLetterQueue(scope: Construct, id: string, district: District): Queue {
  return new Queue(scope, id, {
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    removalPolicy: district.demo ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
  });
}

/** An alarm as soon as a dead-letter queue holds anything. */
export function notEmptyAlarm(
  scope: Construct,
  id: string,
  queue: Queue,
  alarmDescription: string,
): Alarm {
  return new Alarm(scope, id, {
    alarmDescription,
    metric: queue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(1),
      statistic: 'Maximum',
    }),
    threshold: 0,
    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
}
