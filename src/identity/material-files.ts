// A set of certificate and key files read together, compared with what was loaded, and watched.

import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { ProxyError } from '../errors/proxy-error';
import type { Logger } from '../observe/logger';

/** How long file events settle before a reload: an editor or `mv` makes several in a row. */
const RELOAD_SETTLE_MS = 200;

/**
 * The files one piece of TLS material is built from. `read` reads them all at once, so a reload
 * sees one moment of the folder; `watch` calls back when the content of one of them changed,
 * after events have settled.
 */
export class MaterialFiles {
  private readonly watchers: FSWatcher[] = [];
  private settleTimer: NodeJS.Timeout | undefined;
  /** The contents the current material was built from, in `files` order. */
  private loaded: readonly string[] = [];

  constructor(readonly files: readonly string[]) {}

  /** Reads every file; throws `ERR_PKI_MATERIAL_INVALID` naming the first that cannot be read. */
  read(): string[] {
    return this.files.map((file) => {
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

  /** Records `texts` as the contents the current material was built from. */
  accept(texts: readonly string[]): void {
    this.loaded = texts;
  }

  /**
   * Watches the files' folders rather than the files: a rotation that renames a new file into
   * place replaces the inode a file watch would be stuck on. Folder events also fire for
   * unrelated files, so `onChange` runs only when one of ours changed (or cannot be read, so
   * that the owner reports it).
   */
  watch(logger: Logger, onChange: () => void): void {
    for (const folder of new Set(this.files.map((file) => dirname(file)))) {
      const watcher = watch(folder, { persistent: false }, () => this.settle(onChange));
      watcher.on('error', (err) => logger.warn({ err, folder }, 'certificate folder watch failed'));
      this.watchers.push(watcher);
    }
  }

  /** Stops watching. */
  close(): void {
    clearTimeout(this.settleTimer);
    for (const watcher of this.watchers.splice(0)) watcher.close();
  }

  private settle(onChange: () => void): void {
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => {
      if (this.changed()) onChange();
    }, RELOAD_SETTLE_MS);
    this.settleTimer.unref();
  }

  private changed(): boolean {
    try {
      return this.read().some((text, index) => text !== this.loaded[index]);
    } catch {
      // A file missing mid-rotation: the owner's reload reports it, and the next event retries.
      return true;
    }
  }
}
