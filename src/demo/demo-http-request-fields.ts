// Narrows the fields of a JSON request body, remembering the first field that is malformed.

/** A request field that failed validation: which one, and why. */
export interface FieldFault {
  readonly param: string;
  readonly message: string;
}

/** True for a plain JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True for an array of non-negative integers (a token-id list). */
export function isTokenIds(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((item) => Number.isInteger(item) && item >= 0);
}

/**
 * Reads typed fields out of one JSON object. A field that is absent or `null` reads as
 * undefined (clients send `null` for unset options); a field of the wrong type also reads as
 * undefined and is recorded as the reader's `fault`, so a handler reads everything it needs and
 * then checks once.
 */
export class FieldReader {
  private firstFault: FieldFault | undefined;

  constructor(private readonly fields: Readonly<Record<string, unknown>>) {}

  /** The first malformed field read so far. */
  get fault(): FieldFault | undefined {
    return this.firstFault;
  }

  /** Records a fault unless an earlier one is already recorded. */
  reject(param: string, message: string): void {
    this.firstFault ??= { param, message };
  }

  /** The raw value of a field, `null` read as undefined. */
  value(name: string): unknown {
    return this.fields[name] ?? undefined;
  }

  /** A string field. */
  string(name: string): string | undefined {
    return this.typed<string>(name, 'a string', (value) => typeof value === 'string');
  }

  /** A boolean field. */
  boolean(name: string): boolean | undefined {
    return this.typed<boolean>(name, 'a boolean', (value) => typeof value === 'boolean');
  }

  /** An object field. */
  record(name: string): Record<string, unknown> | undefined {
    return this.typed<Record<string, unknown>>(name, 'an object', isRecord);
  }

  /** An array field. */
  array(name: string): unknown[] | undefined {
    return this.typed<unknown[]>(name, 'an array', Array.isArray);
  }

  /** An integer field of at least `min`. */
  integer(name: string, min = 0): number | undefined {
    return this.typed<number>(
      name,
      `an integer of at least ${min}`,
      (value) => Number.isInteger(value) && (value as number) >= min,
    );
  }

  private typed<T>(
    name: string,
    expected: string,
    check: (value: unknown) => boolean,
  ): T | undefined {
    const value = this.value(name);
    if (value === undefined || check(value)) {
      return value as T | undefined;
    }
    this.reject(name, `'${name}' must be ${expected}`);
    return undefined;
  }
}
