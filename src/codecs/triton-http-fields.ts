// Field rules shared by the Triton HTTP codecs: typed scalars, parameters, repeated keys, and
// the errors they raise.

import { isProxyError, ProxyError } from '../errors/proxy-error';
import { formatJsonPath, type JsonPath } from './json-path';
import { decodeJsonScalar, type JsonScalar } from './json-scalar-decoder';
import type { JsonContainerKind, JsonScalarKind } from './json-text-scanner';
import type { TritonParameterValue } from './triton-http-facts';

/** A `parameters` object under construction; see `TritonParameters` for why it has no prototype. */
export type TritonParameterMap = Record<string, TritonParameterValue>;

/** Creates an empty, null-prototype parameter map. */
export function createTritonParameters(): TritonParameterMap {
  return Object.create(null) as TritonParameterMap;
}

/** The longest field path a message quotes; paths hold keys chosen by the sender. */
const MAX_QUOTED_PATH_CHARS = 120;

/** A field's dotted path for messages, cut to a bounded length. */
export function quoteField(path: JsonPath): string {
  return `"${formatJsonPath(path).slice(0, MAX_QUOTED_PATH_CHARS)}"`;
}

/**
 * The error for a body that breaks a rule of KServe v2 REST API; Triton generate extension the
 * codecs check. Codecs of upstream bodies turn it into `ERR_UPSTREAM_PROTOCOL` with
 * `asUpstreamProtocolError`.
 */
export function bodyInvalid(message: string): ProxyError {
  return new ProxyError('ERR_TRITON_BODY_INVALID', message);
}

/**
 * Decodes the scalar at `path`, refusing any kind but `expected`: strings where numbers or
 * booleans are due are refused rather than coerced, so the gateway never reads a field
 * differently from a lax upstream.
 */
export function readTyped(
  json: Buffer,
  path: JsonPath,
  expected: JsonScalarKind,
  kind: JsonScalarKind,
  start: number,
  end: number,
): JsonScalar {
  if (kind !== expected) {
    throw bodyInvalid(`Triton body field ${quoteField(path)} must be a ${expected}, not a ${kind}`);
  }
  return decodeJsonScalar(json, kind, start, end);
}

/** Refuses a container where `expected` (a scalar kind, or the other container) is due. */
export function wrongContainer(path: JsonPath, kind: JsonContainerKind, expected: string): never {
  throw bodyInvalid(`Triton body field ${quoteField(path)} must be ${expected}, not an ${kind}`);
}

/**
 * Reads the parameter whose value is the scalar at `path` into `into`, keyed by the last step.
 * Triton takes only strings, numbers and booleans (KServe v2 REST); `null` is refused.
 */
export function readParameter(
  json: Buffer,
  path: JsonPath,
  kind: JsonScalarKind,
  start: number,
  end: number,
  into: TritonParameterMap,
): void {
  if (kind === 'null') {
    throw bodyInvalid(`Triton parameter ${quoteField(path)} must be a string, number or boolean`);
  }
  into[String(path[path.length - 1])] = decodeJsonScalar(json, kind, start, end) as
    string | number | boolean;
}

/** Refuses a parameter whose value is an object or array. */
export function refuseParameterContainer(path: JsonPath, kind: JsonContainerKind): never {
  return wrongContainer(path, kind, 'a string, number or boolean');
}

/** Reads a parameter that must be a non-negative safe integer (a byte count). */
export function byteCountParameter(
  parameters: TritonParameterMap,
  key: string,
  owner: JsonPath,
): number | undefined {
  const value = parameters[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw bodyInvalid(
      `Triton parameter ${quoteField([...owner, 'parameters', key])} must be a byte count`,
    );
  }
  return value;
}

// Threat: JSON parsers disagree on a repeated key (rapidjson's lookup in Triton finds the first,
// Python's json keeps the last), so a body naming `binary_data_size` or `datatype` twice could
// be sliced or classified one way by the gateway and another way by the upstream, and text the
// upstream reads would not be where the gateway masks.
/** Refuses a key repeated within one object, for members up to `maxDepth` steps deep. */
export class RepeatedKeyGuard {
  private readonly seen = new Set<string>();

  constructor(private readonly maxDepth: number) {}

  /** Records the member that ends at `path`; throws when its object already had the key. */
  note(path: JsonPath): void {
    const last = path[path.length - 1];
    if (typeof last !== 'string' || path.length > this.maxDepth) return;

    const key = JSON.stringify(path);
    if (this.seen.has(key))
      throw bodyInvalid(`Triton body field ${quoteField(path)} appears twice`);
    this.seen.add(key);
  }
}

/**
 * Runs `decode` on an upstream body: a ProxyError it throws (malformed JSON, a broken field or
 * binary part) becomes `ERR_UPSTREAM_PROTOCOL` with the original as `cause`, because text the
 * codec cannot read must not be relayed unmasked. Other errors pass unchanged.
 */
export function asUpstreamProtocolError<T>(decode: () => T): T {
  try {
    return decode();
  } catch (err) {
    if (!isProxyError(err)) throw err;
    throw new ProxyError(
      'ERR_UPSTREAM_PROTOCOL',
      `upstream sent a Triton response the gateway cannot read: ${err.message}`,
      { cause: err },
    );
  }
}
