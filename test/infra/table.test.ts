import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { TABLE } from '#shared/resources.ts';
import { DISTRICT_IDS, logicalId, resourcesOf, synthesized } from './support.ts';

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

  it('has both indexes with ALL projection', () => {
    expect(table.Properties.GlobalSecondaryIndexes).toEqual(
      TABLE.indexes.map((i) =>
        expect.objectContaining({
          IndexName: i.name,
          KeySchema: [
            { AttributeName: i.partitionKey, KeyType: 'HASH' },
            { AttributeName: i.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        }),
      ),
    );
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
