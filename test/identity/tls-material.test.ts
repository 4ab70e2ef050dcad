// Checking and describing TLS material: OpenSSL's verdict, certificates in bundles, expiry.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeTestPki } from '../fixtures/certificates';
import { captureLogs } from '../fixtures/log-sink';
import { assertProxyError } from '../fixtures/proxy-errors';
import {
  checkSecureContext,
  describeBundle,
  describeCertificate,
  warnAboutExpiry,
} from '../../src/identity/tls-material';

const pki = makeTestPki();
const other = makeTestPki('another CA');
const DAY_MS = 86_400_000;

test('accepts a certificate with its own key and refuses one with another key', () => {
  checkSecureContext({ cert: pki.server.cert, key: pki.server.key }, 'server.pem');

  assertProxyError(
    () => checkSecureContext({ cert: pki.server.cert, key: other.server.key }, 'server.pem'),
    'ERR_PKI_MATERIAL_INVALID',
    /^tls material of server\.pem does not form a usable set \(/,
  );
});

test('describes every certificate of a CA bundle', () => {
  const described = describeBundle('cas.pem', `${pki.ca}\n${other.ca}`, Date.now());

  assert.deepEqual(
    described.map(({ role, file, subject }) => [role, file, subject]),
    [
      ['client-ca', 'cas.pem', 'CN=infergate test CA'],
      ['client-ca', 'cas.pem', 'CN=another CA'],
    ],
  );
});

test('warns about a certificate within the warning days, at the time of the check', () => {
  const logs = captureLogs();
  const server = describeCertificate('server', 'server.pem', pki.server.cert, Date.now());
  const expiresAt = server.validTo.getTime();

  warnAboutExpiry([server], 30, logs.logger, expiresAt - 40 * DAY_MS);
  const early = logs.lines.filter((line) => line.msg === 'certificate expires soon').length;
  warnAboutExpiry([server], 30, logs.logger, expiresAt - 5.5 * DAY_MS);
  warnAboutExpiry([server], 30, logs.logger, expiresAt + DAY_MS);

  const warnings = logs.lines.filter((line) => line.msg === 'certificate expires soon');
  assert.equal(early, 0);
  assert.deepEqual(
    warnings.map((line) => [line.role, line.file, line.daysLeft, line.level]),
    [
      ['server', 'server.pem', 5, 40],
      ['server', 'server.pem', -1, 40],
    ],
  );
});
