/** The ops command line: `npm run ops -- <command>` (see scripts/ops/cli.ts, or `--help`). */
import { main } from './ops/cli.ts';

process.exitCode = await main(process.argv.slice(2));
