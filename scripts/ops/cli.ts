import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { type ApiClient, apiClient, describeError } from './client.ts';
import { importVolunteers, maskPhone } from './import.ts';
import { formatReport } from './report.ts';

export const DEFAULT_ENDPOINT = 'http://localhost:3000';
export const DEV_OPS_KEY = 'dev-ops-key-change-me';

const USAGE = `npm run ops -- <command> [options]

Commands
  partner create <name>                 register a partner; prints its id and key (shown once)
  partner rotate <partnerId> [--grace-minutes n]
                                        new key; the old ones work n more minutes (default 60, 0: at once)
  partner revoke <partnerId>            revoke every key of a partner at once
  volunteers import <file.csv> [--tokens-out file]
                                        columns name, phone, community, skills, categories
                                        (skills/categories separated by ; or |); safe to run twice
  records export [--from d] [--to d] [--out file]
                                        service records for certificates (CSV), days inclusive
  stats [--from t] [--to t] [--json]    the daily report (default: the last 24 hours)

Options
  --endpoint url   or DISPATCH_ENDPOINT (default ${DEFAULT_ENDPOINT})
  --key key        or OPS_API_KEY (default the local development key)
`;

export interface Io {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
  /** Whether stderr is a terminal (progress redrawn in place). */
  tty?: boolean;
  fetch?: typeof fetch;
}

const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
  tty: process.stderr.isTTY,
};

