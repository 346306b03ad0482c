/**
 * Runs one benchmark part in this process and writes its figures as JSON to the file
 * given: `tsx bench/part.ts <matching|lifecycle|intake|intake-alone> <out.json>`. bench/run.ts runs
 * each part in its own process: the local stack (and the matching bench, which points
 * the shared DynamoDB client at its own server) are one per process.
 */
import { writeFileSync } from 'node:fs';

const [part, out] = process.argv.slice(2);
const log = (s: string) => console.log(s);
let figures: unknown;
switch (part) {
  case 'matching':
    figures = await (await import('./matching.ts')).benchMatching(log);
    break;
  case 'lifecycle':
    figures = await (await import('./lifecycle.ts')).benchLifecycle(log);
    break;
  case 'intake':
    figures = await (await import('./intake.ts')).benchIntake(log, true);
    break;
  case 'intake-alone':
    figures = await (await import('./intake.ts')).benchIntake(log, false);
    break;
  default:
    throw new Error(`unknown part ${part}`);
}
writeFileSync(out, JSON.stringify(figures));
process.exit(0);
