import { describe, expect, it } from 'vitest';
import {
  type Candidate,
  distanceKm,
  fitsRequest,
  isEligible,
  offersWanted,
  rankCandidates,
} from '../../shared/domain/matching.ts';
import {
  canTransition,
  isTerminal,
  liveTasks,
  nextScope,
  type Offer,
  openOffers,
  type RequestStatus,
  STATUSES,
  scopeWentUnanswered,
  windowPassed,
} from '../../shared/domain/request.ts';
import { KIND_LABELS, renderText } from '../../shared/domain/texts.ts';
import {
  availabilityKeys,
  dayOf,
  skillEntries,
  skillEntryChanges,
} from '../../shared/domain/volunteer.ts';
import { hashSecret, newId, offerIdOf, parsePairId, taskIdOf } from '../../shared/ids.ts';
import { postRequestBody, registerVolunteerBody } from '../../shared/schemas/api.ts';
import { describeIssue } from '../../shared/schemas/issues.ts';
import * as z from '../../shared/zod.ts';
import { anOffer, aTask, aVolunteer, REQ, VOL } from '../fixtures/items.ts';

const NOW = new Date('2022-04-01T10:00:00.000Z');
const TODAY = dayOf(NOW);

describe('request lifecycle: canTransition', () => {
  const allowed: [RequestStatus, RequestStatus][] = [
    ['received', 'matched'],
    ['received', 'cancelled'],
    ['received', 'expired'],
    ['matched', 'delivered'],
    ['matched', 'cancelled'],
    ['delivered', 'confirmed'],
  ];

  it.each(allowed)('allows %s → %s', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
  });

  it('forbids every move not in the lifecycle', () => {
    const key = (a: string, b: string) => `${a}>${b}`;
    const ok = new Set(allowed.map(([a, b]) => key(a, b)));
    const forbidden = STATUSES.flatMap((from) =>
      STATUSES.filter((to) => !ok.has(key(from, to))).map((to) => [from, to] as const),
    );
    expect(forbidden).toContainEqual(['delivered', 'cancelled']);
    expect(forbidden).toContainEqual(['received', 'delivered']);
    for (const [from, to] of forbidden)
      expect(canTransition(from, to), `${from}→${to}`).toBe(false);
  });

  it('a delivered request cannot be cancelled, nor a confirmed one reopened', () => {
    expect(canTransition('delivered', 'cancelled')).toBe(false);
    expect(canTransition('confirmed', 'received')).toBe(false);
    expect(canTransition('expired', 'matched')).toBe(false);
  });

  it('confirmed, cancelled and expired are terminal; the others are not', () => {
    expect(STATUSES.filter(isTerminal)).toEqual(['confirmed', 'cancelled', 'expired']);
  });
});

describe('nextScope', () => {
  const escalation = ['community', 'town', 'district'] as const;

  it('widens community → town → district → ops', () => {
    expect(nextScope('community', escalation)).toBe('town');
    expect(nextScope('town', escalation)).toBe('district');
    expect(nextScope('district', escalation)).toBe('ops');
  });

  it('stays at ops once there', () => {
    expect(nextScope('ops', escalation)).toBe('ops');
  });

  it('follows a district’s shorter escalation and goes to ops after its last scope', () => {
    expect(nextScope('community', ['community', 'district'])).toBe('district');
    expect(nextScope('community', ['community'])).toBe('ops');
  });

  it('goes to ops from a scope the escalation does not list', () => {
    expect(nextScope('town', ['community', 'district'])).toBe('ops');
  });
});

