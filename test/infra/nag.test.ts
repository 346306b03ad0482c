import { App, Validations } from 'aws-cdk-lib';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { FUNCTION_ACCESS } from '#shared/resources.ts';
import { buildApp } from '../../infra/bin/app.ts';
import { DISTRICT_IDS } from './support.ts';

/** One app with every district and cdk-nag's AwsSolutions pack, as `cdk synth` runs it. */
function nagApp() {
  // Bundling off: cdk-nag reads templates and construct metadata, not assets.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], allowPlaceholders: 'true' } });
  const stacks = buildApp(app, { nag: false });
  return { app, stacks };
}

describe('cdk-nag AwsSolutions', () => {
  const { app, stacks } = nagApp();
  app.synth();

  it.each(DISTRICT_IDS)('%s: zero unacknowledged errors', (id) => {
    const stack = stacks.find((s) => s.district.id === id)!;
    const report = new AwsSolutionsChecks(stack).validateScope(stack);
    const errors = report.violations
      .filter((v) => v.severity === 'error')
      .map(
        (v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
      );
    expect(errors).toEqual([]);
  });

  it.each(DISTRICT_IDS)('%s: zero unacknowledged warnings', (id) => {
    const stack = stacks.find((s) => s.district.id === id)!;
    const report = new AwsSolutionsChecks(stack).validateScope(stack);
    expect(report.violations.filter((v) => v.severity !== 'error').map((v) => v.ruleName)).toEqual(
      [],
    );
  });

  it('every acknowledgement names a rule and gives a reason a reviewer can check', () => {
    const acks = stacks.flatMap((s) =>
      s.node
        .findAll()
        .flatMap((c) => c.node.metadata)
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) => Object.entries(m.data as Record<string, string>)),
    );
    expect(acks.length).toBeGreaterThan(0);
    for (const [rule, reason] of acks) {
      expect(rule).toMatch(/AwsSolutions-[A-Z]+\d+/);
      expect(reason.length, rule).toBeGreaterThanOrEqual(80);
      expect(reason, rule).not.toMatch(/TODO|FIXME|not needed|ignore/i);
    }
  });

  it('acknowledges Resource * (IAM5) only on the roles of functions that deliver by SNS', () => {
    for (const stack of stacks) {
      const holders = stack.node
        .findAll()
        .filter((c) =>
          c.node.metadata.some(
            (m) =>
              m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY &&
              Object.keys(m.data as object).some((k) => k.includes('[Resource::*]')),
          ),
        );
      const delivering = Object.entries(FUNCTION_ACCESS)
        .filter(([, a]) => a.sns.includes('deliver') && stack.district.sms.provider === 'sns')
        .map(([name]) => stack.functions.get(name)!.role);
      expect(holders).toEqual(delivering);
    }
  });

  it('is live: an unacknowledged finding is reported', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [], allowPlaceholders: 'true' } });
    const [stack] = buildApp(app, { nag: false });
    new Queue(stack, 'Careless'); // no DLQ, no TLS-only policy
    const report = new AwsSolutionsChecks(stack).validateScope(stack);
    const rules = report.violations.map((v) => v.ruleName);
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-SQS3', 'AwsSolutions-SQS4']));
  });

  it('runs as a policy validation plugin during synth and the app passes', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [], allowPlaceholders: 'true' } });
    buildApp(app); // registers AwsSolutionsChecks through Validations.of(app)
    expect(() => app.synth()).not.toThrow();
  });
});
