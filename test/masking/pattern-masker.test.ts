// The operator's patterns over whole texts: what is masked, what is counted, what is refused.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ProxyError } from '../../src/errors/proxy-error';
import { compileMaskPattern, maskPatterns } from '../../src/masking/pattern-masker';

const STAR = 0x2a;
const EMPLOYEE = compileMaskPattern('employee-id', 'EMP-\\d{6}');
const ACCOUNT = compileMaskPattern('account', '\\bacct \\d{4,8}\\b', true);

function masked(text: string, patterns = [EMPLOYEE, ACCOUNT]) {
  const bytes = Buffer.from(text);
  const counts = maskPatterns(bytes, patterns, STAR);
  return { text: bytes.toString(), counts };
}

test('masks every match in place and counts matches by pattern name', () => {
  const { text, counts } = masked('EMP-123456 asked about ACCT 99887766 and EMP-654321.');

  assert.equal(text, '********** asked about ************* and **********.');
  assert.deepEqual(counts, { 'employee-id': 2, account: 1 });
});

test('leaves text that does not match untouched and the buffer unwritten', () => {
  const bytes = Buffer.from('EMP-12345 is short, acct 123 too, xacct 12345 is glued');
  const before = Buffer.from(bytes);

  assert.deepEqual(maskPatterns(bytes, [EMPLOYEE, ACCOUNT], STAR), {});
  assert.ok(bytes.equals(before));
});

test('masks whole UTF-8 characters only, keeping the byte length', () => {
  const pattern = compileMaskPattern('tag', 'x.{0,4}y');
  const text = 'x\u00e9\u00e9y and x\u20acy';

  const result = masked(text, [pattern]);

  assert.equal(Buffer.byteLength(result.text), Buffer.byteLength(text));
  assert.equal(result.text, '****** and *****');
  assert.deepEqual(result.counts, { tag: 2 });
});

test('a match that ends inside a multi-byte character leaves that character whole', () => {
  // `.{0,2}` can take the first two bytes of the three-byte euro sign and stop there.
  const pattern = compileMaskPattern('cut', 'ab.{2}');

  const result = masked('ab\u20ac!', [pattern]);

  assert.equal(result.text, '**\u20ac!');
});

test('refuses patterns that do not compile, have no bound or match only empty text', () => {
  for (const [source, reason] of [
    ['(', /does not compile/],
    ['\\d+', /no bound/],
    ['^$', /empty/],
    ['x{300}', /at most 256/],
  ] as const) {
    assert.throws(
      () => compileMaskPattern('bad', source),
      (err: unknown) => err instanceof ProxyError && reason.test(err.message),
      source,
    );
  }
});