describe('scopeWentUnanswered (a scope whose offers expired with nobody in it taking the request)', () => {
  const later = '2022-04-01T10:02:00Z';
  const earlier = '2022-04-01T09:58:00Z';
  const offer = (n: number, status: Offer['status'], over: Partial<Offer> = {}) =>
    anOffer({ volunteerId: `vol_${String(n).repeat(16)}`, status, expiresAt: earlier, ...over });

  it('every offer of the scope expired: unanswered', () => {
    expect(scopeWentUnanswered([offer(1, 'expired'), offer(2, 'expired')], 'community', NOW)).toBe(
      true,
    );
  });

  it('an offer still open but past its time (its timer not run yet) counts as expired', () => {
    expect(scopeWentUnanswered([offer(1, 'open')], 'community', NOW)).toBe(true);
  });

  it('a batch still open, and nothing expired yet: not unanswered', () => {
    const open = [offer(1, 'open', { expiresAt: later }), offer(2, 'open', { expiresAt: later })];
    expect(scopeWentUnanswered(open, 'community', NOW)).toBe(false);
    expect(scopeWentUnanswered([], 'community', NOW)).toBe(false);
  });

  it('one accept answers the scope, however many of its offers expired', () => {
    const offers = [offer(1, 'expired'), offer(2, 'accepted'), offer(3, 'expired')];
    expect(scopeWentUnanswered(offers, 'community', NOW)).toBe(false);
  });

  it('declined and the rest expired: unanswered (a decline is an answer, not an accept)', () => {
    const offers = [offer(1, 'declined'), offer(2, 'expired'), offer(3, 'expired')];
    expect(scopeWentUnanswered(offers, 'community', NOW)).toBe(true);
  });

  it('declines alone do not widen: the scope’s next volunteers are offered at once', () => {
    expect(
      scopeWentUnanswered([offer(1, 'declined'), offer(2, 'declined')], 'community', NOW),
    ).toBe(false);
  });

  it('an offer of the scope still open does not hold it once another expired', () => {
    const offers = [offer(1, 'expired'), offer(2, 'open', { expiresAt: later })];
    expect(scopeWentUnanswered(offers, 'community', NOW)).toBe(true);
  });

  it('offers of an earlier scope do not count, expired or accepted', () => {
    const community = [offer(1, 'expired'), offer(2, 'accepted')];
    expect(scopeWentUnanswered(community, 'town', NOW)).toBe(false);
    const widened = [offer(1, 'expired'), offer(2, 'expired', { scope: 'town' })];
    expect(scopeWentUnanswered(widened, 'town', NOW)).toBe(true);
    const acceptedEarlier = [offer(1, 'accepted'), offer(2, 'expired', { scope: 'town' })];
    expect(scopeWentUnanswered(acceptedEarlier, 'town', NOW)).toBe(true);
  });

  it('a withdrawn offer (its volunteer went off duty) is neither an expiry nor an answer', () => {
    expect(scopeWentUnanswered([offer(1, 'withdrawn')], 'community', NOW)).toBe(false);
    expect(
      scopeWentUnanswered([offer(1, 'withdrawn'), offer(2, 'expired')], 'community', NOW),
    ).toBe(true);
  });
});

describe('openOffers, liveTasks, windowPassed', () => {
  it('openOffers keeps only open offers whose time has not passed', () => {
    const live = anOffer({
      volunteerId: 'vol_1111111111111111',
      expiresAt: '2022-04-01T10:01:00Z',
    });
    const past = anOffer({
      volunteerId: 'vol_2222222222222222',
      expiresAt: '2022-04-01T09:59:00Z',
    });
    const atNow = anOffer({ volunteerId: 'vol_3333333333333333', expiresAt: NOW.toISOString() });
    const declined = anOffer({
      volunteerId: 'vol_4444444444444444',
      status: 'declined',
      expiresAt: '2022-04-01T10:01:00Z',
    });
    expect(openOffers([live, past, atNow, declined], NOW)).toEqual([live]);
  });

  it('liveTasks drops cancelled tasks and keeps accepted and delivered ones', () => {
    const a = aTask({ volunteerId: 'vol_1111111111111111', status: 'accepted' });
    const d = aTask({ volunteerId: 'vol_2222222222222222', status: 'delivered' });
    const c = aTask({ volunteerId: 'vol_3333333333333333', status: 'cancelled' });
    expect(liveTasks([a, d, c])).toEqual([a, d]);
  });

  it('windowPassed is true from the window’s end on, false without a window', () => {
    const w = (end: string) => ({ window: { start: '2022-04-01T08:00:00Z', end } });
    expect(windowPassed(w('2022-04-01T09:00:00Z'), NOW)).toBe(true);
    expect(windowPassed(w(NOW.toISOString()), NOW)).toBe(true);
    expect(windowPassed(w('2022-04-01T11:00:00Z'), NOW)).toBe(false);
    expect(windowPassed({}, NOW)).toBe(false);
  });
});

