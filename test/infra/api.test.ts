import { describe, expect, it } from 'vitest';
import { FALLBACK_HANDLER, ROUTES } from '#shared/resources.ts';
import { STAGE_THROTTLE } from '../../infra/constructs/dispatch-api.ts';
import { type CfnJson, DISTRICT_IDS, logicalId, resourcesOf, synthesized } from './support.ts';

describe.each(DISTRICT_IDS)('HTTP API of district %s', (id) => {
  const { stack, template } = synthesized(id);
  const routes = resourcesOf(template, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
  const integrations = Object.fromEntries(resourcesOf(template, 'AWS::ApiGatewayV2::Integration'));
  /** The function a route's integration invokes. */
  const targetOf = (route: CfnJson) => {
    const integrationId = route.Target['Fn::Join'][1][1].Ref;
    return integrations[integrationId].Properties.IntegrationUri['Fn::GetAtt'][0];
  };

  it('is one HTTP API', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
  });

  it.each(ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))(
    '%s goes to its handler',
    (key, route) => {
      const found = routes.filter((r) => r.RouteKey === key);
      expect(found).toHaveLength(1);
      expect(targetOf(found[0])).toBe(logicalId(stack.functions.get(route.handler)!.fn));
    },
  );

  it('sends every other path to the fallback function', () => {
    const found = routes.filter((r) => r.RouteKey === '$default');
    expect(found).toHaveLength(1);
    expect(targetOf(found[0])).toBe(logicalId(stack.functions.get(FALLBACK_HANDLER)!.fn));
    expect(routes).toHaveLength(ROUTES.length + 1);
  });

  it('uses payload format 2.0 for every integration', () => {
    for (const [, i] of Object.entries(integrations)) {
      expect(i.Properties).toMatchObject({
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
      });
    }
  });

  it('throttles the stage and writes access logs', () => {
    const [[, stage]] = resourcesOf(template, 'AWS::ApiGatewayV2::Stage');
    expect(stage.Properties).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: {
        ThrottlingRateLimit: STAGE_THROTTLE.rateLimit,
        ThrottlingBurstLimit: STAGE_THROTTLE.burstLimit,
      },
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [logicalId(stack.api.accessLogs), 'Arn'] },
      },
    });
    expect(stage.Properties.AccessLogSettings.Format).toContain('$context.requestId');
  });

  it('outputs the API URL and the ops key secret', () => {
    const outputs = template.toJSON().Outputs;
    expect(outputs.ApiUrl).toBeDefined();
    expect(outputs.OpsKeySecretArn.Value).toEqual({ Ref: logicalId(stack.opsKey) });
    expect(outputs.OpsKeySecretName).toBeDefined();
  });
});
