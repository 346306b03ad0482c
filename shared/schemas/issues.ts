import type { z } from 'zod/mini';

// Apart from api.ts: every route's body check reads this, and importing api.ts builds every
// route's schema (zod schemas are built when their module loads), even in routes with no body.

/** Turns the first zod issue into a message that names the field. */
export function describeIssue(
  error: z.core.$ZodError,
  root = 'body',
): { field: string; message: string } {
  const issue = error.issues[0];
  let field = issue.path.length ? issue.path.join('.') : root;
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.join(', ');
    field = issue.path.length ? `${issue.path.join('.')}.${issue.keys[0]}` : issue.keys[0];
    message = `unknown field ${keys}`;
  } else if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) {
    // zod 4 keeps the input only with reportInput; its message says what it received.
    message = 'is required';
  }
  return { field, message };
}
