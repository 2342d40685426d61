import { generate } from 'selfsigned';

/** A key and the self-signed certificate that goes with it, both PEM. */
export interface TestCertificate {
  readonly key: string;
  readonly cert: string;
}

let pending: Promise<TestCertificate> | undefined;

/**
 * A fresh self-signed certificate for 127.0.0.1, localhost and ::1, generated on first use and then
 * shared by every server of the process: key generation is the slowest step of starting an HTTPS
 * server, and nothing is gained by a new key per test. Nothing is ever written to disk.
 */
export function testCertificate(): Promise<TestCertificate> {
  pending ??= createCertificate().catch((error: unknown) => {
    pending = undefined;
    throw error;
  });
  return pending;
}

async function createCertificate(): Promise<TestCertificate> {
  const now = Date.now();
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    // A day in the past so that a test machine's clock skew never makes it "not yet valid".
    notBeforeDate: new Date(now - 24 * 3600 * 1000),
    notAfterDate: new Date(now + 30 * 24 * 3600 * 1000),
    extensions: [
      // The certificate is its own trust anchor (the client's `ca`), so it must be allowed to sign.
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}
