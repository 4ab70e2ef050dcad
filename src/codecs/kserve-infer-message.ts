// The walk shared by ModelInferRequest and ModelInferResponse: header fields, tensors, BYTES spans.

import type { InferTensorFacts, TextSpan } from './kserve-infer-facts';
import {
  createParameterMap,
  type ParameterMap,
  readParameterEntry,
} from './kserve-parameter-codec';
import { malformed, ProtobufWireReader, WireType } from './protobuf-wire-reader';

/** Where ModelInferRequest and ModelInferResponse differ (protos/kserve/grpc_service.proto). */
export interface InferMessageLayout {
  /** `raw_input_contents = 7` / `raw_output_contents = 6`. */
  readonly rawField: number;
  /** `outputs = 6` (InferRequestedOutputTensor) on requests; undefined on responses. */
  readonly requestedOutputField: number | undefined;
  /**
   * Whether raw entries go only to tensors carrying neither shared memory nor typed contents.
   * Triton's request parser hands raw entry k to the k-th such input, not to inputs[k]; its
   * responses carry one raw entry per output, in lockstep. Security: the attribution must be
   * the upstream's, or a prompt sent in a raw entry the gateway files under another (non-BYTES)
   * tensor would reach the model unmasked.
   */
  readonly rawSkipsNonRawTensors: boolean;
}

const SHARED_MEMORY_REGION = 'shared_memory_region';
const BYTES_DATATYPE = 'BYTES';
const CONTENTS_FIELD = 5;
const BYTES_CONTENTS_FIELD = 8;
const RAW_LENGTH_PREFIX_BYTES = 4;

/**
 * The state of one message decode. A message may arrive in several segments (a repeated
 * submessage occurrence is merged by protobuf), so the walk accumulates here: later scalar
 * fields win, tensors and raw entries append.
 */
export class InferMessageScan {
  modelName = '';
  modelVersion = '';
  id = '';
  readonly parameters: ParameterMap = createParameterMap();
  readonly tensors: InferTensorFacts[] = [];
  readonly requestedOutputs: string[] = [];
  readonly texts: TextSpan[] = [];
  /** Entry k is the index in `tensors` of the tensor that raw entry k belongs to. */
  private readonly rawOwners: number[] = [];
  private rawEntries = 0;
  private rawSeen = 0;

  /** @param shift added to every span offset, so spans index the buffer the caller holds. */
  constructor(
    readonly buf: Buffer,
    readonly layout: InferMessageLayout,
    readonly shift: number,
  ) {}

  /** Counts a raw entry met during the header walk. */
  countRawEntry(): void {
    this.rawEntries++;
  }

  /** Records a tensor and whether it takes the next raw entry. */
  addTensor(facts: InferTensorFacts, takesRaw: boolean): void {
    if (takesRaw || !this.layout.rawSkipsNonRawTensors) this.rawOwners.push(this.tensors.length);
    this.tensors.push(facts);
  }

  /** True when some raw entry belongs to a BYTES tensor, so a raw walk would find text. */
  needsRawWalk(): boolean {
    const owned = Math.min(this.rawEntries, this.rawOwners.length);
    for (let i = 0; i < owned; i++) {
      if (this.tensors[this.rawOwners[i]].datatype === BYTES_DATATYPE) return true;
    }
    return false;
  }

  /** The BYTES tensor the next raw entry belongs to, or undefined when it is not text. */
  nextRawOwner(): InferTensorFacts | undefined {
    // Raw entries past the last owner are ignored by Triton, so they carry no text to mask.
    const owner = this.rawOwners[this.rawSeen++];
    const tensor = owner === undefined ? undefined : this.tensors[owner];
    return tensor?.datatype === BYTES_DATATYPE ? tensor : undefined;
  }

  /** Appends a span over `buf[start, end)`, shifted into the caller's offsets. */
  addSpan(tensor: string, element: number, start: number, end: number): void {
    this.texts.push({ tensor, element, start: start + this.shift, end: end + this.shift });
  }
}

/**
 * First walk over one segment `[start, end)` of an infer message: header fields, parameters,
 * tensors (with their typed BYTES spans) and requested outputs; raw entries are only counted.
 * Throws `ProxyError` `ERR_MALFORMED_MESSAGE` on broken framing, a non-UTF-8 string, or a
 * shape dimension outside the safe integer range.
 */
export function walkInferFields(scan: InferMessageScan, start: number, end: number): void {
  const reader = new ProtobufWireReader(scan.buf, start, end);
  while (reader.hasMore()) {
    reader.readTag();
    if (reader.wireType === WireType.LEN) readInferField(reader, scan);
    else reader.skipField();
  }
}

function readInferField(reader: ProtobufWireReader, scan: InferMessageScan): void {
  const { fieldNumber } = reader;
  if (fieldNumber === 1) scan.modelName = reader.readString();
  else if (fieldNumber === 2) scan.modelVersion = reader.readString();
  else if (fieldNumber === 3) scan.id = reader.readString();
  else if (fieldNumber === 4) readParameterEntry(reader, scan.parameters);
  else if (fieldNumber === 5) readTensor(reader, scan);
  else if (fieldNumber === scan.layout.requestedOutputField) {
    scan.requestedOutputs.push(readRequestedOutputName(reader));
  } else {
    if (fieldNumber === scan.layout.rawField) scan.countRawEntry();
    reader.readDelimited();
  }
}

