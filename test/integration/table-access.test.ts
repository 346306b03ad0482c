import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invoke } from '../../local/lambda.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

/**
 * The local stack refuses a function the DynamoDB calls IAM would refuse it on AWS
 * (TABLE_ACTIONS for its FUNCTION_ACCESS level), so every integration test also checks
 * the functions' table grants: DynamoDB Local itself checks no permission.
 */
let stack: TestStack;
let documents: DynamoDBDocumentClient;

beforeAll(async () => {
  ({ documents } = await import('../../shared/clients/dynamodb.ts'));
  stack = await startTestStack(undefined, {
    // A read-only function that writes, behind its route.
    functions: {
      'list-communities': async () => {
        await documents.send(put('via-api'));
        return { statusCode: 200, body: '{}' };
      },
    },
  });
});
afterAll(async () => {
  await stack?.stop();
});

/** Runs `call` as an invocation of the district's function `handler`, as the stack does. */
const as = (handler: string, call: () => Promise<unknown>) =>
  invoke(
    async () => call(),
    {},
    {
      functionName: `${stack.prefix}-${handler}`,
      timeoutSeconds: 10,
      region: 'us-east-1',
    },
  );

const table = () => stack.local.tableName;
const item = (id: string) => ({ pk: `TEST#${id}`, sk: 'TEST' });
const put = (id: string) => new PutCommand({ TableName: table(), Item: item(id) });

describe('a read-only function (list-communities)', () => {
  it('may get and query the table and its indexes', async () => {
    await as('list-communities', () =>
      documents.send(new GetCommand({ TableName: table(), Key: item('r') })),
    );
    await as('list-communities', () =>
      documents.send(
        new QueryCommand({
          TableName: table(),
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :p',
          ExpressionAttributeValues: { ':p': 'none' },
        }),
      ),
    );
  });

  it('is refused a write, as IAM would refuse it', async () => {
    await expect(as('list-communities', () => documents.send(put('w')))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining('is not authorized to perform: dynamodb:PutItem'),
    });
    const { Item } = await documents.send(new GetCommand({ TableName: table(), Key: item('w') }));
    expect(Item).toBeUndefined();
  });
});

describe('a writing function (accept-offer)', () => {
  it('may put, and write a transaction of puts, updates and deletes', async () => {
    await as('accept-offer', () => documents.send(put('a')));
    await as('accept-offer', () =>
      documents.send(
        new TransactWriteCommand({
          TransactItems: [
            { Delete: { TableName: table(), Key: item('a') } },
            { Put: { TableName: table(), Item: item('b') } },
          ],
        }),
      ),
    );
  });

  it('is refused a Scan, and a transaction item no level grants (ConditionCheck)', async () => {
    await expect(
      as('accept-offer', () => documents.send(new ScanCommand({ TableName: table() }))),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(
      as('accept-offer', () =>
        documents.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: { TableName: table(), Item: item('c') } },
              {
                ConditionCheck: {
                  TableName: table(),
                  Key: item('b'),
                  ConditionExpression: 'attribute_exists(pk)',
                },
              },
            ],
          }),
        ),
      ),
    ).rejects.toThrow('dynamodb:ConditionCheckItem');
  });

  it('is refused another table', async () => {
    await expect(
      as('accept-offer', () =>
        documents.send(new GetCommand({ TableName: `${table()}-other`, Key: item('x') })),
      ),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});

describe('the stream consumer (count-transitions)', () => {
  it('may only update (counters): a read is refused', async () => {
    await expect(
      as('count-transitions', () =>
        documents.send(new GetCommand({ TableName: table(), Key: item('r') })),
      ),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});

describe('a function without the table (get-health)', () => {
  it('is refused every call', async () => {
    await expect(
      as('get-health', () =>
        documents.send(new GetCommand({ TableName: table(), Key: item('r') })),
      ),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});

it('leaves calls made outside an invocation (the stack, tests, ops scripts) alone', async () => {
  await documents.send(new ScanCommand({ TableName: table(), Limit: 1 }));
});

it('answers a route whose function is refused with a 500, and writes nothing', async () => {
  const res = await stack.api('GET', '/v1/communities', { key: stack.opsKey });
  expect(res.status).toBe(500);
  const { Item } = await documents.send(
    new GetCommand({ TableName: table(), Key: item('via-api') }),
  );
  expect(Item).toBeUndefined();
});
