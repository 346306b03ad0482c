import * as z from 'zod';
import { KINDS, LANGUAGES } from '../district.ts';
import { phone } from './phone.ts';

const name = z.string().trim().min(1).max(100);
const skill = z.string().regex(/^[a-z0-9_-]{1,40}$/, 'lowercase letters, digits, _ or -');
export const location = z.strictObject({
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
});
const isoTime = z.iso.datetime({ offset: true });
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a local time like 22:00');
/** Local (district) times between which the volunteer gets no SMS; may span midnight. */
export const quietHours = z.strictObject({ start: hhmm, end: hhmm });
const pushEndpoint = z.string().min(1).max(2048);
const language = z.enum(LANGUAGES);

export const createPartnerBody = z.strictObject({ name });

export const registerVolunteerBody = z.strictObject({
  name,
  phone,
  communityId: z.string().min(1).max(64),
  skills: z.array(skill).max(30).default([]),
  categories: z.array(skill).max(30).default([]),
  location: location.optional(),
  pushEndpoint: pushEndpoint.optional(),
  capacity: z.number().int().min(1).max(50).optional(),
  onDuty: z.boolean().default(true),
  smsOptOut: z.boolean().optional(),
  quietHours: quietHours.optional(),
  language: language.optional(),
});

export const updateVolunteerBody = z
  .strictObject({
    onDuty: z.boolean().optional(),
    skills: z.array(skill).max(30).optional(),
    capacity: z.number().int().min(1).max(50).optional(),
    location: location.optional(),
    pushEndpoint: pushEndpoint.optional(),
    smsOptOut: z.boolean().optional(),
    /** `null` clears them. */
    quietHours: quietHours.nullable().optional(),
    language: language.optional(),
  })
  .refine(
    (b) => Object.keys(b).length > 0,
    'at least one of onDuty, skills, capacity, location, pushEndpoint, smsOptOut, quietHours, language',
  );

export const postRequestBody = z.strictObject({
  kind: z.enum(KINDS),
  communityId: z.string().min(1).max(64),
  address: z.string().trim().min(1).max(500),
  requester: z.strictObject({ name, phone }),
  slots: z.number().int().min(1).max(50).default(1),
  skills: z.array(skill).max(10).default([]),
  urgency: z.enum(['normal', 'urgent']).default('normal'),
  location: location.optional(),
  window: z
    .strictObject({ start: isoTime, end: isoTime })
    .refine((w) => Date.parse(w.end) > Date.parse(w.start), {
      message: 'end must be after start',
      path: ['end'],
    })
    .optional(),
  notes: z.string().max(1000).optional(),
});

export const credentialBody = z.strictObject({
  type: skill,
  expiresAt: isoTime,
});

export const assignBody = z.strictObject({ volunteerId: z.string().min(1).max(64) });

export const deliveredBody = z.strictObject({ note: z.string().max(1000).optional() });

export type PostRequestBody = z.infer<typeof postRequestBody>;
export type RegisterVolunteerBody = z.infer<typeof registerVolunteerBody>;
export type UpdateVolunteerBody = z.infer<typeof updateVolunteerBody>;

/** POST /v1/partners/{partnerId}/keys: how long the old keys keep working (0: revoked at once). */
export const rotateKeyBody = z.strictObject({
  graceMinutes: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 60)
    .optional(),
});

/** PUT /v1/partners/me/callback: where the partner's request status changes are POSTed. */
export const callbackBody = z.strictObject({
  url: z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .refine(
      (u) => u.startsWith('https://') || process.env.ALLOW_HTTP_CALLBACKS === 'true',
      'must be an https:// URL',
    ),
});

/** POST /v1/tasks/{taskId}/photos: the image type the app will upload. */
export const photoBody = z.strictObject({
  contentType: z.enum(['image/jpeg', 'image/png', 'image/webp']),
});
