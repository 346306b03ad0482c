import { describe, expect, it } from 'vitest';
import { ENV, FUNCTION_ACCESS, NOTIFICATION_TOPIC } from '#shared/resources.ts';
import { type CfnJson, DISTRICT_IDS, logicalId, resourcesOf, synthesized } from './support.ts';

const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** The functions that tell people something: they publish notification events. */
const PRODUCERS = ['match-request', 'apply-request-event', 'receive-sms', 'handle-timer'];

describe.each(DISTRICT_IDS)('notifications topic of district %s', (id) => {
  const { stack, template } = synthesized(id);
  const topicId = logicalId(stack.notifications.topic);
  const notifyQueueId = logicalId(stack.workers.get('notify')!.queue);
  const policies = resourcesOf(template, 'AWS::IAM::Policy');
  const statementsOf = (name: string): CfnJson[] => {
    const role = logicalId(stack.functions.get(name)!.role);
    return policies
      .filter(([, p]) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === role))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
  };
  const resources = template.toJSON().Resources as Record<string, CfnJson>;

  it('is one topic, encrypted with a customer-managed key, TLS only', () => {
    const topic = resources[topicId];
    expect(topic.Type).toBe('AWS::SNS::Topic');
    const keyId = topic.Properties.KmsMasterKeyId['Fn::GetAtt'][0];
    expect(resources[keyId].Type).toBe('AWS::KMS::Key');
    expect(resources[keyId].Properties.EnableKeyRotation).toBe(true);
    const policy = resourcesOf(template, 'AWS::SNS::TopicPolicy').filter(([, p]) =>
      p.Properties.Topics.some((t: CfnJson) => t.Ref === topicId),
    );
    expect(policy).toHaveLength(1);
    expect(policy[0][1].Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Action: 'sns:Publish',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
  });

  it('feeds the notify queue with raw delivery, and nothing else', () => {
    const subs = resourcesOf(template, 'AWS::SNS::Subscription').filter(
      ([, s]) => s.Properties.TopicArn?.Ref === topicId,
    );
    expect(subs.map(([, s]) => s.Properties)).toEqual([
      {
        Protocol: 'sqs',
        RawMessageDelivery: true,
        TopicArn: { Ref: topicId },
        Endpoint: { 'Fn::GetAtt': [notifyQueueId, 'Arn'] },
      },
    ]);
    expect(NOTIFICATION_TOPIC.subscribers).toEqual([{ queue: 'notify', rawMessageDelivery: true }]);
  });

  it('the notify queue lets SNS send to it only from this topic', () => {
    const [[, policy]] = resourcesOf(template, 'AWS::SQS::QueuePolicy').filter(([, p]) =>
      p.Properties.Queues.some((q: CfnJson) => q.Ref === notifyQueueId),
    );
    const allows = policy.Properties.PolicyDocument.Statement.filter(
      (s: CfnJson) => s.Effect === 'Allow',
    );
    expect(allows).toEqual([
      {
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Principal: { Service: 'sns.amazonaws.com' },
        Resource: { 'Fn::GetAtt': [notifyQueueId, 'Arn'] },
        Condition: { ArnEquals: { 'aws:SourceArn': { Ref: topicId } } },
      },
    ]);
  });

  it('every producer publishes notifications, none sends to the notify queue', () => {
    for (const name of PRODUCERS) {
      expect(FUNCTION_ACCESS[name].sns, name).toContain('notify');
      expect(FUNCTION_ACCESS[name].sends, name).not.toContain('notify');
    }
  });

  describe.each(Object.entries(FUNCTION_ACCESS))('%s', (name, access) => {
    const statements = statementsOf(name);
    const publishesToTopic = statements.filter(
      (s) => list(s.Action).includes('sns:Publish') && JSON.stringify(s.Resource).includes(topicId),
    );

    it('may publish to the topic (sns:Publish on exactly that topic) only with sns notify', () => {
      if (!access.sns.includes('notify')) {
        expect(publishesToTopic).toEqual([]);
        return;
      }
      expect(publishesToTopic).toEqual([
        { Effect: 'Allow', Action: 'sns:Publish', Resource: { Ref: topicId } },
      ]);
      // And the topic key, to encrypt what it publishes: that key and no other.
      const keyId = resources[topicId].Properties.KmsMasterKeyId['Fn::GetAtt'][0];
      const kms = statements.filter((s) => JSON.stringify(s.Resource).includes(keyId));
      expect(kms.map((s) => list(s.Action).sort())).toEqual([
        ['kms:Decrypt', 'kms:GenerateDataKey*'],
      ]);
    });

    it('has the topic ARN in its environment only with sns notify', () => {
      const env = vars(name);
      if (access.sns.includes('notify')) {
        expect(env[ENV.notificationTopicArn]).toEqual({ Ref: topicId });
      } else expect(env[ENV.notificationTopicArn]).toBeUndefined();
    });

    it('never sends to the notify queue itself', () => {
      const sends = statements.filter(
        (s) =>
          list(s.Action).includes('sqs:SendMessage') &&
          JSON.stringify(s.Resource).includes(notifyQueueId),
      );
      expect(sends).toEqual([]);
      expect(vars(name)[ENV.queueUrl('notify')]).toBeUndefined();
    });
  });

  function vars(name: string): CfnJson {
    return resources[logicalId(stack.functions.get(name)!.fn)].Properties.Environment.Variables;
  }
});
