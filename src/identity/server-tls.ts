// The listeners' TLS material: read from files, swapped in whole when the files change.

import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContextOptions, type Server } from 'node:tls';
import type { ListenerTlsConfig } from '../config/gateway-config';
import { ProxyError } from '../errors/proxy-error';
import type { Logger } from '../observe/logger';

/** How long file events settle before a reload: an editor or `mv` makes several in a row. */
const RELOAD_SETTLE_MS = 200;

const DAY_MS = 86_400_000;

/** One certificate the listeners present or trust, and how long it has left. */
export interface LoadedCertificate {
  /** `server` for the listeners' own certificate, `client-ca` for a trusted CA. */
  readonly role: 'server' | 'client-ca';
  readonly file: string;
  readonly subject: string;
  readonly validTo: Date;
  readonly daysLeft: number;
}

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
  private readonly watchers: FSWatcher[] = [];
  private settleTimer: NodeJS.Timeout | undefined;
  /** The file contents the current material was built from, in `files()` order. */
  private loadedTexts: readonly string[] = [];

  /** Reads the files once; throws `ERR_PKI_MATERIAL_INVALID` when they do not form a set. */
  constructor(
    private readonly config: ListenerTlsConfig,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.material = this.load();
  }

  /**
   * Options for a TLS server: the current material, client certificates requested but not
   * enforced by the handshake. The listeners refuse unverified peers themselves, in their own
   * protocol, so a client learns why (expired, revoked, unknown CA) instead of seeing a bare
   * TLS alert; no exchange on such a connection ever reaches the chain.
   */
  serverOptions(): SecureContextOptions & { requestCert: true; rejectUnauthorized: false } {
    return { ...this.material.options, requestCert: true, rejectUnauthorized: false };
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
    this.logger.info({ files: this.files().length }, 'tls material reloaded');
    this.warnAboutExpiry();
    return true;
  }

  /** Starts watching the files (when configured) and warns about certificates near expiry. */
  start(): void {
    this.warnAboutExpiry();
    if (!this.config.watch) return;
    // Watch the folders rather than the files: a rotation that renames a new file into place
    // replaces the inode a file watch would be stuck on.
    const folders = new Set(this.files().map((file) => parentFolder(file)));
    for (const folder of folders) {
      const watcher = watch(folder, { persistent: false }, () => this.scheduleReload());
      watcher.on('error', (err) => this.logger.warn({ err, folder }, 'tls folder watch failed'));
      this.watchers.push(watcher);
    }
  }

  /** Stops watching. */
  close(): void {
    clearTimeout(this.settleTimer);
    for (const watcher of this.watchers) watcher.close();
    this.watchers.length = 0;
  }

  private scheduleReload(): void {
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => this.reloadIfChanged(), RELOAD_SETTLE_MS);
    this.settleTimer.unref();
  }

  /** Folder events also fire for unrelated files: reload only when one of ours changed. */
  private reloadIfChanged(): void {
    let changed: boolean;
    try {
      changed = this.readMaterialFiles().some((text, index) => text !== this.loadedTexts[index]);
    } catch {
      // A file missing mid-rotation: reload() reports it, and the next event retries.
      changed = true;
    }
    if (changed) this.reload();
  }

  private files(): string[] {
    const { certFile, keyFile, clientCaFiles, crlFiles } = this.config;
    return [certFile, keyFile, ...clientCaFiles, ...crlFiles];
  }

  private load(): Material {
    const { certFile, clientCaFiles } = this.config;
    const texts = this.readMaterialFiles();
    const [cert, key] = texts;
    const ca = texts.slice(2, 2 + clientCaFiles.length);
    const crl = texts.slice(2 + clientCaFiles.length);
    const options: SecureContextOptions = {
      cert,
      key,
      ca,
      crl: crl.length > 0 ? crl : undefined,
      minVersion: this.config.minVersion,
    };
    try {
      createSecureContext(options);
    } catch (err) {
      const reason = (err as Error).message.split('\n', 1)[0];
      const message = `tls material of ${certFile} does not form a usable set (${reason})`;
      throw new ProxyError('ERR_PKI_MATERIAL_INVALID', message, { cause: err });
    }
    const certificates = [
      describe('server', certFile, cert!, this.now()),
      ...ca.flatMap((text, index) => describeBundle(clientCaFiles[index]!, text, this.now())),
    ];
    this.loadedTexts = texts;
    return { options, certificates };
  }

  private readMaterialFiles(): string[] {
    return this.files().map((file) => {
      try {
        return readFileSync(file, 'utf8');
      } catch (err) {
        const reason = (err as NodeJS.ErrnoException).code ?? 'unreadable';
        throw new ProxyError('ERR_PKI_MATERIAL_INVALID', `cannot read ${file} (${reason})`, {
          cause: err,
        });
      }
    });
  }

  private warnAboutExpiry(): void {
    for (const certificate of this.material.certificates) {
      if (certificate.daysLeft > this.config.expiryWarningDays) continue;
      this.logger.warn(
        { file: certificate.file, subject: certificate.subject, daysLeft: certificate.daysLeft },
        'certificate expires soon',
      );
    }
  }
}

function describe(
  role: LoadedCertificate['role'],
  file: string,
  pem: string,
  now: number,
): LoadedCertificate {
  const certificate = new X509Certificate(pem);
  const validTo = new Date(certificate.validTo);
  const daysLeft = Math.floor((validTo.getTime() - now) / DAY_MS);
  return { role, file, subject: certificate.subject.replace(/\n/g, ', '), validTo, daysLeft };
}

/** A CA file may hold several certificates (a bundle); each is described. */
function describeBundle(file: string, text: string, now: number): LoadedCertificate[] {
  const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return pems.map((pem) => describe('client-ca', file, pem, now));
}

function parentFolder(file: string): string {
  const slash = file.lastIndexOf('/');
  return slash <= 0 ? '/' : file.slice(0, slash);
}
