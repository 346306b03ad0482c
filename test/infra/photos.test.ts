import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  CDK_AUTO_DELETE_PROVIDER,
  DISTRICT_IDS,
  logicalId,
  resourcesOf,
  synthesized,
} from './support.ts';

describe.each(DISTRICT_IDS)('proof photo bucket of district %s', (id) => {
  const { stack, template } = synthesized(id);
  const buckets = resourcesOf(template, 'AWS::S3::Bucket');

  it('is private, encrypted and expires photos after the retention days', () => {
    expect(buckets).toHaveLength(1);
    const p = buckets[0][1].Properties;
    expect(p.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(p.BucketEncryption.ServerSideEncryptionConfiguration[0]).toMatchObject({
      ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' },
    });
    expect(p.LifecycleConfiguration.Rules).toEqual([
      expect.objectContaining({
        ExpirationInDays: stack.district.retentionDays,
        Status: 'Enabled',
      }),
    ]);
  });

  it('denies requests without TLS', () => {
    const policies = resourcesOf(template, 'AWS::S3::BucketPolicy');
    expect(JSON.stringify(policies)).toContain('"aws:SecureTransport":"false"');
  });

  if (stack.district.demo) {
    it('demo: is emptied before it is deleted, so cdk destroy does not fail on its photos', () => {
      const bucket = logicalId(stack.photos);
      expect(template.toJSON().Resources[bucket].DeletionPolicy).toBe('Delete');
      template.hasResource('Custom::S3AutoDeleteObjects', {
        Properties: Match.objectLike({ BucketName: { Ref: bucket } }),
        DeletionPolicy: 'Delete',
      });
    });
  } else {
    it('real district: is retained with its photos, and never emptied by the stack', () => {
      expect(template.toJSON().Resources[logicalId(stack.photos)]).toMatchObject({
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
      template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
      expect(
        Object.keys(template.toJSON().Resources).filter((r) =>
          r.startsWith(CDK_AUTO_DELETE_PROVIDER),
        ),
      ).toEqual([]);
    });
  }
});