describe('isEligible', () => {
  const request = { skills: ['driving'] };
  const able = aVolunteer({ skills: ['driving', 'first-aid'] });

  it('accepts an on-duty volunteer with every skill and free capacity', () => {
    expect(isEligible(able, request, new Set())).toBe(true);
  });

  it('refuses a volunteer off duty', () => {
    expect(isEligible({ ...able, onDuty: false }, request, new Set())).toBe(false);
  });

  it('refuses a volunteer missing one listed skill', () => {
    expect(isEligible(able, { skills: ['driving', 'medical'] }, new Set())).toBe(false);
  });

  it('refuses a volunteer at capacity but not one below it', () => {
    expect(isEligible({ ...able, active: 3, capacity: 3 }, request, new Set())).toBe(false);
    expect(isEligible({ ...able, active: 2, capacity: 3 }, request, new Set())).toBe(true);
  });

  it('refuses a volunteer already offered or tasked on the request', () => {
    expect(isEligible(able, request, new Set([VOL]))).toBe(false);
  });

  it('requires a kind’s credentials to be recorded and unexpired', () => {
    const rules = { preferCategories: [], requireCredentials: ['negative-test'] };
    expect(isEligible(able, request, new Set(), rules, NOW)).toBe(false);
    const valid = { ...able, credentials: { 'negative-test': '2022-04-02T00:00:00Z' } };
    expect(isEligible(valid, request, new Set(), rules, NOW)).toBe(true);
    const expired = { ...able, credentials: { 'negative-test': '2022-03-31T00:00:00Z' } };
    expect(isEligible(expired, request, new Set(), rules, NOW)).toBe(false);
  });
});

