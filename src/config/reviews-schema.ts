// The `reviews` section of infergate.yaml: which requests wait for a second person's approval.

import { z } from 'zod';
import { DEFAULTS } from './defaults';
import { PERMISSIONS } from './identity-schema';
import { name, positiveInt } from './schema-primitives';

const count = z.number().int().min(0);

/**
 * Requests and tokens one identity may send within `windowMs` before its next request is held:
 * more is the shape of bulk extraction. At least one of the two bounds is required.
 */
const reviewRateSchema = z
  .object({
    requests: positiveInt.optional(),
    tokens: positiveInt.optional(),
    windowMs: positiveInt,
  })
  .strict();

/** Conditions of a rule; every condition given must hold, and at least one must be given. */
const reviewConditionsSchema = z
  .object({
    /** The caller holds one of these roles. */
    roles: z.array(name).min(1).optional(),
    routes: z.array(name).min(1).optional(),
    /** Model-name patterns, as routes write them. */
    models: z.array(z.string().min(1)).min(1).optional(),
    /** Permission names, as roles write them. */
    operations: z.array(z.enum(PERMISSIONS)).min(1).optional(),
    /** Only `true`: the request loads or unloads a model (a `repository` operation that changes). */
    loadsModels: z.literal(true).optional(),
    maxTokensAbove: count.optional(),
    nAbove: count.optional(),
    /** Embeddings inputs in one request. */
    inputsAbove: count.optional(),
    /** The first dimension of a KServe / Triton request's first input. */
    batchAbove: count.optional(),
    /** Regular expressions over the prompt texts, bounded as masking patterns are. */
    promptMatches: z.array(z.string().min(1)).min(1).optional(),
    rate: reviewRateSchema.optional(),
  })
  .strict();

/** One entry of `reviews.rules`; the first rule whose conditions hold applies. */
const reviewRuleSchema = z
  .object({
    name,
    when: reviewConditionsSchema,
    /** Roles whose holders may decide; each must be defined under `roles`. */
    reviewers: z.array(name).min(1),
    /** Checked against 1 when the section is resolved, so the problem comes with the others. */
    approvals: z.number().int().default(DEFAULTS.reviews.approvals),
  })
  .strict();

/** Where replicas share their reviews; absent, each gateway keeps its own in memory. */
const reviewPostgresSchema = z
  .object({
    connectionString: z.string().min(1),
    /** A lowercase identifier; `infergate_reviews` when absent. */
    table: z.string().min(1).optional(),
  })
  .strict();

/**
 * Where review events are POSTed as JSON, so reviewers hear of a held request without polling.
 * `url` and header values may hold secrets (chat webhooks carry their token in the path): write
 * them as `${env:...}`.
 */
const reviewWebhookSchema = z
  .object({
    url: z.string().url(),
    /** One delivery attempt, connection to response end. */
    timeoutMs: positiveInt.default(DEFAULTS.reviews.webhookTimeoutMs),
    attempts: positiveInt.default(DEFAULTS.reviews.webhookAttempts),
    headers: z.record(z.string().min(1), z.string()).default({}),
  })
  .strict();

/** The `reviews` section; absent, no request is ever held. */
export const reviewsSchema = z
  .object({
    /** 0 refuses a held request at once, telling the caller to retry once it is approved. */
    waitMs: count.default(DEFAULTS.reviews.waitMs),
    reviewTtlMs: positiveInt.default(DEFAULTS.reviews.reviewTtlMs),
    grantTtlMs: positiveInt.default(DEFAULTS.reviews.grantTtlMs),
    rules: z.array(reviewRuleSchema).default([]),
    postgres: reviewPostgresSchema.optional(),
    webhook: reviewWebhookSchema.optional(),
  })
  .strict();

/** The section after schema validation and defaults. */
export type ReviewsSection = z.infer<typeof reviewsSchema>;
