// Unit tests for rewriteSpan: in-place, same-length rewrites that keep the message valid.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { rewriteSpan } from '../../src/codecs/kserve-infer-facts';
import { decodeInferRequest } from '../../src/codecs/kserve-request-codec';
import { encodeWith, kserveType, loadKserveRoot } from './kserve-fixtures';

describe('rewriteSpan', () => {
  const root = loadKserveRoot();
  const requestType = kserveType(root, 'ModelInferRequest');

  function typedRequest(): Buffer {
    return encodeWith(requestType, {
      model_name: 'm',
      inputs: [
        {
          name: 'text_input',
          datatype: 'BYTES',
          shape: [1],
          contents: { bytes_contents: [Buffer.from('card 4111111111111111')] },
        },
      ],
    });
  }

  test('rewrites the text in place and keeps the message decodable', () => {
    const payload = typedRequest();
    const [span] = decodeInferRequest(payload).texts;
    rewriteSpan(payload, span, Buffer.from('card ****************'));

    const decoded = requestType.toObject(requestType.decode(payload));
    const text: unknown = decoded.inputs[0].contents.bytes_contents[0];
    assert.ok(text instanceof Uint8Array);
    assert.equal(Buffer.from(text).toString('utf8'), 'card ****************');
  });

  test('rewrites through a view into the enclosing frame', () => {
    const payload = typedRequest();
    const frame = Buffer.concat([Buffer.alloc(5), payload]);
    const view = frame.subarray(5);
    const [span] = decodeInferRequest(view).texts;
    rewriteSpan(view, span, Buffer.alloc(span.end - span.start, 0x2a));
    assert.equal(frame.subarray(5 + span.start, 5 + span.end).toString(), '*'.repeat(21));
  });

  test('refuses a replacement of another length, leaving the payload unchanged', () => {
    const payload = typedRequest();
    const before = Buffer.from(payload);
    const [span] = decodeInferRequest(payload).texts;
    assert.throws(() => rewriteSpan(payload, span, Buffer.from('short')), RangeError);
    assert.deepEqual(payload, before);
  });

  test('refuses a span outside the payload', () => {
    const span = { tensor: 't', element: 0, start: 4, end: 12 };
    assert.throws(() => rewriteSpan(Buffer.alloc(8), span, Buffer.alloc(8)), RangeError);
  });
});
