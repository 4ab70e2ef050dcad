// Decides how an HTTP/1.x request body is framed (RFC 9112 §6) and refuses ambiguous framing.

import { ProxyError } from '../errors/proxy-error';
import { listIncludes, listMembers } from './http1-syntax';

/** How the body of a request is delimited, and what the head asks of the connection. */
export interface Http1Framing {
  readonly contentLength: number | undefined;
  readonly chunked: boolean;
  readonly keepAlive: boolean;
  readonly expectContinue: boolean;
}

/** The framing-related fields of a head, collected in one pass. */
interface FramingFields {
  hosts: number;
  hostValue: string;
  contentLength: string | undefined;
  transferEncodings: string[] | undefined;
  close: boolean;
  keepAlive: boolean;
  expectContinue: boolean;
}

/** Digits of Number.MAX_SAFE_INTEGER; a longer length cannot be represented exactly. */
const MAX_LENGTH_DIGITS = 16;

const REG_NAME_BYTES = buildRegNameTable();

/**
 * Reads the framing of a request from its header fields (names lower case), defending against
 * request smuggling: any disagreement a lenient upstream could resolve differently from us is
 * refused rather than resolved (RFC 9112 §6.1, §6.3, §11.2).
 *
 * Throws ERR_HTTP_FRAMING for Transfer-Encoding with Content-Length, Transfer-Encoding in
 * HTTP/1.0, chunked applied twice or not last, Content-Length that is not one decimal value, and
 * a missing (HTTP/1.1), repeated or invalid Host; ERR_TRANSFER_ENCODING for any other coding;
 * ERR_BODY_TOO_LARGE for a Content-Length above `maxBodyBytes`.
 */
export function readFraming(
  headers: readonly (readonly [string, string])[],
  version: '1.0' | '1.1',
  maxBodyBytes: number,
): Http1Framing {
  const fields = collectFields(headers);
  const chunked = checkTransferEncoding(fields, version);
  const contentLength = checkContentLength(fields.contentLength, maxBodyBytes);
  checkHost(fields, version);

  // RFC 9112 §9.3: 1.1 persists unless closed; 1.0 persists only when asked to.
  const keepAlive = !fields.close && (version === '1.1' || fields.keepAlive);
  // RFC 9110 §10.1.1: a 100-continue expectation in an HTTP/1.0 request must be ignored.
  const expectContinue = version === '1.1' && fields.expectContinue;
  return { contentLength, chunked, keepAlive, expectContinue };
}

function collectFields(headers: readonly (readonly [string, string])[]): FramingFields {
  const fields: FramingFields = {
    hosts: 0,
    hostValue: '',
    contentLength: undefined,
    transferEncodings: undefined,
    close: false,
    keepAlive: false,
    expectContinue: false,
  };
  for (const [name, value] of headers) collectField(fields, name, value);
  return fields;
}

function collectField(fields: FramingFields, name: string, value: string): void {
  switch (name) {
    case 'host':
      fields.hosts++;
      fields.hostValue = value;
      return;
    case 'content-length':
      fields.contentLength = mergeContentLength(fields.contentLength, value);
      return;
    case 'transfer-encoding':
      (fields.transferEncodings ??= []).push(value);
      return;
    case 'connection':
      fields.close ||= listIncludes(value, 'close');
      fields.keepAlive ||= listIncludes(value, 'keep-alive');
      return;
    case 'expect':
      fields.expectContinue ||= listIncludes(value, '100-continue');
  }
}

/**
 * Merges one Content-Length field into the value seen so far. RFC 9110 §8.6 allows repeated or
 * listed values only when all are the same; they must match byte for byte here, so "5" and "05"
 * (which parsers might read differently) are refused too.
 */
function mergeContentLength(seen: string | undefined, value: string): string {
  const members = value.indexOf(',') === -1 ? [value] : listMembers(value);
  for (const member of members) {
    if (!isDigits(member)) framing('content-length is not a decimal number');
    if (seen !== undefined && member !== seen) framing('content-length values disagree');
    seen = member;
  }
  return seen!;
}

function checkContentLength(digits: string | undefined, maxBodyBytes: number): number | undefined {
  if (digits === undefined) return undefined;
  const length = Number(digits);
  if (digits.length > MAX_LENGTH_DIGITS || !Number.isSafeInteger(length)) {
    framing(`content-length of ${digits.length} digits is too large to represent`);
  }
  if (length > maxBodyBytes) {
    throw new ProxyError(
      'ERR_BODY_TOO_LARGE',
      `content-length ${length} exceeds the limit of ${maxBodyBytes} bytes`,
    );
  }
  return length;
}

