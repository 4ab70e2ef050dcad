// The filter chain: hook order, local replies, exceptions, async hooks, HOLD and completion.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Exchange } from '../../src/pipeline/exchange';
import { FilterChain, type ChainSinks } from '../../src/pipeline/filter-chain';
import {
  HOLD,
  type ExchangeMessage,
  type Filter,
  type FilterCallbacks,
  type FilterFactory,
} from '../../src/pipeline/filter';
import { LocalReply } from '../../src/pipeline/local-reply';
import { captureLogs, type CapturedLogger } from '../fixtures/log-sink';

/** A message that says which one it is. */
interface TestMessage extends ExchangeMessage {
  readonly id: string;
}

/** A message whose frame carries its id, so tests compare by identity and content. */
function message(id: string): TestMessage {
  return { id, frame: Buffer.from(id) };
}

/** An exchange whose log lines land in `logs`. */
function makeExchange(logs: CapturedLogger): Exchange {
  return new Exchange({
    id: 'ex-1',
    listener: 'grpc',
    protocol: 'grpc',
    operation: 'ModelInfer',
    requestHeaders: {},
    session: { id: 's-1', remoteAddress: '127.0.0.1', tls: undefined },
    logger: logs.logger,
  });
}

/** Sinks that record what left the chain, in order. */
function recordingSinks() {
  const requests: string[] = [];
  const responses: string[] = [];
  const replies: LocalReply[] = [];
  const sinks: ChainSinks<TestMessage> = {
    forwardRequest: (m) => requests.push(m.id),
    forwardResponse: (m) => responses.push(m.id),
    reply: (reply) => replies.push(reply),
  };
  return { sinks, requests, responses, replies };
}

/** A factory that always creates `filter` and hands its callbacks to `onCallbacks`. */
function factoryOf(
  name: string,
  filter: Filter<TestMessage> | undefined,
  onCallbacks: (callbacks: FilterCallbacks<TestMessage>) => void = () => undefined,
): FilterFactory<TestMessage> {
  return {
    name,
    create: (_exchange, callbacks) => {
      onCallbacks(callbacks);
      return filter;
    },
  };
}

/** A chain over `filters` with recording sinks and captured logs. */
function makeChain(filters: (Filter<TestMessage> | FilterFactory<TestMessage>)[]) {
  const logs = captureLogs();
  const recorded = recordingSinks();
  const factories = filters.map((entry, index) =>
    'create' in entry ? entry : factoryOf(`filter-${index}`, entry),
  );
  const chain = new FilterChain(makeExchange(logs), factories, recorded.sinks);
  return { chain, logs, ...recorded };
}

/** A filter that logs every hook call as `name.hook[:message]` into `calls`. */
function tracingFilter(name: string, calls: string[]): Filter<TestMessage> {
  return {
    onRequestHeaders: () => void calls.push(`${name}.requestHeaders`),
    onRequestMessage: (m) => void calls.push(`${name}.requestMessage:${m.id}`),
    onRequestEnd: () => void calls.push(`${name}.requestEnd`),
    onResponseHeaders: () => void calls.push(`${name}.responseHeaders`),
    onResponseMessage: (m) => void calls.push(`${name}.responseMessage:${m.id}`),
    onResponseTrailers: () => void calls.push(`${name}.responseTrailers`),
    onExchangeComplete: () => void calls.push(`${name}.complete`),
  };
}

