// The `audit` section of infergate.yaml: where frames are stored, signed and how much they hold.

import { z } from 'zod';
import { DEFAULTS } from './defaults';
import { name, positiveInt } from './schema-primitives';

/** A log id names a segment file and a database column: letters, digits, '.', '_', '-'. */
export const logIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/, 'must be 1-128 letters, digits, ".", "_" or "-"');

const filesStore = z
  .object({
    dir: z.string().min(1),
    segmentMaxBytes: positiveInt.default(DEFAULTS.audit.segmentMaxBytes),
    segmentMaxAgeMs: positiveInt.default(DEFAULTS.audit.segmentMaxAgeMs),
  })
  .strict();

const postgresStore = z
  .object({
    /** `postgres://user@host:5432/db`; put a password in `${env:...}`, never in the file. */
    connectionString: z.string().min(1),
    table: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lowercase SQL identifier')
      .default(DEFAULTS.audit.table),
  })
  .strict();

/**
 * The `audit` section. Absent, the gateway records nothing and says so at start-up; present,
 * every exchange is recorded and a request is refused whenever its record cannot be written.
 */
export const auditSchema = z
  .object({
    /** The chain this gateway writes; defaults to the host name. One writer per log id. */
    logId: logIdSchema.optional(),
    files: filesStore.optional(),
    postgres: postgresStore.optional(),
    /** The directory `infergate audit keys init` made: its `current` key signs checkpoints. */
    signingKeyDir: z.string().min(1),
    checkpointEveryFrames: positiveInt.default(DEFAULTS.audit.checkpointEveryFrames),
    checkpointIntervalMs: positiveInt.default(DEFAULTS.audit.checkpointIntervalMs),
    /** Prompt and response text recorded per exchange, in bytes; the rest is marked cut. */
    maxTextBytes: z.number().int().min(0).default(DEFAULTS.audit.maxTextBytes),
    /** The security team's X25519 public key: unmasked originals are sealed to it. */
    sealingKeyFile: z.string().min(1).optional(),
    /**
     * Roles whose callers may ask the admin listener for a frame's sealed originals; each ask is
     * recorded in the log first. Empty: the endpoint does not exist.
     */
    unsealRoles: z.array(name).default([]),
  })
  .strict();
