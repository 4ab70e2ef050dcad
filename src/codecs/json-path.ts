// Paths into a JSON document, the text spans codecs report at them, and path pattern sets.

/** One step into a JSON value: an object member's decoded key, or an array index from 0. */
export type JsonPathKey = string | number;

/** The steps from the document root to a value; the root itself is the empty path. */
export type JsonPath = readonly JsonPathKey[];

// Limitation: no codec re-encodes an escaped span yet (DESIGN.md "Masking without copies"); a
// masker meeting `escaped: true` must decode, mask and re-encode the frame itself.
/**
 * A JSON string value that carries text a masking filter may rewrite in place: `start` and `end`
 * are byte offsets of the string's wire bytes inside its quotes, in the buffer the codec was
 * given (or the SSE event, where the codec says so). When `escaped` is false those bytes are
 * exactly the text's UTF-8; when true the wire form holds JSON escapes (RFC 8259 §7) such as
 * `\n`, `\"` or `\u0034`, so the bytes are not the plain text and `decodeJsonString` recovers
 * it. `path` names the value for logs and audit records, e.g. `messages.3.content.0.text`.
 */
export interface JsonTextSpan {
  readonly path: string;
  readonly start: number;
  readonly end: number;
  readonly escaped: boolean;
}

/**
 * Writes a path in the compact dotted form used by `JsonTextSpan.path`: keys and indexes joined
 * by `.`, the root as ''. The form is for people: a key holding `.` makes it ambiguous.
 */
export function formatJsonPath(path: JsonPath): string {
  return path.join('.');
}

/**
 * A set of path patterns, each written in the dotted form with `*` for any one step (a key or an
 * index): `messages.*.content.*.text`. Matching costs one comparison per step of the patterns of
 * the same length as the path, so a codec may test every scalar of a document against it.
 */
export class JsonPathSet {
  /** Patterns grouped by step count; a pattern step of `undefined` matches any step. */
  private readonly byLength = new Map<number, (string | undefined)[][]>();

  constructor(patterns: readonly string[]) {
    for (const pattern of patterns) {
      const steps = pattern.split('.').map((step) => (step === '*' ? undefined : step));
      const group = this.byLength.get(steps.length) ?? [];
      group.push(steps);
      this.byLength.set(steps.length, group);
    }
  }

  /** True when `path` matches at least one pattern; an index never matches a named step. */
  has(path: JsonPath): boolean {
    const group = this.byLength.get(path.length);
    if (group === undefined) return false;
    return group.some((steps) => matchesSteps(path, steps));
  }
}

function matchesSteps(path: JsonPath, steps: readonly (string | undefined)[]): boolean {
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i];
    if (step !== undefined && step !== path[i]) return false;
  }
  return true;
}
