// The certificate chain a device presented in its TLS handshake: the device certificate first, then the
// intermediates it sent, in the order it sent them. Servers ask for a client certificate without requiring one
// (symmetric-key devices send none) and without judging it at the TLS layer: attestation decides, with a reason
// (x509-attestation.ts).
import type { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';

/** TLS options of every device-facing server: ask for a client certificate; attestation judges it. */
export const CLIENT_CERTIFICATE_REQUEST = { requestCert: true, rejectUnauthorized: false } as const;

const chains = new WeakMap<TLSSocket, readonly X509Certificate[]>();

// getPeerX509Certificate wraps the certificates OpenSSL parsed in the handshake (getPeerCertificate(true) would
// build the legacy objects and the raw DER would be parsed again), and links each to the next one the device sent
// as its issuerCertificate (nodejs.org/api/tls.html#tlssocketgetpeerx509certificate). It takes them out of the
// TLS session's chain as it does so: a second call sees the leaf alone, hence one call per socket.
function chainOf(socket: TLSSocket): readonly X509Certificate[] {
  const chain: X509Certificate[] = [];
  try {
    for (let current = socket.getPeerX509Certificate(); current; current = current.issuerCertificate) {
      chain.push(current);
    }
  } catch {
    // OpenSSL parsed it for the handshake; a certificate Node cannot copy ends the chain here
  }
  return chain;
}

/** The chain of the connection (taken once per TLS connection); empty when the device sent none. */
export function peerCertificates(socket: TLSSocket): readonly X509Certificate[] {
  let chain = chains.get(socket);
  if (!chain) {
    chain = typeof socket.getPeerX509Certificate === 'function' ? chainOf(socket) : [];
    chains.set(socket, chain);
  }
  return chain;
}
