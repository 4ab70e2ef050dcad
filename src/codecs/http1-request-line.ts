// Parses the request line of an HTTP/1.x request (RFC 9112 §3) into method, target and version.

import { ProxyError } from '../errors/proxy-error';
import { isToken, SP, TARGET_BYTES } from './http1-syntax';

/** The parts of a request line, as `parseRequestLine` returns them. */
export interface Http1RequestLine {
  readonly method: string;
  readonly target: string;
  readonly path: string;
  readonly version: '1.0' | '1.1';
}

/** "HTTP/" (RFC 9112 §2.3), as bytes. */
const HTTP_NAME = [0x48, 0x54, 0x54, 0x50, 0x2f];
const VERSION_BYTES = HTTP_NAME.length + 3;
const DIGIT_0 = 0x30;
const DOT = 0x2e;

/**
 * Parses `bytes[start, end)`, one request line without its line end:
 * `method SP request-target SP HTTP-version` with single spaces (RFC 9112 §3).
 * Throws ERR_HTTP_VERSION for a well-formed version other than 1.0 and 1.1 (the HTTP/2
 * preface's `PRI * HTTP/2.0` included), ERR_HTTP_METHOD for CONNECT, and ERR_HTTP_MALFORMED
 * for anything else that is not a request line of an origin server.
 */
export function parseRequestLine(bytes: Buffer, start: number, end: number): Http1RequestLine {
  const methodEnd = bytes.indexOf(SP, start);
  if (methodEnd === -1 || methodEnd >= end) malformed('request line has no spaces');
  const targetEnd = bytes.indexOf(SP, methodEnd + 1);
  if (targetEnd === -1 || targetEnd >= end) malformed('request line has no HTTP version');
  const version = parseVersion(bytes, targetEnd + 1, end);

  if (!isToken(bytes, start, methodEnd)) malformed('request method is not a token');
  const method = bytes.toString('latin1', start, methodEnd);
  if (method === 'CONNECT') {
    throw new ProxyError('ERR_HTTP_METHOD', 'method CONNECT is not supported');
  }

  const target = readTarget(bytes, methodEnd + 1, targetEnd);
  return { method, target, path: pathOf(method, target), version };
}

function parseVersion(bytes: Buffer, start: number, end: number): '1.0' | '1.1' {
  const shaped =
    end - start === VERSION_BYTES &&
    startsWithHttpName(bytes, start) &&
    isDigit(bytes[start + 5]!) &&
    bytes[start + 6] === DOT &&
    isDigit(bytes[start + 7]!);
  if (!shaped) malformed('request line does not end with an HTTP version');

  const major = bytes[start + 5]! - DIGIT_0;
  const minor = bytes[start + 7]! - DIGIT_0;
  if (major === 1 && minor === 1) return '1.1';
  if (major === 1 && minor === 0) return '1.0';
  // RFC 9110 §2.5 suggests reading 1.2 and later as 1.1; a gateway refuses them instead rather
  // than guess at framing rules it does not know.
  throw new ProxyError('ERR_HTTP_VERSION', `HTTP version ${major}.${minor} is not supported`);
}

function startsWithHttpName(bytes: Buffer, start: number): boolean {
  for (let i = 0; i < HTTP_NAME.length; i++) if (bytes[start + i] !== HTTP_NAME[i]) return false;
  return true;
}

function isDigit(byte: number): boolean {
  return byte >= DIGIT_0 && byte <= DIGIT_0 + 9;
}

function readTarget(bytes: Buffer, start: number, end: number): string {
  if (start === end) malformed('request target is empty');
  for (let i = start; i < end; i++) {
    if (TARGET_BYTES[bytes[i]!] === 0) {
      malformed(`request target holds byte 0x${bytes[i]!.toString(16).padStart(2, '0')}`);
    }
  }
  return bytes.toString('latin1', start, end);
}

/**
 * The path of `target` without the query. Origin-form and absolute-form are accepted (RFC 9112
 * §3.2.1, §3.2.2); asterisk-form only for OPTIONS (§3.2.4); authority-form belongs to CONNECT,
 * which is refused before this point (§3.2.3).
 */
function pathOf(method: string, target: string): string {
  if (target.charCodeAt(0) === 0x2f) return beforeQuery(target, 0);
  if (target === '*') {
    if (method !== 'OPTIONS') malformed('asterisk-form target is allowed only with OPTIONS');
    return target;
  }
  const authorityStart = absoluteAuthorityStart(target);
  if (authorityStart === -1) malformed('request target is neither origin-form nor absolute-form');
  // Limitation: the authority of an absolute-form target is not returned apart from `target`, so
  // a listener reading Host sees the field, not the authority RFC 9112 §3.2.2 says overrides it.
  return absolutePath(target, authorityStart);
}

/** Where the authority of an http or https absolute-form target starts, or -1 (RFC 9110 §4.2). */
function absoluteAuthorityStart(target: string): number {
  const schemeEnd = target.indexOf('://');
  if (schemeEnd === -1) return -1;
  const scheme = target.slice(0, schemeEnd).toLowerCase();
  return scheme === 'http' || scheme === 'https' ? schemeEnd + 3 : -1;
}

function absolutePath(target: string, authorityStart: number): string {
  let authorityEnd = authorityStart;
  while (authorityEnd < target.length && !endsAuthority(target.charCodeAt(authorityEnd))) {
    authorityEnd++;
  }
  // RFC 9110 §4.2.1: an http URI with an empty host is invalid and must be rejected.
  if (authorityEnd === authorityStart) malformed('absolute-form target has an empty authority');
  // Security: RFC 9110 §4.2.4 deprecates userinfo; it is how credentials and look-alike hosts
  // ("trusted.example@evil.example") get smuggled into a URI, so it is refused, not parsed.
  if (target.lastIndexOf('@', authorityEnd) >= authorityStart) {
    malformed('absolute-form target carries userinfo');
  }
  if (authorityEnd === target.length || target.charCodeAt(authorityEnd) === 0x3f) return '/';
  return beforeQuery(target, authorityEnd);
}

/** True for '/' and '?', which end the authority (the fragment '#' was refused already). */
function endsAuthority(code: number): boolean {
  return code === 0x2f || code === 0x3f;
}

function beforeQuery(target: string, from: number): string {
  const query = target.indexOf('?', from);
  return query === -1 ? target.slice(from) : target.slice(from, query);
}

function malformed(message: string): never {
  throw new ProxyError('ERR_HTTP_MALFORMED', message);
}
