// The benchmark's command line: the --quick preset, the target switches, and which targets run.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BenchUsageError, parseBenchArgs, type BenchSettings } from '../../bench/bench-settings';
import { selectTargets } from '../../bench/bench-targets';

function settingsOf(args: string[]): BenchSettings {
  const command = parseBenchArgs(args);
  assert.equal(command.help, false);
  return (command as { settings: BenchSettings }).settings;
}

test('--quick runs two alternating rounds of 250 ms after 100 ms warm-ups', () => {
  const quick = settingsOf(['--quick']);

  assert.deepEqual([quick.rounds, quick.durationMs, quick.warmupMs], [2, 250, 100]);
  assert.equal(quick.quick, true);
});

test('flags given with --quick override its values', () => {
  const settings = settingsOf(['--quick', '--rounds', '3', '--duration-ms', '1000']);

  assert.deepEqual([settings.rounds, settings.durationMs, settings.warmupMs], [3, 1000, 100]);
});

test('measures every target by default, nginx where it is installed', () => {
  const settings = settingsOf([]);

  assert.deepEqual(selectTargets({ ...settings, nginx: true }), [
    'direct',
    'infergate',
    'masked',
    'audited',
    'secured',
    'nginx',
  ]);
  assert.deepEqual(selectTargets({ ...settings, nginx: false }).includes('nginx'), false);
});

test('--no-secured and --no-nginx leave out their targets like --no-masked', () => {
  const settings = settingsOf(['--no-secured', '--no-nginx', '--no-masked']);

  assert.equal(settings.nginx, false);
  assert.deepEqual(selectTargets({ ...settings, nginx: settings.nginx }), [
    'direct',
    'infergate',
    'audited',
  ]);
});

test('rejects an unknown flag as bad usage', () => {
  assert.throws(() => parseBenchArgs(['--no-such-target']), BenchUsageError);
});

test("refuses a gateway log level that would hide the gateways' listening lines", () => {
  assert.throws(() => parseBenchArgs(['--gateway-log-level', 'warn']), BenchUsageError);
  assert.equal(settingsOf(['--gateway-log-level', 'debug']).gatewayLogLevel, 'debug');
});
