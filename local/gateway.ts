/**
 * The local API Gateway: an HTTP server that turns each request into the HTTP API
 * payload v2 event the function gets in Lambda, invokes the function of the matching
 * route (or the fallback as `$default`), and writes back its structured result.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { FALLBACK_HANDLER, ROUTES, type RouteDef } from '../shared/resources.ts';
import { ACCOUNT_ID } from './lambda.ts';

/** API Gateway's payload limit for HTTP APIs. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const API_ID = 'local';

export interface RouteMatch {
  routeKey: string;
  handler: string;
  pathParameters?: Record<string, string>;
}

interface CompiledRoute {
  route: RouteDef;
  regex: RegExp;
  names: string[];
  literals: number;
}

const compiled: CompiledRoute[] = ROUTES.map((route) => {
  const names: string[] = [];
  const segments = route.path.split('/');
  const pattern = segments
    .map((s) => {
      const m = /^\{([^}/]+)\}$/.exec(s);
      if (!m) return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(m[1]);
      return '([^/]+)';
    })
    .join('/');
  return {
    route,
    regex: new RegExp(`^${pattern}$`),
    names,
    literals: segments.filter((s) => !s.startsWith('{')).length,
  };
});

/**
 * The route API Gateway would pick: same method, path matching the template, the one
 * with the most literal segments first (`/v1/volunteers/me/offers` before a
 * `{volunteerId}` route). No match: the fallback function as `$default`.
 */
export function matchRoute(method: string, rawPath: string): RouteMatch {
  const candidates = compiled
    .filter((c) => c.route.method === method)
    .map((c) => ({ c, m: c.regex.exec(rawPath) }))
    .filter((x): x is { c: CompiledRoute; m: RegExpExecArray } => x.m !== null)
    .sort((a, b) => b.c.literals - a.c.literals);
  const best = candidates[0];
  if (!best) return { routeKey: '$default', handler: FALLBACK_HANDLER };
  const pathParameters: Record<string, string> = {};
  best.c.names.forEach((name, i) => {
    const raw = best.m[i + 1];
    try {
      pathParameters[name] = decodeURIComponent(raw);
    } catch {
      pathParameters[name] = raw;
    }
  });
  return {
    routeKey: `${best.c.route.method} ${best.c.route.path}`,
    handler: best.c.route.handler,
    pathParameters: best.c.names.length > 0 ? pathParameters : undefined,
  };
}

