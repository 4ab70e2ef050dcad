// What infergate presents to and trusts of one upstream over TLS, reloaded when its files change.

import type { UpstreamConfig, UpstreamTlsConfig } from '../config/gateway-config';
import { MaterialFiles } from '../identity/material-files';
import {
  checkSecureContext,
  describeBundle,
  describeCertificate,
  type LoadedCertificate,
} from '../identity/tls-material';
import type { Logger } from '../observe/logger';

/** The options a TLS connection to the upstream is made with. */
export interface UpstreamTlsOptions {
  readonly ca: string | Buffer | undefined;
  readonly cert: string | Buffer | undefined;
  readonly key: string | Buffer | undefined;
  readonly servername: string;
}

/**
 * The client side of TLS to one upstream. It starts from the material configuration read and,
 * when its files change (or on SIGHUP), reads them all again: a set OpenSSL accepts takes over
 * and each listener is told, so the pool drains its connections onto new ones made with it. A
 * broken set is refused with an error logged, and connections keep the current material.
 */
export class UpstreamTls {
  private current: UpstreamTlsOptions;
  private loadedCertificates: readonly LoadedCertificate[];
  private readonly files: MaterialFiles;
  private readonly kinds: readonly ('ca' | 'cert' | 'key')[];
  private readonly listeners: (() => void)[] = [];

  constructor(
    private readonly upstream: UpstreamConfig,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    const tls = upstream.tls!;
    const named = (['ca', 'cert', 'key'] as const).filter((kind) => fileOf(tls, kind));
    this.kinds = named;
    this.files = new MaterialFiles(named.map((kind) => fileOf(tls, kind)!));
    this.current = {
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      servername: tls.serverName ?? upstream.host,
    };
    this.files.accept(named.map((kind) => String(tls[kind] ?? '')));
    this.loadedCertificates = this.describe(this.current);
  }

  /** The options for the next connection. */
  get options(): UpstreamTlsOptions {
    return this.current;
  }

  /** infergate's client certificate and the trusted CAs for this upstream, for expiry checks. */
  get certificates(): readonly LoadedCertificate[] {
    return this.loadedCertificates;
  }

  /** Calls `listener` after every reload that took over. */
  onReload(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Re-reads the files; true when the new material took over. */
  reload(): boolean {
    if (this.kinds.length === 0) return true;
    let next: UpstreamTlsOptions;
    try {
      const texts = this.files.read();
      const material = Object.fromEntries(this.kinds.map((kind, index) => [kind, texts[index]]));
      next = { ...this.current, ...material };
      checkSecureContext(next, this.files.files[0]!);
      this.files.accept(texts);
    } catch (err) {
      const upstream = this.upstream.name;
      this.logger.error(
        { err, upstream },
        'upstream tls material refused, keeping the current one',
      );
      return false;
    }
    this.current = next;
    this.loadedCertificates = this.describe(next);
    this.logger.info({ upstream: this.upstream.name }, 'upstream tls material reloaded');
    for (const listener of this.listeners) listener();
    return true;
  }

  /** Watches the files, when there are any. */
  start(): void {
    if (this.kinds.length > 0) this.files.watch(this.logger, () => this.reload());
  }

  /** Stops watching. */
  close(): void {
    this.files.close();
  }

  private describe(options: UpstreamTlsOptions): LoadedCertificate[] {
    const { files } = this.upstream.tls!;
    const now = this.now();
    const described: LoadedCertificate[] = [];
    if (options.cert !== undefined && files.certFile !== undefined) {
      described.push(
        describeCertificate('upstream-client', files.certFile, String(options.cert), now),
      );
    }
    if (options.ca !== undefined && files.caFile !== undefined) {
      described.push(...describeBundle(files.caFile, String(options.ca), now, 'upstream-ca'));
    }
    return described;
  }
}

function fileOf(tls: UpstreamTlsConfig, kind: 'ca' | 'cert' | 'key'): string | undefined {
  const { caFile, certFile, keyFile } = tls.files;
  return kind === 'ca' ? caFile : kind === 'cert' ? certFile : keyFile;
}
