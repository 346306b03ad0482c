import type { Kind, Language } from '../district.ts';

export const STATUSES = [
  'received',
  'matched',
  'delivered',
  'confirmed',
  'cancelled',
  'expired',
] as const;
export type RequestStatus = (typeof STATUSES)[number];

/** Where matching looks for volunteers; `ops` means waiting for manual dispatch. */
export type Scope = 'community' | 'town' | 'district' | 'ops';

export type HistoryEntry =
  | { status: RequestStatus; at: string }
  | { event: string; at: string; [detail: string]: unknown };

export interface Location {
  lat: number;
  lon: number;
}

export interface HelpRequest {
  requestId: string;
  partnerId: string;
  status: RequestStatus;
  kind: Kind;
  communityId: string;
  townId: string;
  address: string;
  requester: { name: string; phone: string };
  slots: number;
  /** Slots taken by an accepted or assigned task. */
  filled: number;
  /** Tasks reported delivered. */
  delivered: number;
  skills: string[];
  urgency: 'normal' | 'urgent';
  location?: Location;
  window?: { start: string; end: string };
  notes?: string;
  scope: Scope;
  history: HistoryEntry[];
  createdAt: string;
  updatedAt: string;
}

export type OfferStatus = 'open' | 'accepted' | 'declined' | 'expired' | 'withdrawn';

export interface Offer {
  offerId: string;
  requestId: string;
  volunteerId: string;
  status: OfferStatus;
  scope: Scope;
  /** Copied from the request so a volunteer's inbox needs no second read. */
  kind: Kind;
  communityId: string;
  createdAt: string;
  expiresAt: string;
  /** Short code the volunteer may answer the offer SMS with ("1 CODE" / "0 CODE"). */
  code?: string;
  /**
   * The volunteer's push endpoint and language, copied from the availability entry the
   * offer was made from: the offer's notices (the offer, its withdrawal) go by push without
   * reading the volunteer. A stale copy is harmless: a disabled endpoint makes the notifier
   * read the volunteer, and SMS decisions always read them.
   */
  push?: { endpoint: string; language?: Language };
}

export type TaskStatus = 'accepted' | 'delivered' | 'cancelled';

export interface Task {
  taskId: string;
  requestId: string;
  volunteerId: string;
  status: TaskStatus;
  /** `offer` when the volunteer grabbed it, `ops` for manual dispatch. */
  via: 'offer' | 'ops';
  createdAt: string;
  deliveredAt?: string;
  note?: string;
  /**
   * Set by the code before a task's service record was its credit (with `minutes` and
   * `points` on the task); a task credited since has its record and no mark.
   */
  credited?: boolean;
  /** Proof photos (S3 keys), shown to the partner and ops only. */
  photoKeys?: string[];
}

/** The allowed moves of the lifecycle; anything else is a conflict. */
const TRANSITIONS: Record<RequestStatus, readonly RequestStatus[]> = {
  received: ['matched', 'cancelled', 'expired'],
  matched: ['delivered', 'cancelled'],
  delivered: ['confirmed'],
  confirmed: [],
  cancelled: [],
  expired: [],
};

export const canTransition = (from: RequestStatus, to: RequestStatus) =>
  TRANSITIONS[from].includes(to);

export const isTerminal = (s: RequestStatus) => TRANSITIONS[s].length === 0;

/** Scopes after `current` in the district's escalation order; `ops` after the last. */
export function nextScope(current: Scope, escalation: readonly Scope[]): Scope {
  if (current === 'ops') return 'ops';
  const i = escalation.indexOf(current);
  return i >= 0 && i + 1 < escalation.length ? escalation[i + 1] : 'ops';
}

/**
 * An offer as it reads beside its request's status. One still open on a request that
 * takes no more volunteers (matched, cancelled or expired: none returns to `received`) is
 * withdrawn. That is not written on the offer: the request's own status already says it,
 * and writing it would cost two write units per offer (the item and its inbox entry).
 */
export const offerBeside = (offer: Offer, status: RequestStatus): Offer =>
  offer.status === 'open' && status !== 'received' ? { ...offer, status: 'withdrawn' } : offer;

export const openOffers = (offers: Offer[], now: Date) =>
  offers.filter((o) => o.status === 'open' && Date.parse(o.expiresAt) > now.getTime());

/** An offer nobody answered in time: expired, or still open past its time (its timer not run yet). */
const lapsed = (o: Offer, now: Date) =>
  o.status === 'expired' || (o.status === 'open' && Date.parse(o.expiresAt) <= now.getTime());

/**
 * Whether nobody in `scope` took the request in time, so matching moves to the next scope
 * at once instead of offering the scope's remaining volunteers batch after batch: at
 * least one offer made in the scope lapsed and none made in it was accepted.
 *
 * - A decline is an answer but not an accept: a scope where some declined and the rest
 *   lapsed is unanswered (the request still waited a whole timeout for nobody). Declines
 *   alone do not widen: each re-matches at once, so the scope's next volunteers cost no
 *   wait, and the scope widens when it has nobody left.
 * - Offers of the scope still open do not hold it: they stay open and may still be
 *   accepted, and widening only changes where new candidates are looked for. Waiting for
 *   them would keep a scope forever once a decline's replacement offer runs out of step
 *   with its batch (each expiry would find the other batch open and top it up in the same
 *   scope).
 * - One accept answers the scope: a multi-slot request someone there took keeps being
 *   offered there. Offers of earlier scopes, and tasks ops assigned, do not count.
 */
export function scopeWentUnanswered(offers: Offer[], scope: Scope, now: Date): boolean {
  const made = offers.filter((o) => o.scope === scope);
  return made.some((o) => lapsed(o, now)) && !made.some((o) => o.status === 'accepted');
}

/** Live tasks: the ones that hold a slot. */
export const liveTasks = (tasks: Task[]) => tasks.filter((t) => t.status !== 'cancelled');

/** Whether a window's end has passed. */
export const windowPassed = (r: Pick<HelpRequest, 'window'>, now: Date) =>
  r.window !== undefined && Date.parse(r.window.end) <= now.getTime();
