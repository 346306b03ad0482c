import { KINDS, LANGUAGES } from '../district.ts';
import * as z from '../zod.ts';
import { phone } from './phone.ts';

const name = z.string().check(z.trim(), z.minLength(1), z.maxLength(100));
const skill = z.string().check(z.regex(/^[a-z0-9_-]{1,40}$/, 'lowercase letters, digits, _ or -'));
export const location = z.strictObject({
  lat: z.number().check(z.gte(-90), z.lte(90)),
  lon: z.number().check(z.gte(-180), z.lte(180)),
});
/** Any ISO 8601 time with an offset in; UTC out, as the contract's times are. */
const isoTime = z.iso.datetime({ offset: true }).check(
  z.overwrite((t) => {
    // Checks still run on a malformed time (its format issue is reported): leave it be.
    const at = new Date(t);
    return Number.isNaN(at.getTime()) ? t : at.toISOString();
  }),
);
const hhmm = z
  .string()
  .check(z.regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a local time like 22:00'));
/** Local (district) times between which the volunteer gets no SMS; may span midnight. */
export const quietHours = z.strictObject({ start: hhmm, end: hhmm });
const pushEndpoint = z.string().check(z.minLength(1), z.maxLength(2048));
const language = z.enum(LANGUAGES);

export const createPartnerBody = z.strictObject({ name });

export const registerVolunteerBody = z.strictObject({
  name,
  phone,
  communityId: z.string().check(z.minLength(1), z.maxLength(64)),
  skills: z._default(z.array(skill).check(z.maxLength(30)), []),
  categories: z._default(z.array(skill).check(z.maxLength(30)), []),
  location: z.optional(location),
  pushEndpoint: z.optional(pushEndpoint),
  capacity: z.optional(z.number().check(z.int(), z.gte(1), z.lte(50))),
  onDuty: z._default(z.boolean(), true),
  smsOptOut: z.optional(z.boolean()),
  quietHours: z.optional(quietHours),
  language: z.optional(language),
});

/** Every field optional, as the contract has it: an empty patch changes nothing. */
export const updateVolunteerBody = z.strictObject({
  onDuty: z.optional(z.boolean()),
  skills: z.optional(z.array(skill).check(z.maxLength(30))),
  capacity: z.optional(z.number().check(z.int(), z.gte(1), z.lte(50))),
  location: z.optional(location),
  pushEndpoint: z.optional(pushEndpoint),
  smsOptOut: z.optional(z.boolean()),
  /** `null` clears them. */
  quietHours: z.optional(z.nullable(quietHours)),
  language: z.optional(language),
});

export const postRequestBody = z.strictObject({
  kind: z.enum(KINDS),
  communityId: z.string().check(z.minLength(1), z.maxLength(64)),
  address: z.string().check(z.trim(), z.minLength(1), z.maxLength(500)),
  requester: z.strictObject({ name, phone }),
  slots: z._default(z.number().check(z.int(), z.gte(1), z.lte(50)), 1),
  skills: z._default(z.array(skill).check(z.maxLength(10)), []),
  urgency: z._default(z.enum(['normal', 'urgent']), 'normal'),
  location: z.optional(location),
  window: z.optional(
    z.strictObject({ start: isoTime, end: isoTime }).check(
      z.refine((w) => Date.parse(w.end) > Date.parse(w.start), {
        message: 'end must be after start',
        path: ['end'],
      }),
    ),
  ),
  notes: z.optional(z.string().check(z.maxLength(1000))),
});

export const credentialBody = z.strictObject({
  type: skill,
  expiresAt: isoTime,
});

export const assignBody = z.strictObject({
  volunteerId: z.string().check(z.minLength(1), z.maxLength(64)),
});

export const deliveredBody = z.strictObject({
  note: z.optional(z.string().check(z.maxLength(1000))),
});

export type PostRequestBody = z.infer<typeof postRequestBody>;
export type RegisterVolunteerBody = z.infer<typeof registerVolunteerBody>;
export type UpdateVolunteerBody = z.infer<typeof updateVolunteerBody>;

/** POST /v1/partners/{partnerId}/keys: how long the old keys keep working (0: revoked at once). */
export const rotateKeyBody = z.strictObject({
  graceMinutes: z.optional(z.number().check(z.int(), z.gte(0), z.lte(7 * 24 * 60))),
});

/** PUT /v1/partners/me/callback: where the partner's request status changes are POSTed. */
export const callbackBody = z.strictObject({
  url: z.url({ protocol: /^https?$/ }).check(
    z.maxLength(2048),
    z.refine(
      (u) => u.startsWith('https://') || process.env.ALLOW_HTTP_CALLBACKS === 'true',
      'must be an https:// URL',
    ),
  ),
});

/** POST /v1/tasks/{taskId}/photos: the image type the app will upload. */
export const photoBody = z.strictObject({
  contentType: z.enum(['image/jpeg', 'image/png', 'image/webp']),
});
