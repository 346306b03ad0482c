import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  type IAlarmAction,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import {
  type EventSourceMapping,
  FilterCriteria,
  FilterRule,
  StartingPosition,
} from 'aws-cdk-lib/aws-lambda';
import { SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { District } from '#shared/district.ts';
import { STREAM_CONSUMER } from '#shared/resources.ts';
import { acknowledge } from '../stacks/nag.ts';
import { deadLetterQueue, notEmptyAlarm } from './dead-letter-queue.ts';
import { DispatchFunction } from './dispatch-function.ts';

export interface StreamWorkerProps {
  table: Table;
  district: District;
  alarmAction: IAlarmAction;
}

/**
 * The consumer of the table's stream, all settings from STREAM_CONSUMER in
 * shared/resources.ts: from TRIM_HORIZON, request and volunteer items only (filters), batches of up
 * to 100 gathered for a few seconds, a tumbling window (the consumer sums a window's
 * batches in its state and writes the counters at its end; the event names its shard),
 * a failing batch bisected and retried a bounded number of times, then described in a
 * failure queue. Alarms: anything in the failure queue (counts were skipped), the
 * consumer falling behind (IteratorAge), and its errors and throttles.
 */
export class StreamWorker extends Construct {
  readonly consumer: DispatchFunction;
  readonly mapping: EventSourceMapping;
  readonly failures: Queue;
  readonly failuresAlarm: Alarm;
  readonly iteratorAgeAlarm: Alarm;

  constructor(scope: Construct, id: string, props: StreamWorkerProps) {
    super(scope, id);
    const { district, table } = props;
    const def = STREAM_CONSUMER;
    this.failures = deadLetterQueue(this, 'Dlq', district);
    this.consumer = new DispatchFunction(this, 'Consumer', {
      name: def.handler,
      district,
      timeoutSeconds: def.functionTimeoutSeconds,
    });
    acknowledge(
      this.failures,
      'AwsSolutions-SQS3',
      'This queue is the on-failure destination of the table stream mapping: it receives the ' +
        'description of a stream batch the consumer gave up on, for ops to replay; a DLQ ' +
        'behind it would only hold the same descriptions again. It has its own alarm.',
    );
    // The mapping is made here rather than with DynamoEventSource, which also grants
    // dynamodb:ListStreams on Resource *: every stream read below is scoped to this
    // table's stream ARN.
    const tableStreamArn = table.tableStreamArn;
    if (!tableStreamArn) throw new Error('the table has no stream (TABLE.stream)');
    this.mapping = this.consumer.fn.addEventSourceMapping('TableStream', {
      eventSourceArn: tableStreamArn,
      startingPosition: StartingPosition.TRIM_HORIZON,
      batchSize: def.batchSize,
      maxBatchingWindow: Duration.seconds(def.batchingWindowSeconds),
      tumblingWindow: Duration.seconds(def.tumblingWindowSeconds),
      bisectBatchOnError: true,
      retryAttempts: def.retryAttempts,
      onFailure: new SqsDlq(this.failures),
      filters: def.items.map((item) =>
        FilterCriteria.filter({
          dynamodb: {
            Keys: {
              pk: { S: FilterRule.beginsWith(item.pkPrefix) },
              sk: { S: FilterRule.isEqual(item.sk) },
            },
            // Stream images carry numbers as strings: {"N": "1"}.
            ...(item.newNumber && {
              NewImage: {
                [item.newNumber.attribute]: {
                  N: FilterRule.isEqual(String(item.newNumber.equals)),
                },
              },
            }),
          },
        }),
      ),
    });
    table.grantStream(
      this.consumer.fn,
      'dynamodb:DescribeStream',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
      'dynamodb:ListStreams',
    );

    this.failuresAlarm = notEmptyAlarm(
      this,
      'DlqNotEmpty',
      this.failures,
      `${district.id}: stream batches the ${def.handler} consumer gave up on (their counts are missing)`,
    );
    this.iteratorAgeAlarm = new Alarm(this, 'IteratorAge', {
      alarmDescription: `${district.id}: ${def.handler} more than ${def.maxIteratorAgeSeconds}s behind the table stream (stats lag)`,
      metric: this.consumer.fn.metric('IteratorAge', {
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: def.maxIteratorAgeSeconds * 1000,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    for (const alarm of [this.failuresAlarm, this.iteratorAgeAlarm]) {
      alarm.addAlarmAction(props.alarmAction);
      alarm.addOkAction(props.alarmAction);
    }
    // Retried invocations: errors or throttles for 15 minutes (FUNCTION_ALARM_RULES).
    this.consumer.addAlarms('retried', district.id, props.alarmAction);
  }
}
