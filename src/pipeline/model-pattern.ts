// Model-name patterns of routes: `*` matches any run of characters, `?` exactly one.

/** A compiled pattern, or the reason it cannot be compiled. */
export interface ModelPattern {
  readonly source: string;
  matches(model: string): boolean;
  readonly problem: string | undefined;
}

const MAX_PATTERN_LENGTH = 256;

/** Compiles a pattern once, at start-up; exact names skip the regular expression. */
export function compileModelPattern(source: string): ModelPattern {
  if (source.length === 0 || source.length > MAX_PATTERN_LENGTH) {
    return { source, matches: () => false, problem: `must be 1-${MAX_PATTERN_LENGTH} characters` };
  }
  if (!/[*?]/.test(source)) {
    return { source, matches: (model) => model === source, problem: undefined };
  }

  const body = [...source]
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : escapeRegExp(char)))
    .join('');
  const regex = new RegExp(`^${body}$`, 'su');
  return { source, matches: (model) => regex.test(model), problem: undefined };
}

function escapeRegExp(char: string): string {
  return /[\\^$.|+()[\]{}]/.test(char) ? `\\${char}` : char;
}
