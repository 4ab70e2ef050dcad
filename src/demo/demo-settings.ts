// Shared-memory registrations and trace / log settings the demo server keeps in memory.

import { status, type handleUnaryCall, type UntypedHandleCall } from '@grpc/grpc-js';
import { answer, type DemoContext } from './demo-context';
import { fail, succeed, type DemoResult, type Int64Like } from './kserve-messages';

/** A registered system shared-memory region (nothing is mapped; it is only recorded). */
interface SystemRegion {
  name: string;
  key: string;
  offset: Int64Like;
  byte_size: Int64Like;
}

/** A registered CUDA shared-memory region (the IPC handle is recorded, never opened). */
interface CudaRegion {
  name: string;
  device_id: Int64Like;
  byte_size: Int64Like;
}

/** `TraceSettingRequest.SettingValue`: an empty list clears the setting. */
interface TraceValue {
  value: string[];
}

/** `inference.TraceSettingRequest`: an empty model name means the global settings. */
interface TraceSettingRequest {
  settings: Record<string, TraceValue>;
  model_name: string;
}

/** `LogSettingsRequest.SettingValue`, as decoded (the set member is named by the oneof). */
interface LogValue {
  parameter_choice?: string;
  bool_param?: boolean;
  uint32_param?: number;
  string_param?: string;
}

/** Trace settings a fresh Triton reports, used until a client changes them. */
const DEFAULT_TRACE: ReadonlyArray<[string, string[]]> = [
  ['trace_file', []],
  ['trace_level', ['OFF']],
  ['trace_rate', ['1000']],
  ['trace_count', ['-1']],
  ['log_frequency', ['0']],
  ['trace_mode', ['triton']],
];

/** Log settings a fresh Triton reports; only these keys may be changed. */
const DEFAULT_LOG: ReadonlyArray<[string, LogValue]> = [
  ['log_file', { string_param: '' }],
  ['log_info', { bool_param: true }],
  ['log_warning', { bool_param: true }],
  ['log_error', { bool_param: true }],
  ['log_verbose_level', { uint32_param: 0 }],
  ['log_format', { string_param: 'default' }],
];

/** Keeps only the set member of a decoded oneof, so it re-encodes as that member alone. */
function setMember(value: LogValue): LogValue {
  const choice = value.parameter_choice as keyof LogValue | undefined;
  return choice === undefined ? value : { [choice]: value[choice] };
}

/** Shared-memory regions and trace / log settings of one demo server. */
export class DemoSettings {
  readonly systemRegions = new Map<string, SystemRegion>();
  readonly cudaRegions = new Map<string, CudaRegion>();
  private readonly globalTrace = new Map<string, string[]>(DEFAULT_TRACE);
  private readonly modelTrace = new Map<string, Map<string, string[]>>();
  private readonly log = new Map<string, LogValue>(DEFAULT_LOG);

  /** Applies trace updates (globally or for one model) and returns the settings in force. */
  updateTrace(modelName: string, updates: Record<string, TraceValue>): Record<string, TraceValue> {
    const scope = modelName === '' ? this.globalTrace : this.modelScope(modelName);
    for (const [key, { value }] of Object.entries(updates)) {
      if (value.length > 0) {
        scope.set(key, value);
      } else if (modelName === '') {
        scope.set(key, DEFAULT_TRACE.find(([name]) => name === key)?.[1] ?? []);
      } else {
        scope.delete(key);
      }
    }

    const merged = new Map([...this.globalTrace, ...(this.modelTrace.get(modelName) ?? [])]);
    return Object.fromEntries([...merged].map(([key, value]) => [key, { value }]));
  }

  /** Applies log updates; INVALID_ARGUMENT names the first key that is not a log setting. */
  updateLog(updates: Record<string, LogValue>): DemoResult<Record<string, LogValue>> {
    const unknown = Object.keys(updates).find((key) => !this.log.has(key));
    if (unknown !== undefined) {
      return fail(status.INVALID_ARGUMENT, `log setting '${unknown}' is not recognized`);
    }
    for (const [key, value] of Object.entries(updates)) {
      this.log.set(key, setMember(value));
    }
    return succeed(Object.fromEntries(this.log));
  }

