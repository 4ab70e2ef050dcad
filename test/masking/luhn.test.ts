// Unit tests of the Luhn check and check-digit helper.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { luhnCheckDigit, passesLuhn } from '../../src/masking/luhn';

test('accepts the public test numbers of protocols.md §7.6', () => {
  for (const card of [
    '4111111111111111',
    '5555555555554444',
    '378282246310005',
    '6011111111111117',
  ]) {
    assert.equal(passesLuhn(card), true, card.slice(-4));
  }
  for (const card of [
    '30569309025904',
    '3530111333300000',
    '6200000000000005',
    '2200000000000004',
  ]) {
    assert.equal(passesLuhn(card), true, card.slice(-4));
  }
});

test('rejects a number whose check digit is off by one', () => {
  assert.equal(passesLuhn('4111111111111112'), false);
  assert.equal(passesLuhn('5555555555554445'), false);
});

test('doubles every second digit from the right, subtracting nine above nine', () => {
  assert.equal(passesLuhn('59'), true);
  assert.equal(passesLuhn('95'), false);
  assert.equal(passesLuhn('18'), true);
});

test('computes the check digit that completes a payload', () => {
  assert.equal(luhnCheckDigit('411111111111111'), 1);
  assert.equal(luhnCheckDigit('555555555555444'), 4);
  for (let n = 0; n < 200; n++) {
    const payload = String(n * 7919 + 1000);
    assert.equal(passesLuhn(payload + luhnCheckDigit(payload)), true, payload);
  }
});
