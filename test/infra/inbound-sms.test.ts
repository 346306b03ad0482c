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

  it('the provider reply webhook publishes to that topic only, with its key, and reads its secret', () => {
    const webhook = stack.functions.get('receive-sms-webhook')!;
    const role = logicalId(webhook.role);
    const statements = resourcesOf(template, 'AWS::IAM::Policy')
      .filter(([, p]) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === role))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    const on = (prefix: string) =>
      statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith(prefix)));
    expect(on('sns:').map((s) => s.Resource)).toEqual([{ Ref: logicalId(stack.inboundTopic) }]);
    const keyId = resourcesOf(template, 'AWS::KMS::Key').find(([k]) =>
      k.startsWith('InboundSmsKey'),
    )![0];
    expect(on('kms:').map((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': [keyId, 'Arn'] }]);
    expect(on('secretsmanager:').map((s) => s.Resource)).toEqual([
      { Ref: logicalId(stack.smsProviderSecret) },
    ]);
    const vars =
      template.toJSON().Resources[logicalId(webhook.fn)].Properties.Environment.Variables;
    expect(vars.INBOUND_SMS_TOPIC_ARN).toEqual({ Ref: logicalId(stack.inboundTopic) });
    expect(vars.SMS_PROVIDER_SECRET_ARN).toEqual({ Ref: logicalId(stack.smsProviderSecret) });
    expect(vars.TABLE_NAME).toBeUndefined();
  });

  it('outputs the reply webhook URL and the provider secret for the SMS provider', () => {
    const outputs = template.toJSON().Outputs;
    expect(JSON.stringify(outputs.SmsReplyWebhookUrl.Value)).toContain('v1/sms/replies');
    expect(outputs.SmsProviderSecretArn.Value).toEqual({ Ref: logicalId(stack.smsProviderSecret) });
  });
});
