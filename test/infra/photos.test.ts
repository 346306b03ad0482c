import { describe, expect, it } from 'vitest';
import { DISTRICT_IDS, resourcesOf, synthesized } from './support.ts';

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
});
