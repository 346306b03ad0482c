import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadDistricts, selectDistricts } from '../config/load-districts.ts';
import { DistrictStack, stackNameOf } from '../stacks/district-stack.ts';

export interface BuildAppOptions {
  /** Directory of district configs; defaults to infra/districts. */
  districtsDir?: string;
  /** Run the cdk-nag AwsSolutions pack during synth (default true). */
  nag?: boolean;
}

/**
 * One stack per district file; `-c district=<id>` narrows to one. The account comes from
 * the CLI's credentials at deploy time (synth needs none); the region from the district.
 */
export function buildApp(app: App, options: BuildAppOptions = {}): DistrictStack[] {
  const wanted = app.node.tryGetContext('district') as string | undefined;
  const districts = selectDistricts(loadDistricts(options.districtsDir), wanted);
  const stacks = districts.map(
    ({ district }) =>
      new DistrictStack(app, stackNameOf(district.id), {
        district,
        stackName: stackNameOf(district.id),
        env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: district.region },
      }),
  );
  if (options.nag ?? true) {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  }
  return stacks;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const app = new App();
  buildApp(app);
  app.synth();
}
