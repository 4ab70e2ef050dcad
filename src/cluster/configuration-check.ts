// Whether a cluster's configuration file changed since its workers read it, and whether the
// new one is one they could start on: what decides between a reload and a rolling restart.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { GatewayConfig } from '../config/gateway-config';
import type { Logger } from '../observe/logger';

/** Reads the digest of `file` now; throws as `fs.readFileSync` does. */
function digestOf(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/**
 * Remembers the bytes of the configuration file the workers run on (by digest) and, on each
 * SIGHUP, says whether they changed into a configuration that loads. Files the configuration
 * names (certificates, keys, CRLs) are not part of the digest: every worker reloads those itself.
 */
export class ConfigurationCheck {
  private digest: string;
  private readonly addresses: string;

  /**
   * `load` reads and validates the file as a start would (throwing ProxyError when it cannot);
   * `running` is what the start loaded. The file is read for the digest right away, so call
   * this just after the start's own load.
   */
  constructor(
    private readonly file: string,
    private readonly load: () => GatewayConfig,
    running: GatewayConfig,
    private readonly logger: Logger,
  ) {
    this.digest = digestOf(file);
    this.addresses = listenerAddresses(running);
  }

  /**
   * True when the file changed and what it says now loads; that version becomes the one the
   * workers run on. A file that cannot be read or does not load, or that moves a listener (the
   * workers share their listening sockets, so a new address needs a new cluster), is logged
   * and answered false: the workers keep the configuration they have.
   */
  changed(): boolean {
    let digest: string;
    try {
      digest = digestOf(this.file);
      if (digest === this.digest) return false;
      const next = listenerAddresses(this.load());
      if (next !== this.addresses) {
        const fields = { file: this.file, listeners: next, running: this.addresses };
        this.logger.error(
          fields,
          'configuration not reloaded: a listener moved, restart the gateway',
        );
        return false;
      }
    } catch (err) {
      this.logger.error(
        { err, file: this.file },
        'configuration not reloaded: the workers keep theirs',
      );
      return false;
    }
    this.digest = digest;
    return true;
  }
}

/** Where the listeners bind, as one comparable string. */
function listenerAddresses(config: GatewayConfig): string {
  const { grpc, http, admin } = config.listeners;
  return [grpc, http, admin].map(({ host, port }) => `${host}:${port}`).join(' ');
}
