// The certificate chain a device presented in its TLS handshake: the device certificate first, then the
// intermediates it sent. Servers ask for a client certificate without requiring one (symmetric-key devices
// send none) and without judging it at the TLS layer: attestation decides, with a reason (x509-attestation.ts).
import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';

/** TLS options of every device-facing server: ask for a client certificate; attestation judges it. */
export const CLIENT_CERTIFICATE_REQUEST = { requestCert: true, rejectUnauthorized: false } as const;

const chains = new WeakMap<TLSSocket, readonly X509Certificate[]>();

function chainOf(socket: TLSSocket): readonly X509Certificate[] {
  const chain: X509Certificate[] = [];
  let current: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  while (current?.raw && !seen.has(current.fingerprint256)) {
    seen.add(current.fingerprint256);
    try {
      chain.push(new X509Certificate(current.raw));
    } catch {
      break; // OpenSSL parsed it for the handshake; a certificate Node cannot read ends the chain here
    }
    current = current.issuerCertificate;
  }
  return chain;
}

/** The chain of the connection (parsed once per TLS connection); empty when the device sent none. */
export function peerCertificates(socket: TLSSocket): readonly X509Certificate[] {
  let chain = chains.get(socket);
  if (!chain) {
    chain = typeof socket.getPeerCertificate === 'function' ? chainOf(socket) : [];
    chains.set(socket, chain);
  }
  return chain;
}
