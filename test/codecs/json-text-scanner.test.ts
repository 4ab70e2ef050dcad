// Scanning JSON bodies: scalar paths and byte ranges, container closes, and every rejection.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { formatJsonPath } from '../../src/codecs/json-path';
import { decodeJsonString } from '../../src/codecs/json-scalar-decoder';
import {
  scanJson,
  type JsonScalarKind,
  type JsonScanOptions,
} from '../../src/codecs/json-text-scanner';
import { ProxyError } from '../../src/errors/proxy-error';
import { assertProxyError } from '../fixtures/proxy-errors';

/** One visitor call, with the path formatted and the range read back as wire text. */
interface Visit {
  readonly path: string;
  readonly kind: JsonScalarKind | 'close object' | 'close array';
  readonly wire: string;
  readonly escaped?: boolean;
  readonly members?: number;
}

/** Scans `json` and records every visitor call in order. */
function visits(json: string | Buffer, options?: JsonScanOptions): Visit[] {
  const buf = typeof json === 'string' ? Buffer.from(json) : json;
  const out: Visit[] = [];
  scanJson(
    buf,
    {
      scalar: (path, kind, start, end, escaped) =>
        out.push({
          path: formatJsonPath(path),
          kind,
          wire: buf.toString('utf8', start, end),
          escaped,
        }),
      close: (path, kind, members) =>
        out.push({ path: formatJsonPath(path), kind: `close ${kind}`, wire: '', members }),
    },
    options,
  );
  return out;
}

/** Scans `json` and discards what it finds; for tests that only expect acceptance or an error. */
function scan(json: string | Buffer, options?: JsonScanOptions): void {
  scanJson(typeof json === 'string' ? Buffer.from(json) : json, { scalar: () => {} }, options);
}

describe('scanJson on valid documents', () => {
  test('reports each scalar with path, kind and wire range, and closes with member counts', () => {
    const json = '{"model":"m-1","n":2,"stream":false,"x":null,"m":[{"c":"hi"},[]],"t":true}';

    assert.deepEqual(visits(json), [
      { path: 'model', kind: 'string', wire: 'm-1', escaped: false },
      { path: 'n', kind: 'number', wire: '2', escaped: false },
      { path: 'stream', kind: 'boolean', wire: 'false', escaped: false },
      { path: 'x', kind: 'null', wire: 'null', escaped: false },
      { path: 'm.0.c', kind: 'string', wire: 'hi', escaped: false },
      { path: 'm.0', kind: 'close object', wire: '', members: 1 },
      { path: 'm.1', kind: 'close array', wire: '', members: 0 },
      { path: 'm', kind: 'close array', wire: '', members: 2 },
      { path: 't', kind: 'boolean', wire: 'true', escaped: false },
      { path: '', kind: 'close object', wire: '', members: 6 },
    ]);
  });

  test('gives string ranges in bytes, not UTF-16 units, for non-ASCII text', () => {
    const json = Buffer.from('{"k":"€ 😀 ü","after":"4111"}');
    const spans: [number, number][] = [];
    scanJson(json, { scalar: (_path, _kind, start, end) => spans.push([start, end]) });

    assert.deepEqual(spans, [
      [6, 17],
      [28, 32],
    ]);
    assert.equal(json.toString('utf8', 6, 17), '€ 😀 ü');
    assert.equal(json.toString('utf8', 28, 32), '4111');
  });

  test('marks strings holding escapes and decodes object keys with escapes', () => {
    const json = '{"mod\\u0065l":"a\\nb","plain":"\\u0034\\u0031","q":"say \\"hi\\""}';

    const found = visits(json);

    assert.deepEqual(
      found.map(({ path, wire, escaped }) => [path, wire, escaped]),
      [
        ['model', 'a\\nb', true],
        ['plain', '\\u0034\\u0031', true],
        ['q', 'say \\"hi\\"', true],
        ['', '', undefined],
      ],
    );
  });

  test('accepts a scalar document and the four whitespace bytes around tokens', () => {
    assert.deepEqual(visits(' \t\r\n"x" \n'), [
      { path: '', kind: 'string', wire: 'x', escaped: false },
    ]);
    assert.deepEqual(
      visits('[ -0 , 1.5e+10 , 0E-2 , -12.25 , 3e7 ]').map(({ wire }) => wire),
      ['-0', '1.5e+10', '0E-2', '-12.25', '3e7', ''],
    );
  });

  test('accepts nesting up to the limit', () => {
    scan('['.repeat(64) + ']'.repeat(64));
    scan('{"a":'.repeat(3) + '1' + '}'.repeat(3), { maxDepth: 3 });
  });

  test('hands a visitor error to the caller unchanged', () => {
    const thrown = new Error('stop');
    assert.throws(
      () =>
        scanJson(Buffer.from('[1,2]'), {
          scalar: () => {
            throw thrown;
          },
        }),
      (err) => err === thrown,
    );
  });
});

