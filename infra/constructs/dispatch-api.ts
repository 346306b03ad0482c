import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { Alarm, IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { District } from '#shared/district.ts';
import { FALLBACK_HANDLER, ROUTES } from '#shared/resources.ts';
import { acknowledge } from '../stacks/nag.ts';
import { anyAlarm } from './alarms.ts';

/**
 * Stage-wide throttling: a ceiling for the whole district API, not per client. Per-partner
 * limits (`rateLimits.partnerRequestsPerMinute`) are enforced by the functions with a
 * DynamoDB counter per partner per minute; an HTTP API cannot throttle per API key.
 */
export const STAGE_THROTTLE = { rateLimit: 100, burstLimit: 200 } as const;

/**
 * The API's 5xx alarm (HTTP API metric `5xx`, AWS/ApiGateway by ApiId and Stage): 5xx
 * answers in 2 of the last 3 five-minute periods. A lone 500 (its body tells the partner
 * it is safe to retry) does not page; a fault that persists or recurs does, within 10 to
 * 15 minutes. Functions that fail outright also have their own Errors alarms.
 */
export const API_5XX_ALARM = { periodMinutes: 5, evaluationPeriods: 3, datapointsToAlarm: 2 };

export interface DispatchApiProps {
  district: District;
  /** The function serving each handler name in ROUTES, and FALLBACK_HANDLER. */
  handlers: ReadonlyMap<string, IFunction>;
  /** Where the 5xx alarm goes (the ops alert topic). */
  alarmAction: IAlarmAction;
}

/**
 * The district's HTTP API: one Lambda integration per route in ROUTES, `$default` to the
 * fallback function (404/405 JSON), stage throttling, JSON access logs and a 5xx alarm.
 * Authentication happens in the functions (hashed keys in DynamoDB, the ops key in
 * Secrets Manager).
 */
export class DispatchApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;
  readonly serverErrorsAlarm: Alarm;

  constructor(scope: Construct, id: string, props: DispatchApiProps) {
    super(scope, id);
    const { district, handlers } = props;
    const fn = (name: string) => {
      const f = handlers.get(name);
      if (!f) throw new Error(`no function for handler ${name}`);
      return f;
    };

    this.api = new HttpApi(this, 'Api', {
      apiName: `dispatch-${district.id}`,
      description: `${district.name}: volunteer dispatch API v1`,
      createDefaultStage: false,
      defaultIntegration: new HttpLambdaIntegration('Fallback', fn(FALLBACK_HANDLER)),
    });

    acknowledge(
      this.api,
      'AwsSolutions-APIG4',
      'Authentication is in the functions on purpose: partner and volunteer keys are looked ' +
        'up by hash in DynamoDB and the ops key is in Secrets Manager (shared/adapters/' +
        'principals.ts); each route checks who may call it. /v1/health and the 404 fallback ' +
        'are public by design.',
    );

    const integrations = new Map<string, HttpLambdaIntegration>();
    for (const route of ROUTES) {
      let integration = integrations.get(route.handler);
      if (!integration) {
        integration = new HttpLambdaIntegration(`${route.handler}-integration`, fn(route.handler));
        integrations.set(route.handler, integration);
      }
      this.api.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration,
      });
    }

    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: RetentionDays.THREE_MONTHS,
      removalPolicy: district.demo ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: STAGE_THROTTLE,
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        // No source IP, no headers, no body: access logs carry no personal data.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTime',
            method: '$context.httpMethod',
            routeKey: '$context.routeKey',
            path: '$context.path',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            integrationStatus: '$context.integrationStatus',
            integrationError: '$context.integrationErrorMessage',
            responseLength: '$context.responseLength',
          }),
        ),
      },
    });

    this.serverErrorsAlarm = anyAlarm(this, 'ServerErrors', {
      alarmDescription:
        `${district.id}: the API answered 5xx in ${API_5XX_ALARM.datapointsToAlarm} of the ` +
        `last ${API_5XX_ALARM.evaluationPeriods} ${API_5XX_ALARM.periodMinutes}-minute periods`,
      metric: this.stage.metricServerError({
        period: Duration.minutes(API_5XX_ALARM.periodMinutes),
        statistic: 'Sum',
      }),
      evaluationPeriods: API_5XX_ALARM.evaluationPeriods,
      datapointsToAlarm: API_5XX_ALARM.datapointsToAlarm,
      action: props.alarmAction,
    });
  }

  /** The invoke URL of the `$default` stage. */
  get url(): string {
    return this.stage.url;
  }
}
