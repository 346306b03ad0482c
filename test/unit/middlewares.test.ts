import '../fixtures/env.ts';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import type { Principal } from '../../shared/adapters/principals.ts';
import { AppError } from '../../shared/errors.ts';
import { authenticate } from '../../shared/http/middlewares/authenticate.ts';
import { bodyLimit } from '../../shared/http/middlewares/body-limit.ts';
import { jsonBody } from '../../shared/http/middlewares/json-body.ts';
import { jsonErrors } from '../../shared/http/middlewares/json-errors.ts';
import { createPartnerBody, deliveredBody } from '../../shared/schemas/api.ts';
import { apiEvent, bodyOf, lambdaContext } from '../fixtures/events.ts';

// biome-ignore lint/suspicious/noExplicitAny: a middy request built by hand
type Req = any;
const requestOf = (event: APIGatewayProxyEventV2): Req => ({
  event,
  context: lambdaContext(),
  response: undefined,
  error: undefined,
  internal: {},
});

/** Runs a middleware's `before` alone and returns the thrown error, or undefined. */
async function runBefore(mw: { before?: (r: Req) => unknown }, req: Req): Promise<unknown> {
  try {
    await mw.before?.(req);
    return undefined;
  } catch (e) {
    return e;
  }
}

describe('jsonBody', () => {
  const mw = jsonBody({ schema: createPartnerBody });

  it('parses a valid body into parsedBody and keeps the raw text', async () => {
    const req = requestOf(apiEvent({ method: 'POST', body: '{"name": "社区通"}' }));
    expect(await runBefore(mw, req)).toBeUndefined();
    expect(req.event.parsedBody).toEqual({ name: '社区通' });
    expect(req.event.rawBodyText).toBe('{"name": "社区通"}');
  });

  it('decodes a base64 body', async () => {
    const raw = Buffer.from(JSON.stringify({ name: '社区通' })).toString('base64');
    const req = requestOf(apiEvent({ method: 'POST', body: raw, isBase64Encoded: true }));
    expect(await runBefore(mw, req)).toBeUndefined();
    expect(req.event.parsedBody).toEqual({ name: '社区通' });
  });

  it('refuses a body over 64 KiB with 413 before parsing it', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(64 * 1024) });
    const e = await runBefore(mw, requestOf(apiEvent({ method: 'POST', body: big })));
    expect(e).toMatchObject({ status: 413, code: 'payload_too_large' });
  });

  it('counts bytes, not characters: 22,000 Chinese characters are over 64 KiB', async () => {
    const body = JSON.stringify({ name: '社'.repeat(22_000) });
    expect(body.length).toBeLessThan(64 * 1024);
    const e = await runBefore(mw, requestOf(apiEvent({ method: 'POST', body })));
    expect(e).toMatchObject({ status: 413 });
  });

  it('accepts a body of exactly 64 KiB (then validates it)', async () => {
    const filler = 64 * 1024 - JSON.stringify({ name: '' }).length;
    const body = JSON.stringify({ name: 'x'.repeat(filler) });
    expect(Buffer.byteLength(body)).toBe(64 * 1024);
    const e = await runBefore(mw, requestOf(apiEvent({ method: 'POST', body })));
    // Not 413: the schema's length limit answers instead.
    expect(e).toMatchObject({ status: 400, code: 'invalid_field' });
  });

  it('refuses malformed JSON with 400 invalid_json', async () => {
    const e = await runBefore(mw, requestOf(apiEvent({ method: 'POST', body: '{"name": ' })));
    expect(e).toBeInstanceOf(AppError);
    expect(e).toMatchObject({
      status: 400,
      code: 'invalid_json',
      message: 'body: is not valid JSON',
    });
  });

  it.each(['[]', '"text"', '42', 'null'])(
    'refuses %s: the body must be a JSON object',
    async (b) => {
      const e = await runBefore(mw, requestOf(apiEvent({ method: 'POST', body: b })));
      expect(e).toMatchObject({ status: 400, message: 'body: must be a JSON object' });
    },
  );

  it('names the field of a schema error', async () => {
    const e = await runBefore(mw, requestOf(apiEvent({ method: 'POST', body: { name: '' } })));
    expect(e).toMatchObject({ status: 400, code: 'invalid_field' });
    expect((e as Error).message).toMatch(/^name: /);
  });

  it('names an unknown field', async () => {
    const e = await runBefore(
      mw,
      requestOf(apiEvent({ method: 'POST', body: { name: 'a', admin: true } })),
    );
    expect(e).toMatchObject({ status: 400, message: 'admin: unknown field admin' });
  });

  it('refuses a missing or blank body unless the route allows it', async () => {
    expect(await runBefore(mw, requestOf(apiEvent({ method: 'POST' })))).toMatchObject({
      status: 400,
      message: 'body: a JSON object is required',
    });
    expect(await runBefore(mw, requestOf(apiEvent({ method: 'POST', body: '  ' })))).toMatchObject({
      status: 400,
    });
  });

  it('treats a missing body as {} when emptyIsObject is set', async () => {
    const lenient = jsonBody({ schema: deliveredBody, emptyIsObject: true });
    const req = requestOf(apiEvent({ method: 'POST' }));
    expect(await runBefore(lenient, req)).toBeUndefined();
    expect(req.event.parsedBody).toEqual({});
  });

  it('honours a smaller maxBytes', async () => {
    const small = jsonBody({ schema: createPartnerBody, maxBytes: 10 });
    const e = await runBefore(
      small,
      requestOf(apiEvent({ method: 'POST', body: { name: '社区通' } })),
    );
    expect(e).toMatchObject({ status: 413, message: 'body: larger than 10 bytes' });
  });
});

