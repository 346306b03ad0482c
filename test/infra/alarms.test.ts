import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ALL_HANDLERS, HTTP_HANDLERS, QUEUES } from '#shared/resources.ts';
import { API_5XX_ALARM } from '../../infra/constructs/dispatch-api.ts';
import { FUNCTION_ALARM_RULES } from '../../infra/constructs/dispatch-function.ts';
import { type CfnJson, DISTRICT_IDS, logicalId, resourcesOf, synthesized } from './support.ts';

describe.each(DISTRICT_IDS)('alarms of district %s', (id) => {
  const { stack, template } = synthesized(id);
  const alarms = resourcesOf(template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
  const onQueue = (metric: string, queueId: string) =>
    alarms.filter(
      (a) =>
        a.Namespace === 'AWS/SQS' &&
        a.MetricName === metric &&
        a.Dimensions?.some(
          (d: CfnJson) => d.Name === 'QueueName' && d.Value['Fn::GetAtt']?.[0] === queueId,
        ),
    );

  it.each(QUEUES.map((q) => [q.name, q] as const))(
    '%s: an alarm when its dead-letter queue holds any message',
    (name) => {
      const dlq = logicalId(stack.workers.get(name)!.dlq);
      const found = onQueue('ApproximateNumberOfMessagesVisible', dlq);
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    },
  );

  it.each(QUEUES.map((q) => [q.name, q] as const))(
    '%s: an alarm on the age of the oldest message at maxAgeSeconds',
    (name, def) => {
      const queue = logicalId(stack.workers.get(name)!.queue);
      const found = onQueue('ApproximateAgeOfOldestMessage', queue);
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({
        Threshold: def.maxAgeSeconds,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    },
  );

  it('an alarm when the notifications topic fails to deliver any event to its queue', () => {
    const topic = logicalId(stack.notifications.topic);
    const found = alarms.filter(
      (a) =>
        a.Namespace === 'AWS/SNS' &&
        a.MetricName === 'NumberOfNotificationsFailed' &&
        a.Dimensions?.some(
          (d: CfnJson) => d.Name === 'TopicName' && d.Value['Fn::GetAtt']?.[0] === topic,
        ),
    );
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
  });

  it('an alarm when the inbound SMS topic fails to deliver any reply to its queue', () => {
    const topic = logicalId(stack.inboundTopic);
    const found = alarms.filter(
      (a) =>
        a.Namespace === 'AWS/SNS' &&
        a.MetricName === 'NumberOfNotificationsFailed' &&
        a.Dimensions?.some(
          (d: CfnJson) => d.Name === 'TopicName' && d.Value['Fn::GetAtt']?.[0] === topic,
        ),
    );
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      Statistic: 'Sum',
      Period: 60,
    });
    expect(JSON.stringify(found[0].AlarmActions)).toContain(logicalId(stack.alerts.topic));
  });

  const topic = () => ({ Ref: logicalId(stack.alerts.topic) });
  const onFunction = (metric: string, name: string) =>
    alarms.filter(
      (a) =>
        a.Namespace === 'AWS/Lambda' &&
        a.MetricName === metric &&
        a.Dimensions?.some(
          (d: CfnJson) =>
            d.Name === 'FunctionName' && d.Value.Ref === logicalId(stack.functions.get(name)!.fn),
        ),
    );
  const ruleFor = (name: string) =>
    FUNCTION_ALARM_RULES[HTTP_HANDLERS.includes(name) ? 'request' : 'retried'];

  it.each(ALL_HANDLERS)('%s: an alarm on its Errors, to the alert topic and back', (name) => {
    const rule = ruleFor(name);
    const found = onFunction('Errors', name);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      Statistic: 'Sum',
      Period: rule.periodMinutes * 60,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: rule.evaluationPeriods,
      DatapointsToAlarm: rule.datapointsToAlarm,
      TreatMissingData: 'notBreaching',
      AlarmActions: [topic()],
      OKActions: [topic()],
    });
  });

  it.each(ALL_HANDLERS)('%s: an alarm on its Throttles, to the alert topic and back', (name) => {
    const rule = ruleFor(name);
    const found = onFunction('Throttles', name);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      Statistic: 'Sum',
      Period: rule.periodMinutes * 60,
      Threshold: 0,
      EvaluationPeriods: rule.evaluationPeriods,
      DatapointsToAlarm: rule.datapointsToAlarm,
      AlarmActions: [topic()],
      OKActions: [topic()],
    });
  });

  it('an HTTP function alarms on any failed invocation: API Gateway retries nothing', () => {
    expect(FUNCTION_ALARM_RULES.request).toEqual({
      periodMinutes: 5,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
    });
  });

  it('a retried function (queue, stream, schedule) alarms only after 15 minutes of failures', () => {
    const { periodMinutes, evaluationPeriods, datapointsToAlarm } = FUNCTION_ALARM_RULES.retried;
    expect(periodMinutes * evaluationPeriods).toBe(15);
    expect(datapointsToAlarm).toBe(evaluationPeriods);
  });

  it('an alarm on the HTTP API stage’s 5xx answers, to the alert topic and back', () => {
    template.hasResourceProperties(
      'AWS::CloudWatch::Alarm',
      Match.objectLike({
        Namespace: 'AWS/ApiGateway',
        MetricName: '5xx',
        Dimensions: Match.arrayWith([
          { Name: 'ApiId', Value: { Ref: logicalId(stack.api.api) } },
          { Name: 'Stage', Value: '$default' },
        ]),
        Statistic: 'Sum',
        Period: API_5XX_ALARM.periodMinutes * 60,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: API_5XX_ALARM.evaluationPeriods,
        DatapointsToAlarm: API_5XX_ALARM.datapointsToAlarm,
        AlarmActions: [topic()],
        OKActions: [topic()],
      }),
    );
  });

  it('every alarm notifies the ops alert topic', () => {
    expect(alarms.length).toBeGreaterThanOrEqual(QUEUES.length * 2);
    for (const a of alarms) {
      expect(a.AlarmActions).toHaveLength(1);
      expect(JSON.stringify(a.AlarmActions)).toContain(logicalId(stack.alerts.topic));
    }
  });

  it('has a dashboard with queues, functions and the API', () => {
    const [[, dash]] = resourcesOf(template, 'AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(dash.Properties.DashboardBody);
    for (const metric of [
      'ApproximateNumberOfMessagesVisible',
      'ApproximateAgeOfOldestMessage',
      'Errors',
      'Throttles',
      '4xx',
      '5xx',
      'Latency',
    ]) {
      expect(body).toContain(metric);
    }
  });
});

