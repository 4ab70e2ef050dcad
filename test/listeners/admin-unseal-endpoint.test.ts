// The unseal endpoint on its own: when it exists, whom it lets through, and that it records an
// ask before it reads the store, with fakes for the log, the store and the token verifier.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuditEvent, SealedRecord } from '../../src/audit/audit-events';
import { encodeFrame } from '../../src/audit/audit-frame-codec';
import type { AuditSource, StoredRecord } from '../../src/audit/audit-store';
import { ProxyError } from '../../src/errors/proxy-error';
import type { TokenFacts } from '../../src/identity/identity';
import type { PeerCertificate } from '../../src/identity/peer-certificate';
import {
  UnsealEndpoint,
  type UnsealEndpointSettings,
} from '../../src/listeners/admin-unseal-endpoint';
import { captureLogs } from '../fixtures/log-sink';

const CERTIFICATE = {
  thumbprint: 'x'.repeat(43),
  subject: 'CN=alice',
  commonName: 'alice',
  issuer: 'CN=test CA',
  serialNumber: '01',
  uris: [],
  emails: [],
  dnsNames: [],
  validFrom: new Date(0),
  validTo: new Date(0),
} satisfies PeerCertificate;

const SEALED: SealedRecord = {
  recipientKeyId: 'k1',
  ephemeralPublicKey: Buffer.alloc(32, 1),
  nonce: Buffer.alloc(12, 2),
  ciphertext: Buffer.from('ciphertext'),
  tag: Buffer.alloc(16, 3),
};

const ASK = JSON.stringify({ logId: 'gw', sequence: 2, reason: 'case 1' });

/** Accepts `Bearer good` with `roles`; refuses every other token with `refusal`. */
function verifier(roles: readonly string[], refusal = new ProxyError('ERR_TOKEN_INVALID', 'bad')) {
  return {
    verify: async (authorization: string | undefined): Promise<TokenFacts> => {
      if (authorization !== 'Bearer good') throw refusal;
      const expiresAt = new Date(0);
      return { subject: 'alice', issuer: 'infergate', tokenId: undefined, roles, expiresAt };
    },
  };
}

/** Frame 1 without and frame 2 with a sealed prompt, as a store yields them. */
function source(steps: string[]): AuditSource {
  const frame = (sequence: number, event: AuditEvent): StoredRecord => ({
    kind: 'frame',
    logId: 'gw',
    where: `row ${sequence}`,
    bytes: encodeFrame({
      logId: 'gw',
      sequence,
      timeUnixMicros: 1,
      previousHash: Buffer.alloc(32),
      ...event,
    }),
  });
  return {
    description: 'fake',
    async *records() {
      steps.push('read');
      yield frame(1, { gatewayStopped: { reason: 'x' } });
      yield { kind: 'damage', logId: 'gw', where: 'end', reason: 'torn' };
      const started = { exchangeId: 'e-1', sessionId: 's', listener: 'http', protocol: 'http' };
      yield frame(2, { exchangeStarted: { ...started, operation: 'chat', sealedPrompt: SEALED } });
    },
  };
}

function endpoint(overrides: Partial<UnsealEndpointSettings> = {}) {
  const steps: string[] = [];
  const events: AuditEvent[] = [];
  const settings: UnsealEndpointSettings = {
    log: {
      append: async (event) => {
        steps.push('append');
        events.push(event);
      },
    },
    sourceOf: () => source(steps),
    verifier: verifier(['security']),
    certificateRoles: () => [],
    unsealRoles: ['security'],
    logger: captureLogs().logger,
    ...overrides,
  };
  return { unseal: new UnsealEndpoint(settings), steps, events };
}

const request = { certificate: CERTIFICATE, authorization: 'Bearer good', body: ASK };

