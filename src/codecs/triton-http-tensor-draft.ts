// One entry of an infer body's `inputs` or `outputs` list, gathered while the JSON is scanned
// (KServe v2 REST API; Triton binary tensor data extension): its fields arrive in any order, so
// checks wait for its end.

import { formatJsonPath, type JsonPath } from './json-path';
import type { JsonContainerKind, JsonScalarKind } from './json-text-scanner';
import type {
  TritonJsonTextSpan,
  TritonRequestedOutput,
  TritonTensorFacts,
} from './triton-http-facts';
import {
  bodyInvalid,
  byteCountParameter,
  createTritonParameters,
  quoteField,
  readParameter,
  readTyped,
  refuseParameterContainer,
  wrongContainer,
} from './triton-http-fields';

const BYTES_DATATYPE = 'BYTES';

/** The fields every list entry has: `name` and `parameters`. Paths are `[list, index, ...]`. */
class EntryDraft {
  protected name: string | undefined;
  protected readonly parameters = createTritonParameters();

  constructor(
    protected readonly json: Buffer,
    protected readonly at: JsonPath,
  ) {}

  /** A scalar inside the entry. */
  scalar(path: JsonPath, kind: JsonScalarKind, start: number, end: number): void {
    if (path.length === 3 && path[2] === 'name') {
      this.name = String(readTyped(this.json, path, 'string', kind, start, end));
    } else if (path.length === 3 && path[2] === 'parameters') {
      throw bodyInvalid(`Triton body field ${quoteField(path)} must be an object`);
    } else if (path.length === 4 && path[2] === 'parameters') {
      readParameter(this.json, path, kind, start, end, this.parameters);
    }
  }

  /** A container inside the entry that has closed. */
  close(path: JsonPath, kind: JsonContainerKind): void {
    const field = path[2];
    if (path.length === 3 && field === 'name') wrongContainer(path, kind, 'a string');
    if (path.length === 3 && field === 'parameters' && kind !== 'object') {
      wrongContainer(path, kind, 'an object');
    }
    if (path.length === 4 && field === 'parameters') refuseParameterContainer(path, kind);
  }

  protected required<T>(value: T | undefined, field: string): T {
    if (value === undefined) {
      throw bodyInvalid(`Triton body field ${quoteField([...this.at, field])} is missing`);
    }
    return value;
  }
}

/** An entry of a request's `outputs`: an output the client asks for. */
export class RequestedOutputDraft extends EntryDraft {
  /** Checks the entry and returns its facts. */
  finish(): TritonRequestedOutput {
    const name = this.required(this.name, 'name');
    const binaryData = this.parameters.binary_data;
    if (binaryData !== undefined && typeof binaryData !== 'boolean') {
      const path = [...this.at, 'parameters', 'binary_data'];
      throw bodyInvalid(`Triton parameter ${quoteField(path)} must be a boolean`);
    }

    return { name, parameters: this.parameters, binaryData };
  }
}

/** A tensor with its data: a request's input or a response's output. */
export class TensorDraft extends EntryDraft {
  private datatype: string | undefined;
  private shape: number[] | undefined;
  private readonly dimensions: number[] = [];
  private elementCount: number | undefined;
  private readonly strings: TritonJsonTextSpan[] = [];
  private otherElement: JsonScalarKind | undefined;

  /** A scalar inside the tensor; `data` elements may nest to any depth. */
  element(
    path: JsonPath,
    kind: JsonScalarKind,
    start: number,
    end: number,
    escaped: boolean,
  ): void {
    const field = path[2];
    if (field === 'data') this.dataElement(path, kind, start, end, escaped);
    else if (path.length === 3 && field === 'datatype') {
      this.datatype = String(readTyped(this.json, path, 'string', kind, start, end));
    } else if (path.length === 3 && field === 'shape') wrongScalar(path, 'an array');
    else if (path.length === 4 && field === 'shape') {
      this.dimensions.push(dimension(readTyped(this.json, path, 'number', kind, start, end), path));
    } else this.scalar(path, kind, start, end);
  }

  override close(path: JsonPath, kind: JsonContainerKind): void {
    const field = path[2];
    if (field === 'data') {
      if (kind === 'object') wrongContainer(path, kind, 'an array or a scalar');
      if (path.length === 3) this.elementCount ??= 0;
    } else if (field === 'shape') {
      if (path.length > 3 || kind === 'object') wrongContainer(path, kind, 'an array of numbers');
      this.shape = this.dimensions;
    } else if (path.length === 3 && field === 'datatype') wrongContainer(path, kind, 'a string');
    else super.close(path, kind);
  }

  /**
   * Checks the tensor and returns its facts and, for BYTES, the spans of its `data` strings.
   * Triton reads a BYTES element only from a JSON string and a number only from a JSON number
   * (KServe v2 REST), so either kind in the other's place is refused rather than left unread.
   */
  finish(): { facts: TritonTensorFacts; texts: readonly TritonJsonTextSpan[] } {
    const name = this.required(this.name, 'name');
    const datatype = this.required(this.datatype, 'datatype');
    const shape = this.required(this.shape, 'shape');
    const binaryDataSize = byteCountParameter(this.parameters, 'binary_data_size', this.at);
    const { elementCount, parameters } = this;
    if (binaryDataSize !== undefined && elementCount !== undefined) {
      throw bodyInvalid(`Triton tensor "${formatJsonPath(this.at)}" has both data and binary data`);
    }
    this.checkElements(datatype === BYTES_DATATYPE);

    const facts = { name, datatype, shape, parameters, binaryDataSize, elementCount };
    return { facts, texts: datatype === BYTES_DATATYPE ? this.strings : [] };
  }

  private dataElement(
    path: JsonPath,
    kind: JsonScalarKind,
    start: number,
    end: number,
    escaped: boolean,
  ): void {
    this.elementCount = (this.elementCount ?? 0) + 1;
    if (kind === 'string') {
      this.strings.push({ form: 'json', path: formatJsonPath(path), start, end, escaped });
    } else {
      this.otherElement ??= kind;
    }
  }

  private checkElements(bytes: boolean): void {
    const where = `Triton tensor "${formatJsonPath(this.at)}"`;
    if (bytes && this.otherElement !== undefined) {
      throw bodyInvalid(`${where} is BYTES but its data holds a ${this.otherElement}`);
    }
    if (!bytes && this.strings.length > 0) {
      throw bodyInvalid(`${where} holds a string in data but is not BYTES`);
    }
  }
}

function wrongScalar(path: JsonPath, expected: string): never {
  throw bodyInvalid(`Triton body field ${quoteField(path)} must be ${expected}`);
}

/** A shape dimension: a non-negative integer (a request or response shape is concrete). */
function dimension(value: unknown, path: JsonPath): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw bodyInvalid(`Triton body field ${quoteField(path)} must be a non-negative integer`);
  }
  return value;
}
