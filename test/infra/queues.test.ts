import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { QUEUES, SCHEDULED, visibilityTimeoutSeconds } from '#shared/resources.ts';
import { DISTRICT_IDS, logicalId, resourcesOf, synthesized } from './support.ts';

describe.each(DISTRICT_IDS)('queues of district %s', (id) => {
  const { stack, template } = synthesized(id);
  const worker = (name: string) => stack.workers.get(name as never)!;

  it('has one work queue and one dead-letter queue per QUEUES entry (and the stream consumer’s failure queue, and a dead-letter queue per scheduled function)', () => {
    expect([...stack.workers.keys()].sort()).toEqual(QUEUES.map((q) => q.name).sort());
    template.resourceCountIs('AWS::SQS::Queue', QUEUES.length * 2 + 1 + SCHEDULED.length);
  });

  it.each(QUEUES.map((q) => [q.name, q] as const))(
    '%s: dead-letter queue after maxReceiveCount receives',
    (name, def) => {
      const w = worker(name);
      template.hasResourceProperties('AWS::SQS::Queue', {
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(w.dlq), 'Arn'] },
          maxReceiveCount: def.maxReceiveCount,
        },
      });
      const props = template.toJSON().Resources[logicalId(w.queue)].Properties;
      expect(props.RedrivePolicy.maxReceiveCount).toBe(def.maxReceiveCount);
    },
  );

  it.each(QUEUES.map((q) => [q.name, q] as const))(
    '%s: visibility timeout at least six times the consumer timeout',
    (name, def) => {
      const w = worker(name);
      const queue = template.toJSON().Resources[logicalId(w.queue)].Properties;
      const fn = template.toJSON().Resources[logicalId(w.consumer.fn)].Properties;
      expect(fn.Timeout).toBe(def.functionTimeoutSeconds);
      expect(queue.VisibilityTimeout).toBe(visibilityTimeoutSeconds(def));
      expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * fn.Timeout);
    },
  );

  it('every queue’s event source mapping reports batch item failures, batch size from QUEUES', () => {
    // The one other mapping is the table stream's (stream.test.ts).
    const mappings = resourcesOf(template, 'AWS::Lambda::EventSourceMapping').filter(
      ([, m]) => !m.Properties.StartingPosition,
    );
    expect(mappings).toHaveLength(QUEUES.length);
    for (const def of QUEUES) {
      const w = worker(def.name);
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [logicalId(w.queue), 'Arn'] },
        FunctionName: { Ref: logicalId(w.consumer.fn) },
        BatchSize: def.batchSize,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    }
    for (const [, m] of mappings) {
      expect(m.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    }
  });

  it('every queue is encrypted (SQS-managed) and refuses non-TLS access', () => {
    for (const [qid, q] of resourcesOf(template, 'AWS::SQS::Queue')) {
      expect(q.Properties.SqsManagedSseEnabled, qid).toBe(true);
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: qid }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });
});
