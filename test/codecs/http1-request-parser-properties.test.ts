// Property tests: random valid requests parse the same under every split into chunks, and
// random or corrupted bytes either parse or throw a ProxyError, the same under every split.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  type Http1Limits,
  Http1RequestParser,
  type Http1RequestHead,
} from '../../src/codecs/http1-request-parser';
import { isProxyError } from '../../src/errors/proxy-error';
import { parseChunks, TEST_LIMITS } from './http1-request-fixtures';

const RUNS = { seed: 20240917, numRuns: 200 };
const ROOMY_LIMITS: Http1Limits = { maxHeaderBytes: 8192, maxHeaderCount: 64, maxBodyBytes: 65536 };
const TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const PATH_CHARS = "abcXYZ019-._~!$&'()*+,;=:@/%";
const FRAMING_NAMES = ['host', 'content-length', 'transfer-encoding', 'connection', 'expect'];
const NEXT_REQUEST = Buffer.from('GET /next HTTP/1.1\r\nHost: a\r\n\r\n');

/** A generated header or trailer field, with the whitespace around its value. */
interface FieldModel {
  readonly name: string;
  readonly before: string;
  readonly value: string;
  readonly after: string;
}

/** A generated request, before encoding. */
interface RequestModel {
  readonly method: string;
  readonly path: string;
  readonly query: string | undefined;
  readonly version: '1.0' | '1.1';
  readonly emptyLines: number;
  readonly eol: string;
  readonly fields: readonly FieldModel[];
  readonly connection: string | undefined;
  readonly body: { readonly kind: 'none' | 'length' | 'chunked'; readonly data: Buffer };
  readonly cuts: readonly number[];
  readonly extension: string;
  readonly trailers: readonly FieldModel[];
}

/** A valid request as encoded: its bytes, what the parser must report, and its body. */
interface RequestCase {
  readonly bytes: Buffer;
  readonly head: Http1RequestHead;
  readonly body: Buffer;
}

const charsArb = (chars: string, minLength: number, maxLength: number) =>
  fc.string({ unit: fc.constantFrom(...chars), minLength, maxLength });

const tokenArb = charsArb(TOKEN_CHARS, 1, 12);
const owsArb = charsArb(' \t', 0, 2);
/** VCHAR, obs-text, SP and HTAB: DEL stands in for HTAB so every value is valid. */
const valueArb = fc
  .array(fc.integer({ min: 0x20, max: 0xff }), { maxLength: 24 })
  .map((codes) => String.fromCharCode(...codes.map((code) => (code === 0x7f ? 0x09 : code))));

const fieldArb: fc.Arbitrary<FieldModel> = fc
  .record({ name: tokenArb, before: owsArb, value: valueArb, after: owsArb })
  .filter(({ name }) => !FRAMING_NAMES.includes(name.toLowerCase()));

const modelArb: fc.Arbitrary<RequestModel> = fc.record({
  method: tokenArb.filter((method) => method !== 'CONNECT'),
  path: charsArb(PATH_CHARS, 0, 20).map((path) => `/${path}`),
  query: fc.option(charsArb(PATH_CHARS + '?', 0, 12), { nil: undefined }),
  version: fc.constantFrom('1.0' as const, '1.1' as const),
  emptyLines: fc.nat({ max: 2 }),
  eol: fc.constantFrom('\r\n', '\n'),
  fields: fc.array(fieldArb, { maxLength: 8 }),
  connection: fc.constantFrom(undefined, 'close', 'Keep-Alive'),
  body: fc.record({
    kind: fc.constantFrom('none' as const, 'length' as const, 'chunked' as const),
    data: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  }),
  cuts: fc.array(fc.nat(), { maxLength: 6 }),
  extension: fc.constantFrom('', ';a=b', ' ; x="y z"'),
  trailers: fc.array(fieldArb, { maxLength: 2 }),
});

/** Chunk splits as fractions of the input, so one generated value fits any length. */
const splitsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 });