describe('bodyLimit', () => {
  it('lets a body of up to 64 KiB through, and no body at all', async () => {
    const mw = bodyLimit();
    const fits = 'x'.repeat(64 * 1024);
    expect(
      await runBefore(mw, requestOf(apiEvent({ method: 'POST', body: fits }))),
    ).toBeUndefined();
    expect(await runBefore(mw, requestOf(apiEvent({ method: 'POST' })))).toBeUndefined();
  });

  it('answers 413 payload_too_large for a body over 64 KiB, counted in UTF-8 bytes', async () => {
    // 21,846 three-byte characters: under 64 Ki characters, over 64 KiB.
    const e = await runBefore(
      bodyLimit(),
      requestOf(apiEvent({ method: 'POST', body: '东'.repeat(21_846) })),
    );
    expect(e).toMatchObject({ status: 413, code: 'payload_too_large' });
  });

  it('counts a base64 body after decoding it, and honours a smaller maxBytes', async () => {
    const event = apiEvent({ method: 'POST' });
    event.body = Buffer.from('0123456789ab').toString('base64');
    event.isBase64Encoded = true;
    expect(await runBefore(bodyLimit({ maxBytes: 12 }), requestOf(event))).toBeUndefined();
    expect(await runBefore(bodyLimit({ maxBytes: 11 }), requestOf(event))).toMatchObject({
      status: 413,
      message: 'body: larger than 11 bytes',
    });
  });
});

describe('authenticate', () => {
  const partner: Principal = { kind: 'partner', id: 'ptn_1' };
  const resolve = vi.fn(async (secret: string) => (secret === 'good-key' ? partner : undefined));

  it('refuses a request without an Authorization header with 401', async () => {
    const mw = authenticate({ allow: ['partner'], resolve });
    const e = await runBefore(mw, requestOf(apiEvent()));
    expect(e).toMatchObject({ status: 401, code: 'unauthorized' });
    expect((e as Error).message).toMatch(/^Authorization: /);
  });

  it('refuses a header that is not a Bearer key with 401, without resolving it', async () => {
    resolve.mockClear();
    const mw = authenticate({ allow: ['partner'], resolve });
    const e = await runBefore(mw, requestOf(apiEvent({ headers: { authorization: 'Basic abc' } })));
    expect(e).toMatchObject({ status: 401 });
    expect(resolve).not.toHaveBeenCalled();
  });

  it('refuses an unknown key with 401', async () => {
    const mw = authenticate({ allow: ['partner'], resolve });
    const e = await runBefore(mw, requestOf(apiEvent({ key: 'bad-key' })));
    expect(e).toMatchObject({ status: 401, message: 'Authorization: unknown or revoked key' });
  });

  it('refuses a known key of the wrong kind with 403', async () => {
    const mw = authenticate({ allow: ['ops'], resolve });
    const e = await runBefore(mw, requestOf(apiEvent({ key: 'good-key' })));
    expect(e).toMatchObject({ status: 403, code: 'forbidden' });
  });

  it('passes the principal on to the handler', async () => {
    resolve.mockClear();
    const mw = authenticate({ allow: ['ops', 'partner'], resolve });
    const req = requestOf(apiEvent({ headers: { authorization: 'bearer   good-key ' } }));
    expect(await runBefore(mw, req)).toBeUndefined();
    expect(resolve).toHaveBeenCalledWith('good-key');
    expect(req.event.principal).toEqual(partner);
  });
});

describe('jsonErrors', () => {
  const run = async (error: unknown, log = vi.fn()) => {
    const handler = middy<APIGatewayProxyEventV2>()
      .use(jsonErrors({ log }))
      .handler(async () => {
        throw error;
      });
    return { res: await handler(apiEvent(), lambdaContext()), log };
  };

  it('turns an AppError into its status, code and message as contract JSON', async () => {
    const { res, log } = await run(new AppError(409, 'offer_taken', 'offerId: taken'));
    expect(res).toMatchObject({
      statusCode: 409,
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(bodyOf(res)).toEqual({ error: { code: 'offer_taken', message: 'offerId: taken' } });
    expect(log).not.toHaveBeenCalled();
  });

  it('turns anything else into 500 internal without leaking its message, and logs it', async () => {
    const secret = new Error('connect ECONNREFUSED 10.0.0.5 +8613800138000');
    const { res, log } = await run(secret);
    expect(res).toMatchObject({ statusCode: 500 });
    expect(bodyOf(res).error.code).toBe('internal');
    expect((res as { body: string }).body).not.toContain('ECONNREFUSED');
    expect((res as { body: string }).body).not.toContain('8613800138000');
    expect(log).toHaveBeenCalledWith(secret, expect.objectContaining({ version: '2.0' }));
  });

  it('leaves a successful response alone', async () => {
    const handler = middy<APIGatewayProxyEventV2>()
      .use(jsonErrors())
      .handler(async () => ({ statusCode: 204 }));
    expect(await handler(apiEvent(), lambdaContext())).toEqual({ statusCode: 204 });
  });
});