describe('rankCandidates', () => {
  const request = { communityId: 'east-garden', townId: 'east-town' };
  const c = (id: string, over: Partial<Candidate> = {}) =>
    aVolunteer({ volunteerId: id, ...over }) as Candidate;

  it('puts the community before the town before the rest of the district', () => {
    const district = c('vol_d', { communityId: 'west-hill', townId: 'west-town' });
    const town = c('vol_t', { communityId: 'east-river', townId: 'east-town' });
    const community = c('vol_c');
    const ranked = rankCandidates([district, town, community], request, NOW);
    expect(ranked.map((v) => v.volunteerId)).toEqual(['vol_c', 'vol_t', 'vol_d']);
  });

  it('within a scope, the nearest first when both sides have a location', () => {
    const here = { lat: 31.23, lon: 121.47 };
    const far = c('vol_far', { location: { lat: 31.3, lon: 121.47 } });
    const near = c('vol_near', { location: { lat: 31.231, lon: 121.47 } });
    const unknown = c('vol_unknown');
    const ranked = rankCandidates([unknown, far, near], { ...request, location: here }, NOW);
    expect(ranked.map((v) => v.volunteerId)).toEqual(['vol_near', 'vol_far', 'vol_unknown']);
  });

  it('scope beats distance: a far neighbour in the community before a near one in the town', () => {
    const here = { lat: 31.23, lon: 121.47 };
    const sameFar = c('vol_same', { location: { lat: 31.4, lon: 121.47 } });
    const townNear = c('vol_town', {
      communityId: 'east-river',
      location: { lat: 31.2301, lon: 121.47 },
    });
    const ranked = rankCandidates([townNear, sameFar], { ...request, location: here }, NOW);
    expect(ranked.map((v) => v.volunteerId)).toEqual(['vol_same', 'vol_town']);
  });

  it('then fewest tasks today, counting an older day as none', () => {
    const busy = c('vol_a', { tasksDay: TODAY, tasksToday: 4 });
    const idle = c('vol_b', { tasksDay: TODAY, tasksToday: 1 });
    const yesterday = c('vol_c', { tasksDay: '2022-03-31', tasksToday: 9 });
    const ranked = rankCandidates([busy, idle, yesterday], request, NOW);
    expect(ranked.map((v) => v.volunteerId)).toEqual(['vol_c', 'vol_b', 'vol_a']);
  });

  it('puts a kind’s preferred categories first within a scope', () => {
    const plain = c('vol_a');
    const veteran = c('vol_b', { categories: ['veterans'] });
    const rules = { preferCategories: ['veterans'], requireCredentials: [] };
    expect(rankCandidates([plain, veteran], request, NOW, rules)[0].volunteerId).toBe('vol_b');
  });

  it('does not change its input', () => {
    const list = [c('vol_d', { communityId: 'west-hill', townId: 'west-town' }), c('vol_c')];
    const copy = [...list];
    rankCandidates(list, request, NOW);
    expect(list).toEqual(copy);
  });

  it('distanceKm: about 111 km per degree of latitude', () => {
    expect(distanceKm({ lat: 30, lon: 120 }, { lat: 31, lon: 120 })).toBeCloseTo(111.2, 0);
  });
});

describe('offersWanted', () => {
  it('offers each open slot to a batch of volunteers', () => {
    expect(offersWanted(2, 3, 0)).toBe(6);
  });
  it('counts offers still open', () => {
    expect(offersWanted(2, 3, 4)).toBe(2);
  });
  it('never goes below zero', () => {
    expect(offersWanted(1, 3, 5)).toBe(0);
    expect(offersWanted(0, 3, 0)).toBe(0);
  });
});

describe('availabilityKeys', () => {
  it('is absent when off duty', () => {
    expect(availabilityKeys(aVolunteer({ onDuty: false }))).toBeUndefined();
  });

  it('is absent when at capacity', () => {
    expect(availabilityKeys(aVolunteer({ active: 3, capacity: 3 }))).toBeUndefined();
  });

  it('is keyed by community', () => {
    expect(availabilityKeys(aVolunteer({ communityId: 'west-lake' }))?.gsi2pk).toBe(
      'AVAIL#west-lake',
    );
  });

  it('sorts the least busy first: older day, then fewer tasks that day', () => {
    const sk = (tasksDay: string, tasksToday: number, volunteerId = VOL) =>
      availabilityKeys(aVolunteer({ tasksDay, tasksToday, volunteerId }))!.gsi2sk;
    const keys = [
      sk(TODAY, 10),
      sk(TODAY, 2),
      sk('2022-03-30', 7),
      sk(TODAY, 9),
      sk('0000-00-00', 0),
    ];
    expect([...keys].sort()).toEqual([
      sk('0000-00-00', 0),
      sk('2022-03-30', 7),
      sk(TODAY, 2),
      sk(TODAY, 9),
      sk(TODAY, 10),
    ]);
  });
});

describe('fitsRequest (what is checked of an availability entry)', () => {
  const entry = { ...aVolunteer({ skills: ['medic', 'driver'] }) } as Candidate;

  it('accepts an entry with every listed skill, not yet offered', () => {
    expect(fitsRequest(entry, { skills: ['driver', 'medic'] }, new Set())).toBe(true);
  });

  it('refuses a missing skill, an excluded volunteer or a missing credential', () => {
    expect(fitsRequest(entry, { skills: ['medic', 'cook'] }, new Set())).toBe(false);
    expect(fitsRequest(entry, { skills: ['medic'] }, new Set([VOL]))).toBe(false);
    const rules = { preferCategories: [], requireCredentials: ['negative-test'] };
    expect(fitsRequest(entry, { skills: [] }, new Set(), rules, NOW)).toBe(false);
  });
});

