// Unit tests of the brand table: every brand at its range edges and lengths, and near misses.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { brandOf } from '../../src/masking/card-brands';
import { BRAND_SAMPLES, cardNumber } from './card-fixtures';

test('names the brand of a number at each prefix and length of the table', () => {
  for (const { brand, card } of BRAND_SAMPLES)
    assert.equal(brandOf(card), brand, card.length + brand);
});

test('keeps narrow ranges ahead of the wide ones they sit in', () => {
  assert.equal(brandOf(cardNumber('622126', 16)), 'discover');
  assert.equal(brandOf(cardNumber('622925', 16)), 'discover');
  assert.equal(brandOf(cardNumber('622927', 16)), 'unionpay');
  assert.equal(brandOf(cardNumber('6521', 16)), 'rupay');
});

test('fits no brand outside its ranges', () => {
  assert.equal(brandOf(cardNumber('2220', 16)), undefined);
  assert.equal(brandOf(cardNumber('2721', 16)), undefined);
  assert.equal(brandOf(cardNumber('2205', 16)), undefined);
  assert.equal(brandOf(cardNumber('56', 16)), undefined);
  assert.equal(brandOf(cardNumber('1', 16)), undefined);
  assert.equal(brandOf(cardNumber('978', 13)), undefined);
  assert.equal(brandOf(cardNumber('306', 14)), undefined);
});

test('fits no brand at a length the brand does not issue', () => {
  assert.equal(brandOf(cardNumber('4', 15)), undefined);
  assert.equal(brandOf(cardNumber('4', 14)), undefined);
  assert.equal(brandOf(cardNumber('51', 15)), undefined);
  assert.equal(brandOf(cardNumber('37', 16)), undefined);
  assert.equal(brandOf(cardNumber('62', 14)), undefined);
  assert.equal(brandOf(cardNumber('60', 19)), undefined);
});