/** Returns whether the body is chunked; see `readFraming` for what is refused. */
function checkTransferEncoding(fields: FramingFields, version: '1.0' | '1.1'): boolean {
  const values = fields.transferEncodings;
  if (values === undefined) return false;
  // RFC 9112 §6.1: HTTP/1.0 has no transfer codings, so its framing is faulty.
  if (version === '1.0') framing('transfer-encoding is not allowed in an HTTP/1.0 request');
  // RFC 9112 §6.3 item 3: the two disagree, the classic request smuggling shape.
  if (fields.contentLength !== undefined) framing('transfer-encoding sent with content-length');

  const codings = transferCodings(values);
  const chunkedCount = codings.filter((coding) => coding === 'chunked').length;
  // RFC 9112 §6.1: chunked must not be applied more than once.
  if (chunkedCount > 1) framing('transfer-encoding applies chunked more than once');
  // RFC 9112 §6.3 item 4: without chunked last the body length cannot be determined.
  if (codings.at(-1) !== 'chunked') framing('transfer-encoding does not end in chunked');
  if (codings.length > 1) {
    throw new ProxyError(
      'ERR_TRANSFER_ENCODING',
      'transfer codings other than chunked are not supported',
    );
  }
  return true;
}

/**
 * The codings of all Transfer-Encoding fields, lower case, empty list members dropped (RFC 9110
 * §5.6.1). Parameters are kept as part of the name: chunked has none (RFC 9112 §7.1), so
 * `chunked;x` counts as an unknown coding rather than something an upstream might read otherwise.
 */
function transferCodings(values: readonly string[]): string[] {
  const codings: string[] = [];
  for (const value of values) {
    for (const member of listMembers(value)) if (member !== '') codings.push(member.toLowerCase());
  }
  return codings;
}

function checkHost(fields: FramingFields, version: '1.0' | '1.1'): void {
  // RFC 9112 §3.2: a missing (1.1), repeated or invalid Host is answered with 400.
  if (fields.hosts === 0 && version === '1.1') framing('host header is missing');
  if (fields.hosts > 1) framing(`host header appears ${fields.hosts} times`);
  if (fields.hosts === 1 && !isHost(fields.hostValue)) framing('host header is not a valid host');
}

/**
 * True for `uri-host [":" port]` (RFC 9110 §7.2, RFC 3986 §3.2.2), or empty. An IP literal is
 * only checked for its brackets and character set, which is enough to keep it a single host.
 */
function isHost(value: string): boolean {
  let i = 0;
  if (value.charCodeAt(0) === 0x5b) {
    const close = value.indexOf(']');
    if (close === -1) return false;
    for (i = 1; i < close; i++) if (!isIpLiteralChar(value.charCodeAt(i))) return false;
    i = close + 1;
  } else {
    while (i < value.length && isRegNameChar(value.charCodeAt(i))) i++;
  }
  if (i === value.length) return true;
  if (value.charCodeAt(i) !== 0x3a) return false;
  return i + 1 === value.length || isDigits(value, i + 1);
}

function isRegNameChar(code: number): boolean {
  return code < 0x80 && REG_NAME_BYTES[code] === 1;
}

/** RFC 3986 §3.2.2 IP-literal body: hex digits, ':' and '.', plus IPvFuture's characters. */
function isIpLiteralChar(code: number): boolean {
  return isRegNameChar(code) || code === 0x3a;
}

/** 1 for each byte of an RFC 3986 §3.2.2 reg-name: unreserved, '%' (pct-encoded), sub-delims. */
function buildRegNameTable(): Uint8Array {
  const table = new Uint8Array(128);
  table.fill(1, 0x30, 0x3a);
  table.fill(1, 0x41, 0x5b);
  table.fill(1, 0x61, 0x7b);
  for (const char of "-._~%!$&'()*+,;=") table[char.charCodeAt(0)] = 1;
  return table;
}

function isDigits(value: string, from = 0): boolean {
  if (value.length <= from) return false;
  for (let i = from; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x30 || code > 0x39) return false;
  }
  return true;
}

function framing(message: string): never {
  throw new ProxyError('ERR_HTTP_FRAMING', message);
}
