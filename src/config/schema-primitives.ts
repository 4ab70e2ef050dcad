// Field shapes that several sections of the configuration schema share.

import { z } from 'zod';

export const port = z.number().int().min(0).max(65_535);

export const positiveInt = z.number().int().positive();

/** Names of upstreams, routes and roles: they appear in logs, metrics and audit records. */
export const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, 'must be 1-63 lowercase letters, digits, ".", "_" or "-"');