describe('scanJson rejections', () => {
  const malformed: [string, string | Buffer][] = [
    ['an empty body', ''],
    ['whitespace only', ' \n'],
    ['a UTF-8 BOM', '\ufeff{}'],
    ['content after the value', '{} {}'],
    ['a trailing comma in an object', '{"a":1,}'],
    ['a trailing comma in an array', '[1,]'],
    ['a missing comma', '[1 2]'],
    ['a missing colon', '{"a" 1}'],
    ['a key that is not a string', '{a:1}'],
    ['a single-quoted string', "['a']"],
    ['an unterminated string', '"abc'],
    ['an unterminated object', '{"a":1'],
    ['an unterminated array', '[1,'],
    ['a mismatched bracket', '[1}'],
    ['a leading zero', '01'],
    ['a bare minus', '-'],
    ['a plus sign', '+1'],
    ['a fraction without digits', '1.'],
    ['a leading dot', '.5'],
    ['an exponent without digits', '1e+'],
    ['NaN', 'NaN'],
    ['Infinity', '-Infinity'],
    ['a truncated literal', 'tru'],
    ['a misspelt literal', 'nul1'],
    ['a comment', '{"a":1 /* c */}'],
    ['a form feed as whitespace', '\f1'],
    ['a raw LF inside a string', '"a\nb"'],
    ['a raw TAB inside a string', '"a\tb"'],
    ['an unknown escape', '"\\x41"'],
    ['a short \\u escape', '"\\u12"'],
    ['a \\u escape with a non-hex digit', '"\\u12G4"'],
    ['a backslash at the end', '"\\'],
  ];
  for (const [name, json] of malformed) {
    test(`rejects ${name}`, () => {
      assertProxyError(
        () => scan(json),
        'ERR_JSON_MALFORMED',
        /^JSON body is malformed at byte \d+/,
      );
    });
  }

  const notUtf8: [string, number[]][] = [
    ['a stray continuation byte', [0x80]],
    ['an overlong two-byte form', [0xc0, 0x80]],
    ['an overlong three-byte form', [0xe0, 0x80, 0x80]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['a code point past U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['a lead byte F5', [0xf5, 0x80, 0x80, 0x80]],
    ['a sequence cut by the quote', [0xe2, 0x82]],
  ];
  for (const [name, bytes] of notUtf8) {
    test(`rejects ${name} inside a string`, () => {
      const json = Buffer.concat([Buffer.from('["ok","'), Buffer.from(bytes), Buffer.from('"]')]);
      assertProxyError(
        () => scan(json),
        'ERR_JSON_MALFORMED',
        /^JSON body is not UTF-8 at byte 7$/,
      );
    });
  }

  test('rejects a non-ASCII byte outside strings', () => {
    assertProxyError(() => scan(Buffer.from('[1,\u00a02]')), 'ERR_JSON_MALFORMED', /byte 3/);
  });

  test('rejects nesting past the limit, at the byte that opens one level too many', () => {
    assertProxyError(
      () => scan('['.repeat(65) + ']'.repeat(65)),
      'ERR_JSON_TOO_DEEP',
      /^JSON body nests deeper than 64 levels at byte 64$/,
    );
    assertProxyError(
      () => scan('{"a":{"b":[]}}', { maxDepth: 2 }),
      'ERR_JSON_TOO_DEEP',
      /2 levels/,
    );
  });

  test('rejects a million open brackets without exhausting the stack', () => {
    const deep = Buffer.alloc(1_000_000, '[');
    assertProxyError(() => scan(deep, { maxDepth: 2_000_000 }), 'ERR_JSON_MALFORMED', /the end/);
    assertProxyError(() => scan(deep), 'ERR_JSON_TOO_DEEP', /64 levels/);
  });

  test('reports errors only as ProxyError, and never quotes the body', () => {
    const secret = '{"content":"4111111111111111"';
    try {
      scan(secret);
      assert.fail('expected a rejection');
    } catch (err) {
      assert.ok(err instanceof ProxyError);
      assert.doesNotMatch(err.message, /4111/);
      assert.equal(err.httpStatus, 400);
    }
  });
});

test('decodeJsonString recovers the text of every reported span', () => {
  const text = 'line1\nline2\t"quoted" \\ / é 😀 \u0000\u001f\u2028';
  const json = Buffer.from(JSON.stringify({ a: text, b: [text] }));
  const decoded: string[] = [];
  scanJson(json, {
    scalar: (_p, _k, start, end) => decoded.push(decodeJsonString(json, start, end)),
  });

  assert.deepEqual(decoded, [text, text]);
});
