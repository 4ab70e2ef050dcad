// `infergate audit keys`: the directory of audit signing keys, and the security team's sealing key.

import fs from 'node:fs';
import {
  initKeyDirectory,
  keyFilesOf,
  readKeyDirectory,
  rotateKeyDirectory,
} from '../audit/audit-key-directory';
import { writeSealingKeyPair } from '../audit/sealing-key';
import { parseFlags, type CliCommand, type CliIo } from './cli-command';
import { requiredFlag, writeField, wroteHelp } from './certs-flags';
import { runSubcommand, subcommandLines } from './cli-subcommands';

const DIR_FLAGS = {
  dir: { type: 'string', short: 'd' },
  help: { type: 'boolean', short: 'h' },
} as const;

const SEALING_FLAGS = {
  out: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `audit keys init`: a new key directory with one key. */
const keysInitCommand: CliCommand = {
  name: 'init',
  summary: 'make a key directory with a first signing key',
  help: `Usage: infergate audit keys init --dir DIR

Makes DIR (readable by its owner only) holding a new Ed25519 signing key, <id>.key.pem
(PKCS #8, owner-only) and <id>.pub.pem (SPKI), and a file "current" naming it. Point the
gateway's audit.signingKeyDir at DIR and give verifiers the .pub.pem files. Refuses a DIR
that already holds keys: use rotate to change the signing key.

Options:
  -d, --dir DIR      the key directory (required)
  -h, --help         show this help`,

  async run(args, io) {
    const dir = dirFlag(args, this, io);
    if (dir === undefined) return 0;

    const { current } = initKeyDirectory(dir);
    writeKeyFiles(io, dir, current.keyId);
    writeField(io, 'current key', current.keyId);
    return 0;
  },
};

/** `audit keys rotate`: a new signing key, made current; the old ones stay. */
const keysRotateCommand: CliCommand = {
  name: 'rotate',
  summary: 'add a new signing key and make it current',
  help: `Usage: infergate audit keys rotate --dir DIR

Adds a new Ed25519 key to DIR and makes it current. The old keys stay in DIR: a running
gateway signs the handover with both keys when it picks up the new one, so verifiers trust
the new key through the old. Send the gateway SIGHUP to make it switch.

Options:
  -d, --dir DIR      the key directory (required)
  -h, --help         show this help`,

  async run(args, io) {
    const dir = dirFlag(args, this, io);
    if (dir === undefined) return 0;

    const { current, previous } = rotateKeyDirectory(dir);
    writeKeyFiles(io, dir, current.keyId);
    writeField(io, 'previous key', previous.keyId);
    writeField(io, 'current key', current.keyId);
    io.stdout.write('a running gateway switches to the new key on SIGHUP (kill -HUP <pid>)\n');
    return 0;
  },
};

/** `audit keys list`: each key of a directory, and which one signs. */
const keysListCommand: CliCommand = {
  name: 'list',
  summary: 'list the keys of a key directory and which one is current',
  help: `Usage: infergate audit keys list --dir DIR

Reads every key of DIR, checking each, and prints one line per key: its id, "current" for
the key that signs now, and its public key file ("missing" when there is none).

Options:
  -d, --dir DIR      the key directory (required)
  -h, --help         show this help`,

  async run(args, io) {
    const dir = dirFlag(args, this, io);
    if (dir === undefined) return 0;

    const { current, keys } = readKeyDirectory(dir);
    io.stdout.write(`${'KEY ID'.padEnd(18)}${'CURRENT'.padEnd(9)}PUBLIC KEY\n`);
    for (const keyId of keys.keys()) {
      const publicKey = keyFilesOf(dir, keyId).publicKey;
      const marker = keyId === current.keyId ? 'current' : '';
      const file = fs.existsSync(publicKey) ? publicKey : 'missing';
      io.stdout.write(`${keyId.padEnd(18)}${marker.padEnd(9)}${file}\n`);
    }
    return 0;
  },
};

/** `audit keys sealing`: the security team's X25519 key pair for sealed originals. */
const keysSealingCommand: CliCommand = {
  name: 'sealing',
  summary: "make the security team's X25519 key pair for sealed originals",
  help: `Usage: infergate audit keys sealing --out PREFIX

Makes an X25519 key pair and writes PREFIX.key.pem (PKCS #8, owner-only) and PREFIX.pub.pem
(SPKI), then prints the sealing key id. Gateways get only PREFIX.pub.pem (audit.sealingKeyFile)
and seal unmasked originals to it; PREFIX.key.pem opens them and belongs with the security
team, never on a gateway's machine. Refuses to replace existing files, since originals sealed
to a lost key can never be read again.

Options:
  -o, --out PREFIX   where to write, without the .key.pem / .pub.pem (required)
  -h, --help         show this help`,

  async run(args, io) {
    const flags = parseFlags(args, SEALING_FLAGS);
    if (wroteHelp(flags.help, this, io)) return 0;
    const prefix = requiredFlag('out', flags.out);

    const pair = writeSealingKeyPair(prefix);
    io.stdout.write(`wrote ${pair.privateKeyFile}\nwrote ${pair.publicKeyFile}\n`);
    writeField(io, 'sealing key', pair.keyId);
    return 0;
  },
};

const SUBCOMMANDS: readonly CliCommand[] = [
  keysInitCommand,
  keysRotateCommand,
  keysListCommand,
  keysSealingCommand,
];

function help(): string {
  return `Usage: infergate audit keys <subcommand> [options]

Manages the keys of the audit log: a directory of Ed25519 keys whose current key signs
checkpoints (old keys stay, so each handover can be vouched for), and the security team's
X25519 key that unmasked originals are sealed to. Private keys are written readable by their
owner only, and every file is replaced atomically.

Subcommands:
${subcommandLines(SUBCOMMANDS)}

Run infergate audit keys <subcommand> --help for its options.`;
}

/** `audit keys`: dispatches to a subcommand. */
export const auditKeysCommand: CliCommand = {
  name: 'keys',
  summary: 'make, rotate and list signing keys; make the sealing key',
  help: help(),

  run(args, io) {
    return runSubcommand(args, io, SUBCOMMANDS, 'infergate audit keys', help());
  },
};

/** The required `--dir`; undefined when `--help` was given and answered. */
function dirFlag(args: readonly string[], command: CliCommand, io: CliIo): string | undefined {
  const flags = parseFlags(args, DIR_FLAGS);
  if (wroteHelp(flags.help, command, io)) return undefined;
  return requiredFlag('dir', flags.dir);
}

function writeKeyFiles(io: CliIo, dir: string, keyId: string): void {
  const files = keyFilesOf(dir, keyId);
  io.stdout.write(`wrote ${files.privateKey}\nwrote ${files.publicKey}\n`);
}
