/**
 * Invoking a function the way Lambda does: the module `functions/<name>.ts` is imported
 * once (its module scope is the "cold start"), then `handler(event, context)` is called
 * with a Lambda-like context and the function's timeout.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';

// biome-ignore lint/suspicious/noExplicitAny: handlers take and return whatever their trigger does
export type Handler = (event: any, context: Context) => Promise<any> | any;

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const ACCOUNT_ID = '000000000000';

export function functionFile(name: string): string {
  return fileURLToPath(new URL(`../functions/${name}.ts`, import.meta.url));
}

export const functionExists = (name: string) => existsSync(functionFile(name));

const loaded = new Map<string, Promise<Handler>>();

/**
 * Imports `functions/<name>.ts` (once) and returns its `handler`. Call only after the
 * environment is set: handlers and the shared clients read it when their module loads.
 */
export function loadHandler(name: string): Promise<Handler> {
  let handler = loaded.get(name);
  if (!handler) {
    handler = (async () => {
      const file = functionFile(name);
      if (!existsSync(file)) throw new Error(`functions/${name}.ts does not exist`);
      const mod = (await import(pathToFileURL(file).href)) as { handler?: Handler };
      if (typeof mod.handler !== 'function') {
        throw new Error(`functions/${name}.ts does not export a handler function`);
      }
      return mod.handler;
    })();
    handler.catch(() => loaded.delete(name));
    loaded.set(name, handler);
  }
  return handler;
}

/** The invocation a piece of code runs in (its function's physical name), if any. */
const invocations = new AsyncLocalStorage<{ functionName: string }>();

/**
 * The invocation the caller runs in: set by `invoke` for the handler and everything it
 * awaits, so SDK middlewares can tell which function makes a call (table-access.ts).
 */
export const currentInvocation = () => invocations.getStore();

export class FunctionTimeoutError extends Error {
  constructor(functionName: string, timeoutSeconds: number) {
    super(`${functionName}: Task timed out after ${timeoutSeconds.toFixed(2)} seconds`);
    this.name = 'FunctionTimeoutError';
  }
}

export interface InvokeOptions {
  /** The physical function name, as Lambda would have it. */
  functionName: string;
  timeoutSeconds: number;
  region: string;
}

export function lambdaContext(options: InvokeOptions, requestId: string = randomUUID()): Context {
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  const noop = () => {};
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: options.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${options.region}:${ACCOUNT_ID}:function:${options.functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]local`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: noop,
    fail: noop,
    succeed: noop,
  };
}

/**
 * Calls the handler and settles with its result, its error, or a FunctionTimeoutError
 * when it runs past the function's timeout (the handler's promise is then abandoned,
 * as Lambda abandons a timed-out invocation).
 */
export async function invoke(
  handler: Handler,
  event: unknown,
  options: InvokeOptions,
  requestId?: string,
): Promise<unknown> {
  const context = lambdaContext(options, requestId ?? randomUUID());
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new FunctionTimeoutError(options.functionName, options.timeoutSeconds)),
      options.timeoutSeconds * 1000,
    );
  });
  try {
    const run = invocations.run({ functionName: options.functionName }, () =>
      Promise.resolve().then(() => handler(event, context)),
    );
    return await Promise.race([run, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
