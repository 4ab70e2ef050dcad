// `npm run soak`: a bounded soak of the gateway with every control on, on loopback: many
// concurrent streams whose answers carry card numbers, then the audit trail checked whole.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { decodeFrame } from '../src/audit/audit-frame-codec';
import { readVerifyingKeys } from '../src/audit/audit-key-directory';
import { verifyAudit } from '../src/audit/audit-verifier';
import { SegmentFileSource } from '../src/audit/segment-file-source';
import { closeHttpClients, createHttpClients } from './http-client';
import { closeClients, createClients, waitForClients } from './inference-client';
import { treeRssBytes } from './process-memory';
import { BenchProcesses, type BenchProcess } from './processes';
import { resultsFile, writeResultsFile } from './results-files';
import { CARD_PROMPTS, grpcStream, holdsCard, sseStream, type StreamOutcome } from './soak-streams';
import { readClientCredentials } from './target-credentials';
import { BenchTempDirs } from './temp-dirs';

/** gRPC channels the stream workers share; each its own HTTP/2 connection. */
const GRPC_CHANNELS = 4;
const RSS_SAMPLE_MS = 1_000;
/** Memory is stable when the last third of the run peaks at most this much over the middle. */
const RSS_GROWTH_LIMIT = 1.2;
const MB = 1e6;

/** What the run counted. */
interface SoakCounts {
  completed: { grpc: number; sse: number };
  errors: string[];
  /** Answers holding a card number's digits: the one figure that must be 0 above all. */
  unmasked: number;
  /** Answers that differ from the one-shot masker's output on the prompt. */
  mismatched: number;
}

/** Masking settings the run may ask for; `none` makes it fail, which checks its own checks. */
const MASK_SETTINGS = new Set(['responses', 'both', 'none']);

function settings() {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '120' },
      streams: { type: 'string', default: '64' },
      mask: { type: 'string', default: 'responses' },
    },
  });
  const seconds = Number(values.seconds);
  const streams = Number(values.streams);
  if (!(seconds > 0 && seconds <= 3_600) || !(Number.isInteger(streams) && streams > 0)) {
    throw new Error('--seconds must be 1 to 3600 and --streams a whole number from 1');
  }
  if (!MASK_SETTINGS.has(values.mask)) throw new Error('--mask must be responses, both or none');
  return { seconds, streams, mask: values.mask };
}

/** The demo server (a millisecond between tokens) and a gateway with every control on. */
async function startChildren(processes: BenchProcesses, dirs: BenchTempDirs, mask: string) {
  const demoArgs = ['demo-server', '--port', '0', '--http-port', '0', '--token-delay-ms', '1'];
  const demo = await processes.start('demo-server', demoArgs, ['demo', 'demo-http']);
  const certs = await dirs.make('soak-certs');
  const audit = await dirs.make('soak-audit');
  const args = ['start', '--upstream', `grpc://${demo.addresses.get('demo')!}`];
  args.push('--upstream', `http://${demo.addresses.get('demo-http')!}`);
  args.push('--grpc-port', '0', '--http-port', '0', '--admin-port', '0', '--workers', '1');
  // Responses masked, prompts not (by default): the echo model then answers with the card
  // numbers the prompts carry, cut in pieces, and the response masker must find every one.
  args.push('--certs', certs, '--mask', mask, '--audit-dir', audit, '--log-level', 'info');
  const gateway = await processes.start('gateway', args, ['grpc', 'http', 'admin']);
  return { gateway, certs, audit };
}

function judge(counts: SoakCounts, kind: 'grpc' | 'sse', outcome: StreamOutcome, index: number) {
  if (!outcome.ok) {
    counts.errors.push(outcome.error);
    return;
  }
  const prompt = CARD_PROMPTS[index % CARD_PROMPTS.length]!;
  counts.completed[kind] += 1;
  if (holdsCard(outcome.text, prompt)) counts.unmasked += 1;
  if (outcome.text !== prompt.masked) counts.mismatched += 1;
}

