import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { Alarm, IAlarmAction, IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, LoggingFormat, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { District } from '#shared/district.ts';
import { ENV } from '#shared/resources.ts';
import { acknowledge } from '../stacks/nag.ts';
import { anyAlarm } from './alarms.ts';

/**
 * Powertools service name and metrics namespace, the same as the defaults of
 * shared/observability.ts and shared/metrics.ts.
 */
export const SERVICE_NAME = 'volunteer-dispatch';
export const METRICS_NAMESPACE = 'VolunteerDispatch';

/** Repository root: entries, package-lock.json and tsconfig.json live here. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The runtime every function uses; pinned (not NODEJS_LATEST) so a CDK upgrade cannot move it. */
export const RUNTIME = Runtime.NODEJS_22_X;
export const ARCHITECTURE = Architecture.ARM_64;

/**
 * ESM bundles lose CommonJS `require`; a dependency that calls it (dynamic require of a
 * Node builtin) fails with "Dynamic require of ... is not supported" without this shim.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __dispatchCreateRequire } from 'node:module'; const require = __dispatchCreateRequire(import.meta.url);";

/**
 * Sets `process.env.DISTRICT_CONFIG` before any module code runs. The config is compiled
 * into the bundle rather than set as a Lambda variable (4 KB limit for all variables), and
 * shared/services/context.ts reads it; a read as `process.env[name]` is one esbuild's `define`
 * cannot replace.
 */
export const districtBanner = (district: District) =>
  `process.env.${ENV.districtConfig} = ${JSON.stringify(JSON.stringify(district))};`;

/**
 * How a function's Errors and Throttles alarms read its metrics, by who retries a failed
 * invocation (docs/deploy.md, monitoring):
 * - `request`: invoked by API Gateway, which retries nothing. Handler errors are already
 *   answered as JSON 500s (jsonErrors), so Lambda counts an error only when the function
 *   itself failed (timeout, out of memory, a failed cold start): a request lost each time,
 *   as is each throttle. Any one in 5 minutes alarms.
 * - `retried`: queue consumers, the stream consumer and scheduled functions. A failed or
 *   throttled invocation is run again (SQS redelivery after the visibility timeout, the
 *   stream mapping's retries, Lambda's async retries), and what still fails lands in a
 *   dead-letter queue that alarms on its first message. (Queue consumers report failed
 *   records as partial batch failures, so their errors too are timeouts and crashes.) A
 *   single error is usually a transient one that the retry absorbs, so these alarm when
 *   errors (or throttles) occur in each of three consecutive 5-minute periods: a function
 *   failing for 15 minutes.
 */
export const FUNCTION_ALARM_RULES = {
  request: { periodMinutes: 5, evaluationPeriods: 1, datapointsToAlarm: 1 },
  retried: { periodMinutes: 5, evaluationPeriods: 3, datapointsToAlarm: 3 },
} as const;

export type FunctionTrigger = keyof typeof FUNCTION_ALARM_RULES;

export interface DispatchFunctionProps {
  /** Handler name: the file `functions/<name>.ts`, exporting `handler`. */
  name: string;
  district: District;
  timeoutSeconds: number;
  memorySize?: number;
  environment?: Record<string, string>;
  /** Log retention; defaults to one month. */
  logRetention?: RetentionDays;
}

/**
 * One Lambda function with our defaults: Node 22 on arm64, ESM bundle built by local
 * esbuild (no Docker), source maps, JSON logs into its own log group with retention,
 * and the district config compiled in (Lambda environment is limited to 4 KB).
 * The role starts empty: no managed policy; the log group grant is the only default.
 */
export class DispatchFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;
  readonly name: string;
  /** Set by `addAlarms`. */
  errorsAlarm?: Alarm;
  throttlesAlarm?: Alarm;

  constructor(scope: Construct, id: string, props: DispatchFunctionProps) {
    super(scope, id);
    const { name, district } = props;
    this.name = name;
    const removalPolicy = district.demo ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${district.id} ${name}: only what FUNCTION_ACCESS lists`,
    });
    // Lambda creates its log streams itself; the function only writes to its own group.
    this.logGroup.grantWrite(this.role);

    this.fn = new NodejsFunction(this, 'Fn', {
      entry: join(PROJECT_ROOT, 'functions', `${name}.ts`),
      handler: 'handler',
      runtime: RUNTIME,
      architecture: ARCHITECTURE,
      timeout: Duration.seconds(props.timeoutSeconds),
      memorySize: props.memorySize ?? 512,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      description: `${district.id}: ${name}`,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        DISTRICT_ID: district.id,
        ...props.environment,
      },
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        mainFields: ['module', 'main'],
        banner: `${ESM_REQUIRE_BANNER} ${districtBanner(district)}`,
        minify: true,
        sourceMap: true,
        sourceMapMode: SourceMapMode.DEFAULT,
        target: 'node22',
        tsconfig: join(PROJECT_ROOT, 'tsconfig.json'),
        // Use the runtime's AWS SDK v3 (nodejs22.x ships it): bundling it made every
        // function ~900 KB minified against a 400 KB budget (docs/benchmarks.md).
        bundleAwsSDK: false,
        // Inlines literal `process.env.DISTRICT_CONFIG` reads; the banner covers dynamic ones.
        define: {
          [`process.env.${ENV.districtConfig}`]: JSON.stringify(JSON.stringify(district)),
        },
      },
    });
    acknowledge(
      this.fn,
      'AwsSolutions-L1',
      'Pinned to nodejs22.x on purpose (supported LTS; bundles target node22 and @types/node ' +
        'is 22): a runtime change is made deliberately, after checking it in the China ' +
        'regions the districts deploy to, not by a CDK upgrade.',
    );
  }

  /**
   * An Errors and a Throttles alarm on this function (FUNCTION_ALARM_RULES[trigger]),
   * with alarm and OK actions to `action` (the district's alert topic).
   */
  addAlarms(trigger: FunctionTrigger, districtId: string, action: IAlarmAction): void {
    const rule = FUNCTION_ALARM_RULES[trigger];
    const period = Duration.minutes(rule.periodMinutes);
    const when =
      trigger === 'request'
        ? `in ${rule.periodMinutes} minutes`
        : `in each of ${rule.evaluationPeriods} consecutive ${rule.periodMinutes}-minute periods, despite retries`;
    const alarm = (id: string, what: string, metric: IMetric) =>
      anyAlarm(this, id, {
        alarmDescription: `${districtId}: ${this.name} ${what} ${when}`,
        metric,
        evaluationPeriods: rule.evaluationPeriods,
        datapointsToAlarm: rule.datapointsToAlarm,
        action,
      });
    this.errorsAlarm = alarm(
      'Errors',
      'failed (errors: a timeout, a crash, an unhandled error)',
      this.fn.metricErrors({ period, statistic: 'Sum' }),
    );
    this.throttlesAlarm = alarm(
      'Throttles',
      'throttled (no Lambda concurrency left in the account and region)',
      this.fn.metricThrottles({ period, statistic: 'Sum' }),
    );
  }
}
