/** The daily report an ops team reads, from GET /v1/stats (and the district's names). */

// biome-ignore lint/suspicious/noExplicitAny: the stats JSON
type Stats = any;

interface Names {
  district: string;
  communities: { communityId: string; townId: string; name: string }[];
}

/** 95 → `≤ 2 min`; null → `–`. Values are bucket upper bounds, so "at most". */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '–';
  if (seconds < 60) return `≤ ${seconds} s`;
  if (seconds < 3600) return `≤ ${+(seconds / 60).toFixed(1)} min`;
  return `≤ ${+(seconds / 3600).toFixed(1)} h`;
}

const list = (o: Record<string, number>, label: (k: string) => string = (k) => k) => {
  const entries = Object.entries(o).filter(([, n]) => n !== 0);
  return entries.length
    ? entries
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .map(([k, n]) => `${label(k)} ${n}`)
        .join(', ')
    : '–';
};

export function formatReport(s: Stats, names: Names): string {
  const community = new Map(names.communities.map((c) => [c.communityId, c]));
  const towns = new Map<string, string>();
  const r = s.requests;
  const total = Object.values(r.byKind as Record<string, number>).reduce((a, n) => a + n, 0);
  const lines = [
    `Daily report — ${names.district}`,
    `Period: ${s.from} → ${s.to} (whole hours; requests counted in the hour they were received)`,
    '',
    `Volunteers 志愿者`,
    `  registered ${s.volunteers.registered} · on duty now ${s.volunteers.onDuty} · active ${s.volunteers.active} (volunteer-days with a task, on the days the period touches)`,
    '',
    `Requests 求助: ${total}`,
    `  by status: ${list(r.byStatus)}`,
    `  by kind:   ${list(r.byKind)}`,
  ];
  for (const c of names.communities) towns.set(c.townId, c.townId);
  const byTown = new Map<string, string[]>();
  for (const [id, n] of Object.entries(r.byCommunity as Record<string, number>)) {
    const c = community.get(id);
    const town = c?.townId ?? '?';
    byTown.set(town, [...(byTown.get(town) ?? []), `${c?.name ?? id} ${n}`]);
  }
  lines.push('  by town and community:');
  if (byTown.size === 0) lines.push('    –');
  for (const [town, parts] of [...byTown].sort()) {
    lines.push(`    ${town} ${r.byTown?.[town] ?? ''}: ${parts.join(', ')}`);
  }
  lines.push(
    `  waiting for manual dispatch now 待人工派单: ${r.waitingForDispatch ?? 0}`,
    '',
    `Service 服务`,
    `  person-times 服务人次 (tasks delivered): ${s.personTimes}`,
    `  service hours 服务时长: ${(s.serviceMinutes / 60).toFixed(1)} h (${s.serviceMinutes} min, confirmed tasks)`,
    `  points 积分 credited: ${s.points ?? 0}`,
    '',
    'Response times (median / 90th percentile; bucket upper bounds)',
  );
  const d = s.durations;
  if (d) {
    lines.push(
      `  received → matched:   ${formatDuration(d.toMatched.medianSeconds)} / ${formatDuration(d.toMatched.p90Seconds)} (n=${d.toMatched.count})`,
      `  received → delivered: ${formatDuration(d.toDelivered.medianSeconds)} / ${formatDuration(d.toDelivered.p90Seconds)} (n=${d.toDelivered.count})`,
    );
  }
  return `${lines.join('\n')}\n`;
}
