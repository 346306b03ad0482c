import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  FUNCTION_ACCESS,
  type FunctionAccess,
  QUEUES,
  STREAM_CONSUMER,
  TABLE,
  TABLE_ACTIONS,
} from '#shared/resources.ts';
import { buildApp } from '../../infra/bin/app.ts';
import type { DistrictStack } from '../../infra/stacks/district-stack.ts';
import { DISTRICT_IDS, logicalId, ownResourcesOf, resourcesOf, synthesized } from './support.ts';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);
const refsIn = (resource: unknown): string[] =>
  [...JSON.stringify(resource).matchAll(/"(?:Ref|Fn::GetAtt)":\[?"([A-Za-z0-9]+)"/g)].map(
    (m) => m[1],
  );

const DDB_WRITES =
  /^dynamodb:(PutItem|UpdateItem|DeleteItem|BatchWriteItem|PartiQLInsert|PartiQLUpdate|PartiQLDelete)$/;
/** What Lambda's mapping needs to read a table stream (for the stream consumer only). */
const STREAM_READS = /^dynamodb:(DescribeStream|GetRecords|GetShardIterator|ListStreams)$/;

/** Statements of the policies attached to a function's role. */
const statementsIn =
  (stack: DistrictStack, template: Template) =>
  (name: string): Statement[] => {
    const role = logicalId(stack.functions.get(name)!.role);
    return resourcesOf(template, 'AWS::IAM::Policy')
      .filter(([, p]) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === role))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
  };

/** The resources a function may Query, as `table` or `index/<name>`. */
const queryTargets = (statements: Statement[], tableId: string) =>
  statements
    .filter((s) => list(s.Action).includes('dynamodb:Query'))
    .flatMap((s) => list(s.Resource))
    .map((r) => {
      const json = JSON.stringify(r);
      if (json === JSON.stringify({ 'Fn::GetAtt': [tableId, 'Arn'] })) return 'table';
      const index = /"\/index\/([^"]+)"/.exec(json);
      return index && json.includes(`"${tableId}"`) ? `index/${index[1]}` : json;
    })
    .sort();

const READ_FUNCTIONS = Object.entries(FUNCTION_ACCESS)
  .filter(([, a]) => a.table === 'read')
  .map(([name]) => name);

