// Certificates rotated while clients stream: the server certificate replaced on disk (picked up
// by the file watch), then a second client CA added (picked up by a reload), with no request
// failing and new handshakes using the new material.

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import https from 'node:https';
import tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { startDemoServer } from '../../src/demo/demo-server';
import {
  createCertificateAuthority,
  type CertificateAuthority,
} from '../../src/identity/pki/certificate-authority';
import { publishRevocationList } from '../../src/identity/pki/certificate-revocation';
import {
  issueLeafCertificate,
  writeIssuedCertificate,
} from '../../src/identity/pki/leaf-certificate';
import { kserveClient, startTestGateway } from '../fixtures/gateway-fixture';
import { makeTestIdentity } from '../fixtures/identity-fixture';
import { splitAddress } from '../fixtures/http-client';

/** One streamed inference of 20 tokens; resolves with the error, if any. */
function streamOnce(client: grpc.Client & Record<string, Function>, metadata: grpc.Metadata) {
  return new Promise<Error | undefined>((resolve) => {
    const call = client.ModelStreamInfer!(metadata) as grpc.ClientDuplexStream<unknown, unknown>;
    let failed: Error | undefined;
    call.on('data', () => undefined);
    call.on('error', (err: Error) => (failed = err));
    call.on('status', () => setImmediate(() => resolve(failed)));
    call.write({
      model_name: 'demo-chat',
      parameters: { demo_tokens: { int64_param: '20' } },
      inputs: [
        {
          name: 'text_input',
          datatype: 'BYTES',
          shape: [1],
          contents: { bytes_contents: [Buffer.from('go')] },
        },
      ],
    });
    call.end();
  });
}

