// The `revocations` section of infergate.yaml: revoked certificates and tokens all replicas share.

import { z } from 'zod';
import { DEFAULTS } from './defaults';
import { positiveInt } from './schema-primitives';

/** The table every replica reads and `infergate revocations` writes. */
const revocationPostgresSchema = z
  .object({
    /** `postgres://user@host:5432/db`; put a password in `${env:...}`, never in the file. */
    connectionString: z.string().min(1),
    /** A lowercase identifier of at most 48 characters, checked when the section is resolved. */
    table: z.string().min(1).default(DEFAULTS.revocations.table),
  })
  .strict();

/**
 * The `revocations` section; absent, certificates are revoked by CRL files only and a token is
 * good until it expires. Present, the gateway does not start without its list, and refuses
 * every exchange once the list has gone unrefreshed for `maxStaleMs`.
 */
export const revocationsSchema = z
  .object({
    postgres: revocationPostgresSchema,
    refreshIntervalMs: positiveInt.default(DEFAULTS.revocations.refreshIntervalMs),
    maxStaleMs: positiveInt.default(DEFAULTS.revocations.maxStaleMs),
  })
  .strict();

/** The section after schema validation and defaults. */
export type RevocationsSection = z.infer<typeof revocationsSchema>;
