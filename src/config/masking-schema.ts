// The `masking` section of infergate.yaml and the masking choice of a route.

import { z } from 'zod';
import { DEFAULTS } from './defaults';
import { name, positiveInt } from './schema-primitives';

/** Which texts of an exchange are masked: the prompt, the response, both or neither. */
export const maskDirectionSchema = z.enum(['both', 'prompts', 'responses', 'none']);

export type MaskDirection = z.infer<typeof maskDirectionSchema>;

/** The `masking` section: how card data is masked, on every route that does not say otherwise. */
export const maskingSchema = z
  .object({
    mask: maskDirectionSchema.default(DEFAULTS.masking.mask),
    keepFirst: z.number().int().min(0).max(6).default(DEFAULTS.masking.keepFirst),
    keepLast: z.number().int().min(0).max(4).default(DEFAULTS.masking.keepLast),
    maskCharacter: z
      .string()
      .regex(/^[!-/:-~]$/, 'must be one printable ASCII character other than a digit')
      .default(DEFAULTS.masking.maskCharacter),
    unmaskedRoles: z.array(name).default([]),
    fingerprintKeyFile: z.string().min(1).optional(),
    maxHeldBytes: positiveInt.default(DEFAULTS.masking.maxHeldBytes),
    /** The operator's own patterns, masked like card data after it. */
    patterns: z
      .array(
        z
          .object({
            name,
            regex: z.string().min(1),
            ignoreCase: z.boolean().default(false),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

/** The section with every default applied, when the file leaves it out. */
export const DEFAULT_MASKING_SECTION = maskingSchema.parse({});
