/**
 * `npm run bench`: runs every benchmark and writes bench/results.json and
 * docs/benchmarks.md (figures, the command, budgets pass/fail). Not part of `npm test`.
 *
 * Bundles are measured in this process; each other part runs in its own process
 * (`tsx bench/part.ts <part>`), because a local stack is one per process and the
 * matching bench points the shared DynamoDB client at its own server.
 * `BENCH_ONLY=bundles,lifecycle,...` runs a subset (the doc then lacks the rest).
 */
import { execSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchBundles, bundleVariants } from './bundles.ts';
import type { IntakeFigures } from './intake.ts';
import type { LifecycleFigures } from './lifecycle.ts';
import type { MatchFigures } from './matching.ts';
import { type Results, renderMarkdown } from './report.ts';

const COMMAND = 'npm run bench';
const log = (s: string) => console.log(s);
const started = Date.now();
const only = process.env.BENCH_ONLY?.split(',');
const wanted = (p: string) => !only || only.includes(p);

const tsx = fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url));
const partScript = fileURLToPath(new URL('./part.ts', import.meta.url));
const tmp = mkdtempSync(join(os.tmpdir(), 'bench-'));

function machineLoad(): { loadavg: number[]; busiest: string[] } {
  let busiest: string[] = [];
  try {
    busiest = execSync('ps -eo pcpu,args --sort=-pcpu', { encoding: 'utf8' })
      .split('\n')
      .slice(1, 7)
      .map((l) => l.trim().slice(0, 110))
      .filter((l) => l && !l.startsWith('0.0'));
  } catch {}
  return { loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100), busiest };
}

async function part<T>(
  name: string,
): Promise<{ figures: T; seconds: number; load: ReturnType<typeof machineLoad> }> {
  const out = join(tmp, `${name}.json`);
  const load = machineLoad();
  log(`${name} (load average ${load.loadavg.join(', ')})`);
  const t0 = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [tsx, partScript, name, out], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${name} exited ${code}`)),
    );
  });
  return {
    figures: JSON.parse(readFileSync(out, 'utf8')) as T,
    seconds: (Date.now() - t0) / 1000,
    load,
  };
}

const previous: Partial<Results> = existsSync(new URL('./results.json', import.meta.url))
  ? JSON.parse(readFileSync(new URL('./results.json', import.meta.url), 'utf8'))
  : {};
const loadAtStart = machineLoad();
/** The code measured: HEAD plus whatever is uncommitted in the working tree (shared with others). */
function codeState() {
  try {
    const head = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
    const dirty = execSync('git status --porcelain -- shared functions local infra', {
      encoding: 'utf8',
    })
      .split('\n')
      .filter(Boolean).length;
    return { head, uncommittedFilesInCode: dirty };
  } catch {
    return undefined;
  }
}
const results: Results = {
  at: new Date().toISOString(),
  command: COMMAND,
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
  loadAtStart,
  code: codeState(),
  parts: {},
  prices: JSON.parse(readFileSync(new URL('./prices.json', import.meta.url), 'utf8')),
};
try {
  if (wanted('bundles')) {
    const load = machineLoad();
    log(`bundles (load average ${load.loadavg.join(', ')})`);
    const t0 = Date.now();
    const bundles = await benchBundles(log);
    const largest = [...bundles].sort((a, b) => b.bytes - a.bytes)[0];
    results.bundles = bundles;
    results.bundleVariants = await bundleVariants(largest.name);
    results.parts.bundles = { seconds: (Date.now() - t0) / 1000, load };
  }
  if (wanted('lifecycle')) {
    const r = await part<LifecycleFigures>('lifecycle');
    results.lifecycle = r.figures;
    results.parts.lifecycle = { seconds: r.seconds, load: r.load };
  }
  if (wanted('intake-alone')) {
    const r = await part<IntakeFigures>('intake-alone');
    results.intakeAlone = r.figures;
    results.parts['intake-alone'] = { seconds: r.seconds, load: r.load };
  }
  if (wanted('intake')) {
    const r = await part<IntakeFigures>('intake');
    results.intake = r.figures;
    results.parts.intake = { seconds: r.seconds, load: r.load };
  }
  if (wanted('matching')) {
    const r = await part<MatchFigures[]>('matching');
    results.matching = r.figures;
    results.parts.matching = { seconds: r.seconds, load: r.load };
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
// A subset run keeps the other parts' figures from the last full run.
for (const k of [
  'bundles',
  'bundleVariants',
  'lifecycle',
  'intake',
  'intakeAlone',
  'matching',
] as const)
  if (results[k] === undefined && previous[k] !== undefined) {
    (results as unknown as Record<string, unknown>)[k] = previous[k];
    if (previous.parts)
      Object.assign(
        results.parts,
        Object.fromEntries(Object.entries(previous.parts).filter(([p]) => !results.parts[p])),
      );
  }
results.loadAtEnd = machineLoad();
results.totalSeconds = (Date.now() - started) / 1000;

const docUrl = new URL('../docs/benchmarks.md', import.meta.url);
const old = existsSync(docUrl) ? readFileSync(docUrl, 'utf8') : '';
// Rendering also fills results.cost.
const { markdown, failures } = renderMarkdown(results, old);
writeFileSync(new URL('./results.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(docUrl, markdown);
log(`wrote bench/results.json and docs/benchmarks.md in ${results.totalSeconds.toFixed(0)} s`);
if (failures.length) log(`budgets missed:\n  ${failures.join('\n  ')}`);
else log('every budget met');
