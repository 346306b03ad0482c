/**
 * Per function: the bundle the CDK construct builds (esbuild, the settings of
 * infra/constructs/dispatch-function.ts: ESM, platform node, target node22, minified,
 * main fields module/main, the createRequire banner and the district config banner and
 * define; `@aws-sdk/*` external, as `bundleAwsSDK: false` makes it: Lambda's nodejs22.x
 * runtime provides it) and its cold import time: a fresh `node` process per function
 * imports the bundle and reports how long the import took (median of 5 processes; `KEEP_BUNDLES=1` keeps them in node_modules/.cache).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, build, type Plugin } from 'esbuild';

export interface BundleFigures {
  name: string;
  bytes: number;
  /** Top inputs by bytes in the minified output. */
  top: { path: string; bytes: number }[];
  coldImportMs: number;
  runs: number[];
  /**
   * The `@aws-sdk/*` packages the bundle imports (the runtime's, loaded from outside the
   * bundle): `static` when the bundle loads, `dynamic` on first use (`import()`).
   */
  sdk?: { static: string[]; dynamic: string[] };
  error?: string;
}

const ROOT = fileURLToPath(new URL('../', import.meta.url));
// Copied from infra/constructs/dispatch-function.ts (importing it would load aws-cdk-lib).
const ESM_REQUIRE_BANNER =
  "import { createRequire as __dispatchCreateRequire } from 'node:module'; const require = __dispatchCreateRequire(import.meta.url);";

/** What-if builds of one function, to size the fixes (not budgets). */
export interface BundleVariant {
  name: string;
  variant: string;
  bytes: number;
}

/** Replaces zod's locales index (every language, ~260 KB minified) with English only. */
const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(b) {
    b.onLoad({ filter: /zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, (args) => ({
      contents: 'export { default as en } from "./en.js";',
      resolveDir: dirname(args.path),
    }));
  },
};

/** The `@aws-sdk/*` packages a built bundle imports, statically and by `import()`. */
export function sdkImports(code: string): { static: string[]; dynamic: string[] } {
  const names = (re: RegExp) =>
    [...new Set([...code.matchAll(re)].map((m) => m[1].replace('@aws-sdk/', '')))].sort();
  return {
    static: names(/(?:\bfrom\s*|\bimport\s*)["'](@aws-sdk\/[^"']+)["']/g),
    dynamic: names(/\bimport\(\s*["'](@aws-sdk\/[^"']+)["']\s*\)/g),
  };
}

/** The construct's esbuild settings for one function (infra/constructs/dispatch-function.ts). */
function constructOptions(name: string, config: string): BuildOptions {
  return {
    entryPoints: [join(ROOT, 'functions', `${name}.ts`)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    mainFields: ['module', 'main'],
    banner: { js: `${ESM_REQUIRE_BANNER} process.env.DISTRICT_CONFIG = ${config};` },
    define: { 'process.env.DISTRICT_CONFIG': config },
    tsconfig: join(ROOT, 'tsconfig.json'),
    // bundleAwsSDK: false — Lambda's nodejs22.x runtime provides it.
    external: ['@aws-sdk/*'],
    logLevel: 'silent',
  };
}

const demoConfig = () =>
  JSON.stringify(
    JSON.stringify(JSON.parse(readFileSync(join(ROOT, 'infra/districts/demo.json'), 'utf8'))),
  );

export async function bundleVariants(name: string): Promise<BundleVariant[]> {
  const base: BuildOptions = {
    ...constructOptions(name, demoConfig()),
    write: false,
    outfile: join(os.tmpdir(), 'variant.mjs'),
  };
  const size = async (o: BuildOptions) =>
    (await build({ ...base, ...o })).outputFiles?.reduce(
      (s, f) => s + (f.path.endsWith('.mjs') ? f.contents.length : 0),
      0,
    ) ?? 0;
  return [
    { name, variant: 'as the construct builds it', bytes: await size({}) },
    {
      name,
      variant: 'zod locales: English only',
      bytes: await size({ plugins: [zodEnglishOnly] }),
    },
    {
      name,
      variant: 'AWS SDK bundled (as before bundleAwsSDK: false)',
      bytes: await size({ external: [] }),
    },
  ];
}

export async function benchBundles(log: (s: string) => void): Promise<BundleFigures[]> {
  const district = JSON.parse(readFileSync(join(ROOT, 'infra/districts/demo.json'), 'utf8'));
  const config = demoConfig();
  // Inside the repository, so the bundles' external `@aws-sdk/*` imports resolve from
  // node_modules as they do from the runtime's own modules in Lambda.
  const cache = join(ROOT, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'bench-bundles-'));
  const names = readdirSync(join(ROOT, 'functions'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
  const figures: BundleFigures[] = [];
  try {
    for (const name of names) {
      const outfile = join(dir, name, 'index.mjs');
      const result = await build({ ...constructOptions(name, config), outfile, metafile: true });
      const bytes = statSync(outfile).size;
      const sdk = sdkImports(readFileSync(outfile, 'utf8'));
      const inputs: Record<string, number> = {};
      for (const out of Object.values(result.metafile.outputs))
        for (const [path, i] of Object.entries(out.inputs)) {
          const m = path.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
          const zodPart = path.match(/node_modules\/zod\/(?:v4\/)?(locales|classic|core|mini)\//);
          const key = zodPart
            ? `zod/${zodPart[1]}`
            : m
              ? m[1]
              : path.split('/').slice(0, 2).join('/');
          inputs[key] = (inputs[key] ?? 0) + i.bytesInOutput;
        }
      const top = Object.entries(inputs)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 6)
        .map(([path, b]) => ({ path, bytes: b }));
      const runs: number[] = [];
      let error: string | undefined;
      const script = `const t=performance.now();await import(${JSON.stringify(`file://${outfile}`)});console.log(performance.now()-t);`;
      for (let i = 0; i < 5 && !error; i++) {
        const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
          env: {
            PATH: process.env.PATH,
            AWS_REGION: 'us-east-1',
            AWS_ACCESS_KEY_ID: 'x',
            AWS_SECRET_ACCESS_KEY: 'x',
            TABLE_NAME: 'bench',
            DISTRICT_ID: district.id,
            POWERTOOLS_SERVICE_NAME: 'volunteer-dispatch',
            POWERTOOLS_METRICS_DISABLED: 'true',
          },
          encoding: 'utf8',
        });
        if (r.status !== 0) error = (r.stderr || r.stdout).split('\n').slice(0, 3).join(' ');
        else runs.push(Number(r.stdout.trim().split('\n').pop()));
      }
      const coldImportMs = runs.length
        ? [...runs].sort((a, b) => a - b)[Math.floor(runs.length / 2)]
        : Number.NaN;
      figures.push({ name, bytes, top, coldImportMs, runs, error, sdk });
      log(
        `  ${name}: ${(bytes / 1024).toFixed(0)} KB, cold import ${coldImportMs.toFixed(0)} ms${error ? ` (${error})` : ''}`,
      );
    }
  } finally {
    if (!process.env.KEEP_BUNDLES) rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}