  private modelScope(modelName: string): Map<string, string[]> {
    const existing = this.modelTrace.get(modelName);
    if (existing !== undefined) {
      return existing;
    }
    const created = new Map<string, string[]>();
    this.modelTrace.set(modelName, created);
    return created;
  }
}

/** Status of one region by name, or all when the name is empty; NOT_FOUND if unknown. */
function regionStatus<T>(
  regions: Map<string, T>,
  name: string,
  kind: string,
): DemoResult<{ regions: Record<string, T> }> {
  if (name === '') {
    return succeed({ regions: Object.fromEntries(regions) });
  }
  const region = regions.get(name);
  if (region === undefined) {
    return fail(status.NOT_FOUND, `Unable to find ${kind} shared memory region: '${name}'`);
  }
  return succeed({ regions: { [name]: region } });
}

/** Records a region; ALREADY_EXISTS when the name is taken. */
function registerRegion<T>(regions: Map<string, T>, name: string, region: T): DemoResult<object> {
  if (regions.has(name)) {
    return fail(status.ALREADY_EXISTS, `shared memory region '${name}' already in manager`);
  }
  regions.set(name, region);
  return succeed({});
}

/** Forgets one region, or all when the name is empty; unknown names are not an error. */
function unregisterRegion<T>(regions: Map<string, T>, name: string): DemoResult<object> {
  if (name === '') {
    regions.clear();
  } else {
    regions.delete(name);
  }
  return succeed({});
}

type Unary<Req> = handleUnaryCall<Req, object>;

/** A unary handler for requests that carry only a region name. */
function byName(run: (name: string) => DemoResult<object>): Unary<{ name: string }> {
  return (call, callback) => answer(callback, run(call.request.name));
}

/** TraceSetting: NOT_FOUND for an unknown model, else the settings in force after the update. */
function traceSetting(context: DemoContext): Unary<TraceSettingRequest> {
  return ({ request }, callback) => {
    const model = request.model_name;
    const known = model === '' ? succeed(undefined) : context.registry.resolve(model);
    if (!known.ok) {
      answer(callback, known);
      return;
    }
    answer(callback, succeed({ settings: context.settings.updateTrace(model, request.settings) }));
  };
}

/** LogSettings: INVALID_ARGUMENT for an unknown key, else every log setting after the update. */
function logSettings(context: DemoContext): Unary<{ settings: Record<string, LogValue> }> {
  return ({ request }, callback) => {
    const updated = context.settings.updateLog(request.settings);
    answer(callback, updated.ok ? succeed({ settings: updated.value }) : updated);
  };
}

/** Handlers for the shared-memory, TraceSetting and LogSettings RPCs. */
export function settingsHandlers(context: DemoContext): Record<string, UntypedHandleCall> {
  const system = context.settings.systemRegions;
  const cuda = context.settings.cudaRegions;
  const systemRegister: Unary<SystemRegion> = ({ request }, callback) =>
    answer(callback, registerRegion(system, request.name, { ...request }));
  const cudaRegister: Unary<CudaRegion> = ({ request }, callback) => {
    const { name, device_id, byte_size } = request;
    answer(callback, registerRegion(cuda, name, { name, device_id, byte_size }));
  };

  return {
    SystemSharedMemoryStatus: byName((name) => regionStatus(system, name, 'system')),
    SystemSharedMemoryRegister: systemRegister,
    SystemSharedMemoryUnregister: byName((name) => unregisterRegion(system, name)),
    CudaSharedMemoryStatus: byName((name) => regionStatus(cuda, name, 'cuda')),
    CudaSharedMemoryRegister: cudaRegister,
    CudaSharedMemoryUnregister: byName((name) => unregisterRegion(cuda, name)),
    TraceSetting: traceSetting(context),
    LogSettings: logSettings(context),
  };
}