describe.each(DISTRICT_IDS)('IAM of district %s', (id) => {
  const { stack, template } = synthesized(id);
  const policies = resourcesOf(template, 'AWS::IAM::Policy');
  const all: Statement[] = policies.flatMap(([, p]) => p.Properties.PolicyDocument.Statement);

  const statementsOf = statementsIn(stack, template);
  const actionsOf = (name: string) => statementsOf(name).flatMap((s) => list(s.Action));
  const tableId = logicalId(stack.table);

  it('no role may Scan the table, or hold dynamodb:* or a wildcard DynamoDB action', () => {
    const ddb = all.flatMap((s) => list(s.Action)).filter((a) => a.startsWith('dynamodb:'));
    expect(ddb.length).toBeGreaterThan(0);
    for (const a of ddb) {
      expect(a, a).not.toBe('dynamodb:Scan');
      expect(a, a).not.toContain('*');
    }
  });

  it.each(READ_FUNCTIONS)(
    '%s (read-only) may only get and query the table: no write action',
    (name) => {
      const ddb = actionsOf(name).filter((a) => a.startsWith('dynamodb:'));
      expect(ddb.sort()).toEqual(
        ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'].sort(),
      );
    },
  );

  it('grants DynamoDB item actions on the table ARN only, never on its indexes or stream', () => {
    for (const s of all) {
      const items = list(s.Action).filter((a) => a.startsWith('dynamodb:') && /Item$/.test(a));
      if (items.length === 0) continue;
      expect(s.Resource, items.join()).toEqual({ 'Fn::GetAtt': [tableId, 'Arn'] });
    }
  });

  it('grants Query on the table and on each of its indexes by name, no index wildcard', () => {
    const expected = ['table', ...TABLE.indexes.map((i) => `index/${i.name}`)].sort();
    for (const [name, access] of Object.entries(FUNCTION_ACCESS)) {
      const targets = queryTargets(statementsOf(name), tableId);
      if (access.table === 'read' || access.table === 'readwrite')
        expect(targets, name).toEqual(expected);
      else expect(targets, name).toEqual([]);
    }
    expect(JSON.stringify(all)).not.toContain('/index/*');
  });

  it('has no statement with Action *', () => {
    for (const s of all) {
      for (const a of list(s.Action)) expect(a === '*' || a.endsWith(':*'), a).toBe(false);
    }
  });

  it('has no DynamoDB or SQS statement with Resource *', () => {
    for (const s of all) {
      const services = list(s.Action).map((a) => a.split(':')[0]);
      if (services.some((x) => x === 'dynamodb' || x === 'sqs')) {
        expect(list(s.Resource)).not.toContain('*');
      }
    }
  });

  it('no role has an AWS managed policy (but CDK’s own auto-delete provider, demo only)', () => {
    for (const [rid, r] of ownResourcesOf(template, 'AWS::IAM::Role')) {
      expect(r.Properties.ManagedPolicyArns, rid).toBeUndefined();
    }
  });

  it('grants Resource * only for sns:Publish, to the delivering function, in SNS districts', () => {
    for (const [name, access] of Object.entries(FUNCTION_ACCESS)) {
      const wild = statementsOf(name).filter((s) => list(s.Resource).includes('*'));
      const expected = access.sns.includes('deliver') && stack.district.sms.provider === 'sns';
      if (!expected) expect(wild, name).toEqual([]);
      else for (const s of wild) expect(list(s.Action), name).toEqual(['sns:Publish']);
    }
  });

  describe.each(Object.entries(FUNCTION_ACCESS))('%s', (name, access: FunctionAccess) => {
    it('has only the actions its FUNCTION_ACCESS lists', () => {
      const allowed = (a: string) => {
        const [service] = a.split(':');
        if (service === 'logs') return a === 'logs:CreateLogStream' || a === 'logs:PutLogEvents';
        if (service === 'dynamodb') {
          const onTable: readonly string[] = TABLE_ACTIONS[access.table];
          return onTable.includes(a) || (access.table === 'count' && STREAM_READS.test(a));
        }
        if (service === 'sqs') {
          const consumes = QUEUES.some((q) => q.consumer === name);
          // The stream consumer's mapping sends a failed batch's description to its queue.
          if (name === STREAM_CONSUMER.handler)
            return /^sqs:(SendMessage|GetQueueAttributes|GetQueueUrl)$/.test(a);
          return /^sqs:(SendMessage|GetQueueAttributes|GetQueueUrl)$/.test(a)
            ? access.sends.length > 0 || consumes
            : consumes && /^sqs:(ReceiveMessage|DeleteMessage|ChangeMessageVisibility)$/.test(a);
        }
        if (service === 'sns') return a === 'sns:Publish' && access.sns.length > 0;
        if (service === 'kms')
          return access.sns.some((t) => t === 'alert' || t === 'notify' || t === 'inbound');
        if (service === 'secretsmanager') return access.opsKey || access.smsProviderSecret === true;
        if (service === 's3') {
          return access.photos === 'put'
            ? a === 's3:PutObject'
            : access.photos === 'read' && a === 's3:GetObject';
        }
        return false;
      };
      for (const a of actionsOf(name)) expect(allowed(a), `${name}: ${a}`).toBe(true);
    });

    it('touches proof photos only as FUNCTION_ACCESS says, under photos/ only', () => {
      const s3 = statementsOf(name).filter((st) =>
        list(st.Action).some((a) => a.startsWith('s3:')),
      );
      if (!access.photos) expect(s3).toEqual([]);
      else {
        expect(s3).toHaveLength(1);
        expect(JSON.stringify(s3[0].Resource)).toMatch(/\/photos\/\*"/);
      }
    });

    it('may do to the table exactly what TABLE_ACTIONS gives its FUNCTION_ACCESS level', () => {
      const ddb = actionsOf(name).filter((a) => a.startsWith('dynamodb:'));
      // The stream consumer's mapping also reads the table's stream (and only that).
      const onTable = access.table === 'count' ? ddb.filter((a) => !STREAM_READS.test(a)) : ddb;
      expect([...new Set(onTable)].sort()).toEqual([...TABLE_ACTIONS[access.table]].sort());
      expect(ddb.some((a) => DDB_WRITES.test(a))).toBe(
        access.table === 'readwrite' || access.table === 'count',
      );
    });

    const queueName = (ref: string) =>
      QUEUES.find((q) => logicalId(stack.workers.get(q.name)!.queue) === ref)?.name ?? ref;
    const queuesFor = (actions: RegExp) =>
      [
        ...new Set(
          statementsOf(name)
            .filter((s) => list(s.Action).some((a) => actions.test(a)))
            .flatMap((s) => refsIn(s.Resource))
            .map(queueName),
        ),
      ].sort();

    it('sends only to the queues FUNCTION_ACCESS lists (and its own failure queue)', () => {
      // The stream mapping's and a scheduled function's on-failure destinations send as
      // the function's role.
      const failures =
        name === STREAM_CONSUMER.handler
          ? [logicalId(stack.counting.failures)]
          : stack.scheduled.has(name)
            ? [logicalId(stack.scheduled.get(name)!.dlq)]
            : [];
      expect(queuesFor(/^sqs:SendMessage$/)).toEqual([...access.sends, ...failures].sort());
    });

    it('receives only from the queue it consumes (its event source mapping)', () => {
      const consumes = QUEUES.filter((q) => q.consumer === name).map((q) => q.name);
      expect(queuesFor(/^sqs:(ReceiveMessage|DeleteMessage|ChangeMessageVisibility)$/)).toEqual(
        consumes,
      );
    });

    it('reads the ops key secret only if FUNCTION_ACCESS says so', () => {
      const secret = logicalId(stack.opsKey);
      const reads = statementsOf(name).filter((s) => refsIn(s.Resource).includes(secret));
      expect(reads.length > 0).toBe(access.opsKey);
    });

    it('reads the SMS provider secret only if FUNCTION_ACCESS says so', () => {
      const secret = logicalId(stack.smsProviderSecret);
      const reads = statementsOf(name).filter((s) => refsIn(s.Resource).includes(secret));
      expect(reads.length > 0).toBe(access.smsProviderSecret === true);
    });

    it('publishes to the inbound SMS topic only if FUNCTION_ACCESS says so', () => {
      const topic = logicalId(stack.inboundTopic);
      const publishes = statementsOf(name).filter(
        (s) => list(s.Action).includes('sns:Publish') && refsIn(s.Resource).includes(topic),
      );
      expect(publishes.length > 0).toBe(access.sns.includes('inbound'));
    });
  });

  it('get-health touches no table, queue, topic or secret', () => {
    expect(actionsOf('get-health').filter((a) => !a.startsWith('logs:'))).toEqual([]);
  });
});

describe('IAM while an index is being replaced (-c keepRetiredIndexes=true)', () => {
  const app = new App({
    context: { 'aws:cdk:bundling-stacks': [], district: 'demo', keepRetiredIndexes: 'true' },
  });
  const [stack] = buildApp(app, { nag: false });
  const template = Template.fromStack(stack);

  it('lets functions Query the retired index beside the new ones', () => {
    const targets = queryTargets(
      statementsIn(stack, template)('match-request'),
      logicalId(stack.table),
    );
    expect(targets).toEqual(
      [
        'table',
        ...[...TABLE.indexes, ...TABLE.retiredIndexes].map((i) => `index/${i.name}`),
      ].sort(),
    );
  });
});
