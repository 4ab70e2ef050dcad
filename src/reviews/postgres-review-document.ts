// Reads a review back from its jsonb document, checking every field, so it round-trips exactly.

import { ProxyError } from '../errors/proxy-error';
import type {
  Review,
  ReviewDecision,
  ReviewedRequest,
  ReviewGrant,
  ReviewRequester,
  ReviewState,
  Reviewer,
} from './review-store';

const REVIEW_STATES: readonly ReviewState[] = ['pending', 'approved', 'denied', 'expired'];
const VERDICTS: readonly ReviewDecision['verdict'][] = ['approve', 'deny'];

type Fields = Readonly<Record<string, unknown>>;

/**
 * Narrows one document's fields. JSON has no `undefined`: `JSON.stringify` drops such fields,
 * so an absent field reads back as `undefined` where the type allows it, and the decoded review
 * has every field of the one stored.
 */
class DocumentReader {
  constructor(private readonly where: string) {}

  object(value: unknown, field: string): Fields {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return this.fail(field, 'an object');
    }
    return value as Fields;
  }

  string(value: unknown, field: string): string {
    return typeof value === 'string' ? value : this.fail(field, 'a string');
  }

  optionalString(value: unknown, field: string): string | undefined {
    return value === undefined ? undefined : this.string(value, field);
  }

  number(value: unknown, field: string): number {
    return typeof value === 'number' && Number.isFinite(value)
      ? value
      : this.fail(field, 'a number');
  }

  optionalNumber(value: unknown, field: string): number | undefined {
    return value === undefined ? undefined : this.number(value, field);
  }

  array(value: unknown, field: string): readonly unknown[] {
    return Array.isArray(value) ? value : this.fail(field, 'an array');
  }

  strings(value: unknown, field: string): string[] {
    return this.array(value, field).map((item, i) => this.string(item, `${field}[${i}]`));
  }

  oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
    const found = allowed.find((option) => option === value);
    return found ?? this.fail(field, `one of ${allowed.join(', ')}`);
  }

  private fail(field: string, expected: string): never {
    throw new ProxyError(
      'ERR_REVIEW_STORE_INVALID',
      `${this.where} field ${field} is not ${expected}`,
    );
  }
}

/**
 * Decodes the document stored for a review. Throws ProxyError `ERR_REVIEW_STORE_INVALID`,
 * naming `where` and the field, when a field is missing or of another type.
 */
export function decodeReviewDocument(value: unknown, where: string): Review {
  const read = new DocumentReader(where);
  const doc = read.object(value, 'review');
  return {
    id: read.string(doc.id, 'id'),
    version: read.number(doc.version, 'version'),
    createdAtMs: read.number(doc.createdAtMs, 'createdAtMs'),
    expiresAtMs: read.number(doc.expiresAtMs, 'expiresAtMs'),
    requester: readPerson(read, doc.requester, 'requester'),
    rule: read.string(doc.rule, 'rule'),
    requestDigest: read.string(doc.requestDigest, 'requestDigest'),
    request: readRequest(read, doc.request),
    reviewerRoles: read.strings(doc.reviewerRoles, 'reviewerRoles'),
    approvalsRequired: read.number(doc.approvalsRequired, 'approvalsRequired'),
    grantTtlMs: read.number(doc.grantTtlMs, 'grantTtlMs'),
    decisions: readDecisions(read, doc.decisions),
    state: read.oneOf(doc.state, 'state', REVIEW_STATES),
    grant: readGrant(read, doc.grant),
  };
}

/** A requester and a reviewer have the same shape. */
function readPerson(
  read: DocumentReader,
  value: unknown,
  field: string,
): ReviewRequester & Reviewer {
  const person = read.object(value, field);
  return {
    subject: read.string(person.subject, `${field}.subject`),
    certificateThumbprint: read.string(
      person.certificateThumbprint,
      `${field}.certificateThumbprint`,
    ),
    roles: read.strings(person.roles, `${field}.roles`),
  };
}

function readRequest(read: DocumentReader, value: unknown): ReviewedRequest {
  const request = read.object(value, 'request');
  const facts = read.object(request.facts, 'request.facts');
  return {
    listener: read.string(request.listener, 'request.listener'),
    operation: read.string(request.operation, 'request.operation'),
    model: read.optionalString(request.model, 'request.model'),
    route: read.optionalString(request.route, 'request.route'),
    facts: Object.fromEntries(
      Object.entries(facts).map(([key, fact]) => [key, read.string(fact, `request.facts.${key}`)]),
    ),
    maskedPrompt: read.strings(request.maskedPrompt, 'request.maskedPrompt'),
  };
}

function readDecisions(read: DocumentReader, value: unknown): ReviewDecision[] {
  return read.array(value, 'decisions').map((item, i) => {
    const field = `decisions[${i}]`;
    const decision = read.object(item, field);
    return {
      reviewer: readPerson(read, decision.reviewer, `${field}.reviewer`),
      verdict: read.oneOf(decision.verdict, `${field}.verdict`, VERDICTS),
      reason: read.string(decision.reason, `${field}.reason`),
      atMs: read.number(decision.atMs, `${field}.atMs`),
    };
  });
}

function readGrant(read: DocumentReader, value: unknown): ReviewGrant | undefined {
  if (value === undefined) return undefined;
  const grant = read.object(value, 'grant');
  return {
    expiresAtMs: read.number(grant.expiresAtMs, 'grant.expiresAtMs'),
    usedAtMs: read.optionalNumber(grant.usedAtMs, 'grant.usedAtMs'),
  };
}