function decodeQueryPart(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** Body as API Gateway passes it: UTF-8 text as is, anything else base64. */
function encodeBody(body: Buffer): { body?: string; isBase64Encoded: boolean } {
  if (body.length === 0) return { isBase64Encoded: false };
  try {
    return { body: new TextDecoder('utf-8', { fatal: true }).decode(body), isBase64Encoded: false };
  } catch {
    return { body: body.toString('base64'), isBase64Encoded: true };
  }
}

export interface RawRequest {
  method: string;
  /** Path and query as received, e.g. `/v1/stats?from=x`. */
  url: string;
  /** Node's raw header list: name, value, name, value… */
  rawHeaders: string[];
  body: Buffer;
  sourceIp: string;
  protocol: string;
  hostHeader?: string;
}

/** The HTTP API payload v2 event for a request, as API Gateway builds it. */
export function buildEvent(
  req: RawRequest,
  match: RouteMatch,
  now = new Date(),
): APIGatewayProxyEventV2 {
  const q = req.url.indexOf('?');
  const rawPath = q === -1 ? req.url : req.url.slice(0, q);
  const rawQueryString = q === -1 ? '' : req.url.slice(q + 1);

  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    const value = req.rawHeaders[i + 1];
    if (name === 'cookie') {
      cookies = [...(cookies ?? []), ...value.split(/;\s*/).filter(Boolean)];
      continue;
    }
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  const host = headers.host ?? req.hostHeader ?? 'localhost';
  headers['x-forwarded-for'] = headers['x-forwarded-for']
    ? `${headers['x-forwarded-for']}, ${req.sourceIp}`
    : req.sourceIp;
  headers['x-forwarded-proto'] ??= 'http';
  headers['x-forwarded-port'] ??= host.includes(':') ? host.split(':').pop()! : '80';
  const requestId = randomUUID();
  headers['x-amzn-trace-id'] ??=
    `Root=1-${Math.floor(now.getTime() / 1000).toString(16)}-${requestId.replaceAll('-', '').slice(0, 24)}`;

  let queryStringParameters: Record<string, string> | undefined;
  if (rawQueryString) {
    queryStringParameters = {};
    for (const part of rawQueryString.split('&')) {
      if (!part) continue;
      const eq = part.indexOf('=');
      const key = decodeQueryPart(eq === -1 ? part : part.slice(0, eq));
      const value = eq === -1 ? '' : decodeQueryPart(part.slice(eq + 1));
      queryStringParameters[key] =
        key in queryStringParameters ? `${queryStringParameters[key]},${value}` : value;
    }
  }

  const { body, isBase64Encoded } = encodeBody(req.body);
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: match.routeKey,
    rawPath,
    rawQueryString,
    headers,
    requestContext: {
      accountId: ACCOUNT_ID,
      apiId: API_ID,
      domainName: host.split(':')[0],
      domainPrefix: host.split('.')[0].split(':')[0],
      http: {
        method: req.method,
        path: rawPath,
        protocol: req.protocol,
        sourceIp: req.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: match.routeKey,
      stage: '$default',
      time: formatClf(now),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded,
  };
  if (cookies) event.cookies = cookies;
  if (queryStringParameters) event.queryStringParameters = queryStringParameters;
  if (match.pathParameters) event.pathParameters = match.pathParameters;
  if (body !== undefined) event.body = body;
  return event;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** `12/Mar/2020:19:03:58 +0000`, as requestContext.time is written. */
function formatClf(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/**
 * What API Gateway makes of a function's return value (payload v2): a result with a
 * `statusCode` is used as is; anything else is a 200 with the value as JSON.
 */
export function toStructuredResult(result: unknown): APIGatewayProxyStructuredResultV2 {
  if (result && typeof result === 'object' && 'statusCode' in result) {
    return result as APIGatewayProxyStructuredResultV2;
  }
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: typeof result === 'string' ? result : JSON.stringify(result ?? null),
  };
}

export interface LocalResponse {
  status: number;
  body: unknown;
}

export interface GatewayOptions {
  port: number;
  host?: string;
  /** Invoke a function with an event; throws if the function throws or times out. */
  invokeHttp(handler: string, event: APIGatewayProxyEventV2): Promise<unknown>;
  /** Local-only routes: return a response, or undefined to go on to the API's routes. */
  local?(
    method: string,
    path: string,
    query: URLSearchParams,
    /** Reads the request body (undefined when over the size limit). */
    body: () => Promise<Buffer | undefined>,
  ): Promise<LocalResponse | undefined>;
  log?: (line: string) => void;
  logError?: (line: string, error: unknown) => void;
}

export interface Gateway {
  url: string;
  port: number;
  server: Server;
  stop(): Promise<void>;
}

const INTERNAL = JSON.stringify({ error: { code: 'internal', message: 'internal error' } });

function send(res: ServerResponse, result: APIGatewayProxyStructuredResultV2, requestId: string) {
  const headers: Record<string, string | number | boolean | string[]> = {
    ...(result.headers ?? {}),
  };
  if (result.cookies?.length) headers['set-cookie'] = result.cookies;
  const body =
    result.body === undefined
      ? undefined
      : result.isBase64Encoded
        ? Buffer.from(result.body, 'base64')
        : Buffer.from(result.body, 'utf8');
  if (body && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
    headers['content-type'] = 'application/json';
  }
  headers['apigw-requestid'] = requestId;
  res.writeHead(result.statusCode ?? 200, headers as Record<string, string>);
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const log = options.log ?? (() => {});
  const logError = options.logError ?? ((line, error) => console.error(line, error));

  const server = createServer(async (req, res) => {
    const started = Date.now();
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    try {
      // Concatenated, not resolved: a path starting with `//` is a path, not a host.
      const parsed = new URL(`http://localhost${url.startsWith('/') ? url : `/${url}`}`);
      if (options.local) {
        const local = await options.local(method, parsed.pathname, parsed.searchParams, () =>
          readBody(req),
        );
        if (local) {
          res.writeHead(local.status, { 'content-type': 'application/json; charset=utf-8' });
          res.end(JSON.stringify(local.body));
          return;
        }
      }
      const body = await readBody(req);
      if (!body) {
        res.writeHead(413, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: 'Request Entity Too Large' }));
        return;
      }
      const match = matchRoute(method, url.split('?')[0]);
      const event = buildEvent(
        {
          method,
          url,
          rawHeaders: req.rawHeaders,
          body,
          sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
          protocol: `HTTP/${req.httpVersion}`,
        },
        match,
      );
      let result: APIGatewayProxyStructuredResultV2;
      try {
        result = toStructuredResult(await options.invokeHttp(match.handler, event));
      } catch (error) {
        logError(`[gateway] ${method} ${url} → ${match.handler} threw`, error);
        result = {
          statusCode: 500,
          headers: { 'content-type': 'application/json' },
          body: INTERNAL,
        };
      }
      send(res, result, event.requestContext.requestId);
      log(
        `${method} ${url} → ${match.handler} ${result.statusCode ?? 200} (${Date.now() - started} ms)`,
      );
    } catch (error) {
      logError(`[gateway] ${method} ${url} failed`, error);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(INTERNAL);
    }
  });

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', fail);
      ok();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    stop: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}
