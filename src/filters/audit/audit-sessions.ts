// Records each client connection's opening and closing in the audit log.

import type { AuditLog } from '../../audit/audit-log';
import { roundMs } from '../../observe/duration';
import type { Session, SessionObserver } from '../../pipeline/session';
import { sessionOpenedEvent } from './audit-records';

interface OpenSession {
  readonly openedAt: number;
  exchanges: number;
}

/**
 * The listeners' session observer when audit is on: a SessionOpened frame when a connection
 * has completed its handshake (where from, which TLS, which certificate), a SessionClosed frame
 * with its exchange count when it goes, a SessionRefused frame for a failed handshake. None
 * waits for the store.
 */
export class AuditSessions implements SessionObserver {
  private readonly open = new Map<string, OpenSession>();

  constructor(private readonly log: AuditLog) {}

  opened(listener: string, session: Session): void {
    this.open.set(session.id, { openedAt: performance.now(), exchanges: 0 });
    this.log.record({ sessionOpened: sessionOpenedEvent(listener, session) });
  }

  closed(session: Session): void {
    const open = this.open.get(session.id);
    if (open === undefined) return;
    this.open.delete(session.id);
    const durationMs = roundMs(performance.now() - open.openedAt);
    this.log.record({
      sessionClosed: { sessionId: session.id, exchanges: open.exchanges, durationMs },
    });
  }

  refused(listener: string, remoteAddress: string | undefined, reason: string): void {
    this.log.record({ sessionRefused: { listener, clientAddress: remoteAddress, reason } });
  }

  /** Counts an exchange of `session` for its SessionClosed frame. */
  countExchange(session: Session): void {
    const open = this.open.get(session.id);
    if (open !== undefined) open.exchanges++;
  }
}
