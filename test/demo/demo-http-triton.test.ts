// The demo server's HTTP side, Triton HTTP/REST routes (KServe v2, binary data, generate).

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { decodeBytesElements, encodeBytesElements } from '../../src/demo/bytes-tensor';
import { startDemoHttpServer, type DemoHttpServer } from '../../src/demo/demo-http-server';
import { pickReply, tokenize } from '../../src/demo/reply-script';

const PROMPT = 'What does infergate do?';
const REPLY = pickReply(Buffer.from(PROMPT));

/** Starts a demo HTTP server on port 0, closed after the test. */
async function startServer(t: TestContext): Promise<DemoHttpServer> {
  const server = await startDemoHttpServer({ port: 0 });
  t.after(() => server.close());
  return server;
}

function get(server: DemoHttpServer, path: string): Promise<Response> {
  return fetch(`http://${server.address}${path}`);
}

function post(
  server: DemoHttpServer,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  const payload = Buffer.isBuffer(body) || typeof body === 'string' ? body : JSON.stringify(body);
  return fetch(`http://${server.address}${path}`, { method: 'POST', headers, body: payload });
}

/** A JSON inference request with one BYTES `text_input`. */
function textRequest(texts: string[], extra: object = {}): object {
  return {
    inputs: [{ name: 'text_input', datatype: 'BYTES', shape: [texts.length], data: texts }],
    ...extra,
  };
}

interface InferOutput {
  name: string;
  datatype: string;
  shape: number[];
  data?: string[];
  parameters?: { binary_data_size: number };
}

interface InferAnswer {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: InferOutput[];
}

/** Splits a binary-extension response into its JSON header and its binary tail. */
async function readBinaryAnswer(response: Response): Promise<[InferAnswer, Buffer]> {
  const length = Number(response.headers.get('inference-header-content-length'));
  const body = Buffer.from(await response.arrayBuffer());
  const header = JSON.parse(body.subarray(0, length).toString()) as InferAnswer;
  return [header, body.subarray(length)];
}

test('answers liveness, readiness and server metadata', async (t) => {
  const server = await startServer(t);

  const live = await get(server, '/v2/health/live');
  const ready = await get(server, '/v2/health/ready');
  const metadata = (await (await get(server, '/v2')).json()) as Record<string, unknown>;

  assert.equal(live.status, 200);
  assert.equal(await live.text(), '');
  assert.equal(ready.status, 200);
  assert.equal(metadata.name, 'infergate-demo');
  assert.ok((metadata.extensions as string[]).includes('binary_tensor_data'));
});

test('answers model metadata, readiness and configuration, versioned or not', async (t) => {
  const server = await startServer(t);

  const metadata = (await (await get(server, '/v2/models/demo-chat')).json()) as {
    inputs: unknown[];
    versions: string[];
  };
  const versioned = await get(server, '/v2/models/echo/versions/1');
  const ready = await get(server, '/v2/models/demo-chat/versions/1/ready');
  const config = (await (await get(server, '/v2/models/demo-chat/config')).json()) as {
    name: string;
    model_transaction_policy: { decoupled: boolean };
  };

  assert.deepEqual(metadata.inputs, [{ name: 'text_input', datatype: 'BYTES', shape: [1] }]);
  assert.deepEqual(metadata.versions, ['1']);
  assert.equal(versioned.status, 200);
  assert.equal(ready.status, 200);
  assert.equal(config.name, 'demo-chat');
  assert.equal(config.model_transaction_policy.decoupled, true);
});

test('answers unknown models and versions with 404 and a Triton error', async (t) => {
  const server = await startServer(t);

  const unknown = await get(server, '/v2/models/no-such-model');
  const badVersion = await get(server, '/v2/models/demo-chat/versions/2');
  const notReady = await get(server, '/v2/models/no-such-model/ready');
  const infer = await post(server, '/v2/models/no-such-model/infer', textRequest([PROMPT]));

  assert.equal(unknown.status, 404);
  assert.match(((await unknown.json()) as { error: string }).error, /no-such-model/);
  assert.equal(badVersion.status, 404);
  assert.equal(notReady.status, 400);
  assert.equal(infer.status, 404);
  assert.equal(typeof ((await infer.json()) as { error: unknown }).error, 'string');
});