/** Runs one command; returns the exit code (0 ok, 1 failed or rows rejected, 2 usage). */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    io.err(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    io.out(USAGE);
    return positionals.length === 0 && !values.help ? 2 : 0;
  }
  const endpoint = values.endpoint ?? io.env.DISPATCH_ENDPOINT ?? DEFAULT_ENDPOINT;
  const key = values.key ?? io.env.OPS_API_KEY ?? DEV_OPS_KEY;
  const api = apiClient(endpoint, key, io.fetch);
  const [group, action, arg] = positionals;
  try {
    switch (`${group} ${action ?? ''}`.trim()) {
      case 'partner create':
        return await partnerCreate(api, io, positionals.slice(2).join(' '));
      case 'partner rotate':
        return await partnerRotate(api, io, arg, values['grace-minutes']);
      case 'partner revoke':
        return await partnerRevoke(api, io, arg);
      case 'volunteers import':
        return await volunteersImport(api, io, arg, values['tokens-out']);
      case 'records export':
        return await recordsExport(api, io, values.from, values.to, values.out);
      case 'stats':
        return await stats(api, io, values.from, values.to, values.json ?? false);
      default:
        io.err(`unknown command: ${positionals.join(' ')}\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    io.err(`error: ${(e as Error).message}\n`);
    return 1;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      endpoint: { type: 'string' },
      key: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean' },
      'grace-minutes': { type: 'string' },
      'tokens-out': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function failed(io: Io, what: string, res: { status: number }, detail: string): number {
  io.err(`${what} failed: ${detail}\n`);
  if (res.status === 401) io.err('check --key / OPS_API_KEY\n');
  return 1;
}

async function partnerCreate(api: ApiClient, io: Io, name: string) {
  if (!name) {
    io.err('usage: partner create <name>\n');
    return 2;
  }
  const res = await api.call('POST', '/v1/partners', { name });
  if (res.status !== 201) return failed(io, 'partner create', res, describeError(res));
  io.out(`partner ${res.body.partnerId} (${name})\napiKey ${res.body.apiKey}\n`);
  io.err('The key is shown once: give it to the partner over a safe channel.\n');
  return 0;
}

async function partnerRotate(api: ApiClient, io: Io, id: string | undefined, grace?: string) {
  if (!id) {
    io.err('usage: partner rotate <partnerId> [--grace-minutes n]\n');
    return 2;
  }
  const body: { graceMinutes?: number } = {};
  if (grace !== undefined) {
    if (!/^\d+$/.test(grace)) {
      io.err('--grace-minutes: a whole number of minutes\n');
      return 2;
    }
    body.graceMinutes = Number(grace);
  }
  const res = await api.call('POST', `/v1/partners/${encodeURIComponent(id)}/keys`, body);
  if (res.status !== 201) return failed(io, 'partner rotate', res, describeError(res));
  io.out(
    `partner ${id}\napiKey ${res.body.apiKey}\nold keys valid until ${res.body.oldKeysValidUntil}\n`,
  );
  return 0;
}

async function partnerRevoke(api: ApiClient, io: Io, id: string | undefined) {
  if (!id) {
    io.err('usage: partner revoke <partnerId>\n');
    return 2;
  }
  const res = await api.call('POST', `/v1/partners/${encodeURIComponent(id)}/revoke`);
  if (res.status !== 200) return failed(io, 'partner revoke', res, describeError(res));
  io.out(`partner ${id}: ${res.body.revokedKeys} key(s) revoked at ${res.body.revokedAt}\n`);
  return 0;
}

async function volunteersImport(
  api: ApiClient,
  io: Io,
  file: string | undefined,
  tokensOut: string | undefined,
) {
  if (!file) {
    io.err('usage: volunteers import <file.csv>\n');
    return 2;
  }
  let lastShown = 0;
  const report = await importVolunteers(api, file, {
    onProgress(done, total) {
      if (io.tty) io.err(`\rregistering ${done}/${total}`);
      else if (done === total || done - lastShown >= 100) {
        io.err(`registered ${done}/${total}\n`);
        lastShown = done;
      }
      if (io.tty && done === total) io.err('\n');
    },
  });
  for (const r of report.rejected) io.out(`line ${r.line}: rejected: ${r.reason}\n`);
  for (const k of report.known)
    io.out(`line ${k.line}: already registered (${maskPhone(k.phone)})\n`);
  if (tokensOut && report.imported.length) {
    // The volunteers' app tokens are shown once, at registration.
    const lines = [
      'line,phone,volunteerId,token',
      ...report.imported.map((i) => `${i.line},${i.phone},${i.volunteerId},${i.token}`),
    ];
    await writeFile(tokensOut, `${lines.join('\n')}\n`, { mode: 0o600 });
    io.err(`tokens of the new volunteers written to ${tokensOut}\n`);
  }
  io.out(
    `${report.rows} rows: ${report.imported.length} imported, ${report.known.length} already registered, ${report.rejected.length} rejected\n`,
  );
  return report.rejected.length ? 1 : 0;
}

async function recordsExport(
  api: ApiClient,
  io: Io,
  from: string | undefined,
  to: string | undefined,
  out: string | undefined,
) {
  const q = new URLSearchParams();
  if (from) q.set('from', from);
  if (to) q.set('to', to);
  const res = await api.call('GET', `/v1/records${q.size ? `?${q}` : ''}`);
  if (res.status !== 200) return failed(io, 'records export', res, describeError(res));
  const rows = res.text.split('\r\n').filter(Boolean).length - 1;
  if (out) {
    // fetch's text() drops the byte-order mark; spreadsheet programs need it for Chinese.
    await writeFile(out, res.text.startsWith('\uFEFF') ? res.text : `\uFEFF${res.text}`);
    io.err(`${rows} volunteer(s) written to ${out}\n`);
  } else io.out(res.text);
  return 0;
}

async function stats(
  api: ApiClient,
  io: Io,
  from: string | undefined,
  to: string | undefined,
  asJson: boolean,
) {
  const q = new URLSearchParams();
  if (from) q.set('from', from);
  if (to) q.set('to', to);
  const [res, communities] = await Promise.all([
    api.call('GET', `/v1/stats${q.size ? `?${q}` : ''}`),
    api.call('GET', '/v1/communities'),
  ]);
  if (res.status !== 200) return failed(io, 'stats', res, describeError(res));
  if (asJson) {
    io.out(`${JSON.stringify(res.body, null, 2)}\n`);
    return 0;
  }
  const names =
    communities.status === 200
      ? {
          district: communities.body.name ?? communities.body.district,
          communities: communities.body.communities,
        }
      : { district: api.endpoint, communities: [] };
  io.out(formatReport(res.body, names));
  return 0;
}
