import { CfnResource, TagManager } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { DISTRICT_IDS, ownResourcesOf, resourcesOf, synthesized } from './support.ts';

describe.each(DISTRICT_IDS)('tags of district %s', (id) => {
  const { stack, template } = synthesized(id);

  it('tags every taggable resource with district', () => {
    const taggable = stack.node
      .findAll()
      .filter((c): c is CfnResource => CfnResource.isCfnResource(c) && TagManager.isTaggable(c));
    expect(taggable.length).toBeGreaterThan(50);
    for (const r of taggable) {
      expect((r as unknown as { tags: TagManager }).tags.tagValues().district, r.node.path).toBe(
        id,
      );
    }
  });

  it.each([
    'AWS::DynamoDB::Table',
    'AWS::SQS::Queue',
    'AWS::Lambda::Function',
    'AWS::IAM::Role',
    'AWS::Logs::LogGroup',
    'AWS::SecretsManager::Secret',
    'AWS::CloudWatch::Alarm',
    'AWS::Events::Rule',
  ])('%s carries the district tag in the template', (type) => {
    for (const [rid, r] of ownResourcesOf(template, type)) {
      expect(r.Properties.Tags, rid).toContainEqual({ Key: 'district', Value: id });
    }
  });

  it('the HTTP API carries the district tag', () => {
    for (const [, r] of resourcesOf(template, 'AWS::ApiGatewayV2::Api')) {
      expect(r.Properties.Tags).toMatchObject({ district: id });
    }
  });
});
