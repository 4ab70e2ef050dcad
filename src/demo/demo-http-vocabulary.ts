// The demo HTTP server's word-level token ids, for vLLM's /tokenize and token-id prompts.

import { fnv1a32, REPLY_SCRIPT, tokenize } from './reply-script';

/** Token ids are 31-bit so they fit every client's signed 32-bit integers. */
const TOKEN_ID_MASK = 0x7fffffff;

/** How many words the decoding table remembers beyond the script's own words. */
const MAX_LEARNED_WORDS = 100_000;

/**
 * Maps the demo tokenizer's word tokens (see `tokenize`) to ids and back. An id is the FNV-1a
 * hash of the token text, so it is the same on every run and every server; decoding only knows
 * the script's words and those this server has encoded since it started.
 */
export class DemoVocabulary {
  private readonly words = new Map<number, string>();
  private readonly capacity: number;

  constructor() {
    for (const reply of REPLY_SCRIPT) {
      for (const token of tokenize(reply)) {
        this.words.set(tokenId(token), token);
      }
    }
    this.capacity = this.words.size + MAX_LEARNED_WORDS;
  }

  /** The word tokens of `text` and their ids, remembering each for `decode`. */
  encode(text: string): EncodedText {
    const tokens = tokenize(text);
    return { ids: tokens.map((token) => this.learn(token)), tokens };
  }

  /** The first of `ids` this server cannot decode, if any. */
  unknownId(ids: readonly number[]): number | undefined {
    return ids.find((id) => !this.words.has(id));
  }

  /** The text of `ids`; ids this server does not know (see `unknownId`) decode to nothing. */
  decode(ids: readonly number[]): string {
    return ids.map((id) => this.words.get(id) ?? '').join('');
  }

  private learn(token: string): number {
    const id = tokenId(token);
    // Limitation: past MAX_LEARNED_WORDS new words still get ids but cannot be decoded, which
    // bounds memory on a long benchmark at the cost of /detokenize round trips.
    if (this.words.size < this.capacity && !this.words.has(id)) {
      this.words.set(id, token);
    }
    return id;
  }
}

/** Text split into the demo tokenizer's word tokens, with their ids. */
export interface EncodedText {
  readonly ids: number[];
  readonly tokens: string[];
}

/** The id of one word token. */
function tokenId(token: string): number {
  return fnv1a32(Buffer.from(token)) & TOKEN_ID_MASK;
}