test('infers with JSON tensors: the chat reply, the echo, and demo_tokens', async (t) => {
  const server = await startServer(t);

  const chat = await post(server, '/v2/models/demo-chat/infer', textRequest([PROMPT], { id: '7' }));
  const echo = await post(server, '/v2/models/echo/infer', textRequest(['a', 'b']));
  const exact = await post(
    server,
    '/v2/models/demo-chat/infer',
    textRequest([PROMPT], { parameters: { demo_tokens: 3 } }),
  );

  const answer = (await chat.json()) as InferAnswer;
  assert.equal(chat.headers.get('content-type'), 'application/json');
  assert.deepEqual(answer, {
    model_name: 'demo-chat',
    model_version: '1',
    id: '7',
    outputs: [{ name: 'text_output', datatype: 'BYTES', shape: [1], data: [REPLY] }],
  });
  const echoed = (await echo.json()) as InferAnswer;
  assert.deepEqual(echoed.outputs[0]?.data, ['a', 'b']);
  assert.deepEqual(echoed.outputs[0]?.shape, [2]);
  const cut = (await exact.json()) as InferAnswer;
  assert.equal(cut.outputs[0]?.data?.[0], tokenize(REPLY).slice(0, 3).join(''));
});

test('caps the reply with a max_tokens INT32 input', async (t) => {
  const server = await startServer(t);
  const request = textRequest([PROMPT]) as { inputs: object[] };
  request.inputs.push({ name: 'max_tokens', datatype: 'INT32', shape: [1], data: [2] });

  const response = await post(server, '/v2/models/demo-chat/infer', request);

  const answer = (await response.json()) as InferAnswer;
  assert.equal(answer.outputs[0]?.data?.[0], tokenize(REPLY).slice(0, 2).join(''));
});

test('infers with binary tensor data in and out', async (t) => {
  const server = await startServer(t);
  const raw = encodeBytesElements([Buffer.from(PROMPT)]);
  const json = Buffer.from(
    JSON.stringify({
      inputs: [
        {
          name: 'text_input',
          datatype: 'BYTES',
          shape: [1],
          parameters: { binary_data_size: raw.length },
        },
      ],
      outputs: [{ name: 'text_output', parameters: { binary_data: true } }],
    }),
  );

  const response = await post(server, '/v2/models/demo-chat/infer', Buffer.concat([json, raw]), {
    'inference-header-content-length': String(json.length),
    'content-type': 'application/octet-stream',
  });

  assert.equal(response.status, 200);
  const [header, binary] = await readBinaryAnswer(response);
  const output = header.outputs[0];
  assert.equal(output?.data, undefined);
  assert.equal(output?.parameters?.binary_data_size, binary.length);
  assert.deepEqual(decodeBytesElements(binary)?.map(String), [REPLY]);
});

test('answers binary when binary_data_output is set, and a raw binary request', async (t) => {
  const server = await startServer(t);
  const jsonIn = textRequest([PROMPT], { parameters: { binary_data_output: true } });

  const binaryOut = await post(server, '/v2/models/echo/infer', jsonIn);
  const rawIn = await post(
    server,
    '/v2/models/demo-chat/infer',
    encodeBytesElements([Buffer.from(PROMPT)]),
    { 'inference-header-content-length': '0' },
  );

  const [, echoed] = await readBinaryAnswer(binaryOut);
  assert.deepEqual(decodeBytesElements(echoed)?.map(String), [PROMPT]);
  const [header, replied] = await readBinaryAnswer(rawIn);
  assert.equal(header.outputs[0]?.parameters?.binary_data_size, replied.length);
  assert.deepEqual(decodeBytesElements(replied)?.map(String), [REPLY]);
});

