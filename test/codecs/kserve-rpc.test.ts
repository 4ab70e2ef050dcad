// Unit tests for the KServe and health RPC tables and the model-target read.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  HEALTH_RPCS,
  HEALTH_SERVICE,
  KSERVE_RPCS,
  KSERVE_SERVICE,
  readModelTarget,
  type RpcSpec,
} from '../../src/codecs/kserve-rpc';
import { encodeMessage } from '../../src/codecs/protobuf-wire-writer';
import { isProxyError } from '../../src/errors/proxy-error';
import { encodeWith, kserveType, loadKserveRoot } from './kserve-fixtures';

function spec(name: string): RpcSpec {
  const found = KSERVE_RPCS.get(name);
  assert.ok(found, `no spec for ${name}`);
  return found;
}

function assertMalformed(fn: () => unknown): void {
  assert.throws(fn, (err: unknown) => isProxyError(err) && err.code === 'ERR_MALFORMED_MESSAGE');
}

describe('RPC tables', () => {
  const root = loadKserveRoot();

  test('lists every RPC of the service in the proto, with its streaming shape', () => {
    const service = root.lookupService(KSERVE_SERVICE);
    assert.deepEqual([...KSERVE_RPCS.keys()].sort(), Object.keys(service.methods).sort());
    for (const [name, method] of Object.entries(service.methods)) {
      const rpc = spec(name);
      assert.equal(rpc.clientStreaming, method.requestStream === true, name);
      assert.equal(rpc.serverStreaming, method.responseStream === true, name);
      assert.equal(rpc.path, `/inference.GRPCInferenceService/${name}`);
    }
  });

  test('names the model fields of the RPCs that name a model', () => {
    const withModel = [...KSERVE_RPCS.values()].filter((rpc) => rpc.modelField !== undefined);
    const fields = Object.fromEntries(withModel.map((rpc) => [rpc.name, rpc.modelField]));
    const both = { name: 1, version: 2 };
    const nameOnly = { name: 2, version: undefined };
    assert.deepEqual(fields, {
      ModelReady: both,
      ModelMetadata: both,
      ModelInfer: both,
      ModelStreamInfer: both,
      ModelConfig: both,
      ModelStatistics: both,
      RepositoryModelLoad: nameOnly,
      RepositoryModelUnload: nameOnly,
      TraceSetting: nameOnly,
    });
  });

  test('model fields match the field numbers in the proto', () => {
    const requestOf: Record<string, string> = { ModelStreamInfer: 'ModelInferRequest' };
    for (const rpc of KSERVE_RPCS.values()) {
      if (rpc.modelField === undefined) continue;
      const type = kserveType(root, requestOf[rpc.name] ?? `${rpc.name}Request`);
      const byId = new Map(type.fieldsArray.map((field) => [field.id, field]));
      assert.equal(byId.get(rpc.modelField.name)?.type, 'string', rpc.name);
      if (rpc.modelField.version !== undefined) {
        assert.equal(byId.get(rpc.modelField.version)?.type, 'string', rpc.name);
      }
    }
  });

  test('describes the health service', () => {
    assert.equal(HEALTH_SERVICE, 'grpc.health.v1.Health');
    assert.deepEqual(
      [...HEALTH_RPCS.values()].map((rpc) => [rpc.path, rpc.serverStreaming, rpc.modelField]),
      [
        ['/grpc.health.v1.Health/Check', false, undefined],
        ['/grpc.health.v1.Health/Watch', true, undefined],
      ],
    );
  });
});

describe('readModelTarget', () => {
  const root = loadKserveRoot();
  const inferRequest = kserveType(root, 'ModelInferRequest');

  test('reads name and version of a ModelInferRequest encoded by protobufjs', () => {
    const payload = encodeWith(inferRequest, {
      model_name: 'llama-3',
      model_version: '2',
      raw_input_contents: [Buffer.alloc(64)],
    });
    assert.deepEqual(readModelTarget(spec('ModelInfer'), payload), {
      model: 'llama-3',
      version: '2',
    });
  });

  test('returns empty strings when the fields are absent', () => {
    assert.deepEqual(readModelTarget(spec('ModelStatistics'), Buffer.alloc(0)), {
      model: '',
      version: '',
    });
  });

  test('lets the last occurrence win', () => {
    const payload = Buffer.concat([
      encodeWith(inferRequest, { model_name: 'first', model_version: '1' }),
      encodeWith(inferRequest, { model_name: 'second' }),
    ]);
    assert.deepEqual(readModelTarget(spec('ModelInfer'), payload), {
      model: 'second',
      version: '1',
    });
  });

  test('reads model_name = 2 of repository and trace requests, with no version', () => {
    const load = encodeWith(kserveType(root, 'RepositoryModelLoadRequest'), {
      repository_name: 'repo',
      model_name: 'bert',
    });
    const trace = encodeWith(kserveType(root, 'TraceSettingRequest'), {
      settings: { trace_level: { value: ['TIMESTAMPS'] } },
      model_name: 'bert',
    });
    const target = { model: 'bert', version: '' };
    assert.deepEqual(readModelTarget(spec('RepositoryModelLoad'), load), target);
    assert.deepEqual(readModelTarget(spec('RepositoryModelUnload'), load), target);
    assert.deepEqual(readModelTarget(spec('TraceSetting'), trace), target);
  });

  test('skips a model field sent with another wire type, as protobuf does', () => {
    const payload = encodeMessage([
      [1, 'real'],
      [1, 5],
    ]);
    assert.deepEqual(readModelTarget(spec('ModelReady'), payload), { model: 'real', version: '' });
  });

  test('returns undefined for RPCs that name no model, after checking the framing', () => {
    const ok = encodeMessage([[1, 'region']]);
    assert.equal(readModelTarget(spec('SystemSharedMemoryStatus'), ok), undefined);
    assert.equal(readModelTarget(spec('ServerLive'), Buffer.alloc(0)), undefined);
    assertMalformed(() => readModelTarget(spec('ServerLive'), Buffer.from([0x0a, 0x05])));
  });

  test('rejects broken framing and names that are not UTF-8', () => {
    const payload = encodeWith(inferRequest, { model_name: 'llama', id: 'x' });
    assertMalformed(() => readModelTarget(spec('ModelInfer'), payload.subarray(0, 4)));
    const badName = encodeMessage([[1, Buffer.from([0x6c, 0xc3])]]);
    assertMalformed(() => readModelTarget(spec('ModelInfer'), badName));
    const badVersion = encodeMessage([[2, Buffer.from([0xed, 0xa0, 0x80])]]);
    assertMalformed(() => readModelTarget(spec('ModelConfig'), badVersion));
  });
});
