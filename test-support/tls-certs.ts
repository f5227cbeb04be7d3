import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throwaway CA and a server certificate it signed, as PEM files in a temporary directory. */
export interface TestCertificates {
  dir: string;
  /** The CA certificate: what a client trusts (REDIS_TLS_CA_FILE). */
  caFile: string;
  /** Its PEM text, for clients made in the test. */
  ca: string;
  certFile: string;
  keyFile: string;
  /** The first DNS name of the server certificate: what a client connecting by address verifies against. */
  servername: string;
  /** Removes the directory. */
  destroy(): void;
}

export interface TestCertificateOptions {
  /** DNS names the server certificate is issued for. Default `['localhost']`. */
  dnsNames?: string[];
  /** IP addresses it is issued for. Default `['127.0.0.1']`; `[]` for a certificate that names no address. */
  ips?: string[];
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Generates a CA and a server certificate with `openssl` (on the PATH), valid for one day. */
export function createTestCertificates(options: TestCertificateOptions = {}): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'jobstream-tls-'));
  const dnsNames = options.dnsNames ?? ['localhost'];
  const names = [...dnsNames.map((name) => `DNS:${name}`), ...(options.ips ?? ['127.0.0.1']).map((ip) => `IP:${ip}`)];
  try {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=jobstream test CA'], dir);
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=jobstream test redis'], dir);
    writeFileSync(join(dir, 'server.ext'), `subjectAltName=${names.join(',')}\n`);
    openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'server.ext'], dir);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const caFile = join(dir, 'ca.pem');
  return {
    dir,
    caFile,
    ca: readFileSync(caFile, 'utf8'),
    certFile: join(dir, 'server.pem'),
    keyFile: join(dir, 'server.key'),
    servername: dnsNames[0] ?? 'localhost',
    destroy: () => rmSync(dir, { recursive: true, force: true }),
  };
}
