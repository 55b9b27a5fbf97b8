import type { AuthContext } from './authentication-interceptor.ts';
import type { Principal } from '../auth.ts';
import { AggregatorError } from '../errors.ts';

/**
 * Under mTLS a token is bound to a certificate: the client certificate's common name (CN) must
 * equal the token's subject (`rlsa pki issue --client --name <subject>` makes such a certificate),
 * so a stolen token presented with another certificate of the same CA is refused
 * (PERMISSION_DENIED). Without mTLS, and with authentication off, there is nothing to bind.
 */
export function checkCertificateBinding(principal: Principal, auth: AuthContext, mtls: boolean): void {
  if (!mtls || principal.anonymous) return;
  const commonName = certificateCommonName(auth);
  if (commonName === undefined) throw new AggregatorError('unauthenticated', 'mTLS: the call came without a verified client certificate');
  if (commonName !== principal.subject) {
    throw new AggregatorError(
      'permission_denied',
      `the token of ${principal.subject} came with the client certificate of ${JSON.stringify(commonName.slice(0, 64))}: under mTLS a token is used only with its subject's certificate (CN = ${principal.subject})`,
    );
  }
}

/** The verified client certificate's common name (the first, when several), if the call has one. */
export function certificateCommonName(auth: AuthContext): string | undefined {
  const cn = auth.sslPeerCertificate?.subject?.CN as string | string[] | undefined;
  return Array.isArray(cn) ? cn[0] : cn;
}
