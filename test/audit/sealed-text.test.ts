// Sealed originals: a round trip, and every way a record or its key can be wrong.

import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { SealedRecord } from '../../src/audit/audit-events';
import { sealText, unsealText } from '../../src/audit/sealed-text';
import {
  generateSealingKeyPair,
  rawSealingPublicKey,
  sealingKeyIdOf,
  sealingPrivateKeyFromPem,
  sealingPublicKeyFromPem,
  writeSealingKeyPair,
} from '../../src/audit/sealing-key';
import { fileMode, pkiTempDir } from '../fixtures/pki-temp-dir';

const PLAINTEXT = Buffer.from('card 4111 1111 1111 1111, expiry 12/29, please charge it');
const AAD = Buffer.from('log-a\0exchange-7');

function recipient() {
  const pair = generateSealingKeyPair();
  return {
    keyId: pair.keyId,
    publicKey: sealingPublicKeyFromPem(pair.publicKeyPem, 'test.pub.pem'),
    privateKey: sealingPrivateKeyFromPem(pair.privateKeyPem, 'test.key.pem'),
  };
}

function assertNotAuthentic(run: () => unknown): void {
  assert.throws(run, { code: 'ERR_AUDIT_KEY_INVALID', message: /failed authentication/ });
}

/** `buffer` with one bit of byte `index` flipped. */
function flipped(buffer: Buffer, index = 0): Buffer {
  const copy = Buffer.from(buffer);
  copy[index] = copy[index]! ^ 0x01;
  return copy;
}

test('a sealed text opens with the recipient key and the same additional data', () => {
  const key = recipient();

  const sealed = sealText(key.publicKey, PLAINTEXT, AAD);

  assert.equal(sealed.recipientKeyId, key.keyId);
  assert.equal(sealed.ephemeralPublicKey.length, 32);
  assert.equal(sealed.nonce.length, 12);
  assert.equal(sealed.tag.length, 16);
  assert.equal(sealed.ciphertext.length, PLAINTEXT.length);
  assert.deepEqual(unsealText(key.privateKey, sealed, AAD), PLAINTEXT);
});

test('the ciphertext does not contain the plaintext, and each seal is fresh', () => {
  const key = recipient();

  const first = sealText(key.publicKey, PLAINTEXT, AAD);
  const second = sealText(key.publicKey, PLAINTEXT, AAD);

  assert.ok(!first.ciphertext.includes(Buffer.from('4111')));
  assert.ok(!first.ciphertext.equals(PLAINTEXT));
  assert.ok(!first.ciphertext.equals(second.ciphertext));
  assert.ok(!first.ephemeralPublicKey.equals(second.ephemeralPublicKey));
});

test('an empty text seals and opens', () => {
  const key = recipient();

  const sealed = sealText(key.publicKey, Buffer.alloc(0), AAD);

  assert.equal(unsealText(key.privateKey, sealed, AAD).length, 0);
});

test('another key is refused by key id', () => {
  const sealed = sealText(recipient().publicKey, PLAINTEXT, AAD);
  const other = recipient();

  assert.throws(() => unsealText(other.privateKey, sealed, AAD), {
    code: 'ERR_AUDIT_KEY_INVALID',
    message: `sealed text is for key ${sealed.recipientKeyId}, not key ${other.keyId}`,
  });
});

test('another key claiming the record key id fails authentication', () => {
  const sealed = sealText(recipient().publicKey, PLAINTEXT, AAD);
  const other = recipient();

  assertNotAuthentic(() =>
    unsealText(other.privateKey, { ...sealed, recipientKeyId: other.keyId }, AAD),
  );
});

test('a changed ciphertext, tag, nonce, ephemeral key or additional data fails', () => {
  const key = recipient();
  const sealed = sealText(key.publicKey, PLAINTEXT, AAD);
  const changes: SealedRecord[] = [
    { ...sealed, ciphertext: flipped(sealed.ciphertext, 5) },
    { ...sealed, ciphertext: sealed.ciphertext.subarray(1) },
    { ...sealed, tag: flipped(sealed.tag, 15) },
    { ...sealed, tag: sealed.tag.subarray(0, 12) },
    { ...sealed, nonce: flipped(sealed.nonce) },
    { ...sealed, ephemeralPublicKey: flipped(sealed.ephemeralPublicKey, 3) },
    { ...sealed, ephemeralPublicKey: Buffer.alloc(32) },
  ];

  for (const changed of changes) assertNotAuthentic(() => unsealText(key.privateKey, changed, AAD));
  assertNotAuthentic(() => unsealText(key.privateKey, sealed, flipped(AAD)));
  assertNotAuthentic(() => unsealText(key.privateKey, sealed, Buffer.alloc(0)));
  assert.deepEqual(unsealText(key.privateKey, sealed, AAD), PLAINTEXT);
});

test('sealing refuses a recipient key that is not X25519', () => {
  const { publicKey } = generateKeyPairSync('ed25519');

  assert.throws(() => sealText(publicKey, PLAINTEXT, AAD), {
    code: 'ERR_AUDIT_KEY_INVALID',
    message: 'the sealing key holds a ed25519 key, not X25519',
  });
});

test('the sealing key id is the SHA-256 prefix of the raw public key', () => {
  const pair = generateSealingKeyPair();
  const publicKey = createPublicKey(pair.publicKeyPem);

  assert.equal(rawSealingPublicKey(publicKey).length, 32);
  assert.match(pair.keyId, /^[0-9a-f]{16}$/);
  assert.equal(sealingKeyIdOf(publicKey), pair.keyId);
  assert.equal(sealingKeyIdOf(createPublicKey(createPrivateKey(pair.privateKeyPem))), pair.keyId);
});

test('reading a sealing key refuses other keys and non-PEM text', () => {
  const ed25519 = generateKeyPairSync('ed25519');
  const pem = ed25519.publicKey.export({ format: 'pem', type: 'spki' });

  assert.throws(() => sealingPublicKeyFromPem(pem, 'team.pub.pem'), {
    code: 'ERR_AUDIT_KEY_INVALID',
    message: 'team.pub.pem holds a ed25519 key, not X25519',
  });
  assert.throws(() => sealingPrivateKeyFromPem('nope', 'team.key.pem'), {
    code: 'ERR_AUDIT_KEY_INVALID',
    message: 'team.key.pem is not a PKCS #8 PEM private key',
  });
});

test('a written pair has an owner-only private key and is never replaced', (t) => {
  const prefix = path.join(pkiTempDir(t), 'security-team');

  const written = writeSealingKeyPair(prefix);

  assert.equal(written.privateKeyFile, `${prefix}.key.pem`);
  assert.equal(fileMode(written.privateKeyFile), 0o600);
  const publicKey = sealingPublicKeyFromPem(fs.readFileSync(written.publicKeyFile), 'pub');
  const privateKey = sealingPrivateKeyFromPem(fs.readFileSync(written.privateKeyFile), 'key');
  assert.equal(sealingKeyIdOf(publicKey), written.keyId);
  assert.deepEqual(unsealText(privateKey, sealText(publicKey, PLAINTEXT, AAD), AAD), PLAINTEXT);
  assert.throws(() => writeSealingKeyPair(prefix), {
    code: 'ERR_AUDIT_KEY_INVALID',
    message: `${prefix}.key.pem exists already; choose another --out`,
  });
  assert.equal(
    sealingKeyIdOf(createPublicKey(fs.readFileSync(written.publicKeyFile))),
    written.keyId,
  );
});
