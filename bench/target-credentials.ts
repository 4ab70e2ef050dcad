// What a client of the secured gateway presents: the development set's CA and client certificate
// made by `infergate start --certs DIR`, and an access token bound to that certificate.

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { DEVELOPMENT_SERVER } from '../src/identity/pki/development-certificates';
import { INFERGATE_BIN } from './processes';

/**
 * The role `infergate start --certs` grants the development client certificate: every
 * operation on every model (src/cli/development-identity.ts), so every scenario is permitted.
 */
const DEVELOPMENT_ROLE = 'demo';

/**
 * Token lifetime: the longest `infergate token issue` signs. The default (10 minutes) is shorter
 * than a full run; one token for the whole run keeps token issuing out of the measured rounds.
 */
const TOKEN_TTL = '24h';

/** The subject the bench's token names; it reaches the secured gateway's access and audit lines. */
const TOKEN_SUBJECT = 'bench';

/** TLS material and token for one secured target, read once, before any round. */
export interface ClientCredentials {
  /** PEM of the CA that issued the gateway's server certificate (and the client's). */
  readonly ca: Buffer;
  /** PEM of the client certificate the token is bound to, and its key. */
  readonly cert: Buffer;
  readonly key: Buffer;
  /**
   * The three above, parsed once: a client that passes them as PEM to every new connection
   * parses a key and a CA per connection, and would time that instead of the handshake.
   */
  readonly secureContext: tls.SecureContext;
  /**
   * The name the client asks for and checks (`localhost`, in the development server certificate):
   * the listeners are reached by IP, and RFC 6066 allows no IP address in SNI.
   */
  readonly serverName: string;
  /** `authorization` header value, `Bearer <token>`. */
  readonly authorization: string;
}

const execFileAsync = promisify(execFile);

/**
 * Reads the development set a secured gateway made in `certsDir` and issues a token for the
 * `demo` role bound to its client certificate, through `infergate token issue` as an operator
 * would. Rejects when a file is missing or the command fails.
 */
export async function readClientCredentials(certsDir: string): Promise<ClientCredentials> {
  const clientCert = path.join(certsDir, 'client.pem');
  const args = ['token', 'issue', '--cert', clientCert, '--sub', TOKEN_SUBJECT];
  args.push('--roles', DEVELOPMENT_ROLE, '--ttl', TOKEN_TTL);
  args.push('--key', path.join(certsDir, 'token-issuer-key.pem'));
  const { stdout } = await execFileAsync(process.execPath, [INFERGATE_BIN, ...args]);

  const ca = readFileSync(path.join(certsDir, 'ca.pem'));
  const cert = readFileSync(clientCert);
  const key = readFileSync(path.join(certsDir, 'client-key.pem'));
  return {
    ca,
    cert,
    key,
    secureContext: tls.createSecureContext({ ca, cert, key }),
    serverName: DEVELOPMENT_SERVER.altNames.dnsNames[0],
    authorization: `Bearer ${stdout.trim()}`,
  };
}
