/**
 * zod for the project's schemas: `zod/mini`, zod 4's functional API over the same core as
 * classic `zod`, whose chained methods pull far more of zod into every bundle that builds
 * a schema and cost it import time. Schema modules import it as
 * `import * as z from '…/zod.ts'`, never 'zod/mini' itself, so the locale below is set
 * before any schema is built; a namespace import keeps the bundle to what they use
 * (`import { z }` or `z.locales` would bring every zod locale in).
 *
 * zod/mini sets no locale: without English every message would read "Invalid input",
 * and the 400s clients see (schemas/issues.ts) quote these messages.
 */
import { en } from 'zod/locales';
import { config } from 'zod/mini';

config(en());

export * from 'zod/mini';
