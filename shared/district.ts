import * as z from './zod.ts';

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

const id = z
  .string()
  .check(z.regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'lowercase letters, digits and dashes'));

export const communitySchema = z.strictObject({
  communityId: id,
  name: z.string().check(z.minLength(1)),
});
export const townSchema = z.strictObject({
  townId: id,
  name: z.string().check(z.minLength(1)),
  communities: z.array(communitySchema).check(z.minLength(1)),
});

/** A zod error for a missing field that says what to put there; other errors as zod words them. */
const required = (what: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? `is required: ${what}` : undefined;

const ALARMS_NEEDED =
  'name an "email" (a topic is created and the address subscribed) or a "topicArn" (an existing SNS topic in the district\'s region)';

/** China regions (Beijing cn-north-1, Ningxia cn-northwest-1): no SNS SMS, no SNS mobile push. */
export const isChinaRegion = (region: string) => region.startsWith('cn-');

/**
 * Whether the district can send push notifications: SNS mobile push, in districts that send
 * SMS through SNS. An `https` district (China regions) has no SNS push, and its notifier no
 * SNS permission but the alert topic: volunteers there are reached by SMS only.
 */
export const pushAvailable = (d: { sms: { provider: 'sns' | 'https' } }) =>
  d.sms.provider === 'sns';

interface CrossFieldInput {
  region?: unknown;
  sms?: { provider?: unknown; httpsEndpoint?: unknown };
  alarms?: { email?: unknown; topicArn?: unknown };
}

/** The rules between fields the docs state, each naming the field to change. */
function crossFieldIssues(d: CrossFieldInput): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const region = typeof d.region === 'string' ? d.region : undefined;
  const provider = d.sms?.provider;
  if (region && isChinaRegion(region) && provider !== 'https') {
    issues.push({
      path: ['sms', 'provider'],
      message: `must be "https" in ${region} (China regions have no SNS SMS and no SNS mobile push): set "sms": {"provider": "https", "httpsEndpoint": "https://<your SMS provider>"}`,
    });
  }
  if (provider === 'https' && d.sms?.httpsEndpoint === undefined) {
    issues.push({
      path: ['sms', 'httpsEndpoint'],
      message:
        'is required with sms.provider "https": the provider\'s https:// URL that each SMS is POSTed to as {to, text}',
    });
  }
  if (provider === 'sns' && d.sms?.httpsEndpoint !== undefined) {
    issues.push({
      path: ['sms', 'httpsEndpoint'],
      message: 'is only used with sms.provider "https" (this district sends SMS through SNS)',
    });
  }
  const alarms = d.alarms;
  if (alarms && alarms.email === undefined && alarms.topicArn === undefined) {
    issues.push({ path: ['alarms'], message: ALARMS_NEEDED });
  }
  if (alarms && alarms.email !== undefined && alarms.topicArn !== undefined) {
    issues.push({
      path: ['alarms'],
      message: 'give "email" or "topicArn", not both (with a topicArn the e-mail would be ignored)',
    });
  }
  if (typeof alarms?.topicArn === 'string' && region) {
    const topicRegion = alarms.topicArn.split(':')[3];
    if (topicRegion && topicRegion !== region) {
      issues.push({
        path: ['alarms', 'topicArn'],
        message: `must be a topic in the district's region ${region}, not ${topicRegion}`,
      });
    }
  }
  return issues;
}