/** Streams back to back until `stop()` is called; counts completed and failed streams. */
function keepStreaming(client: grpc.Client & Record<string, Function>, metadata: grpc.Metadata) {
  let running = true;
  const counts = { completed: 0, failures: [] as Error[] };
  const done = (async () => {
    while (running) {
      const error = await streamOnce(client, metadata);
      if (error === undefined) counts.completed++;
      else counts.failures.push(error);
    }
  })();
  return {
    counts,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/** The serial number of the certificate a fresh TLS handshake with `port` presents. */
function presentedSerial(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      resolve(socket.getPeerX509Certificate()!.serialNumber);
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

function clientOf(ca: CertificateAuthority, dir: string, name: string) {
  const issued = issueLeafCertificate(ca, {
    kind: 'client',
    commonName: name,
    altNames: { uris: [`spiffe://test.infergate/${name}`] },
  });
  writeIssuedCertificate(issued, path.join(dir, `${name}.pem`), path.join(dir, `${name}-key.pem`));
  return { cert: issued.certificate.pem, key: issued.key.pem, thumbprint: issued.thumbprint };
}

test(
  'rotates the server certificate and the client CA while streams run, failing none',
  { timeout: 60_000 },
  async (t) => {
    const identity = makeTestIdentity(t);
    // The next CA exists from the start with its own CRL: with CRLs on, OpenSSL refuses a
    // client whose CA has none, so an operator publishes the new CA's CRL before trusting it.
    const nextCa = createCertificateAuthority({ commonName: 'next identity test CA' });
    const nextCrlDir = path.join(identity.dir, 'next');
    const { crlFile: nextCrl } = publishRevocationList(nextCa, nextCrlDir);
    const sections = identity.sections() as { tls: Record<string, unknown> };
    const demo = await startDemoServer();
    t.after(() => demo.close());
    const { gateway, grpcAddress, logs } = await startTestGateway(t, {
      upstreams: [{ name: 'demo', address: `grpc://${demo.address}` }],
      ...sections,
      tls: { ...sections.tls, crlFiles: [identity.crlFile, nextCrl], watch: true },
    });
    const [, port] = splitAddress(grpcAddress);
    const address = `localhost:${port}`;
    const ca = Buffer.from(identity.caPem);
    const alice = identity.clients.alice;
    const client = kserveClient(
      t,
      address,
      grpc.credentials.createSsl(ca, Buffer.from(alice.key), Buffer.from(alice.cert)),
    );
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${await identity.token('alice', ['chat'])}`);
    const load = keepStreaming(client, metadata);
    const before = await presentedSerial(port, identity.caPem);

    const renewed = issueLeafCertificate(identity.ca, {
      kind: 'server',
      commonName: 'localhost',
      altNames: { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] },
    });
    const reloaded = logs.waitFor((line) => line.msg === 'tls material reloaded');
    writeIssuedCertificate(renewed, identity.serverCertFile, identity.serverKeyFile);
    await reloaded;
    const after = await presentedSerial(port, identity.caPem);
    const streamsBeforeCa = load.counts.completed;

    fs.writeFileSync(identity.caFile, `${identity.caPem}${nextCa.certificate.pem}`);
    assert.equal(gateway.reloadTls(), true);
    const carol = clientOf(nextCa, nextCrlDir, 'carol');
    const carolClient = kserveClient(
      t,
      address,
      grpc.credentials.createSsl(ca, Buffer.from(carol.key), Buffer.from(carol.cert)),
    );
    const carolMetadata = new grpc.Metadata();
    const carolToken = await identity.tokenFor(carol.thumbprint, 'carol', ['chat']);
    carolMetadata.set('authorization', `Bearer ${carolToken}`);
    const carolError = await streamOnce(carolClient, carolMetadata);
    await streamOnce(client, metadata);
    await load.stop();

    assert.equal(after, renewed.certificate.x509.serialNumber);
    assert.notEqual(after, before);
    assert.equal(carolError, undefined, 'a client of the new CA is accepted');
    assert.deepEqual(load.counts.failures, []);
    assert.ok(
      streamsBeforeCa > 0 && load.counts.completed > streamsBeforeCa,
      JSON.stringify(load.counts),
    );
  },
);

test('keeps the current material when a rotated file is broken', async (t) => {
  const identity = makeTestIdentity(t);
  const demo = await startDemoServer();
  t.after(() => demo.close());
  const { gateway, grpcAddress, logs } = await startTestGateway(t, {
    upstreams: [{ name: 'demo', address: `grpc://${demo.address}` }],
    ...identity.sections(),
  });
  const [, port] = splitAddress(grpcAddress);
  const before = await presentedSerial(port, identity.caPem);

  fs.writeFileSync(identity.serverKeyFile, '-----BEGIN PRIVATE KEY-----\nbroken\n');
  const refused = gateway.reloadTls();

  assert.equal(refused, false);
  assert.equal(await presentedSerial(port, identity.caPem), before);
  const line = await logs.waitFor(
    (entry) => entry.msg === 'tls material refused, keeping the current one',
  );
  assert.equal((line.err as { code?: string }).code, 'ERR_PKI_MATERIAL_INVALID');
  assert.ok(!logs.text().includes('broken'), 'key material never reaches the log');
});

test(
  'replaces the client certificate presented to an mTLS upstream while streams run',
  { timeout: 60_000 },
  async (t) => {
    const identity = makeTestIdentity(t);
    const { alice, bob } = identity.clients;
    const credentials = grpc.ServerCredentials.createSsl(
      Buffer.from(identity.caPem),
      [
        {
          cert_chain: fs.readFileSync(identity.serverCertFile),
          private_key: fs.readFileSync(identity.serverKeyFile),
        },
      ],
      true,
    );
    const demo = await startDemoServer({ credentials });
    t.after(() => demo.close());
    const presented: string[] = [];
    demo.events.on('metadata', (_rpc: string, _metadata: unknown, fingerprint?: string) => {
      if (fingerprint !== undefined) presented.push(fingerprint);
    });
    const clientCert = path.join(identity.dir, 'gateway-client.pem');
    const clientKey = path.join(identity.dir, 'gateway-client-key.pem');
    fs.copyFileSync(alice.certFile, clientCert);
    fs.copyFileSync(alice.keyFile, clientKey);
    const { grpcAddress, logs } = await startTestGateway(t, {
      upstreams: [
        {
          name: 'demo',
          address: `grpcs://localhost:${demo.port}`,
          tls: { caFile: identity.caFile, certFile: clientCert, keyFile: clientKey },
        },
      ],
    });
    const load = keepStreaming(kserveClient(t, grpcAddress), new grpc.Metadata());
    while (presented.length === 0) await new Promise((resolve) => setImmediate(resolve));

    const reloaded = logs.waitFor((line) => line.msg === 'upstream tls material reloaded');
    const staged = path.join(identity.dir, 'staged.pem');
    fs.writeFileSync(staged, bob.key);
    fs.renameSync(staged, clientKey);
    fs.writeFileSync(staged, bob.cert);
    fs.renameSync(staged, clientCert);
    await reloaded;
    // Calls already on the old connection may still arrive; the new one presents bob.
    const bobs = new X509Certificate(bob.cert).fingerprint256;
    while (!presented.includes(bobs)) await new Promise((resolve) => setImmediate(resolve));
    await load.stop();

    assert.equal(presented[0], new X509Certificate(alice.cert).fingerprint256);
    assert.deepEqual(load.counts.failures, []);
  },
);

test('sends HTTP requests on new connections with the replaced upstream client certificate', async (t) => {
  const identity = makeTestIdentity(t);
  const { alice, bob } = identity.clients;
  const upstream = https.createServer(
    {
      ca: identity.caPem,
      cert: fs.readFileSync(identity.serverCertFile),
      key: fs.readFileSync(identity.serverKeyFile),
      requestCert: true,
    },
    (request, response) => {
      const peer = (request.socket as tls.TLSSocket).getPeerX509Certificate();
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ object: 'list', data: [{ id: peer?.fingerprint256 }] }));
    },
  );
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => upstream.close(resolve)));
  const port = (upstream.address() as { port: number }).port;
  const clientCert = path.join(identity.dir, 'gateway-client.pem');
  const clientKey = path.join(identity.dir, 'gateway-client-key.pem');
  fs.copyFileSync(alice.certFile, clientCert);
  fs.copyFileSync(alice.keyFile, clientKey);
  const { gateway } = await startTestGateway(t, {
    upstreams: [
      {
        name: 'models',
        address: `https://localhost:${port}`,
        tls: { caFile: identity.caFile, certFile: clientCert, keyFile: clientKey },
      },
    ],
  });
  const models = async () => {
    const answer = await fetch(
      `http://${gateway.addresses.http.replace('0.0.0.0', '127.0.0.1')}/v1/models`,
    );
    return ((await answer.json()) as { data: { id: string }[] }).data[0]!.id;
  };
  const before = await models();

  fs.copyFileSync(bob.keyFile, clientKey);
  fs.copyFileSync(bob.certFile, clientCert);
  const reloaded = gateway.reloadTls();
  const after = await models();

  const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;
  assert.equal(reloaded, true);
  assert.equal(before, fingerprint(alice.cert));
  assert.equal(after, fingerprint(bob.cert));
});
