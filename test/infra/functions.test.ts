import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ALL_HANDLERS, ENV, FUNCTION_ACCESS, SCHEDULED } from '#shared/resources.ts';
import { SCHEDULE_RETRIES } from '../../infra/constructs/scheduled-worker.ts';
import { DISTRICT_IDS, logicalId, ownResourcesOf, synthesized } from './support.ts';

/** `nodejs22.x` → 22. */
const nodeMajor = (runtime: string) => Number(/^nodejs(\d+)\.x$/.exec(runtime)?.[1] ?? 0);

describe.each(DISTRICT_IDS)('functions of district %s', (id) => {
  const { stack, template } = synthesized(id);
  const fns = ownResourcesOf(template, 'AWS::Lambda::Function');
  const props = (name: string) =>
    template.toJSON().Resources[logicalId(stack.functions.get(name)!.fn)].Properties;

  it('has one function per handler in ALL_HANDLERS, each with a FUNCTION_ACCESS entry', () => {
    expect([...stack.functions.keys()].sort()).toEqual([...ALL_HANDLERS].sort());
    expect(fns).toHaveLength(ALL_HANDLERS.length);
    for (const name of ALL_HANDLERS) expect(FUNCTION_ACCESS[name], name).toBeDefined();
  });

  it('runs every function on nodejs22.x or newer', () => {
    for (const [fid, f] of fns)
      expect(nodeMajor(f.Properties.Runtime), fid).toBeGreaterThanOrEqual(22);
  });

  it('runs every function on arm64', () => {
    for (const [fid, f] of fns) expect(f.Properties.Architectures, fid).toEqual(['arm64']);
  });

  it('gives every function its district, source maps and Powertools settings', () => {
    for (const [fid, f] of fns) {
      expect(f.Properties.Environment.Variables, fid).toMatchObject({
        DISTRICT_ID: id,
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: expect.any(String),
        POWERTOOLS_METRICS_NAMESPACE: expect.any(String),
      });
      // Compiled into the bundle instead: Lambda variables are limited to 4 KB in all.
      expect(f.Properties.Environment.Variables[ENV.districtConfig], fid).toBeUndefined();
    }
  });

  it('logs every function to its own log group with a retention', () => {
    for (const [fid, f] of fns) {
      const group = f.Properties.LoggingConfig.LogGroup.Ref;
      expect(template.toJSON().Resources[group].Properties.RetentionInDays, fid).toBeGreaterThan(0);
    }
  });

  it('sets each environment variable only where FUNCTION_ACCESS grants the resource', () => {
    for (const [name, access] of Object.entries(FUNCTION_ACCESS)) {
      const vars = props(name).Environment.Variables;
      expect(ENV.table in vars, `${name} ${ENV.table}`).toBe(access.table !== 'none');
      expect(ENV.opsKeySecretArn in vars, name).toBe(access.opsKey);
      expect(ENV.alertTopicArn in vars, name).toBe(access.sns.includes('alert'));
      expect(ENV.inboundSmsTopicArn in vars, name).toBe(access.sns.includes('inbound'));
      expect(ENV.smsProviderSecretArn in vars, name).toBe(access.smsProviderSecret === true);
      const queueVars = Object.keys(vars).filter((k) => k.startsWith('QUEUE_URL_'));
      expect(queueVars.sort(), name).toEqual(access.sends.map(ENV.queueUrl).sort());
    }
  });

  it('wires the SMS provider of the district into the functions that deliver', () => {
    for (const [name, access] of Object.entries(FUNCTION_ACCESS)) {
      const vars = props(name).Environment.Variables;
      if (!access.sns.includes('deliver')) {
        expect(vars.SMS_PROVIDER, name).toBeUndefined();
        continue;
      }
      expect(vars.SMS_PROVIDER).toBe(stack.district.sms.provider);
      if (stack.district.sms.provider === 'https') {
        expect(vars.SMS_HTTPS_ENDPOINT).toBe(stack.district.sms.httpsEndpoint);
      }
    }
  });
});

describe.each(DISTRICT_IDS)('scheduled functions of district %s', (id) => {
  const { stack, template } = synthesized(id);

  it.each(SCHEDULED.map((s) => [s.handler, s] as const))(
    '%s runs on an EventBridge schedule at the rate SCHEDULED gives',
    (handler, def) => {
      const fn = logicalId(stack.functions.get(handler)!.fn);
      const unit = def.everyMinutes === 1 ? 'minute' : 'minutes';
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: `rate(${def.everyMinutes} ${unit})`,
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [fn, 'Arn'] } })],
      });
    },
  );

  const dlqOf = (handler: string) => logicalId(stack.scheduled.get(handler)!.dlq);

  it.each(SCHEDULED.map((s) => [s.handler, s] as const))(
    '%s: EventBridge retries handing a run to Lambda, then puts it in the dead-letter queue',
    (handler, def) => {
      const fn = logicalId(stack.functions.get(handler)!.fn);
      template.hasResourceProperties('AWS::Events::Rule', {
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [fn, 'Arn'] },
            RetryPolicy: {
              MaximumRetryAttempts: SCHEDULE_RETRIES.deliveryAttempts,
              MaximumEventAgeInSeconds: def.everyMinutes * 60,
            },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlqOf(handler), 'Arn'] } },
          }),
        ],
      });
    },
  );

  it.each(SCHEDULED.map((s) => [s.handler, s] as const))(
    '%s: Lambda retries a failed run twice, then sends it to the same dead-letter queue',
    (handler) => {
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: logicalId(stack.functions.get(handler)!.fn) },
        MaximumRetryAttempts: SCHEDULE_RETRIES.runRetries,
        MaximumEventAgeInSeconds: SCHEDULE_RETRIES.runMaxAgeMinutes * 60,
        DestinationConfig: {
          OnFailure: { Destination: { 'Fn::GetAtt': [dlqOf(handler), 'Arn'] } },
        },
      });
      expect(SCHEDULE_RETRIES.runRetries).toBeGreaterThan(0);
    },
  );

  it.each(SCHEDULED.map((s) => [s.handler, s] as const))(
    '%s: its dead-letter queue is encrypted, TLS only, kept 14 days',
    (handler) => {
      expect(template.toJSON().Resources[dlqOf(handler)]).toMatchObject({
        Type: 'AWS::SQS::Queue',
        Properties: { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86400 },
        DeletionPolicy: stack.district.demo ? 'Delete' : 'Retain',
      });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: dlqOf(handler) }],
        PolicyDocument: Match.objectLike({
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        }),
      });
    },
  );

  it.each(SCHEDULED.map((s) => [s.handler, s] as const))(
    '%s: its dead-letter queue alarms on its first message, to the alert topic and back',
    (handler) => {
      const topic = { Ref: logicalId(stack.alerts.topic) };
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqOf(handler), 'QueueName'] } }],
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        AlarmActions: [topic],
        OKActions: [topic],
      });
    },
  );
});