describe.each(DISTRICT_IDS)('SMS spend alarms of district %s', (id) => {
  const { stack, template } = synthesized(id);
  const { sms } = stack.district;
  const alarms = resourcesOf(template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
  const named = (metric: string) => alarms.filter((a) => a.MetricName === metric);

  it('alarms when a day’s SMS pass 80% of the daily share of the monthly spend limit', () => {
    const perDay = Math.max(
      1,
      Math.floor((0.8 * sms.monthlySpendLimitUsd) / sms.pricePerMessageUsd / 30),
    );
    const found = named('SmsSent');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      Namespace: 'VolunteerDispatch',
      Dimensions: expect.arrayContaining([{ Name: 'district', Value: id }]),
      Statistic: 'Sum',
      Period: 86400,
      Threshold: perDay,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(found[0].AlarmActions).toHaveLength(1);
  });

  it('alarms on any SMS stopped by a cap', () => {
    expect(named('SmsOverCap')).toEqual([
      expect.objectContaining({ Threshold: 0, Namespace: 'VolunteerDispatch' }),
    ]);
  });

  it('with SNS SMS, alarms on SNS’s month-to-date spend at 80% of the limit', () => {
    const found = named('SMSMonthToDateSpentUSD');
    if (sms.provider === 'https') expect(found).toEqual([]);
    else
      expect(found).toEqual([
        expect.objectContaining({ Threshold: 0.8 * sms.monthlySpendLimitUsd }),
      ]);
  });
});
