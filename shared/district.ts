import * as z from 'zod';

/** Kinds of request, as the partner contract lists them. */
export const KINDS = [
  'groceries',
  'medicine',
  'meal',
  'counseling',
  'site_duty',
  'screening',
  'disinfection',
  'escort',
  'haircut',
  'other',
] as const;
export type Kind = (typeof KINDS)[number];

/** Languages of SMS and push texts. */
export const LANGUAGES = ['zh-CN', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];

/** Every message the system sends (shared/domain/texts.ts). */
export const TEMPLATE_NAMES = [
  'offer',
  'offer_withdrawn',
  'request_cancelled',
  'volunteer_assigned',
  'goods_at_door',
  'task_assigned',
  'reply_unknown',
  'reply_accepted',
  'reply_declined',
  'reply_rejected',
  'reply_confirmed',
] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

const id = z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'lowercase letters, digits and dashes');

export const communitySchema = z.strictObject({ communityId: id, name: z.string().min(1) });
export const townSchema = z.strictObject({
  townId: id,
  name: z.string().min(1),
  communities: z.array(communitySchema).min(1),
});

/** One district's settings: the single input of a district stack and of the local stack. */
export const districtSchema = z
  .strictObject({
    id,
    name: z.string().min(1),
    /** Demo districts may be torn down freely; real ones get deletion protection. */
    demo: z.boolean().default(false),
    /** AWS region the stack deploys to (China regions have no SNS SMS or push). */
    region: z.string().default('ap-east-1'),
    towns: z.array(townSchema).min(1),
    sms: z
      .strictObject({
        /** `sns`: SNS Publish to a phone number; `https`: a domestic SMS provider (China regions). */
        provider: z.enum(['sns', 'https']).default('sns'),
        senderId: z.string().max(11).optional(),
        originationNumber: z.string().optional(),
        httpsEndpoint: z.url().optional(),
        monthlySpendLimitUsd: z.number().positive().default(100),
        /** At most this many SMS per request (offers and the requester's messages together). */
        maxPerRequest: z.number().int().min(1).max(100).default(8),
        /** At most this many SMS per clock hour in the district; over it, push or nothing (ops alerted). */
        maxPerHour: z.number().int().min(1).default(300),
        /** Price of one SMS part, to alarm at 80% of the monthly spend limit (per day). */
        pricePerMessageUsd: z.number().positive().default(0.02),
      })
      .default({
        provider: 'sns',
        monthlySpendLimitUsd: 100,
        maxPerRequest: 8,
        maxPerHour: 300,
        pricePerMessageUsd: 0.02,
      }),
    /** How people are told: language, local time (quiet hours), urgent fallback, texts. */
    notifications: z
      .strictObject({
        /** Language of every SMS and push unless a volunteer chose another. */
        language: z.enum(LANGUAGES).default('zh-CN'),
        /** The district's offset from UTC in minutes (China: 480); quiet hours are local time. */
        utcOffsetMinutes: z.number().int().min(-720).max(840).default(480),
        /** An urgent offer sent by push and still open after this long goes again by SMS. */
        urgentSmsAfterSeconds: z.number().int().min(1).max(900).default(60),
        /** Per language, texts replacing the built-in ones; `{param}` is filled from the event. */
        templates: z
          .partialRecord(
            z.enum(LANGUAGES),
            z.partialRecord(z.enum(TEMPLATE_NAMES), z.string().min(1).max(300)),
          )
          .default({}),
      })
      .default({
        language: 'zh-CN',
        utcOffsetMinutes: 480,
        urgentSmsAfterSeconds: 60,
        templates: {},
      }),
    offers: z
      .strictObject({
        timeoutSeconds: z.number().int().min(1).max(900).default(120),
        batchSize: z.number().int().min(1).max(20).default(3),
      })
      .default({ timeoutSeconds: 120, batchSize: 3 }),
    volunteers: z
      .strictObject({ defaultCapacity: z.number().int().min(1).max(50).default(3) })
      .default({ defaultCapacity: 3 }),
    /** Scopes tried in order; after the last one ops are alerted for manual dispatch. */
    escalation: z
      .array(z.enum(['community', 'town', 'district']))
      .min(1)
      .default(['community', 'town', 'district']),
    /** Partner callbacks: a failed POST is retried after base, 2×base, 4×base… (at most 900 s). */
    callbacks: z
      .strictObject({
        retryBaseSeconds: z.number().int().min(1).max(900).default(30),
        maxAttempts: z.number().int().min(1).max(20).default(8),
      })
      .default({ retryBaseSeconds: 30, maxAttempts: 8 }),
    retentionDays: z.number().int().min(1).max(3650).default(90),
    autoConfirmHours: z.number().int().min(1).max(720).default(48),
    alarms: z
      .strictObject({ email: z.email().optional(), topicArn: z.string().optional() })
      .default({}),
    rateLimits: z
      .strictObject({ partnerRequestsPerMinute: z.number().int().min(1).default(600) })
      .default({ partnerRequestsPerMinute: 600 }),
    /** Service points credited per confirmed task, by kind (文明银行积分). */
    points: z.partialRecord(z.enum(KINDS), z.number().int().min(0)).default({}),
    /**
     * Per kind: volunteer categories offered first (a women's team for some kinds, party
     * members for checkpoint duty) and credentials a volunteer must hold, unexpired,
     * when the offer is made (a negative test within 48 hours for site duty).
     */
    kinds: z
      .partialRecord(
        z.enum(KINDS),
        z.strictObject({
          preferCategories: z.array(z.string()).default([]),
          requireCredentials: z.array(z.string()).default([]),
        }),
      )
      .default({}),
  })
  .superRefine((d, ctx) => {
    const seen = new Set<string>();
    d.towns.forEach((t, ti) => {
      for (const [ci, c] of t.communities.entries()) {
        if (seen.has(c.communityId)) {
          ctx.addIssue({
            code: 'custom',
            path: ['towns', ti, 'communities', ci, 'communityId'],
            message: `duplicate communityId ${c.communityId}`,
          });
        }
        seen.add(c.communityId);
      }
    });
  });

export type District = z.infer<typeof districtSchema>;

/** Parses a district config, throwing an error that names the source and the field. */
export function parseDistrict(raw: unknown, source: string): District {
  const result = districtSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new Error(`invalid district config ${source}: ${issues}`);
  }
  return result.data;
}

export interface CommunityRef {
  communityId: string;
  townId: string;
  name: string;
}

export function communitiesOf(d: District): CommunityRef[] {
  return d.towns.flatMap((t) =>
    t.communities.map((c) => ({ communityId: c.communityId, townId: t.townId, name: c.name })),
  );
}
