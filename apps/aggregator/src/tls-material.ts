import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { AggregatorError } from './errors.ts';

/** The server's PEM material: certificate (chain), private key, and the CA of client certificates (mTLS). */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  clientCa?: Buffer;
}

/** What each part is called in a refusal: the flag, and the file when it came from one. */
export interface TlsLabels {
  cert: string;
  key: string;
  clientCa: string;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Checks the TLS material before anything listens, so that a garbage file is refused at start in
 * one line (FAILED_PRECONDITION: exit 2 on the command line) instead of failing every client's
 * handshake later: every certificate of the chain and of the client CA bundle parses
 * (node:crypto X509Certificate), the key parses (createPrivateKey) and belongs to the first
 * certificate of the chain, and no certificate is past its validity.
 */
export function checkTlsMaterial(tls: TlsMaterial, labels: TlsLabels, now = new Date()): void {
  const chain = certificates(tls.cert, labels.cert, now);
  const key = privateKey(tls.key, labels.key);
  if (!(chain[0] as X509Certificate).checkPrivateKey(key)) throw new AggregatorError('failed_precondition', `${labels.key} is not the private key of ${labels.cert}`);
  if (tls.clientCa !== undefined) certificates(tls.clientCa, labels.clientCa, now);
}

/** Every PEM certificate in `pem`, parsed; at least one. */
function certificates(pem: Buffer, label: string, now: Date): X509Certificate[] {
  const blocks = pem.toString('utf8').match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new AggregatorError('failed_precondition', `${label} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return blocks.map((block, i) => {
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(block);
    } catch (error: unknown) {
      throw new AggregatorError('failed_precondition', `${label}: certificate ${i + 1} does not parse: ${(error as Error).message}`, { cause: error });
    }
    if (new Date(certificate.validTo) < now) throw new AggregatorError('failed_precondition', `${label}: certificate ${i + 1} (${certificate.subject.replace(/\n/g, ', ')}) expired on ${certificate.validTo}`);
    return certificate;
  });
}

function privateKey(pem: Buffer, label: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (error: unknown) {
    throw new AggregatorError('failed_precondition', `${label} is not a PEM private key: ${(error as Error).message}`, { cause: error });
  }
}
