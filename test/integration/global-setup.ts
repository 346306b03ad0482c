/**
 * vitest globalSetup of the `integration` project: one DynamoDB Local and one fauxqs for
 * the whole run, on free ports. Each test file starts its own local stack on them (see
 * support/stack.ts) with a unique name prefix, so files do not see each other's data.
 */
import type { TestProject } from 'vitest/node';
import { type RunningServer, startDynamoDbLocal, startSqsSns } from '../../local/servers.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
    sqsEndpoint: string;
  }
}

export default async function setup(project: TestProject) {
  const started: RunningServer[] = [];
  const stopAll = async () => {
    await Promise.all(started.splice(0).map((s) => s.stop()));
  };
  try {
    const [dynamodb, sqs] = await Promise.all([
      startDynamoDbLocal().then((s) => {
        started.push(s);
        return s;
      }),
      startSqsSns().then((s) => {
        started.push(s);
        return s;
      }),
    ]);
    project.provide('dynamodbEndpoint', dynamodb.endpoint);
    project.provide('sqsEndpoint', sqs.endpoint);
  } catch (error) {
    await stopAll();
    throw error;
  }
  return stopAll;
}
