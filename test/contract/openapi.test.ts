import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { KINDS } from '../../shared/district.ts';
import { ROUTES } from '../../shared/resources.ts';

const spec = parse(readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8'));
const contract = readFileSync(
  new URL('../../../shared/partner-api-v1.md', import.meta.url),
  'utf8',
);

const specRoutes = Object.entries(spec.paths as Record<string, Record<string, unknown>>)
  .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
  .sort();
const codeRoutes = ROUTES.map((r) => `${r.method} ${r.path}`).sort();
const contractRoutes = [
  ...contract.matchAll(/^\| (GET|POST|PATCH|PUT|DELETE) (\/v1\/[^\s?]+)\S* \|/gm),
]
  .map((m) => `${m[1]} ${m[2]}`)
  .sort();

describe('openapi.yaml', () => {
  it('describes exactly the routes the code serves', () => {
    expect(specRoutes).toEqual(codeRoutes);
  });

  it('covers every route of the partner contract', () => {
    expect(contractRoutes.length).toBeGreaterThan(10);
    for (const route of contractRoutes) expect(specRoutes).toContain(route);
  });

  it('lists the same kinds of request as the code', () => {
    expect(spec.components.schemas.Kind.enum).toEqual([...KINDS]);
  });

  it('declares the Idempotency-Key header as required on POST /v1/requests', () => {
    const header = spec.paths['/v1/requests'].post.parameters.find(
      (p: { name: string }) => p.name === 'Idempotency-Key',
    );
    expect(header).toMatchObject({ in: 'header', required: true });
  });

  it('leaves only the health route open to anyone', () => {
    const open = Object.entries(
      spec.paths as Record<string, Record<string, { security?: [] }>>,
    ).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => Array.isArray(op.security) && op.security.length === 0)
        .map(([m]) => `${m.toUpperCase()} ${path}`),
    );
    const anyone = ROUTES.filter((r) => r.who.includes('anyone')).map(
      (r) => `${r.method} ${r.path}`,
    );
    expect(open).toEqual(anyone);
  });

  it('signs the SMS provider routes with the provider signature instead of a key', () => {
    const signed = Object.entries(
      spec.paths as Record<string, Record<string, { security?: Record<string, []>[] }>>,
    ).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => op.security?.some((s) => 'smsProviderSignature' in s))
        .map(([m]) => `${m.toUpperCase()} ${path}`),
    );
    const provider = ROUTES.filter((r) => r.who.includes('sms-provider')).map(
      (r) => `${r.method} ${r.path}`,
    );
    expect(provider).toEqual(['POST /v1/sms/replies']);
    expect(signed).toEqual(provider);
  });
});