/** Second walk over one segment: the BYTES elements of raw entries owned by BYTES tensors. */
export function walkRawContents(scan: InferMessageScan, start: number, end: number): void {
  const reader = new ProtobufWireReader(scan.buf, start, end);
  const { rawField } = scan.layout;
  while (reader.hasMore()) {
    reader.readTag();
    reader.skipField();
    if (reader.fieldNumber !== rawField || reader.wireType !== WireType.LEN) continue;
    const tensor = scan.nextRawOwner();
    if (tensor !== undefined) addRawSpans(scan, tensor.name, reader.valueStart, reader.valueEnd);
  }
}

// Raw BYTES layout (Triton binary tensor data): per element a 4-byte little-endian length, then
// bytes.
function addRawSpans(scan: InferMessageScan, tensor: string, start: number, end: number): void {
  const { buf } = scan;
  let pos = start;
  for (let element = 0; pos < end; element++) {
    if (end - pos < RAW_LENGTH_PREFIX_BYTES) {
      throw malformed(`raw BYTES element ${element} at byte ${pos} has a truncated length prefix`);
    }
    const length = buf.readUInt32LE(pos);
    pos += RAW_LENGTH_PREFIX_BYTES;
    if (length > end - pos) {
      throw malformed(`raw BYTES element ${element} at byte ${pos} runs past its tensor entry`);
    }
    scan.addSpan(tensor, element, pos, pos + length);
    pos += length;
  }
}

/** One tensor being read; flags that decide raw ownership stay out of the facts. */
interface TensorDraft {
  name: string;
  datatype: string;
  readonly shape: number[];
  readonly parameters: ParameterMap;
  hasContents: boolean;
  sharedMemory: boolean;
}

const readDimension = (reader: ProtobufWireReader): number =>
  reader.readSafeInt64('shape dimension');

// InferInputTensor / InferOutputTensor: name 1, datatype 2, shape 3, parameters 4, contents 5.
function readTensor(reader: ProtobufWireReader, scan: InferMessageScan): void {
  const outer = reader.enterMessage();
  const start = reader.pos;
  const draft: TensorDraft = {
    name: '',
    datatype: '',
    shape: [],
    parameters: createParameterMap(),
    hasContents: false,
    sharedMemory: false,
  };
  while (reader.hasMore()) {
    reader.readTag();
    readTensorField(reader, draft);
  }

  // The name may follow the contents on the wire, so spans are read once the name is known.
  if (draft.hasContents) addContentsSpans(scan, reader, start, draft.name);
  reader.exitMessage(outer);

  const { name, datatype, shape, parameters } = draft;
  scan.addTensor({ name, datatype, shape, parameters }, !draft.hasContents && !draft.sharedMemory);
}

function readTensorField(reader: ProtobufWireReader, draft: TensorDraft): void {
  const { fieldNumber } = reader;
  if (fieldNumber === 3) return reader.readRepeated(draft.shape, WireType.VARINT, readDimension);
  if (reader.wireType !== WireType.LEN) return reader.skipField();
  if (fieldNumber === 1) draft.name = reader.readString();
  else if (fieldNumber === 2) draft.datatype = reader.readString();
  else if (fieldNumber === 4) {
    // Triton treats the key's presence as "data is in shared memory", whatever its value.
    if (readParameterEntry(reader, draft.parameters) === SHARED_MEMORY_REGION) {
      draft.sharedMemory = true;
    }
  } else {
    if (fieldNumber === CONTENTS_FIELD) draft.hasContents = true;
    reader.readDelimited();
  }
}

/**
 * Re-walks a tensor from `start` and adds a span per `contents.bytes_contents` item. Spans are
 * taken whatever the datatype: field 8 only ever carries BYTES, and Triton rejects a mismatch.
 * Every `contents` occurrence counts, since protobuf merges a repeated submessage field.
 */
function addContentsSpans(
  scan: InferMessageScan,
  reader: ProtobufWireReader,
  start: number,
  tensor: string,
): void {
  reader.pos = start;
  let element = 0;
  while (reader.hasMore()) {
    reader.readTag();
    if (reader.fieldNumber !== CONTENTS_FIELD || reader.wireType !== WireType.LEN) {
      reader.skipField();
      continue;
    }
    const outer = reader.enterMessage();
    element = addBytesContents(scan, reader, tensor, element);
    reader.exitMessage(outer);
  }
}

// InferTensorContents: bytes_contents = 8, one item per element, no length prefix inside.
function addBytesContents(
  scan: InferMessageScan,
  reader: ProtobufWireReader,
  tensor: string,
  firstElement: number,
): number {
  let element = firstElement;
  while (reader.hasMore()) {
    reader.readTag();
    reader.skipField();
    if (reader.fieldNumber === BYTES_CONTENTS_FIELD && reader.wireType === WireType.LEN) {
      scan.addSpan(tensor, element++, reader.valueStart, reader.valueEnd);
    }
  }
  return element;
}

// InferRequestedOutputTensor: name = 1; its parameters are skipped unread.
function readRequestedOutputName(reader: ProtobufWireReader): string {
  const outer = reader.enterMessage();
  let name = '';
  while (reader.hasMore()) {
    const fieldNumber = reader.readTag();
    if (fieldNumber === 1 && reader.wireType === WireType.LEN) name = reader.readString();
    else reader.skipField();
  }
  reader.exitMessage(outer);
  return name;
}
