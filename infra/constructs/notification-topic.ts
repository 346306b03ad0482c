import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { Alarm, IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import { type IGrantable, Role } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { SqsSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import type { District } from '#shared/district.ts';
import { NOTIFICATION_TOPIC, type QueueName } from '#shared/resources.ts';
import { acknowledge } from '../stacks/nag.ts';
import { anyAlarm } from './alarms.ts';

export interface NotificationTopicProps {
  district: District;
  /** The district's work queues; NOTIFICATION_TOPIC names the ones subscribed. */
  queues: ReadonlyMap<QueueName, IQueue>;
  /** Where the alarm on failed deliveries goes (the ops alert topic). */
  alarmAction: IAlarmAction;
}

/**
 * The district's notifications topic (NOTIFICATION_TOPIC in shared/resources.ts): every
 * function that tells a person something publishes the event here, and its subscribers
 * deliver it. The notify queue is subscribed with raw delivery, so send-notification reads
 * the producer's body unchanged; SqsSubscription adds the queue policy that lets this
 * topic (and only it, by aws:SourceArn) send to the queue. Events name people and phone
 * numbers, so the topic is encrypted with a key of its own and takes TLS only.
 */
export class NotificationTopic extends Construct {
  readonly topic: Topic;
  readonly key: Key;
  /** Any event SNS could not deliver to a subscriber (a queue policy or key gone wrong). */
  readonly failedAlarm: Alarm;

  constructor(scope: Construct, id: string, props: NotificationTopicProps) {
    super(scope, id);
    const { district } = props;
    this.key = new Key(this, 'Key', {
      description: `${district.id}: encrypts the notifications topic`,
      enableKeyRotation: true,
      removalPolicy: district.demo ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    this.topic = new Topic(this, 'Topic', {
      displayName: `${district.name} notifications`,
      masterKey: this.key,
      enforceSSL: true,
    });
    for (const sub of NOTIFICATION_TOPIC.subscribers) {
      const queue = props.queues.get(sub.queue);
      if (!queue) throw new Error(`notifications topic: no queue ${sub.queue} to subscribe`);
      this.topic.addSubscription(
        new SqsSubscription(queue, { rawMessageDelivery: sub.rawMessageDelivery }),
      );
    }
    this.failedAlarm = deliveriesFailedAlarm(
      this,
      'DeliveriesFailed',
      this.topic,
      `${district.id}: notification events the topic could not deliver to its queue`,
      props.alarmAction,
    );
  }

  /** sns:Publish on this topic only, plus the key actions SNS needs to encrypt the message. */
  grantPublish(grantee: IGrantable & IConstruct): void {
    this.topic.grantPublish(grantee);
    if (grantee instanceof Role) {
      acknowledge(
        grantee,
        'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        'Publishing to an SSE-KMS topic needs kms:GenerateDataKey* and kms:Decrypt (as AWS ' +
          'documents for SNS publishers); the grant is on the notifications topic key only.',
      );
    }
  }
}

/**
 * An alarm (and its clearing) to ops on any message a topic could not deliver to its
 * subscribers: SNS retries deliveries to SQS for days, so what still fails is a broken
 * queue policy or key, and no notification or reply may be lost without ops knowing.
 */
export function deliveriesFailedAlarm(
  scope: Construct,
  id: string,
  topic: Topic,
  alarmDescription: string,
  alarmAction: IAlarmAction,
): Alarm {
  return anyAlarm(scope, id, {
    alarmDescription,
    metric: topic.metricNumberOfNotificationsFailed({
      period: Duration.minutes(1),
      statistic: 'Sum',
    }),
    action: alarmAction,
  });
}
