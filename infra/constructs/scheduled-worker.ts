import { Duration } from 'aws-cdk-lib';
import type { Alarm, IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { District } from '#shared/district.ts';
import { acknowledge } from '../stacks/nag.ts';
import { deadLetterQueue, notEmptyAlarm } from './dead-letter-queue.ts';
import type { DispatchFunction } from './dispatch-function.ts';

/**
 * Retries of a scheduled run, at both places it can fail. EventBridge invokes the function
 * asynchronously: its target's retry policy only covers handing the event to Lambda (a
 * throttled or refused Invoke call); a run that fails is retried by Lambda's own
 * asynchronous invocation settings. Both end in the same dead-letter queue.
 * - `deliveryAttempts` / `deliveryMaxAgeMinutes`: EventBridge retries within one schedule
 *   interval; past it the next run supersedes the event, which goes to the DLQ.
 * - `runRetries`: Lambda's maximum (2, one and then two minutes after a failure).
 *   `runMaxAgeMinutes`: how long Lambda keeps a throttled run's event before the DLQ.
 * A run retried overlaps the next scheduled one at worst; scheduled functions are written
 * to be safe to overlap and repeat (conditional writes, idempotent consumers).
 */
export const SCHEDULE_RETRIES = {
  deliveryAttempts: 3,
  runRetries: 2,
  runMaxAgeMinutes: 15,
} as const;

export interface ScheduledWorkerProps {
  /**
   * The function, made by the stack (`Fn-<handler>`, the logical ids it had before it got
   * a DLQ: a deployed district keeps its function and log group).
   */
  consumer: DispatchFunction;
  everyMinutes: number;
  district: District;
  alarmAction: IAlarmAction;
}

/**
 * A function run on a schedule (SCHEDULED in shared/resources.ts): an EventBridge rule,
 * retries (SCHEDULE_RETRIES), a dead-letter queue for runs that still failed or could not
 * be delivered, alarmed on its first message, and the function's Errors and Throttles
 * alarms. A failing sweeper would otherwise silently stop stuck-request recovery and
 * auto-confirm.
 */
export class ScheduledWorker extends Construct {
  readonly consumer: DispatchFunction;
  readonly rule: Rule;
  readonly dlq: Queue;
  readonly dlqAlarm: Alarm;

  constructor(scope: Construct, id: string, props: ScheduledWorkerProps) {
    super(scope, id);
    const { consumer, everyMinutes, district } = props;
    const handler = consumer.name;
    this.consumer = consumer;
    this.dlq = deadLetterQueue(this, 'Dlq', district);
    acknowledge(
      this.dlq,
      'AwsSolutions-SQS3',
      'This queue is itself the dead-letter queue of the scheduled function: the EventBridge ' +
        "target's DLQ and the function's on-failure destination. A DLQ behind it would only " +
        'hold the same failed runs again. It has its own alarm.',
    );
    // Runs that failed after Lambda's retries (or aged out throttled): their event, the
    // error and the request id, as Lambda's on-failure destination record.
    this.consumer.fn.configureAsyncInvoke({
      retryAttempts: SCHEDULE_RETRIES.runRetries,
      maxEventAge: Duration.minutes(SCHEDULE_RETRIES.runMaxAgeMinutes),
      onFailure: new SqsDestination(this.dlq),
    });
    this.rule = new Rule(this, 'Schedule', {
      description: `${district.id}: run ${handler} every ${everyMinutes} min`,
      schedule: Schedule.rate(Duration.minutes(everyMinutes)),
      targets: [
        new LambdaFunction(this.consumer.fn, {
          retryAttempts: SCHEDULE_RETRIES.deliveryAttempts,
          maxEventAge: Duration.minutes(everyMinutes),
          deadLetterQueue: this.dlq,
        }),
      ],
    });
    this.dlqAlarm = notEmptyAlarm(
      this,
      'DlqNotEmpty',
      this.dlq,
      `${district.id}: scheduled ${handler} runs that failed after their retries or were never delivered (a run every ${everyMinutes} min)`,
    );
    this.dlqAlarm.addAlarmAction(props.alarmAction);
    this.dlqAlarm.addOkAction(props.alarmAction);
    this.consumer.addAlarms('retried', district.id, props.alarmAction);
  }
}
