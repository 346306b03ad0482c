import { describe, expect, it } from 'vitest';
import { QUEUES } from '#shared/resources.ts';
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