describe('skillEntries', () => {
  it('is none for a volunteer without skills: they pay for no extra index entry', () => {
    expect(skillEntries(aVolunteer({ skills: [] }))).toEqual([]);
  });

  it('carries how an offer reaches the volunteer (push endpoint, SMS opt-out), so matching knows whether to claim a reply code', () => {
    const [e] = skillEntries(
      aVolunteer({ skills: ['medic'], pushEndpoint: 'arn:aws:sns:endpoint/x', smsOptOut: true }),
    );
    expect(e.entry).toMatchObject({ pushEndpoint: 'arn:aws:sns:endpoint/x', smsOptOut: true });
  });

  it('carries the volunteer’s language, so an offer’s push is rendered without reading them; a language change rewrites the entries', () => {
    const before = aVolunteer({ skills: ['medic'], pushEndpoint: 'arn:aws:sns:endpoint/x' });
    const after = { ...before, language: 'en' as const };
    expect(skillEntries(after)[0].entry).toMatchObject({ language: 'en' });
    expect(skillEntryChanges(before, after).put.map((e) => e.skill)).toEqual(['medic']);
  });

  it('is none off duty or at capacity, like the community entry', () => {
    expect(skillEntries(aVolunteer({ skills: ['medic'], onDuty: false }))).toEqual([]);
    expect(skillEntries(aVolunteer({ skills: ['medic'], active: 3, capacity: 3 }))).toEqual([]);
  });

  it('is one per skill, in the community and skill partition, sorted like the community entry', () => {
    const v = aVolunteer({
      skills: ['medic', 'driver', 'medic'],
      tasksDay: TODAY,
      tasksToday: 2,
      location: { lat: 31.2, lon: 121.4 },
    });
    const sk = availabilityKeys(v)!.gsi2sk;
    const entries = skillEntries(v);
    expect(entries.map((e) => [e.skill, e.gsi2pk, e.gsi2sk])).toEqual([
      ['medic', 'AVAIL#east-garden#medic', sk],
      ['driver', 'AVAIL#east-garden#driver', sk],
    ]);
    // Enough to filter, rank and offer; nothing a delivery or a credit changes.
    expect(entries[0].entry).toEqual({
      volunteerId: VOL,
      phone: v.phone,
      communityId: 'east-garden',
      townId: 'east-town',
      skills: ['medic', 'driver', 'medic'],
      categories: [],
      location: { lat: 31.2, lon: 121.4 },
      tasksDay: TODAY,
      tasksToday: 2,
    });
  });
});

