/**
 * TLS for client connections (`tls-port`), with Redis 7.0's tls-* directives:
 * the certificate and key (and the key's passphrase), the CA file or
 * directory that client certificates are checked against, tls-auth-clients
 * (yes: a certificate is required, optional: checked if given, no: not
 * asked), tls-protocols, tls-ciphers, tls-ciphersuites,
 * tls-prefer-server-ciphers and the session cache settings.
 *
 * Node's own TLS (OpenSSL inside the node binary) does the work, so nothing
 * native is added. A TLS connection is an ordinary client afterwards: the
 * same accept path, parser and replies as over TCP.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ConnectionOptions, TlsOptions, SecureVersion } from 'node:tls';
import type { Config } from '../config/config.js';

export { TLS_CONTEXT_DIRECTIVES } from '../config/directives.js';

/** The protocol names tls-protocols takes, oldest first. */
const PROTOCOLS: SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** Options for tls.createServer / setSecureContext, or the reasons they cannot be made (Redis's log lines). */
export type TlsSetup = { options: TlsOptions; errors: null } | { options: null; errors: string[] };

function readPem(path: string, what: string, errors: string[]): Buffer | null {
  try {
    return readFileSync(path);
  } catch (e) {
    errors.push(`Failed to load ${what}: ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}`);
    return null;
  }
}

/** Every certificate file of a CA directory (OpenSSL's hashed-name layout or plain .pem/.crt files). */
function readCaDir(dir: string, errors: string[]): Buffer[] {
  try {
    return readdirSync(dir)
      .filter((f) => /\.(pem|crt|\d+)$/.test(f))
      .map((f) => readFileSync(join(dir, f)));
  } catch (e) {
    errors.push(`Failed to configure CA certificate(s) file/directory: ${(e as Error).message}`);
    return [];
  }
}

/** The CA certificates of tls-ca-cert-file and tls-ca-cert-dir. */
function readCa(config: Config, errors: string[]): Buffer[] {
  const caFile = config.get('tls-ca-cert-file') ?? '';
  const caDir = config.get('tls-ca-cert-dir') ?? '';
  const ca: Buffer[] = [];
  if (caFile !== '') {
    const b = readPem(caFile, 'CA certificate(s)', errors);
    if (b !== null) ca.push(b);
  }
  if (caDir !== '') ca.push(...readCaDir(caDir, errors));
  return ca;
}

/** tls-protocols as Node's minimum and maximum versions; Redis's default is TLSv1.2 and TLSv1.3. */
function protocolRange(config: Config, errors: string[]): { minVersion?: SecureVersion; maxVersion?: SecureVersion } {
  const protocols = (config.get('tls-protocols') ?? '').trim();
  if (protocols === '') return { minVersion: 'TLSv1.2' };
  const idx = protocols.split(/\s+/).map((p) => PROTOCOLS.findIndex((q) => q.toLowerCase() === p.toLowerCase()));
  if (idx.some((i) => i < 0)) {
    errors.push(`Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.`);
    return {};
  }
  return { minVersion: PROTOCOLS[Math.min(...idx)], maxVersion: PROTOCOLS[Math.max(...idx)] };
}

/**
 * The options of an outgoing TLS connection (a replica's link to its master,
 * tls-replication): tls-client-cert-file / tls-client-key-file when set, else
 * the server's certificate, and the master's certificate checked against the
 * CA. As Redis, the master's host name is not matched against its certificate.
 */
export function tlsClientSetup(config: Config): { options: ConnectionOptions; errors: null } | { options: null; errors: string[] } {
  const errors: string[] = [];
  const clientCert = config.get('tls-client-cert-file') ?? '';
  const certFile = clientCert !== '' ? clientCert : (config.get('tls-cert-file') ?? '');
  const keyFile = clientCert !== '' ? (config.get('tls-client-key-file') ?? '') : (config.get('tls-key-file') ?? '');
  const pass = clientCert !== '' ? config.get('tls-client-key-file-pass') : config.get('tls-key-file-pass');
  const options: ConnectionOptions = {
    ca: readCa(config, errors),
    rejectUnauthorized: true,
    checkServerIdentity: () => undefined,
    ...protocolRange(config, errors),
  };
  if (certFile !== '') options.cert = readPem(certFile, 'certificate', errors) ?? undefined;
  if (keyFile !== '') options.key = readPem(keyFile, 'private key', errors) ?? undefined;
  if (pass) options.passphrase = pass;
  return errors.length > 0 ? { options: null, errors } : { options, errors: null };
}

/**
 * Builds the server-side TLS options from the configuration, as Redis's
 * tlsConfigure does: a certificate and key are required, and a CA when
 * clients (or replication / the cluster bus) must present certificates.
 */
export function tlsServerSetup(config: Config): TlsSetup {
  const errors: string[] = [];
  const certFile = config.get('tls-cert-file') ?? '';
  const keyFile = config.get('tls-key-file') ?? '';
  const caFile = config.get('tls-ca-cert-file') ?? '';
  const caDir = config.get('tls-ca-cert-dir') ?? '';
  const authClients = config.get('tls-auth-clients') ?? 'yes';
  if (certFile === '') return { options: null, errors: ['No tls-cert-file configured!'] };
  if (keyFile === '') return { options: null, errors: ['No tls-key-file configured!'] };
  if (caFile === '' && caDir === '' && (authClients !== 'no' || config.getBool('tls-cluster') || config.getBool('tls-replication'))) {
    return { options: null, errors: ['Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!'] };
  }
  const cert = readPem(certFile, 'certificate', errors);
  const key = readPem(keyFile, 'private key', errors);
  const ca = readCa(config, errors);
  const options: TlsOptions = {
    cert: cert ?? undefined,
    key: key ?? undefined,
    passphrase: config.get('tls-key-file-pass') || undefined,
    ca: ca.length > 0 ? ca : undefined,
    requestCert: authClients !== 'no',
    rejectUnauthorized: authClients === 'yes',
    honorCipherOrder: config.getBool('tls-prefer-server-ciphers'),
  };
  Object.assign(options, protocolRange(config, errors));
  const ciphers = config.get('tls-ciphers') ?? '';
  const suites = config.get('tls-ciphersuites') ?? '';
  if (ciphers !== '') options.ciphers = ciphers;
  if (suites !== '') options.ciphers = options.ciphers ? `${options.ciphers}:${suites}` : suites;
  if (!config.getBool('tls-session-caching')) options.sessionTimeout = 0;
  else options.sessionTimeout = config.getNumber('tls-session-cache-timeout');
  const dh = config.get('tls-dh-params-file') ?? '';
  if (dh !== '') {
    const b = readPem(dh, 'DH params file', errors);
    if (b !== null) options.dhparam = b;
  }
  return errors.length > 0 ? { options: null, errors } : { options, errors: null };
}
