// The demo server's model catalog: signatures, configurations, readiness and statistics.

import { status } from '@grpc/grpc-js';
import {
  fail,
  succeed,
  type DemoResult,
  type StatisticDuration,
  type TensorMetadata,
} from './kserve-messages';

/** The decoupled chat model that streams a scripted reply token by token. */
export const DEMO_CHAT_MODEL = 'demo-chat';

/** The model that returns its BYTES input unchanged. */
export const ECHO_MODEL = 'echo';

/**
 * The decoupled model that streams its prompt back in pieces (words, or the sizes the request
 * asks for), so a test chooses both the text and where it is split.
 */
export const ECHO_STREAM_MODEL = 'echo-stream';

/** The one version every demo model has. */
export const DEMO_MODEL_VERSION = '1';

/** The BYTES input every demo model reads (the prompt, or the elements to echo). */
export const TEXT_INPUT = 'text_input';

/** The BYTES output every demo model writes. */
export const TEXT_OUTPUT = 'text_output';

/** A model the demo server serves: its signature and its `inference.ModelConfig` object. */
export interface DemoModelSpec {
  readonly name: string;
  readonly decoupled: boolean;
  readonly inputs: readonly TensorMetadata[];
  readonly outputs: readonly TensorMetadata[];
  readonly config: Readonly<Record<string, unknown>>;
}

/** Builds a Python-backend style ModelConfig for a one-input, one-output BYTES model. */
function textModelConfig(name: string, inputDims: number[], decoupled: boolean): object {
  return {
    name,
    backend: 'python',
    max_batch_size: 0,
    version_policy: { latest: { num_versions: 1 } },
    input: [{ name: TEXT_INPUT, data_type: 'TYPE_STRING', format: 'FORMAT_NONE', dims: inputDims }],
    output: [{ name: TEXT_OUTPUT, data_type: 'TYPE_STRING', dims: [-1] }],
    instance_group: [{ name: `${name}_0`, kind: 'KIND_CPU', count: 1 }],
    optimization: {
      input_pinned_memory: { enable: true },
      output_pinned_memory: { enable: true },
    },
    default_model_filename: 'model.py',
    model_transaction_policy: { decoupled },
  };
}

/** Builds the spec of a text model whose input has `inputShape` and output is `[-1]`. */
function textModel(name: string, inputShape: number[], decoupled: boolean): DemoModelSpec {
  return Object.freeze({
    name,
    decoupled,
    inputs: [{ name: TEXT_INPUT, datatype: 'BYTES', shape: inputShape }],
    outputs: [{ name: TEXT_OUTPUT, datatype: 'BYTES', shape: [-1] }],
    config: textModelConfig(name, inputShape, decoupled) as Record<string, unknown>,
  });
}

/** Every model the demo server serves; all are ready when it starts. */
export const DEMO_MODELS: readonly DemoModelSpec[] = Object.freeze([
  textModel(DEMO_CHAT_MODEL, [1], true),
  textModel(ECHO_MODEL, [-1], false),
  textModel(ECHO_STREAM_MODEL, [1], true),
]);

/** True for the models that answer with the prompt itself rather than a scripted reply. */
export function echoesPrompt(model: string): boolean {
  return model === ECHO_MODEL || model === ECHO_STREAM_MODEL;
}

/** Cumulative counters for one model; durations in nanoseconds. */
interface ModelCounters {
  success: { count: number; ns: bigint };
  fail: { count: number; ns: bigint };
  lastInferenceMs: number;
}

/** One `inference.RepositoryIndexResponse.ModelIndex` entry. */
export interface ModelIndexEntry {
  name: string;
  version: string;
  state: 'READY' | 'UNAVAILABLE';
  reason: string;
}

/** Converts a counter to the wire form of a StatisticDuration. */
function duration(counter: { count: number; ns: bigint }): StatisticDuration {
  return { count: String(counter.count), ns: counter.ns.toString() };
}