/** A promise and the functions that settle it, for hooks the test finishes by hand. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise callback run; no timers involved. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

const denied = () =>
  LocalReply.of('ERR_ROUTE_NOT_FOUND', 'no route for model "x"', 'route_not_found');

test('runs request hooks in chain order and response hooks in reverse', () => {
  const calls: string[] = [];
  const { chain, requests, responses } = makeChain([
    tracingFilter('a', calls),
    tracingFilter('b', calls),
    tracingFilter('c', calls),
  ]);

  chain.onRequestHeaders({});
  chain.requestMessage(message('q1'));
  chain.onRequestEnd();
  chain.onResponseHeaders({});
  chain.responseMessage(message('r1'));
  chain.onResponseTrailers({});
  chain.complete();

  assert.deepEqual(calls, [
    'a.requestHeaders',
    'b.requestHeaders',
    'c.requestHeaders',
    'a.requestMessage:q1',
    'b.requestMessage:q1',
    'c.requestMessage:q1',
    'a.requestEnd',
    'b.requestEnd',
    'c.requestEnd',
    'c.responseHeaders',
    'b.responseHeaders',
    'a.responseHeaders',
    'c.responseMessage:r1',
    'b.responseMessage:r1',
    'a.responseMessage:r1',
    'c.responseTrailers',
    'b.responseTrailers',
    'a.responseTrailers',
    'a.complete',
    'b.complete',
    'c.complete',
  ]);
  assert.deepEqual(requests, ['q1']);
  assert.deepEqual(responses, ['r1']);
});

test('passes the headers it was given to each hook', () => {
  const seen: unknown[] = [];
  const { chain } = makeChain([
    { onRequestHeaders: (h) => void seen.push(h), onResponseTrailers: (h) => void seen.push(h) },
  ]);
  const headers = { 'x-request-id': 'abc' };
  const trailers = { 'grpc-status': '0' };

  chain.onRequestHeaders(headers);
  chain.onResponseTrailers(trailers);

  assert.equal(seen[0], headers);
  assert.equal(seen[1], trailers);
});

test('skips a filter that lacks a hook', () => {
  const calls: string[] = [];
  const { chain, requests, responses } = makeChain([
    tracingFilter('a', calls),
    {},
    { onRequestHeaders: () => void calls.push('partial.requestHeaders') },
    tracingFilter('c', calls),
  ]);

  assert.equal(chain.onRequestHeaders({}), undefined);
  chain.requestMessage(message('q1'));
  chain.responseMessage(message('r1'));

  assert.deepEqual(calls, [
    'a.requestHeaders',
    'partial.requestHeaders',
    'c.requestHeaders',
    'a.requestMessage:q1',
    'c.requestMessage:q1',
    'c.responseMessage:r1',
    'a.responseMessage:r1',
  ]);
  assert.deepEqual(requests, ['q1']);
  assert.deepEqual(responses, ['r1']);
});

test('leaves out a filter whose factory creates none', () => {
  const calls: string[] = [];
  const { chain, requests } = makeChain([
    tracingFilter('a', calls),
    factoryOf('absent', undefined),
    tracingFilter('c', calls),
  ]);

  chain.requestMessage(message('q1'));

  assert.deepEqual(calls, ['a.requestMessage:q1', 'c.requestMessage:q1']);
  assert.deepEqual(requests, ['q1']);
});

test('stops the request headers at a local reply and returns that reply', () => {
  const calls: string[] = [];
  const reply = denied();
  const { chain, replies } = makeChain([
    tracingFilter('a', calls),
    { onRequestHeaders: () => reply },
    tracingFilter('c', calls),
  ]);

  const result = chain.onRequestHeaders({});

  assert.equal(result, reply);
  assert.deepEqual(calls, ['a.requestHeaders']);
  assert.deepEqual(replies, []);
});

test('continues after an async headers hook resolves without a reply', async () => {
  const calls: string[] = [];
  const pending = deferred();
  const { chain } = makeChain([
    { onRequestHeaders: () => pending.promise },
    tracingFilter('b', calls),
  ]);

  const result = chain.onRequestHeaders({});
  assert.ok(result instanceof Promise);
  await settle();
  assert.deepEqual(calls, []);
  pending.resolve();

  assert.equal(await result, undefined);
  assert.deepEqual(calls, ['b.requestHeaders']);
});

test('resolves with an async headers hook local reply and runs no later filter', async () => {
  const calls: string[] = [];
  const reply = denied();
  const { chain } = makeChain([
    tracingFilter('nearer-client', calls),
    { onResponseHeaders: () => Promise.resolve(reply) },
  ]);

  const result = await chain.onResponseHeaders({ ':status': 200 });

  assert.equal(result, reply);
  assert.deepEqual(calls, []);
});

test('stops a request message at a local reply and sends the reply to the sink', () => {
  const calls: string[] = [];
  const reply = denied();
  const { chain, requests, replies } = makeChain([
    tracingFilter('a', calls),
    { onRequestMessage: () => reply },
    tracingFilter('c', calls),
  ]);

  chain.requestMessage(message('q1'));

  assert.deepEqual(calls, ['a.requestMessage:q1']);
  assert.deepEqual(requests, []);
  assert.deepEqual(replies, [reply]);
});

test('stops a response message at an async local reply and sends it to the sink', async () => {
  const calls: string[] = [];
  const reply = denied();
  const { chain, responses, replies } = makeChain([
    tracingFilter('a', calls),
    { onResponseMessage: () => Promise.resolve(reply) },
  ]);

  chain.responseMessage(message('r1'));
  await settle();

  assert.deepEqual(calls, []);
  assert.deepEqual(responses, []);
  assert.deepEqual(replies, [reply]);
});

test('turns a throwing message hook into a filter_exception reply logged at error', () => {
  const calls: string[] = [];
  const { chain, requests, replies, logs } = makeChain([
    {
      onRequestMessage: () => {
        throw new Error('boom in filter');
      },
    },
    tracingFilter('b', calls),
  ]);

  chain.requestMessage(message('q1'));

  assert.deepEqual(calls, []);
  assert.deepEqual(requests, []);
  assert.equal(replies.length, 1);
  assert.equal(replies[0]!.detail, 'filter_exception');
  assert.equal(replies[0]!.error.code, 'ERR_FILTER_EXCEPTION');
  assert.equal(replies[0]!.error.grpcStatus, 13);
  assert.equal(replies[0]!.error.httpStatus, 500);
  assert.equal(replies[0]!.error.message, 'internal error in infergate');
  const errors = logs.lines.filter((line) => line.level === 50);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.msg, 'filter threw');
  assert.equal(errors[0]!.exchangeId, 'ex-1');
  assert.equal((errors[0]!.err as { message: string }).message, 'boom in filter');
});

test('turns a throwing headers hook into a returned filter_exception reply', () => {
  const calls: string[] = [];
  const { chain, logs } = makeChain([
    {
      onResponseTrailers: () => {
        throw new TypeError('bad trailers');
      },
    },
    tracingFilter('before', calls),
  ]);

  const result = chain.onResponseTrailers({});

  assert.ok(result instanceof LocalReply);
  assert.equal(result.error.code, 'ERR_FILTER_EXCEPTION');
  assert.equal(result.detail, 'filter_exception');
  assert.deepEqual(calls, ['before.responseTrailers']);
  assert.deepEqual(
    logs.lines.filter((line) => line.level === 50).map((line) => line.msg),
    ['filter threw'],
  );
});

test('turns a rejected message hook promise into a filter_exception reply', async () => {
  const { chain, requests, replies, logs } = makeChain([
    { onRequestMessage: () => Promise.reject(new Error('async boom')) },
  ]);

  chain.requestMessage(message('q1'));
  await settle();

  assert.deepEqual(requests, []);
  assert.deepEqual(
    replies.map((reply) => [reply.error.code, reply.detail]),
    [['ERR_FILTER_EXCEPTION', 'filter_exception']],
  );
  assert.equal(logs.lines.filter((line) => line.level === 50).length, 1);
});

test('holds later messages back until an async message hook settles', async () => {
  const calls: string[] = [];
  const first = deferred();
  const { chain, requests } = makeChain([
    { onRequestMessage: (m) => (m.id === 'q1' ? first.promise : undefined) },
    tracingFilter('b', calls),
  ]);

  chain.requestMessage(message('q1'));
  chain.requestMessage(message('q2'));
  chain.requestMessage(message('q3'));
  await settle();
  assert.deepEqual(calls, []);
  assert.deepEqual(requests, []);
  first.resolve();
  await settle();

  assert.deepEqual(calls, ['b.requestMessage:q1', 'b.requestMessage:q2', 'b.requestMessage:q3']);
  assert.deepEqual(requests, ['q1', 'q2', 'q3']);
});

test('keeps message order when a message meets a second pending hook further on', async () => {
  const calls: string[] = [];
  const atA = deferred();
  const atB = deferred();
  const { chain, requests } = makeChain([
    { onRequestMessage: (m) => (m.id === 'q1' ? atA.promise : undefined) },
    {
      onRequestMessage: (m) => {
        calls.push(`b:${m.id}`);
        return m.id === 'q1' ? atB.promise : undefined;
      },
    },
  ]);

  chain.requestMessage(message('q1'));
  chain.requestMessage(message('q2'));
  atA.resolve();
  await settle();
  assert.deepEqual(calls, ['b:q1']);
  assert.deepEqual(requests, []);
  atB.resolve();
  await settle();

  assert.deepEqual(calls, ['b:q1', 'b:q2']);
  assert.deepEqual(requests, ['q1', 'q2']);
});

test('resumes a held request message at the filter after the one that held it', () => {
  const calls: string[] = [];
  let callbacks: FilterCallbacks<TestMessage> | undefined;
  const held: TestMessage[] = [];
  const holding = factoryOf(
    'holding',
    {
      onRequestMessage: (m) => {
        calls.push(`hold.requestMessage:${m.id}`);
        held.push(m);
        return HOLD;
      },
    },
    (given) => (callbacks = given),
  );
  const { chain, requests } = makeChain([
    tracingFilter('a', calls),
    holding,
    tracingFilter('c', calls),
  ]);

  chain.requestMessage(message('q1'));
  assert.deepEqual(calls, ['a.requestMessage:q1', 'hold.requestMessage:q1']);
  assert.deepEqual(requests, []);
  callbacks!.continueRequestMessage(held[0]!);

  assert.deepEqual(calls, ['a.requestMessage:q1', 'hold.requestMessage:q1', 'c.requestMessage:q1']);
  assert.deepEqual(requests, ['q1']);
});

test('resumes a held response message towards the client', () => {
  const calls: string[] = [];
  let callbacks: FilterCallbacks<TestMessage> | undefined;
  const holding = factoryOf(
    'holding',
    {
      onResponseMessage: (m) => {
        calls.push(`hold.responseMessage:${m.id}`);
        return HOLD;
      },
    },
    (given) => (callbacks = given),
  );
  const { chain, responses } = makeChain([
    tracingFilter('a', calls),
    holding,
    tracingFilter('c', calls),
  ]);

  chain.responseMessage(message('r1'));
  assert.deepEqual(responses, []);
  callbacks!.continueResponseMessage(message('r1'));

  assert.deepEqual(calls, [
    'c.responseMessage:r1',
    'hold.responseMessage:r1',
    'a.responseMessage:r1',
  ]);
  assert.deepEqual(responses, ['r1']);
});

test('sends a reply a filter gives through its callbacks to the sink', () => {
  let callbacks: FilterCallbacks<TestMessage> | undefined;
  const reply = denied();
  const { replies } = makeChain([factoryOf('replying', {}, (given) => (callbacks = given))]);

  callbacks!.reply(reply);

  assert.deepEqual(replies, [reply]);
});

test('calls onExchangeComplete exactly once even when complete is called twice', () => {
  const calls: string[] = [];
  const { chain } = makeChain([tracingFilter('a', calls), tracingFilter('b', calls)]);

  chain.complete();
  chain.complete();

  assert.deepEqual(calls, ['a.complete', 'b.complete']);
});

test('completes the other filters when one onExchangeComplete throws', () => {
  const calls: string[] = [];
  const { chain, logs } = makeChain([
    tracingFilter('a', calls),
    {
      onExchangeComplete: () => {
        throw new Error('complete boom');
      },
    },
    tracingFilter('c', calls),
  ]);

  chain.complete();

  assert.deepEqual(calls, ['a.complete', 'c.complete']);
  const errors = logs.lines.filter((line) => line.level === 50);
  assert.deepEqual(
    errors.map((line) => line.msg),
    ['filter threw on exchange completion'],
  );
  assert.equal((errors[0]!.err as { message: string }).message, 'complete boom');
});

test('reports whether any filter inspects response messages', () => {
  const none = makeChain([{ onRequestMessage: () => undefined }, {}]).chain;
  const one = makeChain([
    { onRequestMessage: () => undefined },
    { onResponseMessage: () => undefined },
  ]).chain;
  const leftOut = makeChain([factoryOf('absent', undefined)]).chain;

  assert.equal(none.inspectsResponseMessages, false);
  assert.equal(one.inspectsResponseMessages, true);
  assert.equal(leftOut.inspectsResponseMessages, false);
  assert.equal(makeChain([]).chain.inspectsResponseMessages, false);
});

test('forwards messages straight to the sinks when there are no filters', () => {
  const { chain, requests, responses } = makeChain([]);

  chain.requestMessage(message('q1'));
  chain.responseMessage(message('r1'));

  assert.equal(chain.onRequestHeaders({}), undefined);
  assert.deepEqual(requests, ['q1']);
  assert.deepEqual(responses, ['r1']);
});