test('records the ask, then answers the sealed record in base64', async () => {
  const { unseal, steps, events } = endpoint();

  const answer = await unseal.answer(request);

  assert.deepEqual(steps, ['append', 'read']);
  assert.equal(answer.status, 200);
  assert.deepEqual(answer.body, {
    logId: 'gw',
    sequence: 2,
    exchangeId: 'e-1',
    sealedPrompt: {
      recipientKeyId: 'k1',
      ephemeralPublicKey: SEALED.ephemeralPublicKey.toString('base64'),
      nonce: SEALED.nonce.toString('base64'),
      ciphertext: SEALED.ciphertext.toString('base64'),
      tag: SEALED.tag.toString('base64'),
    },
  });
  assert.deepEqual(events, [
    {
      unsealed: {
        logId: 'gw',
        sequence: 2,
        reason: 'case 1',
        actor: {
          certificate: {
            thumbprint: 'x'.repeat(43),
            subject: 'CN=alice',
            issuer: 'CN=test CA',
            serial: '01',
          },
          tokenSubject: 'alice',
          tokenIssuer: 'infergate',
          roles: ['security'],
        },
      },
    },
  ]);
});

test('does not exist without unseal roles or without token checks', async () => {
  const noRoles = endpoint({ unsealRoles: [] });
  const noAuth = endpoint({ verifier: undefined });

  const answers = [await noRoles.unseal.answer(request), await noAuth.unseal.answer(request)];

  assert.deepEqual(
    answers.map((answer) => answer.status),
    [404, 404],
  );
  assert.equal(noRoles.unseal.enabled || noAuth.unseal.enabled, false);
  assert.deepEqual([...noRoles.steps, ...noAuth.steps], []);
});

test('a role the certificate earns counts as the token roles do', async () => {
  const { unseal } = endpoint({ verifier: verifier([]), certificateRoles: () => ['security'] });

  const answer = await unseal.answer(request);

  assert.equal(answer.status, 200);
});

test('answers 503 when the token issuer keys cannot be fetched, and reads nothing', async () => {
  const down = new ProxyError('ERR_IDENTITY_UNAVAILABLE', 'issuer keys cannot be fetched');
  const { unseal, steps } = endpoint({ verifier: verifier(['security'], down) });

  const answer = await unseal.answer({ ...request, authorization: 'Bearer other' });

  assert.equal(answer.status, 503);
  assert.deepEqual(answer.body, {
    error: { message: 'issuer keys cannot be fetched', type: 'identity_unavailable' },
  });
  assert.deepEqual(steps, []);
});

test('answers 503 and reads nothing when the ask cannot be made durable', async () => {
  const steps: string[] = [];
  const failing = async () => {
    throw new ProxyError('ERR_AUDIT_UNAVAILABLE', 'the audit log is closed');
  };
  const { unseal } = endpoint({ log: { append: failing }, sourceOf: () => source(steps) });

  const answer = await unseal.answer(request);

  assert.equal(answer.status, 503);
  assert.deepEqual(steps, []);
});

test('answers 503 when the store cannot be read after the ask is recorded', async () => {
  const unreadable: AuditSource = {
    description: 'broken',
    async *records() {
      throw new ProxyError('ERR_AUDIT_STORE_INVALID', 'audit /x cannot be read: EACCES');
    },
  };
  const { unseal, events } = endpoint({ sourceOf: () => unreadable });

  const answer = await unseal.answer(request);

  assert.equal(answer.status, 503);
  assert.equal(events.length, 1);
});

test('a bug in the log is not answered as a refusal', async () => {
  const broken = async () => {
    throw new TypeError('boom');
  };
  const { unseal } = endpoint({ log: { append: broken } });

  await assert.rejects(unseal.answer(request), TypeError);
});

test('refuses a body that is too large or not an ask, after authentication', async () => {
  const { unseal, steps } = endpoint();

  const tooLarge = await unseal.answer({ ...request, body: undefined });
  const notJson = await unseal.answer({ ...request, body: '{"logId":' });
  const unauthenticated = await unseal.answer({ ...request, authorization: undefined, body: '{' });

  assert.equal(tooLarge.status, 413);
  assert.deepEqual(notJson.body, {
    error: { message: 'the body is not JSON', type: 'invalid_request' },
  });
  assert.equal(unauthenticated.status, 401);
  assert.deepEqual(steps, []);
});