/** `streams` workers, each alternating a gRPC and an SSE stream until the deadline. */
async function runStreams(gateway: BenchProcess, certs: string, streams: number, endAt: number) {
  const credentials = await readClientCredentials(certs);
  const channels = createClients(gateway.addresses.get('grpc')!, GRPC_CHANNELS, credentials);
  await waitForClients('gateway', channels);
  const connections = createHttpClients(gateway.addresses.get('http')!, streams, credentials);
  const counts: SoakCounts = {
    completed: { grpc: 0, sse: 0 },
    errors: [],
    unmasked: 0,
    mismatched: 0,
  };
  const worker = async (id: number) => {
    for (let turn = id; Date.now() < endAt; turn += 1) {
      const prompt = CARD_PROMPTS[turn % CARD_PROMPTS.length]!;
      if (turn % 2 === 0)
        judge(counts, 'grpc', await grpcStream(channels[id % GRPC_CHANNELS]!, prompt), turn);
      else judge(counts, 'sse', await sseStream(connections[id]!, prompt), turn);
    }
  };
  await Promise.all(Array.from({ length: streams }, (_, id) => worker(id)));
  closeClients(channels);
  await closeHttpClients(connections);
  return counts;
}

/** Samples the gateway's RSS every second until `stop` is called; the samples in MB. */
function sampleRss(pid: number) {
  const samples: number[] = [];
  const timer = setInterval(() => {
    const bytes = treeRssBytes(pid);
    if (bytes !== undefined) samples.push(bytes / MB);
  }, RSS_SAMPLE_MS);
  return { samples, stop: () => clearInterval(timer) };
}

/** The trail after the gateway stopped: verified, its finished exchanges, card digits in it. */
async function checkTrail(dir: string) {
  const keys = readVerifyingKeys([path.join(dir, 'keys')]);
  const report = await verifyAudit(new SegmentFileSource({ dir }), { keys });
  let finishedOk = 0;
  for await (const record of new SegmentFileSource({ dir }).records()) {
    if (record.kind !== 'frame') continue;
    const frame = decodeFrame(record.bytes);
    if (frame.kind !== 'exchangeFinished') continue;
    if (frame.body.status === 0 || frame.body.status === 200) finishedOk += 1;
  }
  const segments = readdirSync(dir).filter((name) => name.endsWith('.audit'));
  const bytes = segments.map((name) => readFileSync(path.join(dir, name)).toString('latin1'));
  // Frames hold texts as UTF-8: a card that escaped masking is there as written, or contiguous.
  const cardsInFrames = CARD_PROMPTS.filter((prompt) =>
    bytes.some((text) => text.includes(prompt.card) || text.includes(prompt.digits)),
  ).length;
  return {
    verified: report.ok,
    frames: report.logs.reduce((n, log) => n + log.framesVerified, 0),
    finishedOk,
    cardsInFrames,
  };
}

/** Stable unless the last third of the samples peaks over RSS_GROWTH_LIMIT times the middle's. */
function memoryFigures(samples: readonly number[]) {
  const third = Math.floor(samples.length / 3);
  const middle = samples.slice(third, 2 * third);
  const last = samples.slice(2 * third);
  const peak = (values: readonly number[]) => Math.max(...values);
  const stable = third === 0 || peak(last) <= RSS_GROWTH_LIMIT * peak(middle);
  return { firstMb: samples[0], peakMb: peak(samples), lastMb: samples.at(-1), stable };
}

async function main(): Promise<number> {
  const { seconds, streams, mask } = settings();
  const startedAt = new Date();
  const processes = new BenchProcesses();
  const dirs = new BenchTempDirs();
  try {
    const { gateway, certs, audit } = await startChildren(processes, dirs, mask);
    process.stderr.write(`[soak] ${streams} streams for ${seconds} s against pid ${gateway.pid}\n`);
    const rss = sampleRss(gateway.pid);
    const counts = await runStreams(gateway, certs, streams, Date.now() + seconds * 1_000);
    rss.stop();
    await processes.stopAll();
    const trail = await checkTrail(audit);
    const completed = counts.completed.grpc + counts.completed.sse;
    const memory = memoryFigures(rss.samples);
    const lostFrames = Math.max(0, completed - trail.finishedOk);
    const result = {
      seconds,
      streams,
      mask,
      completed: counts.completed,
      errors: counts.errors.length,
      firstErrors: counts.errors.slice(0, 5),
      unmaskedAnswers: counts.unmasked,
      mismatchedAnswers: counts.mismatched,
      audit: { ...trail, lostFrames },
      memory,
    };
    writeResultsFile(
      resultsFile(startedAt, 'json', 'soak'),
      `${JSON.stringify(result, null, 2)}\n`,
    );
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    const passed =
      counts.errors.length === 0 &&
      counts.unmasked === 0 &&
      counts.mismatched === 0 &&
      trail.verified &&
      trail.cardsInFrames === 0 &&
      lostFrames === 0 &&
      memory.stable;
    process.stdout.write(passed ? 'soak passed\n' : 'soak FAILED\n');
    return passed ? 0 : 1;
  } finally {
    await processes.stopAll();
    await dirs.removeAll();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`soak: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
