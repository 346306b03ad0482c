import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { AVAILABLE_FIELDS } from '#shared/domain/volunteer.ts';
import { TABLE } from '#shared/resources.ts';
import { buildApp } from '../../infra/bin/app.ts';
import { type CfnJson, DISTRICT_IDS, logicalId, resourcesOf, synthesized } from './support.ts';

describe.each(DISTRICT_IDS)('table of district %s', (id) => {
  const { stack, template } = synthesized(id);
  const [[, table]] = resourcesOf(template, 'AWS::DynamoDB::Table');
  const demo = stack.district.demo;

  it('is the only table, keyed as TABLE says', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    expect(table.Properties.KeySchema).toEqual([
      { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
    ]);
  });

  it('bills on demand', () => {
    expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
  });

  it('has point-in-time recovery', () => {
    expect(table.Properties.PointInTimeRecoverySpecification).toEqual({
      PointInTimeRecoveryEnabled: true,
    });
  });

  it('expires personal data by the TTL attribute', () => {
    expect(table.Properties.TimeToLiveSpecification).toEqual({
      AttributeName: TABLE.ttlAttribute,
      Enabled: true,
    });
  });

  it('has the inbox index with every attribute and the availability index with what matching reads', () => {
    expect(table.Properties.GlobalSecondaryIndexes).toEqual([
      expect.objectContaining({
        IndexName: 'gsi1',
        KeySchema: [
          { AttributeName: 'gsi1pk', KeyType: 'HASH' },
          { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      }),
      expect.objectContaining({
        IndexName: 'avail',
        KeySchema: [
          { AttributeName: 'gsi2pk', KeyType: 'HASH' },
          { AttributeName: 'gsi2sk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...AVAILABLE_FIELDS] },
      }),
    ]);
    // The availability index replaced one with every attribute: not kept by default.
    expect(TABLE.retiredIndexes.map((i) => i.name)).toEqual(['gsi2']);
  });

  it('outputs its name (TABLE_NAME of the upgrade backfill, docs/deploy.md)', () => {
    expect(template.toJSON().Outputs.TableName.Value).toEqual({ Ref: logicalId(stack.table) });
  });

  it('is encrypted with the AWS-managed key', () => {
    expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true });
  });

  it(
    demo
      ? 'demo: no deletion protection, destroyed with the stack'
      : 'has deletion protection and is retained',
    () => {
      template.hasResource('AWS::DynamoDB::Table', {
        Properties: Match.objectLike({ DeletionProtectionEnabled: !demo }),
        DeletionPolicy: demo ? 'Delete' : 'Retain',
        UpdateReplacePolicy: demo ? 'Delete' : 'Retain',
      });
    },
  );
});

describe('the first deploy of an index upgrade (-c keepRetiredIndexes=true)', () => {
  it('keeps the retired availability index beside the new one, so only one index is added', () => {
    const app = new App({
      context: {
        'aws:cdk:bundling-stacks': [],
        keepRetiredIndexes: 'true',
        allowPlaceholders: 'true',
      },
    });
    const [stack] = buildApp(app, { nag: false });
    const [[, table]] = resourcesOf(Template.fromStack(stack), 'AWS::DynamoDB::Table');
    const indexes = table.Properties.GlobalSecondaryIndexes as CfnJson[];
    expect(indexes.map((i) => [i.IndexName, i.Projection.ProjectionType])).toEqual([
      ['gsi1', 'ALL'],
      ['avail', 'INCLUDE'],
      ['gsi2', 'ALL'],
    ]);
  });
});
