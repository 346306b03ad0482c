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