describe('skillEntryChanges', () => {
  const v = aVolunteer({
    skills: ['medic', 'driver'],
    capacity: 2,
    tasksDay: TODAY,
    tasksToday: 1,
  });
  const skills = (c: ReturnType<typeof skillEntryChanges>) => ({
    put: c.put.map((e) => e.skill),
    remove: c.remove,
  });

  it('a new volunteer gets every entry', () => {
    expect(skills(skillEntryChanges(undefined, v))).toEqual({
      put: ['medic', 'driver'],
      remove: [],
    });
  });

  it('an accept moves every entry to the new task count; one that fills capacity removes them', () => {
    const accepted = { ...v, active: 1, tasksToday: 2 };
    const moved = skillEntryChanges(v, accepted);
    expect(moved.remove).toEqual([]);
    expect(moved.put.map((e) => e.gsi2sk)).toEqual([
      `${TODAY}#0002#${VOL}`,
      `${TODAY}#0002#${VOL}`,
    ]);
    expect(skills(skillEntryChanges(accepted, { ...accepted, active: 2, tasksToday: 3 }))).toEqual({
      put: [],
      remove: ['medic', 'driver'],
    });
  });

  it('a delivery writes nothing unless it frees a full volunteer; a credit writes nothing', () => {
    const busy = { ...v, active: 1 };
    expect(skills(skillEntryChanges(busy, { ...busy, active: 0 }))).toEqual({
      put: [],
      remove: [],
    });
    const full = { ...v, active: 2 };
    expect(skills(skillEntryChanges(full, { ...full, active: 1 }))).toEqual({
      put: ['medic', 'driver'],
      remove: [],
    });
    expect(skills(skillEntryChanges(v, { ...v, serviceMinutes: 30, points: 10 }))).toEqual({
      put: [],
      remove: [],
    });
  });

  it('duty and skill changes add and remove entries; every kept entry carries the new skills', () => {
    expect(skills(skillEntryChanges(v, { ...v, onDuty: false }))).toEqual({
      put: [],
      remove: ['medic', 'driver'],
    });
    expect(skills(skillEntryChanges({ ...v, onDuty: false }, v))).toEqual({
      put: ['medic', 'driver'],
      remove: [],
    });
    const changed = skillEntryChanges(v, { ...v, skills: ['driver', 'cook'] });
    expect(skills(changed)).toEqual({ put: ['driver', 'cook'], remove: ['medic'] });
    expect(changed.put[0].entry.skills).toEqual(['driver', 'cook']);
  });

  it('a change in what an entry holds rewrites it; the same value in another key order does not', () => {
    const withCreds = {
      ...v,
      credentials: { a: '2030-01-01T00:00:00.000Z', b: '2030-01-02T00:00:00.000Z' },
    };
    const reordered = {
      ...withCreds,
      credentials: { b: '2030-01-02T00:00:00.000Z', a: '2030-01-01T00:00:00.000Z' },
    };
    expect(skillEntryChanges(withCreds, reordered).put).toEqual([]);
    const renewed = {
      ...withCreds,
      credentials: { ...withCreds.credentials, a: '2031-01-01T00:00:00.000Z' },
    };
    expect(skills(skillEntryChanges(withCreds, renewed)).put).toEqual(['medic', 'driver']);
  });
});

describe('renderText', () => {
  const params = {
    community: '东园社区',
    kindLabel: KIND_LABELS.groceries,
    minutes: 2,
    volunteerName: '李明',
  };
  const templates = [
    'offer',
    'offer_withdrawn',
    'request_cancelled',
    'volunteer_assigned',
    'goods_at_door',
    'task_assigned',
  ];

  it.each(templates)('%s is Chinese and fits one 70-character SMS part', (t) => {
    const text = renderText(t, params);
    expect(text).toMatch(/[\u4e00-\u9fff]/);
    expect(text.length).toBeLessThanOrEqual(70);
    expect(text).not.toContain('undefined');
  });

  it('fits 70 characters for the longest kind label too', () => {
    const longest = Object.values(KIND_LABELS).sort((a, b) => b.length - a.length)[0];
    for (const t of templates) {
      expect(renderText(t, { ...params, kindLabel: longest }).length).toBeLessThanOrEqual(70);
    }
  });

  it('an offer names the community, kind and minutes, never an address or requester', () => {
    const text = renderText('offer', {
      ...params,
      address: '东园小区3号楼2单元501',
      requesterName: '王奶奶',
      phone: '+8613800138000',
    });
    expect(text).toContain('东园社区');
    expect(text).toContain('代购生活物资');
    expect(text).toContain('2分钟');
    expect(text).not.toContain('东园小区');
    expect(text).not.toContain('王奶奶');
    expect(text).not.toContain('13800138000');
  });

  it('refuses an unknown template', () => {
    expect(() => renderText('nope', {})).toThrow(/unknown template nope/);
  });
});

