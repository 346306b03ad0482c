import { Annotations, App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadDistricts, selectDistricts } from '../config/load-districts.ts';
import { ALLOW_PLACEHOLDERS, checkPlaceholders } from '../config/placeholders.ts';
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
 * A real district whose file still holds placeholders (an `example`/`.invalid` host or
 * e-mail) stops synth, and so deploy, naming the file and fields, unless
 * `-c allowPlaceholders=true` (then each such stack carries a warning).
 */
export function buildApp(app: App, options: BuildAppOptions = {}): DistrictStack[] {
  const wanted = app.node.tryGetContext('district') as string | undefined;
  const districts = selectDistricts(loadDistricts(options.districtsDir), wanted);
  const allow = String(app.node.tryGetContext(ALLOW_PLACEHOLDERS)) === 'true';
  const withPlaceholders = checkPlaceholders(districts, allow);
  const stacks = districts.map(
    ({ district }) =>
      new DistrictStack(app, stackNameOf(district.id), {
        district,
        stackName: stackNameOf(district.id),
        env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: district.region },
      }),
  );
  for (const { district, file, placeholders } of withPlaceholders) {
    const stack = stacks.find((s) => s.district.id === district.id);
    if (!stack) continue;
    Annotations.of(stack).addWarningV2(
      'dispatch:placeholders',
      `${file} holds placeholders (${placeholders.map((p) => p.field).join(', ')}): synthesized because of -c ${ALLOW_PLACEHOLDERS}=true; do not deploy it`,
    );
  }
  if (options.nag ?? true) {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  }
  return stacks;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const app = new App();
  try {
    buildApp(app);
  } catch (e) {
    // A bad or placeholder district file: its message names the file and fields; no stack trace.
    console.error((e as Error).message);
    process.exit(1);
  }
  app.synth();
}
