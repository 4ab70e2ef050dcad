// Reads the JSON part of a Triton infer request or response (KServe v2 REST API) in one scan:
// top-level fields, parameters, tensors, requested outputs and the BYTES strings of `data`.

import { formatJsonPath, type JsonPath } from './json-path';
import {
  scanJson,
  type JsonContainerKind,
  type JsonScalarKind,
  type JsonVisitor,
} from './json-text-scanner';
import type {
  TritonJsonTextSpan,
  TritonParameters,
  TritonRequestedOutput,
  TritonTensorFacts,
} from './triton-http-facts';
import {
  bodyInvalid,
  createTritonParameters,
  quoteField,
  readParameter,
  readTyped,
  refuseParameterContainer,
  RepeatedKeyGuard,
  wrongContainer,
} from './triton-http-fields';
import { RequestedOutputDraft, TensorDraft } from './triton-http-tensor-draft';

/** Where the JSON of requests and responses differs (KServe v2 REST). */
export interface InferHeaderLayout {
  /** The list of tensors with data: `inputs` on requests, `outputs` on responses. */
  readonly tensorList: 'inputs' | 'outputs';
  /** The list of requested outputs (requests: `outputs`); undefined on responses. */
  readonly requestedList: 'outputs' | undefined;
  /** Top-level fields that must be strings when present: `id`, `model_name`, ... */
  readonly stringFields: ReadonlySet<string>;
  /** Whether a top-level `error` marks an error body, whose strings are text (responses). */
  readonly errorBody: boolean;
}

/** What the JSON part of an infer body holds. */
export interface InferHeader {
  /** The `stringFields` present, by name. */
  readonly strings: ReadonlyMap<string, string>;
  readonly parameters: TritonParameters;
  readonly tensors: readonly TritonTensorFacts[];
  readonly requestedOutputs: readonly TritonRequestedOutput[];
  readonly error: boolean;
  /** BYTES `data` strings and error strings, in document order; offsets index `json`. */
  readonly texts: readonly TritonJsonTextSpan[];
}

/** Members are checked for repeats down to `inputs.0.parameters.binary_data_size`. */
const GUARDED_DEPTH = 4;

/**
 * Scans `json` as the JSON part of an infer body. Throws ProxyError `ERR_JSON_MALFORMED` /
 * `ERR_JSON_TOO_DEEP` as `scanJson` does, and `ERR_TRITON_BODY_INVALID` for a root that is not
 * an object, a field of the wrong type, a tensor without name, datatype or shape, a key repeated
 * in an object the codec reads, or data that does not suit its datatype.
 */
export function scanInferHeader(json: Buffer, layout: InferHeaderLayout): InferHeader {
  const scan = new InferHeaderScan(json, layout);
  scanJson(json, scan);
  return scan.header();
}

/** Gathers the header while `scanJson` walks it. */
class InferHeaderScan implements JsonVisitor {
  private rootIsObject = false;
  private error = false;
  private readonly strings = new Map<string, string>();
  private readonly parameters = createTritonParameters();
  private readonly tensorDrafts: TensorDraft[] = [];
  private readonly tensors: TritonTensorFacts[] = [];
  private readonly requestedDrafts: RequestedOutputDraft[] = [];
  private readonly requestedOutputs: TritonRequestedOutput[] = [];
  private readonly texts: TritonJsonTextSpan[] = [];
  private readonly guard = new RepeatedKeyGuard(GUARDED_DEPTH);

  constructor(
    private readonly json: Buffer,
    private readonly layout: InferHeaderLayout,
  ) {}

  scalar(path: JsonPath, kind: JsonScalarKind, start: number, end: number, escaped: boolean) {
    this.guard.note(path);
    const field = path[0];
    if (path.length === 1) this.topLevelScalar(path, kind, start, end, escaped);
    else if (field === 'parameters' && path.length === 2) {
      readParameter(this.json, path, kind, start, end, this.parameters);
    } else if (field === this.layout.tensorList) {
      if (path.length < 3) listEntryScalar(path);
      this.tensorAt(path).element(path, kind, start, end, escaped);
    } else if (field === this.layout.requestedList) {
      if (path.length < 3) listEntryScalar(path);
      this.requestedAt(path).scalar(path, kind, start, end);
    } else if (field === 'error' && this.layout.errorBody && kind === 'string') {
      this.texts.push({ form: 'json', path: formatJsonPath(path), start, end, escaped });
    }
  }