/** The models, which of them are loaded, and their inference statistics. */
export class DemoModelRegistry {
  private readonly specs = new Map<string, DemoModelSpec>();
  private readonly loaded = new Set<string>();
  private readonly counters = new Map<string, ModelCounters>();

  constructor(specs: readonly DemoModelSpec[] = DEMO_MODELS) {
    for (const spec of specs) {
      this.specs.set(spec.name, spec);
      this.loaded.add(spec.name);
      this.counters.set(spec.name, {
        success: { count: 0, ns: 0n },
        fail: { count: 0, ns: 0n },
        lastInferenceMs: 0,
      });
    }
  }

  /** Model names in catalog order. */
  names(): string[] {
    return [...this.specs.keys()];
  }

  /** Looks a model up; NOT_FOUND for an unknown name or a version other than 1 (or empty). */
  resolve(name: string, version = ''): DemoResult<DemoModelSpec> {
    const spec = this.specs.get(name);
    if (spec === undefined) {
      return fail(status.NOT_FOUND, `Request for unknown model: '${name}' is not found`);
    }
    if (version !== '' && version !== DEMO_MODEL_VERSION) {
      return fail(
        status.NOT_FOUND,
        `Request for unknown model: '${name}' version ${version} is not found`,
      );
    }
    return succeed(spec);
  }

  /** As `resolve`, and UNAVAILABLE when the model has been unloaded. */
  resolveReady(name: string, version = ''): DemoResult<DemoModelSpec> {
    const found = this.resolve(name, version);
    if (found.ok && !this.loaded.has(name)) {
      return fail(
        status.UNAVAILABLE,
        `Request for unknown model: '${name}' has no available versions`,
      );
    }
    return found;
  }

  /** Whether the model (version) exists and is loaded. */
  isReady(name: string, version = ''): boolean {
    return this.resolveReady(name, version).ok;
  }

  /** Marks a model loaded or unloaded; NOT_FOUND for a name outside the catalog. */
  setLoaded(name: string, loaded: boolean): DemoResult<void> {
    const found = this.resolve(name);
    if (!found.ok) {
      return found;
    }
    if (loaded) {
      this.loaded.add(name);
    } else {
      this.loaded.delete(name);
    }
    return succeed(undefined);
  }

  /** Counts one finished inference request for the model. */
  record(name: string, succeeded: boolean, durationNs: bigint): void {
    const counters = this.counters.get(name);
    if (counters === undefined) {
      return;
    }
    const counter = succeeded ? counters.success : counters.fail;
    counter.count += 1;
    counter.ns += durationNs;
    counters.lastInferenceMs = Date.now();
  }

  /** `inference.ModelStatistics` objects for one model, or for all when `name` is empty. */
  statistics(name: string, version = ''): DemoResult<object[]> {
    if (name === '') {
      return succeed(this.names().map((each) => this.statisticsOf(each)));
    }
    const found = this.resolve(name, version);
    return found.ok ? succeed([this.statisticsOf(name)]) : found;
  }

  /** Repository index entries, optionally only the ready ones. */
  index(readyOnly: boolean): ModelIndexEntry[] {
    const entries = this.names().map((name): ModelIndexEntry => {
      const ready = this.loaded.has(name);
      return {
        name,
        version: DEMO_MODEL_VERSION,
        state: ready ? 'READY' : 'UNAVAILABLE',
        reason: ready ? '' : 'unloaded',
      };
    });
    return readyOnly ? entries.filter((entry) => entry.state === 'READY') : entries;
  }

  /** Builds the statistics of one known model; the demo runs one execution per request. */
  private statisticsOf(name: string): object {
    const counters = this.counters.get(name) ?? {
      success: { count: 0, ns: 0n },
      fail: { count: 0, ns: 0n },
      lastInferenceMs: 0,
    };
    const count = String(counters.success.count);
    return {
      name,
      version: DEMO_MODEL_VERSION,
      last_inference: String(counters.lastInferenceMs),
      inference_count: count,
      execution_count: count,
      inference_stats: {
        success: duration(counters.success),
        fail: duration(counters.fail),
        compute_infer: duration(counters.success),
      },
    };
  }
}
