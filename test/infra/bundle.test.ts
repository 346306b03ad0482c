import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { ALL_HANDLERS, ENV, FUNCTION_ACCESS, TABLE_ACTIONS } from '#shared/resources.ts';
import { sdkImports } from '../../bench/bundles.ts';
import { buildApp } from '../../infra/bin/app.ts';
import { logicalId } from './support.ts';

/** The document client's command names that differ from the DynamoDB operation they call. */
const DOCUMENT_COMMANDS: Record<string, string> = {
  Get: 'GetItem',
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  BatchGet: 'BatchGetItem',
  BatchWrite: 'BatchWriteItem',
  TransactGet: 'TransactGetItems',
  TransactWrite: 'TransactWriteItems',
  BatchExecuteStatement: 'BatchExecuteStatement',
};

/**
 * The DynamoDB operations a bundle can call: the `*Command` classes it imports from the
 * runtime's `@aws-sdk/lib-dynamodb` and `@aws-sdk/client-dynamodb` (external, so their
 * names survive minification), and the kinds of transaction items it writes.
 */
function dynamodbOperations(code: string): {
  operations: string[];
  transactItems: string[];
} {
  const imports = [
    ...code.matchAll(
      /import\s*([^;]*?)\s*from\s*["']@aws-sdk\/(lib-dynamodb|client-dynamodb)["']/g,
    ),
  ];
  const operations = imports.flatMap(([, clause, pkg]) => {
    if (!clause.startsWith('{')) throw new Error(`cannot read the import ${clause} of ${pkg}`);
    return clause
      .slice(1, -1)
      .split(',')
      .map((spec) => spec.trim().split(/\s+as\s+/)[0])
      .filter((name) => name.endsWith('Command'))
      .map((name) => {
        const bare = name.replace(/Command$/, '');
        return pkg === 'lib-dynamodb' ? (DOCUMENT_COMMANDS[bare] ?? bare) : bare;
      });
  });
  const transactItems = ['Put', 'Update', 'Delete', 'ConditionCheck'].filter((kind) =>
    new RegExp(`[{,]${kind}:\\{`).test(code),
  );
  return { operations: [...new Set(operations)].sort(), transactItems };
}

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

  it('holds no DynamoDB call that no function is granted: no Scan, no BatchWriteItem, no PartiQL', () => {
    // A bundle holds every command of the adapters it imports (they are objects, not
    // tree-shaken per method), so a read-only function's bundle also holds writes it never
    // makes: what each function calls is checked against its own grant at run time by the
    // local stack (local/table-access.ts), in every integration test. Here: nothing in any
    // bundle needs an action that TABLE_ACTIONS gives no function at all.
    const granted = new Set<string>(TABLE_ACTIONS.readwrite.map((a) => a.replace('dynamodb:', '')));
    const item = {
      Put: 'PutItem',
      Update: 'UpdateItem',
      Delete: 'DeleteItem',
      ConditionCheck: 'ConditionCheckItem',
    };
    for (const name of ALL_HANDLERS) {
      const { operations, transactItems } = dynamodbOperations(
        readFileSync(bundleOf(name), 'utf8'),
      );
      if (FUNCTION_ACCESS[name].table === 'none') expect(operations, name).toEqual([]);
      for (const op of operations) {
        // A transaction is authorised by the actions of its items; TransactGetItems by GetItem.
        if (op === 'TransactWriteItems' || (op === 'TransactGetItems' && granted.has('GetItem')))
          continue;
        expect(granted.has(op), `${name} imports the ${op} command`).toBe(true);
      }
      if (operations.includes('TransactWriteItems')) {
        for (const kind of transactItems) {
          const action = item[kind as keyof typeof item];
          expect(granted.has(action), `${name} writes a ${kind} transaction item`).toBe(true);
        }
      }
    }
    // The check reads what it should: the notifier's bundle deletes (a failed send's marker).
    const notifier = dynamodbOperations(readFileSync(bundleOf('send-notification'), 'utf8'));
    expect(notifier.operations).toEqual(expect.arrayContaining(['DeleteItem', 'PutItem', 'Query']));
  });

  it('reads a bundle’s DynamoDB commands as the check above needs (a Scan is seen)', () => {
    const code =
      'import{ScanCommand as a,GetCommand as b,DynamoDBDocumentClient as c}from"@aws-sdk/lib-dynamodb";' +
      'import{BatchWriteItemCommand as d}from"@aws-sdk/client-dynamodb";x({TransactItems:[{Delete:{TableName:t}}]});';
    expect(dynamodbOperations(code)).toEqual({
      operations: ['BatchWriteItem', 'GetItem', 'Scan'],
      transactItems: ['Delete'],
    });
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
