// Acting on what a headers or end hook answered, whether at once or later.

import type { HeadersResult } from './filter';
import { LocalReply } from './local-reply';

/**
 * Runs `next` when the hooks let the exchange go on: at once for a synchronous result, once the
 * promise settles otherwise. A local reply goes to `reply` instead; a rejected promise (a bug in
 * a filter) to `fail`.
 */
export function afterHook(
  result: HeadersResult,
  next: () => void,
  reply: (reply: LocalReply) => void,
  fail: (err: unknown) => void,
): void {
  if (result === undefined) return next();
  if (result instanceof LocalReply) return reply(result);
  result.then((settled) => (settled instanceof LocalReply ? reply(settled) : next()), fail);
}
