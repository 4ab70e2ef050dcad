// A deliberately simple server-sent event splitter for the bench client, not a full parser.

/**
 * Splits event-stream text into events and yields each event's data. Events end at a blank
 * line (`\n\n`); data lines are joined with `\n`; other fields and comments are dropped.
 * Limitation: CR line endings are not recognised; the demo server and the gateway write LF,
 * and a stream in CRLF would show up as missing tokens, i.e. as errors, not as wrong figures.
 */
export class SseEventSplitter {
  private pending = '';

  /** Feeds decoded text; returns the data of every event it completed, in order. */
  push(text: string): string[] {
    const parts = (this.pending + text).split('\n\n');
    this.pending = parts.pop() ?? '';
    const events: string[] = [];
    for (const part of parts) {
      const data = eventData(part);
      if (data !== undefined) events.push(data);
    }
    return events;
  }

  /** True when text after the last complete event is still waiting for its blank line. */
  get hasPartialEvent(): boolean {
    return this.pending.trim() !== '';
  }
}

/** The joined `data:` lines of one event's text; undefined for an event without data. */
function eventData(event: string): string | undefined {
  let data: string | undefined;
  for (const line of event.split('\n')) {
    if (!line.startsWith('data:')) continue;
    const value = line.charAt(5) === ' ' ? line.slice(6) : line.slice(5);
    data = data === undefined ? value : `${data}\n${value}`;
  }
  return data;
}
