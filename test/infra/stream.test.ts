import { describe, expect, it } from 'vitest';
import { STREAM_CONSUMER, TABLE } from '#shared/resources.ts';
import { type CfnJson, DISTRICT_IDS, logicalId, resourcesOf, synthesized } from './support.ts';

const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

describe.each(DISTRICT_IDS)('table stream and its consumer in district %s', (id) => {
  const { stack, template } = synthesized(id);
  const tableId = logicalId(stack.table);
  const [[, table]] = resourcesOf(template, 'AWS::DynamoDB::Table');
  const fnId = logicalId(stack.counting.consumer.fn);
  const [[, mapping]] = resourcesOf(template, 'AWS::Lambda::EventSourceMapping').filter(
    ([, m]) => m.Properties.FunctionName?.Ref === fnId,
  );

  it('the table streams both images of every change', () => {
    expect(table.Properties.StreamSpecification).toEqual({ StreamViewType: TABLE.stream });
  });

  it('the consumer is a function like the others: arm64, Node 22, its own log group', () => {
    const fn = template.toJSON().Resources[fnId].Properties;
    expect(fn.Architectures).toEqual(['arm64']);
    expect(fn.Runtime).toBe('nodejs22.x');
    expect(fn.Timeout).toBe(STREAM_CONSUMER.functionTimeoutSeconds);
    expect(fn.Environment.Variables.TABLE_NAME).toEqual({ Ref: tableId });
    expect(stack.functions.get(STREAM_CONSUMER.handler)).toBe(stack.counting.consumer);
  });

  it('reads the table’s stream from the oldest record, in batches gathered for a few seconds', () => {
    expect(mapping.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [tableId, 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: STREAM_CONSUMER.batchingWindowSeconds,
    });
    expect(STREAM_CONSUMER.batchingWindowSeconds).toBeGreaterThanOrEqual(2);
    expect(STREAM_CONSUMER.batchingWindowSeconds).toBeLessThanOrEqual(10);
  });

  it('has a tumbling window, so each event names the shard the counters are kept for and the counters are written once per window', () => {
    expect(mapping.Properties.TumblingWindowInSeconds).toBe(STREAM_CONSUMER.tumblingWindowSeconds);
    // Longer than a batching window (or it would not gather batches), short enough that
    // the stats ops read trail the requests by about a minute.
    expect(STREAM_CONSUMER.tumblingWindowSeconds).toBeGreaterThan(
      STREAM_CONSUMER.batchingWindowSeconds,
    );
    expect(STREAM_CONSUMER.tumblingWindowSeconds).toBeLessThanOrEqual(60);
  });

  it('bisects a failing batch, retries a bounded number of times, then describes it in its failure queue', () => {
    expect(mapping.Properties).toMatchObject({
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: STREAM_CONSUMER.retryAttempts,
      DestinationConfig: {
        OnFailure: {
          Destination: { 'Fn::GetAtt': [logicalId(stack.counting.failures), 'Arn'] },
        },
      },
    });
    expect(STREAM_CONSUMER.retryAttempts).toBeGreaterThan(0);
  });

  it('outputs the failure queue’s URL, for npm run stream-replay --queue-url', () => {
    expect(template.toJSON().Outputs.StreamFailureQueueUrl.Value).toEqual({
      Ref: logicalId(stack.counting.failures),
    });
  });

  it('delivers request items, and volunteer items left at one task today (a first task of a day), nothing else', () => {
    const patterns = mapping.Properties.FilterCriteria.Filters.map((f: CfnJson) =>
      JSON.parse(f.Pattern),
    );
    expect(patterns).toEqual([
      { dynamodb: { Keys: { pk: { S: [{ prefix: 'REQ#' }] }, sk: { S: ['REQ'] } } } },
      {
        dynamodb: {
          Keys: { pk: { S: [{ prefix: 'VOL#' }] }, sk: { S: ['VOL'] } },
          NewImage: { tasksToday: { N: ['1'] } },
        },
      },
    ]);
  });

  it('may read the stream and update items of this table, nothing more on DynamoDB', () => {
    const role = logicalId(stack.counting.consumer.role);
    const statements = resourcesOf(template, 'AWS::IAM::Policy')
      .filter(([, p]) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === role))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as CfnJson[]);
    const ddb = statements.filter((s) =>
      list(s.Action).some((a: string) => a.startsWith('dynamodb:')),
    );
    const byAction = Object.fromEntries(
      ddb.flatMap((s) => list(s.Action).map((a: string) => [a, list(s.Resource)])),
    );
    expect(byAction).toEqual({
      'dynamodb:UpdateItem': [{ 'Fn::GetAtt': [tableId, 'Arn'] }],
      'dynamodb:DescribeStream': [{ 'Fn::GetAtt': [tableId, 'StreamArn'] }],
      'dynamodb:GetRecords': [{ 'Fn::GetAtt': [tableId, 'StreamArn'] }],
      'dynamodb:GetShardIterator': [{ 'Fn::GetAtt': [tableId, 'StreamArn'] }],
      'dynamodb:ListStreams': [{ 'Fn::GetAtt': [tableId, 'StreamArn'] }],
    });
  });

  const alarms = resourcesOf(template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
  const alertTopic = logicalId(stack.alerts.topic);
  const notifiesOps = (a: CfnJson) => expect(JSON.stringify(a.AlarmActions)).toContain(alertTopic);

  it('alarms when the consumer falls behind the stream (IteratorAge)', () => {
    const found = alarms.filter(
      (a) =>
        a.MetricName === 'IteratorAge' &&
        a.Dimensions?.some((d: CfnJson) => d.Name === 'FunctionName' && d.Value.Ref === fnId),
    );
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      Namespace: 'AWS/Lambda',
      Threshold: STREAM_CONSUMER.maxIteratorAgeSeconds * 1000,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    notifiesOps(found[0]);
  });

  it('alarms when a batch lands in the failure queue', () => {
    const queue = logicalId(stack.counting.failures);
    const found = alarms.filter(
      (a) =>
        a.MetricName === 'ApproximateNumberOfMessagesVisible' &&
        a.Dimensions?.some(
          (d: CfnJson) => d.Name === 'QueueName' && d.Value['Fn::GetAtt']?.[0] === queue,
        ),
    );
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    notifiesOps(found[0]);
  });
});
