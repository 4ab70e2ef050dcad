// The response writer on a real socket: what a tick's writes become on the wire.

import assert from 'node:assert/strict';
import net, { type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';

import { HttpResponseWriter } from '../../../src/listeners/http/http-response-writer';

/** A connected socket pair: the writer's side and everything the peer reads until close. */
async function socketPair(t: TestContext): Promise<{ socket: Socket; received: Promise<string> }> {
  let resolveReceived: (text: string) => void = () => {};
  const received = new Promise<string>((resolve) => (resolveReceived = resolve));
  const server = net.createServer((peer) => {
    const chunks: Buffer[] = [];
    peer.on('data', (chunk: Buffer) => chunks.push(chunk));
    peer.on('end', () => resolveReceived(Buffer.concat(chunks).toString('latin1')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const { port } = server.address() as net.AddressInfo;
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  return { socket, received };
}

test('writes of one tick leave as one chunk of chunked framing, in order', async (t) => {
  const { socket, received } = await socketPair(t);
  const writer = new HttpResponseWriter(socket);
  const upstreamRead = Buffer.from('data: a\n\ndata: b\n\n');

  writer.writeHead(200, [['content-type', 'text/event-stream']], 'chunked');
  writer.write(upstreamRead.subarray(0, 9));
  writer.write(upstreamRead.subarray(9));
  writer.write(Buffer.from('data: c\n\n'));
  writer.end();
  socket.end();

  assert.equal(
    await received,
    'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n' +
      '1b\r\ndata: a\n\ndata: b\n\ndata: c\n\n\r\n0\r\n\r\n',
  );
});

test('a view next to an earlier one in memory keeps its place behind a chunk between them', async (t) => {
  const { socket, received } = await socketPair(t);
  const writer = new HttpResponseWriter(socket);
  const upstreamRead = Buffer.from('data: a\n\ndata: b\n\ndata: c\n\n');

  writer.writeHead(200, [], 'chunked');
  writer.write(upstreamRead.subarray(0, 9));
  writer.write(Buffer.from('data: masked\n\n'));
  writer.write(upstreamRead.subarray(9, 18));
  writer.write(upstreamRead.subarray(18));
  writer.write(upstreamRead.subarray(0, 9));
  writer.end();
  socket.end();

  assert.equal(
    await received,
    'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n' +
      '32\r\ndata: a\n\ndata: masked\n\ndata: b\n\ndata: c\n\ndata: a\n\n\r\n0\r\n\r\n',
  );
});

test('writes of later ticks are chunks of their own', async (t) => {
  const { socket, received } = await socketPair(t);
  const writer = new HttpResponseWriter(socket);

  writer.writeHead(200, [], 'chunked');
  writer.write(Buffer.from('first'));
  await new Promise((resolve) => setImmediate(resolve));
  writer.write(Buffer.from('second'));
  writer.end();
  socket.end();

  assert.equal(
    await received,
    'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nfirst\r\n6\r\nsecond\r\n0\r\n\r\n',
  );
});

test('reports a full socket while the tick still holds the bytes', async (t) => {
  const { socket } = await socketPair(t);
  t.after(() => socket.destroy());
  const writer = new HttpResponseWriter(socket);

  writer.writeHead(200, [], 'length');
  const room = writer.write(Buffer.alloc(socket.writableHighWaterMark));

  assert.equal(room, false);
});