describe('ids', () => {
  it('offer and task ids round-trip to their request and volunteer', () => {
    const requestId = newId('req');
    const volunteerId = newId('vol');
    expect(parsePairId(offerIdOf(requestId, volunteerId), 'off')).toEqual({
      requestId,
      volunteerId,
    });
    expect(parsePairId(taskIdOf(requestId, volunteerId), 'tsk')).toEqual({
      requestId,
      volunteerId,
    });
  });

  it('an offer id is not a task id', () => {
    expect(parsePairId(offerIdOf(REQ, VOL), 'tsk')).toBeUndefined();
  });

  it.each([
    '',
    'off_',
    'off_0123456789abcdef',
    'off_0123456789abcdef_fedcba987654321',
    'off_0123456789ABCDEF_fedcba9876543210',
    'off_0123456789abcdef_fedcba9876543210_x',
    'xoff_0123456789abcdef_fedcba9876543210',
    'off_../../etc/passwd_fedcba9876543210',
  ])('rejects garbage %j', (id) => {
    expect(parsePairId(id, 'off')).toBeUndefined();
  });

  it('newId has its prefix and 16 characters of the id alphabet', () => {
    expect(newId('req')).toMatch(/^req_[0-9a-z]{16}$/);
    expect(newId('vol')).not.toBe(newId('vol'));
  });

  it('hashSecret is a stable SHA-256 hex digest', () => {
    expect(hashSecret('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(hashSecret('pk_x')).toBe(hashSecret('pk_x'));
    expect(hashSecret('pk_x')).not.toBe(hashSecret('pk_y'));
  });
});

describe('describeIssue names the field', () => {
  const valid = {
    kind: 'groceries',
    communityId: 'east-garden',
    address: '东园小区3号楼',
    requester: { name: '王奶奶', phone: '+8613800138000' },
  };
  const issueOf = (schema: z.ZodMiniType, value: unknown) => {
    const r = schema.safeParse(value);
    if (r.success) throw new Error('expected a validation error');
    return describeIssue(r.error);
  };

  it('an unknown top-level field', () => {
    expect(issueOf(postRequestBody, { ...valid, colour: 'red' })).toEqual({
      field: 'colour',
      message: 'unknown field colour',
    });
  });

  it('an unknown nested field is named with its path', () => {
    const body = { ...valid, requester: { ...valid.requester, age: 80 } };
    expect(issueOf(postRequestBody, body)).toEqual({
      field: 'requester.age',
      message: 'unknown field age',
    });
  });

  it('a missing field is required', () => {
    const { address, ...rest } = valid;
    expect(issueOf(postRequestBody, rest)).toEqual({ field: 'address', message: 'is required' });
  });

  it('a bad phone names requester.phone and says E.164', () => {
    const body = { ...valid, requester: { name: '王奶奶', phone: '13800138000' } };
    const issue = issueOf(postRequestBody, body);
    expect(issue.field).toBe('requester.phone');
    expect(issue.message).toMatch(/E\.164/);
  });

  it('a window ending before its start names window.end', () => {
    const body = {
      ...valid,
      window: { start: '2022-04-01T10:00:00Z', end: '2022-04-01T09:00:00Z' },
    };
    expect(issueOf(postRequestBody, body)).toEqual({
      field: 'window.end',
      message: 'end must be after start',
    });
  });

  it('a wrong type names the field and is not called missing', () => {
    const issue = issueOf(registerVolunteerBody, {
      name: '李明',
      phone: '+8613900139000',
      communityId: 'east-garden',
      capacity: 'three',
    });
    expect(issue.field).toBe('capacity');
    expect(issue.message).not.toBe('is required');
  });

  it('an issue without a path is named by the root', () => {
    const r = z
      .strictObject({})
      .check(z.refine(() => false, 'nope'))
      .safeParse({});
    expect(r.success).toBe(false);
    if (!r.success)
      expect(describeIssue(r.error, 'body')).toEqual({ field: 'body', message: 'nope' });
  });
});
