// The listeners' TLS material: read from files, swapped in whole when the files change.

import { constants } from 'node:crypto';
import type { SecureContextOptions, Server } from 'node:tls';
import type { ListenerTlsConfig } from '../config/gateway-config';
import type { Logger } from '../observe/logger';
import { MaterialFiles } from './material-files';
import {
  checkSecureContext,
  describeBundle,
  describeCertificate,
  warnAboutExpiry,
  type LoadedCertificate,
} from './tls-material';

/**
 * How long a client may take to complete its handshake. Node's default is 120 s, which lets
 * a client that connects and stalls hold a socket (and its memory) long before any listener
 * timeout starts counting.
 */
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** One complete, consistent set of files, already accepted by OpenSSL. */
interface Material {
  readonly options: SecureContextOptions;
  readonly certificates: readonly LoadedCertificate[];
}

/**
 * The server side of TLS for every listener. Each reload reads all files, builds a secure
 * context from them (so OpenSSL checks that the key matches the certificate and that every PEM
 * parses) and only then hands the new options to each server: new handshakes use the new
 * material while connections already open finish on the old one. A file that is broken, half
 * written or missing leaves the current material in place, with an error logged.
 */
export class ServerTls {
  private material: Material;
  private readonly servers = new Set<Server>();
  private readonly files: MaterialFiles;

  /** Reads the files once; throws `ERR_PKI_MATERIAL_INVALID` when they do not form a set. */
  constructor(
    private readonly config: ListenerTlsConfig,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    const { certFile, keyFile, clientCaFiles, crlFiles } = config;
    this.files = new MaterialFiles([certFile, keyFile, ...clientCaFiles, ...crlFiles]);
    this.material = this.load();
  }

  /**
   * Options for a TLS server: the current material, client certificates requested but not
   * enforced by the handshake. The listeners refuse unverified peers themselves, in their own
   * protocol, so a client learns why (expired, revoked, unknown CA) instead of seeing a bare
   * TLS alert; no exchange on such a connection ever reaches the chain.
   */
  serverOptions(): SecureContextOptions & {
    requestCert: true;
    rejectUnauthorized: false;
    handshakeTimeout: number;
  } {
    return {
      ...this.material.options,
      requestCert: true,
      rejectUnauthorized: false,
      handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS,
    };
  }

  /** Registers a server that takes the new material on every successful reload. */
  attach(server: Server): void {
    this.servers.add(server);
  }

  /** The certificates loaded now, for expiry metrics and warnings. */
  get certificates(): readonly LoadedCertificate[] {
    return this.material.certificates;
  }

  /** Re-reads every file; true when the new material took over. */
  reload(): boolean {
    let material: Material;
    try {
      material = this.load();
    } catch (err) {
      this.logger.error({ err }, 'tls material refused, keeping the current one');
      return false;
    }
    this.material = material;
    for (const server of this.servers) server.setSecureContext(material.options);
    this.logger.info({ files: this.files.files.length }, 'tls material reloaded');
    this.warnAboutExpiry();
    return true;
  }

  /** Starts watching the files, when configured. */
  start(): void {
    if (this.config.watch) this.files.watch(this.logger, () => this.reload());
  }

  /** Stops watching. */
  close(): void {
    this.files.close();
  }

  private load(): Material {
    const { certFile, clientCaFiles } = this.config;
    const texts = this.files.read();
    const [cert, key] = texts;
    const ca = texts.slice(2, 2 + clientCaFiles.length);
    const crl = texts.slice(2 + clientCaFiles.length);
    const options: SecureContextOptions = {
      cert,
      key,
      ca,
      crl: crl.length > 0 ? crl : undefined,
      minVersion: this.config.minVersion,
      // Threat: a TLS 1.2 client renegotiating over and over makes the server pay a handshake
      // each time. Node only reports that as an error on the socket, which the listeners
      // handle, so renegotiation is refused outright; TLS 1.3 has none.
      secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
    };
    checkSecureContext(options, certFile);
    const certificates = [
      describeCertificate('server', certFile, cert!, this.now()),
      ...ca.flatMap((text, index) => describeBundle(clientCaFiles[index]!, text, this.now())),
    ];
    this.files.accept(texts);
    return { options, certificates };
  }

  private warnAboutExpiry(): void {
    warnAboutExpiry(this.material.certificates, this.config.expiryWarningDays, this.logger);
  }
}