  close(path: JsonPath, kind: JsonContainerKind): void {
    this.guard.note(path);
    const field = path[0];
    if (path.length === 0) this.rootIsObject = kind === 'object';
    else if (path.length === 1) this.topLevelContainer(path, kind);
    else if (field === 'parameters' && path.length === 2) refuseParameterContainer(path, kind);
    else if (field === this.layout.tensorList) this.tensorContainer(path, kind);
    else if (field === this.layout.requestedList) this.requestedContainer(path, kind);
  }

  header(): InferHeader {
    if (!this.rootIsObject) throw bodyInvalid('Triton infer body is not a JSON object');
    const { strings, parameters, tensors, requestedOutputs, error, texts } = this;
    texts.sort((a, b) => a.start - b.start);
    return { strings, parameters, tensors, requestedOutputs, error, texts };
  }

  private topLevelScalar(
    path: JsonPath,
    kind: JsonScalarKind,
    start: number,
    end: number,
    escaped: boolean,
  ): void {
    const field = String(path[0]);
    if (this.layout.stringFields.has(field)) {
      this.strings.set(field, String(readTyped(this.json, path, 'string', kind, start, end)));
    } else if (field === 'error' && this.layout.errorBody) {
      this.error = kind !== 'null';
      if (kind === 'string') this.texts.push({ form: 'json', path: field, start, end, escaped });
    } else if (field === 'parameters' || this.isList(field)) {
      throw bodyInvalid(`Triton body field "${field}" must be ${this.expectedContainer(field)}`);
    }
  }

  private topLevelContainer(path: JsonPath, kind: JsonContainerKind): void {
    const field = String(path[0]);
    if (this.layout.stringFields.has(field)) wrongContainer(path, kind, 'a string');
    if (field === 'error' && this.layout.errorBody) this.error = true;
    if (field !== 'parameters' && !this.isList(field)) return;

    const expected = this.expectedContainer(field);
    if (kind !== (field === 'parameters' ? 'object' : 'array')) {
      wrongContainer(path, kind, expected);
    }
  }

  private isList(field: string): boolean {
    return field === this.layout.tensorList || field === this.layout.requestedList;
  }

  private expectedContainer(field: string): string {
    return field === 'parameters' ? 'an object' : 'an array';
  }

  /** The draft of the tensor at `path[0..1]`; entries are created as the scan reaches them. */
  private tensorAt(path: JsonPath): TensorDraft {
    const index = Number(path[1]);
    this.tensorDrafts[index] ??= new TensorDraft(this.json, path.slice(0, 2));
    return this.tensorDrafts[index];
  }

  private requestedAt(path: JsonPath): RequestedOutputDraft {
    const index = Number(path[1]);
    this.requestedDrafts[index] ??= new RequestedOutputDraft(this.json, path.slice(0, 2));
    return this.requestedDrafts[index];
  }

  private tensorContainer(path: JsonPath, kind: JsonContainerKind): void {
    if (path.length > 2) return this.tensorAt(path).close(path, kind);
    if (kind !== 'object') wrongContainer(path, kind, 'an object');

    const { facts, texts } = this.tensorAt(path).finish();
    this.tensors.push(facts);
    this.texts.push(...texts);
  }

  private requestedContainer(path: JsonPath, kind: JsonContainerKind): void {
    if (path.length > 2) return this.requestedAt(path).close(path, kind);
    if (kind !== 'object') wrongContainer(path, kind, 'an object');

    this.requestedOutputs.push(this.requestedAt(path).finish());
  }
}

/** Refuses a scalar placed directly in a list of tensors or requested outputs. */
function listEntryScalar(path: JsonPath): never {
  throw bodyInvalid(`Triton body field ${quoteField(path)} must be an object`);
}
