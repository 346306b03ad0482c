import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { buildApp } from '../../infra/bin/app.ts';
import { loadDistricts } from '../../infra/config/load-districts.ts';
import type { DistrictStack } from '../../infra/stacks/district-stack.ts';

/** Every district file, for describe.each: adding a JSON file adds its tests. */
export const DISTRICT_IDS = loadDistricts().map((d) => d.district.id);

export interface Synthesized {
  stack: DistrictStack;
  template: Template;
}

let cache: Map<string, Synthesized> | undefined;

/**
 * All district stacks, synthesized once per test file with bundling turned off
 * (`aws:cdk:bundling-stacks` = []): templates are the same, assets are placeholders.
 * bundle.test.ts builds real bundles. The shipped real districts hold placeholders (their
 * SMS provider and alarm e-mail), which only `-c allowPlaceholders=true` lets through.
 */
export function synthesized(id: string): Synthesized {
  if (!cache) {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [], allowPlaceholders: 'true' } });
    const stacks = buildApp(app, { nag: false });
    cache = new Map(
      stacks.map((stack) => [stack.district.id, { stack, template: Template.fromStack(stack) }]),
    );
  }
  const s = cache.get(id);
  if (!s) throw new Error(`no stack for ${id}`);
  return s;
}

/** The logical id of a construct's CloudFormation resource. */
export const logicalId = (c: IConstruct) =>
  Stack.of(c).getLogicalId((c.node.defaultChild ?? c) as CfnElement);

/** Synthesized CloudFormation JSON: read freely in assertions. */
// biome-ignore lint/suspicious/noExplicitAny: template JSON has no static shape
export type CfnJson = Record<string, any>;

/** CloudFormation resources of a type, as [logicalId, resource] pairs. */
export function resourcesOf(template: Template, type: string) {
  return Object.entries(template.findResources(type)) as [string, { Properties: CfnJson }][];
}

/**
 * The logical id prefix of CDK's own provider behind `autoDeleteObjects` (demo districts'
 * photo bucket): a function and role CDK makes and owns (no district tag, AWS's basic
 * execution policy for its logs, a runtime CDK picks for the region), not one of ours.
 */
export const CDK_AUTO_DELETE_PROVIDER = 'CustomS3AutoDeleteObjectsCustomResourceProvider';

/** resourcesOf, without CDK's auto-delete provider: the resources this project defines. */
export function ownResourcesOf(template: Template, type: string) {
  return resourcesOf(template, type).filter(([id]) => !id.startsWith(CDK_AUTO_DELETE_PROVIDER));
}
