import { describe, expect, it } from 'vitest';
import { DISTRICT_IDS, logicalId, resourcesOf, synthesized } from './support.ts';

describe.each(DISTRICT_IDS)('inbound SMS of district %s', (id) => {
  const { stack, template } = synthesized(id);
  const inbound = stack.workers.get('inbound')!;

  it('a KMS-encrypted topic the SMS service may publish to, feeding the inbound queue raw', () => {
    const topics = resourcesOf(template, 'AWS::SNS::Topic').filter(([name]) =>
      name.startsWith('InboundSms'),
    );
    expect(topics).toHaveLength(1);
    const [topicId, topic] = topics[0];
    expect(topic.Properties.KmsMasterKeyId).toBeDefined();
    const subs = resourcesOf(template, 'AWS::SNS::Subscription').filter(
      ([, s]) => s.Properties.TopicArn?.Ref === topicId,
    );
    expect(subs).toEqual([
      [
        expect.any(String),
        expect.objectContaining({
          Properties: expect.objectContaining({
            Protocol: 'sqs',
            RawMessageDelivery: true,
            Endpoint: { 'Fn::GetAtt': [logicalId(inbound.queue), 'Arn'] },
          }),
        }),
      ],
    ]);
    const policies = resourcesOf(template, 'AWS::SNS::TopicPolicy').filter(([, p]) =>
      JSON.stringify(p.Properties.Topics).includes(topicId),
    );
    expect(JSON.stringify(policies)).toContain('sms-voice.amazonaws.com');
  });

  it('receive-sms consumes the inbound queue', () => {
    expect(inbound.def.consumer).toBe('receive-sms');
  });
});
