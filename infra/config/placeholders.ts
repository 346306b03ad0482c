import type { District } from '#shared/district.ts';
import type { LoadedDistrict } from './load-districts.ts';

/**
 * The context flag that lets a synth through with placeholders in real districts (the
 * repository's sample files, tests): `-c allowPlaceholders=true`. Never for a deploy.
 */
export const ALLOW_PLACEHOLDERS = 'allowPlaceholders';

/** Top-level domains reserved never to be real (RFC 2606, RFC 6761). */
const RESERVED_TLDS = ['invalid', 'test', 'example', 'localhost'];
/** Second-level domains reserved for documentation (RFC 2606). */
const RESERVED_DOMAINS = ['example.com', 'example.net', 'example.org'];
/** Account ids AWS's documentation uses in its examples. */
const EXAMPLE_ACCOUNTS = ['123456789012', '111122223333', '000000000000'];

/**
 * Whether a host name is a placeholder: a reserved top-level domain (`.invalid`, `.test`,
 * `.example`, `.localhost`), a documentation domain (`example.com/.net/.org`), any name
 * with an `example` label (`sms.example.cn`: `example.cn` is not reserved, someone else may
 * own it) or a loopback address.
 */
export function isPlaceholderHost(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  const labels = name.split('.');
  if (RESERVED_TLDS.includes(labels[labels.length - 1])) return true;
  if (RESERVED_DOMAINS.some((d) => name === d || name.endsWith(`.${d}`))) return true;
  if (labels.includes('example')) return true;
  return name === 'localhost' || /^127\./.test(name) || name === '[::1]';
}

export interface Placeholder {
  field: string;
  value: string;
}

/** The settings of a district that still hold placeholders, by field. */
export function placeholdersIn(d: District): Placeholder[] {
  const found: Placeholder[] = [];
  const endpoint = d.sms.httpsEndpoint;
  if (endpoint && isPlaceholderHost(new URL(endpoint).hostname)) {
    found.push({ field: 'sms.httpsEndpoint', value: endpoint });
  }
  const email = d.alarms.email;
  if (email && isPlaceholderHost(email.slice(email.lastIndexOf('@') + 1))) {
    found.push({ field: 'alarms.email', value: email });
  }
  const topicArn = d.alarms.topicArn;
  if (topicArn && EXAMPLE_ACCOUNTS.includes(topicArn.split(':')[4])) {
    found.push({ field: 'alarms.topicArn', value: topicArn });
  }
  return found;
}

/**
 * Refuses real (`demo: false`) districts whose file still holds placeholders: deployed as
 * they are, every SMS (phone and text, addresses included) would be POSTed to a host the
 * district does not control and alarms would reach nobody. Demo districts may keep them.
 * With `allow` (`-c allowPlaceholders=true`) nothing is refused and the placeholders found
 * are returned, for the caller to warn about.
 */
export function checkPlaceholders(
  loaded: LoadedDistrict[],
  allow: boolean,
): { file: string; district: District; placeholders: Placeholder[] }[] {
  const found = loaded
    .filter(({ district }) => !district.demo)
    .map((l) => ({ ...l, placeholders: placeholdersIn(l.district) }))
    .filter((l) => l.placeholders.length > 0);
  if (found.length > 0 && !allow) {
    const lines = found.flatMap(({ file, placeholders }) =>
      placeholders.map((p) => `district config ${file}: ${p.field}: "${p.value}" is a placeholder`),
    );
    throw new Error(
      `${lines.join('\n')}\n` +
        'Replace each with the district\'s own value before deploying (docs/deploy.md, "Add a district"). ' +
        `A real district (demo: false) is never deployed with placeholders; to synthesize it anyway (tests, a look at the template): -c ${ALLOW_PLACEHOLDERS}=true.`,
    );
  }
  return found;
}
