/**
 * The functions' DynamoDB permissions, enforced locally as IAM enforces them on AWS.
 * DynamoDB Local checks no IAM, so without this a function granted `read` in
 * FUNCTION_ACCESS could write (or Scan) in every local and integration test and fail only
 * once deployed. The local stack puts this middleware on the functions' shared client
 * (`shared/clients/dynamodb.ts`): a call made during an invocation of a function (see
 * `invoke` in lambda.ts) needs the IAM actions TABLE_ACTIONS gives that function's
 * `table` level, on the district's own table and (Query) its indexes; anything else is
 * refused with AccessDeniedException before it is sent, with AWS's wording. Calls made
 * outside an invocation (the stack itself, tests, the ops scripts) are not checked.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FUNCTION_ACCESS, TABLE, TABLE_ACTIONS } from '../shared/resources.ts';
import { ACCOUNT_ID, currentInvocation } from './lambda.ts';

const MIDDLEWARE = 'localTableAccess';

/** A transaction item's key and the IAM action it needs (DynamoDB's documented mapping). */
const TRANSACT_WRITE_ITEM_ACTIONS: Record<string, string> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
};

interface Call {
  action: string;
  table?: string;
  index?: string;
}

/**
 * What IAM checks for one low-level DynamoDB command (`PutItemCommand`, as the document
 * client's commands reach the client): the action on each table (and index) it names.
 */
export function iamCallsOf(commandName: string, input: Record<string, unknown>): Call[] {
  const operation = commandName.replace(/Command$/, '');
  const table = input.TableName as string | undefined;
  switch (operation) {
    case 'TransactWriteItems':
      return ((input.TransactItems ?? []) as Record<string, { TableName?: string }>[]).flatMap(
        (item) =>
          Object.entries(item).map(([kind, op]) => ({
            action: TRANSACT_WRITE_ITEM_ACTIONS[kind] ?? `dynamodb:TransactWrite.${kind}`,
            table: op?.TableName,
          })),
      );
    case 'TransactGetItems':
      return ((input.TransactItems ?? []) as { Get?: { TableName?: string } }[]).map((item) => ({
        action: 'dynamodb:GetItem',
        table: item.Get?.TableName,
      }));
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return Object.keys((input.RequestItems ?? {}) as object).map((t) => ({
        action: `dynamodb:${operation}`,
        table: t,
      }));
    case 'Query':
    case 'Scan':
      return [{ action: `dynamodb:${operation}`, table, index: input.IndexName as string }];
    default:
      return [{ action: `dynamodb:${operation}`, table }];
  }
}

export class LocalAccessDenied extends Error {
  readonly $fault = 'client';
  readonly $metadata = { httpStatusCode: 400 };
  constructor(message: string) {
    super(message);
    this.name = 'AccessDeniedException';
  }
}

export interface TableAccessOptions {
  /** The local stack's resource prefix: its functions are named `<prefix>-<handler>`. */
  prefix: string;
  tableName: string;
  region: string;
}

/**
 * Enforces FUNCTION_ACCESS's table levels on the functions' client; returns the remover.
 * One local stack at a time per process (as the SNS outbox): the latest one's prefix wins.
 */
export function enforceTableAccess(client: DynamoDBClient, options: TableAccessOptions) {
  const { prefix, tableName, region } = options;
  const indexes = new Set([...TABLE.indexes, ...TABLE.retiredIndexes].map((i) => i.name));
  const tableArn = `arn:aws:dynamodb:${region}:${ACCOUNT_ID}:table/${tableName}`;
  client.middlewareStack.remove(MIDDLEWARE);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const functionName = currentInvocation()?.functionName;
      if (!functionName?.startsWith(`${prefix}-`)) return next(args);
      const handler = functionName.slice(prefix.length + 1);
      const access = FUNCTION_ACCESS[handler];
      if (!access) return next(args); // a test's own function, not one of the district's
      const allowed: readonly string[] = TABLE_ACTIONS[access.table];
      const calls = iamCallsOf(
        context.commandName ?? '',
        args.input as unknown as Record<string, unknown>,
      );
      for (const call of calls) {
        const resource =
          call.table === tableName && call.index ? `${tableArn}/index/${call.index}` : tableArn;
        const onOwnTable = call.table === tableName;
        // Item actions are granted on the table only; Query on the table and its indexes.
        const onGranted = call.index
          ? call.action === 'dynamodb:Query' && indexes.has(call.index)
          : true;
        if (!allowed.includes(call.action) || !onOwnTable || !onGranted) {
          throw new LocalAccessDenied(
            `User: arn:aws:sts::${ACCOUNT_ID}:assumed-role/${functionName}-role/${functionName} ` +
              `is not authorized to perform: ${call.action} on resource: ` +
              `${onOwnTable ? resource : `table ${call.table}`} because no identity-based ` +
              `policy allows the ${call.action} action (local stack: FUNCTION_ACCESS gives ` +
              `${handler} table '${access.table}', TABLE_ACTIONS in shared/resources.ts)`,
          );
        }
      }
      return next(args);
    },
    { step: 'initialize', priority: 'high', name: MIDDLEWARE },
  );
  return () => {
    client.middlewareStack.remove(MIDDLEWARE);
  };
}