/** Cuts `bytes` at the given fractions of its length into fresh copies. */
function splitAt(bytes: Buffer, fractions: readonly number[]): Buffer[] {
  const cuts = fractions.map((fraction) => Math.floor(fraction * bytes.length));
  cuts.sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    pieces.push(Buffer.from(bytes.subarray(from, cut)));
    from = cut;
  }
  return pieces;
}

function trimOws(value: string): string {
  return value.replace(/^[ \t]+|[ \t]+$/g, '');
}

/** The fields of the head in the order they are sent, as [name as sent, whitespace, value]. */
function headFields(model: RequestModel, chunked: boolean): [string, string, string][] {
  const fields: [string, string, string][] = [['Host', '', 'gw.example']];
  if (model.connection !== undefined) fields.push(['Connection', ' ', model.connection]);
  if (model.body.kind !== 'none' && !chunked) {
    fields.push(['Content-Length', '', String(model.body.data.length)]);
  }
  if (chunked) fields.push(['Transfer-Encoding', ' ', 'chunked']);
  for (const { name, before, value, after } of model.fields) {
    fields.push([name, before, value + after]);
  }
  return fields;
}

/** The body in the chunked coding, cut where the model says, with its extension and trailers. */
function encodeChunked(model: RequestModel): Buffer {
  const { eol, extension } = model;
  const data = model.body.data;
  const pieces = splitAt(
    data,
    model.cuts.map((cut) => (cut % 101) / 100),
  ).filter((p) => p.length);
  const parts = pieces.flatMap((piece) => [
    Buffer.from(`${piece.length.toString(16)}${extension}${eol}`),
    piece,
    Buffer.from(eol),
  ]);
  const trailers = model.trailers.map(
    (field) => `${field.name}:${field.before}${field.value}${eol}`,
  );
  parts.push(Buffer.from(`0${extension}${eol}${trailers.join('')}${eol}`, 'latin1'));
  return Buffer.concat(parts);
}

/** Encodes a generated request and works out, apart from the parser, what it must report. */
function buildCase(model: RequestModel): RequestCase {
  const chunked = model.body.kind === 'chunked' && model.version === '1.1';
  const fields = headFields(model, chunked);
  const target = model.query === undefined ? model.path : `${model.path}?${model.query}`;
  const lines = [`${model.method} ${target} HTTP/${model.version}`];
  for (const [name, before, value] of fields) lines.push(`${name}:${before}${value}`);
  const headText = model.eol.repeat(model.emptyLines) + lines.join(model.eol) + model.eol.repeat(2);
  const body = model.body.kind === 'none' ? Buffer.alloc(0) : model.body.data;
  const encodedBody = chunked ? encodeChunked(model) : body;
  const closes = model.connection === 'close';

  const head: Http1RequestHead = {
    method: model.method,
    target,
    path: model.path,
    version: model.version,
    headers: fields.map(([name, , value]) => [name.toLowerCase(), trimOws(value)] as const),
    contentLength: chunked || model.body.kind === 'none' ? undefined : model.body.data.length,
    chunked,
    keepAlive: model.version === '1.1' ? !closes : model.connection === 'Keep-Alive',
    expectContinue: false,
    headBytes: headText.length,
  };
  const bytes = Buffer.concat([Buffer.from(headText, 'latin1'), encodedBody]);
  return { bytes, head, body };
}

/** The outcome of parsing `chunks`: what the sink saw, or the code of the ProxyError thrown. */
function outcome(chunks: readonly Buffer[], limits: Http1Limits): unknown {
  try {
    const { head, body, ends, consumed } = parseChunks(chunks, new Http1RequestParser(limits));
    return { head, body, ends, consumed };
  } catch (err) {
    if (!isProxyError(err)) throw err;
    return err.code;
  }
}

test('parses every split of a random valid request to the same head, body and one end', () => {
  const property = fc.property(modelArb.map(buildCase), splitsArb, (request, splits) => {
    const bytes = Buffer.concat([request.bytes, NEXT_REQUEST]);
    const parsed = parseChunks(splitAt(bytes, splits), new Http1RequestParser(ROOMY_LIMITS));

    assert.deepEqual(parsed.head, request.head);
    assert.deepEqual(parsed.body, request.body);
    assert.equal(parsed.ends, 1);
    assert.equal(parsed.consumed, request.bytes.length);
  });
  fc.assert(property, RUNS);
});

