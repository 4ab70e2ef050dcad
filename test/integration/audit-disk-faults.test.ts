// The audit disk fills up or turns read-only under a running gateway: exchanges are refused
// or withheld, nothing is answered unrecorded, and once the disk takes writes again the gateway
// recovers by itself with a log that verifies and holds every exchange.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  NODE_SEGMENT_FILES,
  SegmentFileStore,
  type SegmentFileHandle,
  type SegmentFiles,
} from '../../src/audit/segment-file-store';
import { startDemoHttpServer } from '../../src/demo/demo-http-server';
import { auditSection, framesOf, readFrames, verifyDir } from '../fixtures/audit-fixture';
import { startTestGateway } from '../fixtures/gateway-fixture';
import { chatOutcome as chat, openaiClient } from '../fixtures/chat-outcome';

/** A disk whose writes fail with `error` while it is set, after taking half of what they got. */
interface FaultyDisk {
  error: 'ENOSPC' | 'EROFS' | undefined;
}

function faultyHandle(handle: SegmentFileHandle, disk: FaultyDisk): SegmentFileHandle {
  return {
    write: async (buffer, offset, length, position) => {
      if (disk.error === undefined) return handle.write(buffer, offset, length, position);
      await handle.write(buffer, offset, Math.floor(length / 2), position);
      throw Object.assign(new Error(`${disk.error}: injected`), { code: disk.error });
    },
    datasync: () => handle.datasync(),
    sync: () => handle.sync(),
    truncate: (length) => handle.truncate(length),
    close: () => handle.close(),
  };
}

function faultyFiles(disk: FaultyDisk): SegmentFiles {
  return {
    ...NODE_SEGMENT_FILES,
    open: async (file, flags, mode) =>
      faultyHandle(await NODE_SEGMENT_FILES.open(file, flags, mode), disk),
  };
}

for (const error of ['ENOSPC', 'EROFS'] as const) {
  test(`an audit disk that fails with ${error} refuses traffic until it takes writes again`, async (t) => {
    const demo = await startDemoHttpServer({ tokenDelayMs: 0 });
    t.after(() => demo.close());
    const audit = auditSection(t);
    const disk: FaultyDisk = { error: undefined };
    const store = new SegmentFileStore({ dir: audit.dir, files: faultyFiles(disk) });
    const { gateway, logs } = await startTestGateway(
      t,
      {
        upstreams: [{ name: 'demo-http', address: `http://${demo.address}` }],
        audit: audit.section,
      },
      {},
      { auditStore: store },
    );
    const client = openaiClient(gateway.addresses.http);

    const before = await chat(client, 'before');
    disk.error = error;
    const whileFailing = [await chat(client, 'withheld'), await chat(client, 'refused')];
    disk.error = undefined;
    await logs.waitFor((line) => line.msg === 'audit log writable again');
    const after = await chat(client, 'after');
    await gateway.close();
    const frames = await readFrames(audit.dir);
    const prompts = framesOf(frames, 'exchangeStarted').map((event) => event.prompt?.[0]?.text);
    const report = await verifyDir(audit.dir, audit.keys);

    assert.equal(before, 'before');
    assert.deepEqual(whileFailing, [
      'refused 503 audit_unavailable',
      'refused 503 audit_unavailable',
    ]);
    assert.equal(after, 'after');
    assert.equal(report.ok, true, JSON.stringify(report));
    for (const prompt of ['before', 'withheld', 'after']) {
      assert.ok(prompts.includes(prompt), `the exchange "${prompt}" is recorded`);
    }
  });
}
