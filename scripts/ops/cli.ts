import { open, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { maskPhone } from '../../shared/masking.ts';
import { type ApiClient, apiClient, describeError } from './client.ts';
import {
  complete,
  type ImportReport,
  importVolunteers,
  lineRanges,
  type Registered,
} from './import.ts';
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
                                        (skills/categories separated by ; or |); safe to run twice;
                                        each new volunteer's token is appended to the file at once
  volunteers token <volunteerId> [--grace-minutes n]
                                        a new app token (one lost); the old ones stop at once
                                        (or after n minutes)
  records export [--from d] [--to d] [--out file]
                                        service records for certificates (CSV), days inclusive
  stats [--from t] [--to t] [--json]    the daily report (default: the last 24 hours)

Options
  --endpoint url   or DISPATCH_ENDPOINT (default ${DEFAULT_ENDPOINT})
  --key key        or OPS_API_KEY (default the local development key)

Exit status: 0 done, 1 failed or rows rejected, 2 usage, 3 import incomplete (rows to run again)
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

/**
 * Runs one command; returns the exit code (0 ok, 1 failed or rows rejected, 2 usage, 3 an
 * import that stopped or left rows unregistered: `INCOMPLETE`).
 */
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
      case 'volunteers token':
        return await volunteerToken(api, io, arg, values['grace-minutes']);
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

/** `--grace-minutes` as a request body; undefined (the problem printed) when not a whole number. */
function graceBody(io: Io, grace: string | undefined): { graceMinutes?: number } | undefined {
  if (grace === undefined) return {};
  if (!/^\d+$/.test(grace)) {
    io.err('--grace-minutes: a whole number of minutes\n');
    return undefined;
  }
  return { graceMinutes: Number(grace) };
}

async function partnerRotate(api: ApiClient, io: Io, id: string | undefined, grace?: string) {
  if (!id) {
    io.err('usage: partner rotate <partnerId> [--grace-minutes n]\n');
    return 2;
  }
  const body = graceBody(io, grace);
  if (!body) return 2;
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

export const INCOMPLETE = 3;

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
  // The volunteers' app tokens are shown once, at registration: each is appended to the
  // file as soon as it is issued (a file from an earlier run is kept, not overwritten),
  // so a run that stops or is killed loses none. Opened first: a path that cannot be
  // written stops the import before anyone is registered.
  const tokens = tokensOut ? await openTokensFile(tokensOut) : undefined;
  const unsaved: Registered[] = [];
  let lastShown = 0;
  let shown = 0;
  let report: ImportReport;
  try {
    report = await importVolunteers(api, file, {
      async onRegistered(r) {
        if (!tokens) return;
        try {
          await tokens.append(r);
        } catch (e) {
          unsaved.push(r);
          throw new Error(`cannot write ${tokensOut}: ${(e as Error).message}`);
        }
      },
      onProgress(done, total) {
        shown = done;
        if (io.tty) io.err(`\rregistering ${done}/${total}`);
        else if (done === total || done - lastShown >= 100) {
          io.err(`registered ${done}/${total}\n`);
          lastShown = done;
        }
        if (io.tty && done === total) io.err('\n');
      },
    });
  } finally {
    await tokens?.close();
  }
  if (io.tty && shown > 0 && report.notAttempted.length > 0) io.err('\n');
  const outcomes = [
    ...report.rejected.map((r) => ({ line: r.line, text: `rejected: ${r.reason}` })),
    ...report.known.map((k) => ({
      line: k.line,
      text: `already registered (${maskPhone(k.phone)})${k.volunteerId ? ` as ${k.volunteerId}` : ''}`,
    })),
    ...report.failed.map((f) => ({
      line: f.line,
      text: `${f.maybeApplied ? 'outcome unknown' : 'failed'}: ${f.reason}`,
    })),
    ...report.notAttempted.map((n) => ({ line: n.line, text: 'not attempted (the run stopped)' })),
  ].sort((a, b) => a.line - b.line);
  for (const o of outcomes) io.out(`line ${o.line}: ${o.text}\n`);
  const saved = report.imported.length - unsaved.length;
  if (tokens && saved > 0) io.err(`tokens of ${saved} new volunteer(s) written to ${tokensOut}\n`);
  if (unsaved.length) {
    // Last resort: these tokens exist nowhere else.
    io.err(`could not write these tokens to ${tokensOut}; keep them now (shown once):\n`);
    for (const r of unsaved) io.out(`line ${r.line}: token ${r.volunteerId} ${r.token}\n`);
  }
  if (!tokens && report.imported.length) {
    io.err(
      `${report.imported.length} new volunteer(s) got tokens that were not kept (no --tokens-out): ` +
        `give each a new one with \`volunteers token <volunteerId>\`: ` +
        `${report.imported.map((r) => `line ${r.line} ${r.volunteerId}`).join(', ')}\n`,
    );
  }
  const extra = [
    report.failed.length ? `, ${report.failed.length} failed` : '',
    report.notAttempted.length ? `, ${report.notAttempted.length} not attempted` : '',
  ].join('');
  io.out(
    `${report.rows} rows: ${report.imported.length} imported, ${report.known.length} already registered, ${report.rejected.length} rejected${extra}\n`,
  );
  for (const k of report.known.filter((k) => k.afterRetry)) {
    io.err(
      `line ${k.line}: this run's own first attempt may have registered it and lost the token; ` +
        `if the volunteer has none: \`volunteers token ${k.volunteerId ?? '<volunteerId>'}\`\n`,
    );
  }
  if (!complete(report)) {
    const again = [...report.failed, ...report.notAttempted].map((r) => r.line);
    io.err(
      `import incomplete${report.stopped ? `: stopped after ${report.stopped}` : ''}\n` +
        `rows not registered: line(s) ${lineRanges(again)}. Run the same command again` +
        `${tokensOut ? ` (the same --tokens-out: tokens are appended)` : ''} once the cause is fixed: ` +
        'rows registered by now are reported "already registered" and skipped.\n',
    );
    const unknown = report.failed.filter((f) => f.maybeApplied).map((f) => f.line);
    if (unknown.length) {
      io.err(
        `line(s) ${lineRanges(unknown)} may have been registered without their token reaching ` +
          'this run: if the next run reports one "already registered … as <volunteerId>", ' +
          'give it a token with `volunteers token <volunteerId>`.\n',
      );
    }
    return INCOMPLETE;
  }
  return report.rejected.length ? 1 : 0;
}

/** The tokens file, appended to one line per registration (`line,phone,volunteerId,token`). */
async function openTokensFile(path: string) {
  const handle = await open(path, 'a', 0o600);
  let writes = Promise.resolve();
  const write = (text: string) => {
    writes = writes.then(async () => {
      await handle.appendFile(text);
      await handle.datasync();
    });
    return writes;
  };
  if ((await handle.stat()).size === 0) await write('line,phone,volunteerId,token\n');
  return {
    append: (r: Registered) => write(`${r.line},${r.phone},${r.volunteerId},${r.token}\n`),
    close: async () => {
      await writes.catch(() => {});
      await handle.close();
    },
  };
}

async function volunteerToken(api: ApiClient, io: Io, id: string | undefined, grace?: string) {
  if (!id) {
    io.err('usage: volunteers token <volunteerId> [--grace-minutes n]\n');
    return 2;
  }
  const body = graceBody(io, grace);
  if (!body) return 2;
  const res = await api.call('POST', `/v1/volunteers/${encodeURIComponent(id)}/tokens`, body);
  if (res.status !== 201) return failed(io, 'volunteers token', res, describeError(res));
  io.out(
    `volunteer ${id}\ntoken ${res.body.token}\nold tokens valid until ${res.body.oldTokensValidUntil}\n`,
  );
  io.err('The token is shown once: give it to the volunteer over a safe channel.\n');
  if (res.body.oldTokenUntracked) {
    io.err(
      'warning: this volunteer was registered before tokens were recorded: their first token ' +
        'cannot be revoked and still works.\n',
    );
  }
  return 0;
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
