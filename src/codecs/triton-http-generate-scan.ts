// The one-pass scan of a Triton generate request, response or stream event (Triton generate
// extension): identifying fields as facts, and every other string as text.

import { formatJsonPath, type JsonPath, type JsonTextSpan } from './json-path';
import type { JsonContainerKind, JsonScalarKind, JsonVisitor } from './json-text-scanner';
import type { TritonParameters } from './triton-http-facts';
import {
  bodyInvalid,
  createTritonParameters,
  readParameter,
  readTyped,
  refuseParameterContainer,
  RepeatedKeyGuard,
  wrongContainer,
} from './triton-http-fields';

/** Where generate requests and responses differ. */
export interface GenerateLayout {
  /** Top-level fields read as facts, which must be strings and are not text. */
  readonly factFields: ReadonlySet<string>;
  /** Whether `parameters` is read as the request's parameter object (requests). */
  readonly readsParameters: boolean;
}

/** What a generate scan gathered. */
export interface GenerateScanResult {
  readonly facts: ReadonlyMap<string, string>;
  readonly parameters: TritonParameters;
  /** True when a top-level `error` is present and not null. */
  readonly error: boolean;
  readonly texts: readonly JsonTextSpan[];
}

/** Top-level keys and parameter keys are checked for repeats. */
const GUARDED_DEPTH = 2;

/**
 * Gathers facts and text spans while `scanJson` walks a generate object. Throws ProxyError
 * `ERR_TRITON_BODY_INVALID` for a fact field that is not a string, `parameters` (when read)
 * that is not an object of scalars, or a repeated top-level or parameter key.
 */
export class GenerateScan implements JsonVisitor {
  private rootIsObject = false;
  private error = false;
  private readonly facts = new Map<string, string>();
  private readonly parameters = createTritonParameters();
  private readonly texts: JsonTextSpan[] = [];
  private readonly guard = new RepeatedKeyGuard(GUARDED_DEPTH);

  /** @param shift added to every span offset, so spans index the buffer the caller holds. */
  constructor(
    private readonly json: Buffer,
    private readonly layout: GenerateLayout,
    private readonly shift: number,
  ) {}

  scalar(path: JsonPath, kind: JsonScalarKind, start: number, end: number, escaped: boolean) {
    this.guard.note(path);
    const field = String(path[0]);
    if (path.length === 1 && this.layout.factFields.has(field)) {
      this.facts.set(field, String(readTyped(this.json, path, 'string', kind, start, end)));
      return;
    }
    if (path.length === 1 && field === 'error') this.error = kind !== 'null';
    if (this.isParameters(path, 1)) wrongScalarParameters();
    if (this.isParameters(path, 2))
      readParameter(this.json, path, kind, start, end, this.parameters);
    if (kind !== 'string') return;

    const { shift } = this;
    this.texts.push({
      path: formatJsonPath(path),
      start: start + shift,
      end: end + shift,
      escaped,
    });
  }

  close(path: JsonPath, kind: JsonContainerKind): void {
    this.guard.note(path);
    const field = String(path[0]);
    if (path.length === 0) this.rootIsObject = kind === 'object';
    else if (path.length === 1 && this.layout.factFields.has(field)) {
      wrongContainer(path, kind, 'a string');
    } else if (path.length === 1 && field === 'error') this.error = true;
    else if (this.isParameters(path, 1) && kind !== 'object') {
      wrongContainer(path, kind, 'an object');
    } else if (this.isParameters(path, 2)) refuseParameterContainer(path, kind);
  }

  /** The gathered facts; throws when the root was not an object. */
  result(): GenerateScanResult {
    if (!this.rootIsObject) throw bodyInvalid('Triton generate body is not a JSON object');
    const { facts, parameters, error, texts } = this;
    return { facts, parameters, error, texts };
  }

  private isParameters(path: JsonPath, length: number): boolean {
    return this.layout.readsParameters && path.length === length && path[0] === 'parameters';
  }
}

function wrongScalarParameters(): never {
  throw bodyInvalid('Triton body field "parameters" must be an object');
}
