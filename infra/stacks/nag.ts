import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges one cdk-nag finding on a construct (cdk-nag 3: CDK's native
 * `Validations.of(...).acknowledge`). Every call must say why a reviewer should accept it.
 * Findings with several parts are acknowledged one at a time: `AwsSolutions-IAM5[Resource::*]`.
 */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  if (reason.trim().length < 40) throw new Error(`acknowledging ${id}: give a real reason`);
  Validations.of(scope).acknowledge({ id, reason });
}
