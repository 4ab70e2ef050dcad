// The longest text an operator's masking pattern can match, read from its source: a streamed
// text is held back only that far, so a pattern must have a bound.

/** The longest match an operator's pattern may have: what a stream holds back for it. */
export const MAX_PATTERN_LENGTH = 256;

/** Escapes that match one character: classes and character escapes. */
const ONE_CHARACTER_ESCAPES = new Set([...'dDwWsStnrvf0.\\/^$*+?()[]{}|-']);

/**
 * Reads regular expression `source` (JavaScript syntax, without the `u` flag) and returns the
 * most characters one match can span, or a reason it cannot be bounded or used: `*`, `+` and
 * `{n,}` have no bound; lookarounds and backreferences read text outside the match, which a
 * stream may not have yet; non-ASCII characters are refused because patterns match bytes.
 */
export function maxPatternLength(source: string): number | string {
  if (!/^[\x20-\x7e]*$/.test(source)) return 'only printable ASCII characters may be used';
  const reader = new PatternReader(source);
  try {
    const length = reader.alternatives();
    if (reader.pos < source.length) return `unbalanced ")" at ${reader.pos}`;
    return length;
  } catch (err) {
    if (err instanceof UnboundedPattern) return err.message;
    throw err;
  }
}

class UnboundedPattern extends Error {}

/** A recursive-descent reader of the pattern grammar: alternatives of quantified atoms. */
class PatternReader {
  pos = 0;

  constructor(private readonly source: string) {}

  /** `a|b|c`: the longest alternative. */
  alternatives(): number {
    let longest = this.sequence();
    while (this.source[this.pos] === '|') {
      this.pos++;
      longest = Math.max(longest, this.sequence());
    }
    return longest;
  }

  /** Quantified atoms up to `|`, `)` or the end: their lengths add up. */
  private sequence(): number {
    let total = 0;
    while (this.pos < this.source.length) {
      const char = this.source[this.pos];
      if (char === '|' || char === ')') break;
      total += this.atom() * this.quantifier();
    }
    return total;
  }

  private atom(): number {
    const char = this.source[this.pos++]!;
    if (char === '(') return this.group();
    if (char === '[') return this.characterClass();
    if (char === '\\') return this.escape();
    if (char === '^' || char === '$') return 0;
    return 1;
  }

  private group(): number {
    if (this.source.startsWith('?=', this.pos) || this.source.startsWith('?!', this.pos)) {
      this.fail('lookaheads are not supported');
    }
    if (this.source.startsWith('?<=', this.pos) || this.source.startsWith('?<!', this.pos)) {
      this.fail('lookbehinds are not supported');
    }
    if (this.source.startsWith('?:', this.pos)) this.pos += 2;
    else if (this.source.startsWith('?<', this.pos))
      this.pos = this.source.indexOf('>', this.pos) + 1;
    const length = this.alternatives();
    this.pos++; // the closing parenthesis; RegExp already checked that it is there
    return length;
  }

  private characterClass(): number {
    while (this.pos < this.source.length && this.source[this.pos] !== ']') {
      this.pos += this.source[this.pos] === '\\' ? 2 : 1;
    }
    this.pos++;
    return 1;
  }

  private escape(): number {
    const char = this.source[this.pos++]!;
    if (char === 'b' || char === 'B') return 0;
    if (/[1-9k]/.test(char)) this.fail('backreferences are not supported');
    if (char === 'x') this.pos += 2;
    else if (char === 'u') this.pos += 4;
    else if (char === 'c') this.pos += 1;
    else if (!ONE_CHARACTER_ESCAPES.has(char) && /[A-Za-z]/.test(char)) {
      this.fail(`the escape "\\${char}" is not supported`);
    }
    return 1;
  }

  /** The most times the atom before may repeat: `?`, `{n}`, `{n,m}`; none is once. */
  private quantifier(): number {
    const rest = this.source.slice(this.pos);
    if (rest[0] === '*' || rest[0] === '+') this.fail(`"${rest[0]}" has no bound; write {0,N}`);
    const braces = /^\{(\d+)(,(\d*))?\}/.exec(rest);
    let times = 1;
    if (rest[0] === '?') {
      this.pos++;
    } else if (braces !== null) {
      if (braces[3] === '') this.fail(`"${braces[0]}" has no bound`);
      times = Number(braces[3] ?? braces[1]);
      this.pos += braces[0].length;
    } else {
      return times;
    }
    if (this.source[this.pos] === '?') this.pos++; // lazy: the same bound
    return times;
  }

  private fail(reason: string): never {
    throw new UnboundedPattern(reason);
  }
}
