import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { ALL_HANDLERS, ENV, FUNCTION_ACCESS } from '#shared/resources.ts';
import { sdkImports } from '../../bench/bundles.ts';
import { buildApp } from '../../infra/bin/app.ts';
import { logicalId } from './support.ts';

/**
 * The one test that bundles for real (esbuild, no Docker): every function of the demo
 * district builds as an ESM bundle that Node can load, with the district config inside.
 */
describe('real bundles (demo district)', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-bundle-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  const app = new App({ outdir, context: { district: 'demo' } });
  const [stack] = buildApp(app, { nag: false });
  const assembly = app.synth();
  const template = assembly.getStackByName(stack.stackName).template;
  const bundleOf = (name: string) => {
    const resource = template.Resources[logicalId(stack.functions.get(name)!.fn)];
    // The asset's S3 key is `<hash>.zip`; the cloud assembly holds it as `asset.<hash>/`.
    const hash = String(resource.Properties.Code.S3Key).replace(/\.zip$/, '');
    return join(outdir, `asset.${hash}`, 'index.mjs');
  };

  it('builds an index.mjs with a source map for every handler', () => {
    for (const name of ALL_HANDLERS) {
      expect(existsSync(bundleOf(name)), name).toBe(true);
      expect(existsSync(`${bundleOf(name)}.map`), name).toBe(true);
    }
  });

  it('compiles the district config into the bundle, not into the Lambda environment', () => {
    const code = readFileSync(bundleOf('list-communities'), 'utf8');
    expect(code).toContain(JSON.stringify(JSON.stringify(stack.district)));
  });

  it('loads an AWS SDK client only into the functions FUNCTION_ACCESS lets use it', () => {
    // Each client costs every cold start that loads it (docs/benchmarks.md): a function
    // that sends to no queue must not load the SQS client through a shared module, etc.
    for (const name of ALL_HANDLERS) {
      const access = FUNCTION_ACCESS[name];
      const { static: loaded } = sdkImports(readFileSync(bundleOf(name), 'utf8'));
      expect(loaded.includes('client-dynamodb'), `${name} DynamoDB`).toBe(access.table !== 'none');
      expect(loaded.includes('client-sqs'), `${name} SQS`).toBe(access.sends.length > 0);
      expect(loaded.includes('client-sns'), `${name} SNS`).toBe(access.sns.length > 0);
      // S3 and Secrets Manager: imported on first use (only some requests need them).
      expect(
        loaded.filter((p) => /client-s3|presigner|secrets-manager/.test(p)),
        name,
      ).toEqual([]);
    }
  });

  it('loads every bundle in Node (ESM, createRequire banner) with the district config set', async () => {
    delete process.env[ENV.districtConfig];
    for (const name of ALL_HANDLERS) {
      const mod = await import(pathToFileURL(bundleOf(name)).href);
      expect(typeof mod.handler, name).toBe('function');
    }
    expect(JSON.parse(process.env[ENV.districtConfig]!)).toEqual(stack.district);
  });

  it('serves the health check from its bundle', async () => {
    const { handler } = await import(pathToFileURL(bundleOf('get-health')).href);
    const res = await handler({ routeKey: 'GET /v1/health', rawPath: '/v1/health' }, {});
    expect(res.statusCode).toBe(200);
  });
});
