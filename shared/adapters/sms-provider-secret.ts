import { ENV } from '../resources.ts';

/** How long a function keeps the secret before reading it again: a rotation applies within this. */
export const SECRET_CACHE_MS = 5 * 60_000;

/**
 * After a rotation the previous value is still accepted this long, the time ops need to
 * enter the new value in the provider's console; rotating twice cuts the old one off.
 */
export const PREVIOUS_SECRET_GRACE_MS = 60 * 60_000;

let cached: { at: number; secrets: Promise<string[]> } | undefined;

/**
 * The secrets a reply webhook may be signed with: from Secrets Manager on AWS (the
 * current value, and the previous one for an hour after a rotation), from
 * SMS_PROVIDER_SECRET locally. Empty when none is configured: every call is then refused.
 */
export function smsProviderSecrets(now = Date.now()): Promise<string[]> {
  if (!cached || now - cached.at > SECRET_CACHE_MS) {
    const secrets = load(now);
    cached = { at: now, secrets };
    // A failed read is not cached: the next call tries again.
    secrets.catch(() => {
      if (cached?.secrets === secrets) cached = undefined;
    });
  }
  return cached.secrets;
}

async function load(now: number): Promise<string[]> {
  const arn = process.env[ENV.smsProviderSecretArn];
  if (!arn) {
    const value = process.env[ENV.smsProviderSecret]?.trim();
    return value ? [value] : [];
  }
  // Loaded on first use: only a deployed webhook reads a secret, and the SDK client costs
  // cold-start time in every function that imports this module.
  const { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } = await import(
    '@aws-sdk/client-secrets-manager'
  );
  const client = new SecretsManagerClient({});
  try {
    const current = await client.send(new GetSecretValueCommand({ SecretId: arn }));
    const secrets = current.SecretString?.trim() ? [current.SecretString.trim()] : [];
    const rotatedAt = current.CreatedDate?.getTime() ?? 0;
    if (now - rotatedAt < PREVIOUS_SECRET_GRACE_MS) {
      try {
        const previous = await client.send(
          new GetSecretValueCommand({ SecretId: arn, VersionStage: 'AWSPREVIOUS' }),
        );
        const value = previous.SecretString?.trim();
        if (value) secrets.push(value);
      } catch (e) {
        // Never rotated: there is no AWSPREVIOUS version.
        if (!(e instanceof ResourceNotFoundException)) throw e;
      }
    }
    return secrets;
  } finally {
    client.destroy();
  }
}

/** Tests: forget the cached secrets. */
export const resetSmsProviderSecrets = () => {
  cached = undefined;
};
