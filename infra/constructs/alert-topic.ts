import { RemovalPolicy } from 'aws-cdk-lib';
import type { IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { type IGrantable, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct, type IConstruct } from 'constructs';
import type { District } from '#shared/district.ts';
import { acknowledge } from '../stacks/nag.ts';

/**
 * The ops alert topic: CloudWatch alarm actions and the functions' manual-dispatch alerts.
 * With `alarms.topicArn` the district's existing topic is used; otherwise a topic is
 * created, encrypted with a customer-managed key (CloudWatch cannot publish to a topic
 * under the AWS-managed SNS key), with an e-mail subscription from `alarms.email`.
 */
export class AlertTopic extends Construct {
  readonly topic: ITopic;
  readonly alarmAction: IAlarmAction;
  readonly key?: Key;

  constructor(scope: Construct, id: string, district: District) {
    super(scope, id);
    if (district.alarms.topicArn) {
      this.topic = Topic.fromTopicArn(this, 'Topic', district.alarms.topicArn);
    } else {
      this.key = new Key(this, 'Key', {
        description: `${district.id}: encrypts the ops alert topic`,
        enableKeyRotation: true,
        removalPolicy: district.demo ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      });
      // Alarm actions publish as cloudwatch.amazonaws.com and need the key.
      this.key.grant(
        new ServicePrincipal('cloudwatch.amazonaws.com'),
        'kms:Decrypt',
        'kms:GenerateDataKey*',
      );
      const topic = new Topic(this, 'Topic', {
        displayName: `${district.name} ops alerts`,
        masterKey: this.key,
        enforceSSL: true,
      });
      if (district.alarms.email) {
        topic.addSubscription(new EmailSubscription(district.alarms.email));
      }
      this.topic = topic;
    }
    this.alarmAction = new SnsAction(this.topic);
  }

  /** sns:Publish on this topic only, plus the key actions SNS needs to encrypt the message. */
  grantPublish(grantee: IGrantable & IConstruct): void {
    this.topic.grantPublish(grantee);
    if (this.key && grantee instanceof Role) {
      acknowledge(
        grantee,
        'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        'Publishing to an SSE-KMS topic needs kms:GenerateDataKey* and kms:Decrypt (as AWS ' +
          'documents for SNS publishers); the grant is on the alert topic key only.',
      );
    }
  }
}