test('parses a random valid request fed one byte at a time like the whole', () => {
  const property = fc.property(modelArb.map(buildCase), (request) => {
    const whole = outcome([request.bytes], ROOMY_LIMITS);
    const bytewise = outcome(bytesOf(request.bytes), ROOMY_LIMITS);

    assert.deepEqual(bytewise, whole);
  });
  fc.assert(property, { ...RUNS, numRuns: 50 });
});

function bytesOf(bytes: Buffer): Buffer[] {
  return Array.from(bytes, (byte) => Buffer.of(byte));
}

/** One corruption of a valid request: a byte replaced, inserted or removed. */
interface Mutation {
  readonly kind: 'replace' | 'insert' | 'delete';
  readonly at: number;
  readonly byte: number;
}

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('replace' as const, 'insert' as const, 'delete' as const),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  byte: fc.oneof(
    fc.constantFrom(0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x00, 0x2c),
    fc.integer({ min: 0, max: 255 }),
  ),
});

function mutate(bytes: Buffer, mutations: readonly Mutation[]): Buffer {
  let result = bytes;
  for (const { kind, at, byte } of mutations) {
    const index = Math.min(Math.floor(at * result.length), Math.max(result.length - 1, 0));
    const before = result.subarray(0, index);
    const after = result.subarray(kind === 'insert' ? index : index + 1);
    result = Buffer.concat([before, kind === 'delete' ? Buffer.alloc(0) : Buffer.of(byte), after]);
  }
  return result;
}

/** Pieces of HTTP/1.1 syntax, so that random text often reaches the later states. */
const SYNTAX_PIECES = ['\r', ' ', '\t', ':', ';', ',', '\x00', '0', 'a', '5', 'ff', '/', 'chunked'];
const FIELD_LINES = ['Host: a', 'Content-Length: 5', 'Transfer-Encoding: chunked', 'Expect: 1'];
const BODY_PIECES = ['5\r\nhello\r\n', '5;x\nab', '0\r\n', 'X-T: 1\r\n', '\r\n', '\n'];

const pieceArb = fc.oneof(fc.constantFrom(...SYNTAX_PIECES), fc.string({ maxLength: 3 }));
const lineArb = fc.array(pieceArb, { maxLength: 6 }).map((pieces) => pieces.join(''));
const eolArb = fc.constantFrom('\r\n', '\n', '\r\r\n', '');

/** Lines of random syntax, most shaped like a request, with random line ends and a body. */
const syntaxArb = fc
  .record({
    requestLine: fc.oneof(fc.constantFrom('GET / HTTP/1.1', 'POST /x HTTP/1.0'), lineArb),
    fields: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...FIELD_LINES), lineArb), eolArb), {
      maxLength: 8,
    }),
    eol: eolArb,
    body: fc.array(fc.oneof(fc.constantFrom(...BODY_PIECES), pieceArb), { maxLength: 8 }),
  })
  .map(({ requestLine, fields, eol, body }) => {
    const head = fields.map(([line, end]) => line + end).join('');
    return Buffer.from(`${requestLine}${eol}${head}${eol}${body.join('')}`, 'latin1');
  });

const corruptArb = fc.oneof(
  fc.uint8Array({ maxLength: 600 }).map((bytes) => Buffer.from(bytes)),
  syntaxArb,
  fc
    .tuple(modelArb.map(buildCase), fc.array(mutationArb, { minLength: 1, maxLength: 4 }))
    .map(([request, mutations]) => mutate(request.bytes, mutations)),
);

test('parses or refuses corrupted bytes with a ProxyError, the same under any split', () => {
  const property = fc.property(corruptArb, splitsArb, (bytes, splits) => {
    const whole = outcome([bytes], TEST_LIMITS);
    const split = outcome(splitAt(bytes, splits), TEST_LIMITS);

    assert.deepEqual(split, whole);
  });
  fc.assert(property, { ...RUNS, numRuns: 500 });
});