/** One district's settings: the single input of a district stack and of the local stack. */
export const districtSchema = z
  .strictObject({
    id,
    name: z.string().check(z.minLength(1)),
    /** Demo districts may be torn down freely; real ones get deletion protection. */
    demo: z._default(z.boolean(), false),
    /**
     * AWS region the stack deploys to, where residents' data is kept: required, no default
     * (China regions `cn-*` have no SNS SMS or push: `sms.provider` must be `https` there).
     */
    region: z
      .string({ error: required('the AWS region the district deploys to, e.g. cn-north-1') })
      .check(
        z.regex(
          /^[a-z]{2}(-[a-z]+)+-\d+$/,
          'must be an AWS region code, e.g. cn-north-1 or ap-east-1',
        ),
      ),
    towns: z.array(townSchema).check(z.minLength(1)),
    sms: z._default(
      z.strictObject({
        /** `sns`: SNS Publish to a phone number; `https`: a domestic SMS provider (China regions). */
        provider: z._default(z.enum(['sns', 'https']), 'sns'),
        senderId: z.optional(z.string().check(z.maxLength(11))),
        originationNumber: z.optional(z.string()),
        /** `https` provider only, and required there: where `{to, text}` is POSTed. */
        httpsEndpoint: z.optional(
          z.url({
            protocol: /^https$/,
            error: 'must be an https:// URL (SMS texts carry addresses)',
          }),
        ),
        monthlySpendLimitUsd: z._default(z.number().check(z.positive()), 100),
        /** At most this many SMS per request (offers and the requester's messages together). */
        maxPerRequest: z._default(z.number().check(z.int(), z.gte(1), z.lte(100)), 8),
        /** At most this many SMS per clock hour in the district; over it, push or nothing (ops alerted). */
        maxPerHour: z._default(z.number().check(z.int(), z.gte(1)), 300),
        /** Price of one SMS part, to alarm at 80% of the monthly spend limit (per day). */
        pricePerMessageUsd: z._default(z.number().check(z.positive()), 0.02),
      }),
      {
        provider: 'sns',
        monthlySpendLimitUsd: 100,
        maxPerRequest: 8,
        maxPerHour: 300,
        pricePerMessageUsd: 0.02,
      },
    ),
    /** How people are told: language, local time (quiet hours), urgent fallback, texts. */
    notifications: z._default(
      z.strictObject({
        /** Language of every SMS and push unless a volunteer chose another. */
        language: z._default(z.enum(LANGUAGES), 'zh-CN'),
        /** The district's offset from UTC in minutes (China: 480); quiet hours are local time. */
        utcOffsetMinutes: z._default(z.number().check(z.int(), z.gte(-720), z.lte(840)), 480),
        /** An urgent offer sent by push and still open after this long goes again by SMS. */
        urgentSmsAfterSeconds: z._default(z.number().check(z.int(), z.gte(1), z.lte(900)), 60),
        /** Per language, texts replacing the built-in ones; `{param}` is filled from the event. */
        templates: z._default(
          z.partialRecord(
            z.enum(LANGUAGES),
            z.partialRecord(
              z.enum(TEMPLATE_NAMES),
              z.string().check(z.minLength(1), z.maxLength(300)),
            ),
          ),
          {},
        ),
      }),
      {
        language: 'zh-CN',
        utcOffsetMinutes: 480,
        urgentSmsAfterSeconds: 60,
        templates: {},
      },
    ),
    offers: z._default(
      z.strictObject({
        timeoutSeconds: z._default(z.number().check(z.int(), z.gte(1), z.lte(900)), 120),
        batchSize: z._default(z.number().check(z.int(), z.gte(1), z.lte(20)), 3),
      }),
      { timeoutSeconds: 120, batchSize: 3 },
    ),
    volunteers: z._default(
      z.strictObject({
        defaultCapacity: z._default(z.number().check(z.int(), z.gte(1), z.lte(50)), 3),
      }),
      { defaultCapacity: 3 },
    ),
    /** Scopes tried in order; after the last one ops are alerted for manual dispatch. */
    escalation: z._default(
      z.array(z.enum(['community', 'town', 'district'])).check(z.minLength(1)),
      ['community', 'town', 'district'],
    ),
    /** Partner callbacks: a failed POST is retried after base, 2×base, 4×base… (at most 900 s). */
    callbacks: z._default(
      z.strictObject({
        retryBaseSeconds: z._default(z.number().check(z.int(), z.gte(1), z.lte(900)), 30),
        maxAttempts: z._default(z.number().check(z.int(), z.gte(1), z.lte(20)), 8),
      }),
      { retryBaseSeconds: 30, maxAttempts: 8 },
    ),
    retentionDays: z._default(z.number().check(z.int(), z.gte(1), z.lte(3650)), 90),
    autoConfirmHours: z._default(z.number().check(z.int(), z.gte(1), z.lte(720)), 48),
    /** Where alarms and ops alerts go: `email` (a topic is created) or `topicArn` (yours). */
    alarms: z.strictObject(
      {
        email: z.optional(z.email()),
        topicArn: z.optional(
          z
            .string()
            .check(
              z.regex(
                /^arn:aws(-cn|-us-gov)?:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/,
                'must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)',
              ),
            ),
        ),
      },
      { error: required(ALARMS_NEEDED) },
    ),
    rateLimits: z._default(
      z.strictObject({
        partnerRequestsPerMinute: z._default(z.number().check(z.int(), z.gte(1)), 600),
      }),
      { partnerRequestsPerMinute: 600 },
    ),
    /** Service points credited per confirmed task, by kind (文明银行积分). */
    points: z._default(z.partialRecord(z.enum(KINDS), z.number().check(z.int(), z.gte(0))), {}),
    /**
     * Per kind: volunteer categories offered first (a women's team for some kinds, party
     * members for checkpoint duty) and credentials a volunteer must hold, unexpired,
     * when the offer is made (a negative test within 48 hours for site duty).
     */
    kinds: z._default(
      z.partialRecord(
        z.enum(KINDS),
        z.strictObject({
          preferCategories: z._default(z.array(z.string()), []),
          requireCredentials: z._default(z.array(z.string()), []),
        }),
      ),
      {},
    ),
  })
  .check(
    z.superRefine((d, ctx) => {
      for (const issue of crossFieldIssues(d)) ctx.addIssue({ code: 'custom', ...issue });
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
    }),
  );

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
