// Finding the OpenAI-protocol endpoint and operation of a request.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  findOpenAIRoute,
  isOpenAIStreamOperation,
  listOpenAIOperations,
  OPENAI_ROUTES,
} from '../../src/codecs/openai-routes';

test('lists every operation once, in table order', () => {
  assert.deepEqual(listOpenAIOperations(), [
    'chat.completions',
    'completions',
    'embeddings',
    'responses',
    'tokenize',
    'detokenize',
    'models',
    'health',
    'version',
  ]);
  assert.equal(new Set(OPENAI_ROUTES.map((route) => route.path)).size, OPENAI_ROUTES.length);
});

test('finds POST endpoints with a body and GET endpoints without', () => {
  assert.deepEqual(findOpenAIRoute('POST', '/v1/chat/completions'), {
    method: 'POST',
    path: '/v1/chat/completions',
    operation: 'chat.completions',
    hasBody: true,
    streams: true,
  });
  assert.deepEqual(findOpenAIRoute('GET', '/v1/models'), {
    method: 'GET',
    path: '/v1/models',
    operation: 'models',
    hasBody: false,
    streams: false,
  });
  assert.equal(findOpenAIRoute('POST', '/tokenize')?.operation, 'tokenize');
  assert.equal(findOpenAIRoute('GET', '/health')?.hasBody, false);
});

test('ignores the query but nothing else of the target', () => {
  assert.equal(findOpenAIRoute('POST', '/v1/embeddings?api-version=1')?.operation, 'embeddings');
  assert.equal(findOpenAIRoute('POST', '/v1/completions/'), undefined);
  assert.equal(findOpenAIRoute('POST', '/v1/chat%2Fcompletions'), undefined);
  assert.equal(findOpenAIRoute('POST', '/V1/completions'), undefined);
  assert.equal(findOpenAIRoute('POST', '//v1/completions'), undefined);
});

test('refuses a known path under another method, and unlisted endpoints', () => {
  assert.equal(findOpenAIRoute('GET', '/v1/chat/completions'), undefined);
  assert.equal(findOpenAIRoute('POST', '/v1/models'), undefined);
  assert.equal(findOpenAIRoute('POST', '/v1/audio/transcriptions'), undefined);
  assert.equal(findOpenAIRoute('GET', '/metrics'), undefined);
});

test('marks the three operations that may stream', () => {
  const streaming = listOpenAIOperations().filter(isOpenAIStreamOperation);
  assert.deepEqual(streaming, ['chat.completions', 'completions', 'responses']);
  assert.deepEqual(
    OPENAI_ROUTES.filter((route) => route.streams).map((route) => route.operation),
    streaming,
  );
});