test('answers malformed inference requests with 400 and a Triton error', async (t) => {
  const server = await startServer(t);
  const path = '/v2/models/demo-chat/infer';

  const badJson = await post(server, path, '{"inputs": [');
  const missing = await post(server, path, { inputs: [] });
  const short = await post(server, path, Buffer.from('{"inputs":[]}xyz'), {
    'inference-header-content-length': '13',
  });
  const badLength = await post(server, path, '{}', { 'inference-header-content-length': '99' });

  for (const response of [badJson, missing, short, badLength]) {
    assert.equal(response.status, 400);
    assert.equal(typeof ((await response.json()) as { error: unknown }).error, 'string');
  }
});

test('counts inferences in the statistics, per model and for all', async (t) => {
  const server = await startServer(t);
  await (await post(server, '/v2/models/echo/infer', textRequest(['a']))).text();

  const one = (await (await get(server, '/v2/models/echo/stats')).json()) as {
    model_stats: { name: string; inference_count: number }[];
  };
  const all = (await (await get(server, '/v2/models/stats')).json()) as {
    model_stats: { name: string }[];
  };

  assert.equal(one.model_stats[0]?.inference_count, 1);
  assert.deepEqual(
    all.model_stats.map((stats) => stats.name),
    ['demo-chat', 'echo', 'echo-stream'],
  );
});

test('unloads and reloads a model through the repository routes', async (t) => {
  const server = await startServer(t);

  const unload = await post(server, '/v2/repository/models/echo/unload', '');
  const notReady = await get(server, '/v2/models/echo/ready');
  const unavailable = await post(server, '/v2/models/echo/infer', textRequest(['a']));
  const index = (await (await post(server, '/v2/repository/index', { ready: true })).json()) as {
    name: string;
  }[];
  const load = await post(server, '/v2/repository/models/echo/load', '');
  const ready = await get(server, '/v2/models/echo/ready');

  assert.equal(unload.status, 200);
  assert.equal(notReady.status, 400);
  assert.equal(unavailable.status, 503);
  assert.deepEqual(
    index.map((entry) => entry.name),
    ['demo-chat', 'echo-stream'],
  );
  assert.equal(load.status, 200);
  assert.equal(ready.status, 200);
});

test('generates the whole reply, taking limits from parameters or top-level fields', async (t) => {
  const server = await startServer(t);

  const whole = await post(server, '/v2/models/demo-chat/generate', { text_input: PROMPT });
  const limited = await post(server, '/v2/models/demo-chat/generate', {
    text_input: PROMPT,
    parameters: { max_tokens: 2 },
  });
  const exact = await post(server, '/v2/models/demo-chat/generate', {
    text_input: PROMPT,
    demo_tokens: 4,
  });
  const echo = await post(server, '/v2/models/echo/generate', { text_input: PROMPT });
  const missing = await post(server, '/v2/models/echo/generate', { prompt: PROMPT });

  assert.deepEqual(await whole.json(), {
    model_name: 'demo-chat',
    model_version: '1',
    text_output: REPLY,
  });
  const words = tokenize(REPLY);
  assert.equal(
    ((await limited.json()) as { text_output: string }).text_output,
    words.slice(0, 2).join(''),
  );
  assert.equal(
    ((await exact.json()) as { text_output: string }).text_output,
    words.slice(0, 4).join(''),
  );
  assert.equal(((await echo.json()) as { text_output: string }).text_output, PROMPT);
  assert.equal(missing.status, 400);
});

test('streams generate_stream as one SSE event per token', async (t) => {
  const server = await startServer(t);

  const response = await post(server, '/v2/models/demo-chat/generate_stream', {
    text_input: PROMPT,
  });

  assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const events = (await response.text())
    .split('\n\n')
    .filter((event) => event !== '')
    .map((event) => JSON.parse(event.replace(/^data: /, '')) as Record<string, string>);
  assert.deepEqual(
    events.map((event) => event.text_output),
    tokenize(REPLY),
  );
  assert.ok(events.every((event) => event.model_name === 'demo-chat'));
});
