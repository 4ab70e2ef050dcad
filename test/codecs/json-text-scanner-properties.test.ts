// Property tests: the spans scanJson reports for random JSON decode to the original scalars at
// the original paths, and any bytes either scan or throw a ProxyError, agreeing with JSON.parse.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import fc from 'fast-check';

import { formatJsonPath } from '../../src/codecs/json-path';
import { decodeJsonScalar, type JsonScalar } from '../../src/codecs/json-scalar-decoder';
import { scanJson } from '../../src/codecs/json-text-scanner';
import { isProxyError } from '../../src/errors/proxy-error';

const RUNS = { seed: 20250611, numRuns: 300 };

/** A JSON scalar found by walking a value or by scanning its text, with its path. */
type Found = readonly [path: string, value: JsonScalar];

/** The scalars of `value` in the order JSON.stringify writes them. */
function walk(value: unknown, path: (string | number)[] = [], out: Found[] = []): Found[] {
  if (Array.isArray(value)) value.forEach((item, i) => walk(item, [...path, i], out));
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) walk(item, [...path, key], out);
  } else out.push([formatJsonPath(path), value as JsonScalar]);
  return out;
}

/**
 * Writes `value` as JSON like JSON.stringify, optionally escaping every string character as
 * `\uXXXX` and adding whitespace, so spans with and without escapes are both exercised.
 */
function encode(value: unknown, escapeAll: boolean, space: string): string {
  if (typeof value === 'string') return escapeAll ? escapeEvery(value) : JSON.stringify(value);
  if (Array.isArray(value)) {
    return `[${space}${value.map((item) => encode(item, escapeAll, space)).join(`,${space}`)}]`;
  }
  if (value !== null && typeof value === 'object') {
    const members = Object.entries(value).map(
      ([key, item]) => `${encode(key, escapeAll, space)}${space}:${encode(item, escapeAll, space)}`,
    );
    return `{${space}${members.join(`,${space}`)}${space}}`;
  }
  return JSON.stringify(value);
}

function escapeEvery(text: string): string {
  const units = Array.from({ length: text.length }, (_, i) => text.charCodeAt(i));
  return `"${units.map((unit) => '\\u' + unit.toString(16).padStart(4, '0')).join('')}"`;
}

const jsonArb = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }),
  fc.jsonValue({ maxDepth: 3, stringUnit: 'grapheme' }),
);

test('spans of random JSON decode to the original scalars at the original paths', () => {
  fc.assert(
    fc.property(
      jsonArb,
      fc.boolean(),
      fc.constantFrom('', ' ', '\n\t'),
      (value, escapeAll, space) => {
        const buf = Buffer.from(encode(value, escapeAll, space));
        const found: Found[] = [];
        scanJson(
          buf,
          {
            scalar: (path, kind, start, end, escaped) => {
              found.push([formatJsonPath(path), decodeJsonScalar(buf, kind, start, end)]);
              assert.equal(escaped, buf.subarray(start, end).includes(0x5c));
            },
          },
          { maxDepth: 100 },
        );

        assert.deepEqual(found, walk(JSON.parse(buf.toString())));
      },
    ),
    RUNS,
  );
});

/** What JSON.parse makes of `bytes` read as strict UTF-8: accepted or not. */
function parsesAsJson(bytes: Buffer): boolean {
  try {
    JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes));
    return true;
  } catch {
    // A SyntaxError or TypeError here is the answer sought: the bytes are not JSON.
    return false;
  }
}

/** Valid JSON with one byte replaced, inserted or removed, so most cases are near misses. */
const mutatedArb = fc
  .tuple(fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }), fc.nat(), fc.nat(255), fc.nat(2))
  .map(([value, at, byte, how]) => {
    const bytes = Buffer.from(JSON.stringify(value));
    const i = at % (bytes.length + 1);
    if (how === 0 && i < bytes.length) bytes[i] = byte;
    if (how === 1)
      return Buffer.concat([bytes.subarray(0, i), Buffer.from([byte]), bytes.subarray(i)]);
    if (how === 2) return Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + 1)]);
    return bytes;
  });

const bytesArb = fc.oneof(
  fc.uint8Array({ maxLength: 24 }).map((bytes) => Buffer.from(bytes)),
  fc.string({ unit: fc.constantFrom(...'{}[],:"\\ 0123-.eEtrufalsn') }).map((s) => Buffer.from(s)),
  mutatedArb,
);

test('random bytes either scan or throw a ProxyError, exactly when JSON.parse agrees', () => {
  fc.assert(
    fc.property(bytesArb, (bytes) => {
      let accepted = true;
      try {
        scanJson(bytes, { scalar: () => {} }, { maxDepth: 1000 });
      } catch (err) {
        assert.ok(isProxyError(err), `expected ProxyError, got ${String(err)}`);
        accepted = false;
      }

      assert.equal(accepted, parsesAsJson(bytes));
    }),
    { ...RUNS, numRuns: 3000 },
  );
});
