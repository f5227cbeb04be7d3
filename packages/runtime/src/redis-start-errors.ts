/**
 * ioredis attaches the failed command to a reply error (`err.command = { name, args }`): for AUTH
 * the arguments are the username and the password, which a logged `{ err }` would write out.
 * Blanks them in place (every listener of the connection's `error` event gets the same object),
 * here and in the `lastNodeError` a cluster error carries.
 */
export function redactRedisError(err: unknown): void {
  for (let current = err, depth = 0; current instanceof Error && depth < 3; depth += 1) {
    const command = (current as { command?: { name?: unknown; args?: unknown } }).command;
    if (command && typeof command.name === 'string' && /^(auth|hello)$/i.test(command.name) && Array.isArray(command.args)) {
      command.args = command.args.map(() => '[redacted]');
    }
    current = (current as { lastNodeError?: unknown }).lastNodeError;
  }
}

/** Redis refused the credentials, or asked for some: reconnecting cannot help. */
const AUTH_ERROR = /WRONGPASS|NOAUTH|invalid password|invalid username-password/i;

/** Node's codes for a server certificate it does not accept: reconnecting cannot help either. */
const TLS_VERIFY_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function causes(err: unknown): Error[] {
  const out: Error[] = [];
  for (let current = err; current instanceof Error && out.length < 3; current = (current as { lastNodeError?: unknown }).lastNodeError) {
    out.push(current);
  }
  return out;
}

/**
 * The reason a service cannot start when `err` (from a connection that is not ready yet) is a
 * mistake in its configuration rather than a Redis that is away: wrong or missing credentials, a
 * certificate it does not trust. Undefined for anything a reconnect may cure.
 */
export function startFailureOf(err: unknown): string | undefined {
  for (const cause of causes(err)) {
    if (AUTH_ERROR.test(cause.message)) {
      return `Redis refused the connection's credentials (${cause.message.trim()}): check REDIS_PASSWORD and REDIS_USERNAME (or the credentials in REDIS_URL)`;
    }
    const code = (cause as NodeJS.ErrnoException).code;
    if (code && TLS_VERIFY_CODES.has(code)) {
      return `The TLS certificate of Redis was not accepted (${code}: ${cause.message}): check REDIS_TLS_CA_FILE (the CA that signed it) and REDIS_TLS_SERVERNAME (the name it was issued for)`;
    }
  }
  return undefined;
}

/** A hint for a start that timed out, from the last connection error and whether TLS is on. */
export function startTimeoutHint(lastError: unknown, tls: boolean): string {
  const codes = causes(lastError).map((cause) => `${(cause as NodeJS.ErrnoException).code ?? ''} ${cause.message}`).join(' ');
  if (!tls && /ECONNRESET|Connection is closed/.test(codes)) {
    return '; Redis closed the connection: if it accepts only TLS, set REDIS_TLS=true or use a rediss:// REDIS_URL';
  }
  if (tls && /ETIMEDOUT|ECONNRESET|EPROTO|wrong version number/i.test(codes)) {
    return '; the TLS handshake did not complete: check that this port of Redis speaks TLS (REDIS_TLS, rediss://)';
  }
  return '';
}
