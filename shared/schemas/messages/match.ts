import * as z from 'zod';

export const matchMessage = z.object({ requestId: z.string() });

export type MatchMessage = z.infer<typeof matchMessage>;
