import type { Flashcard, TokenUsage } from '@jobstream/contracts';
import { ProviderError } from './provider-error.js';
import type { FlashcardsInput, FlashcardsOutput, FlashcardsProvider } from './provider.js';

const BLANK = '_____';

/** Fewer words (with a letter in them) than this is a heading or a fragment, not something worth a card. */
const MIN_SENTENCE_WORDS = 3;

/** A blanked-out word shorter than this is too easy to guess to test anything. */
const MIN_CLOZE_WORD_LENGTH = 4;

/** A definition's term longer than this is a clause, not a term ("In the year after the war, trade is ..."). */
const MAX_TERM_WORDS = 6;

const STOPWORDS = new Set(
  (
    'a about above after again against all also am an and any are as at be because been before being below between ' +
    'both but by can could did do does doing down during each either few for from further had has have having he her ' +
    'here hers herself him himself his how however i if in into is it its itself just may me might more most much must ' +
    'my myself neither no nor not now of off often on once one only or other our ours ourselves out over own same shall ' +
    'she should so some such than that the their theirs them themselves then there these they this those through thus ' +
    'to too under until up upon us very was we were what when where whether which while who whom whose why will with ' +
    'within without would yet you your yours yourself yourselves'
  ).split(' '),
);

/** A term starting with one of these points back at an earlier sentence ("It is the ..."), so it asks nothing. */
const REFERRING_WORDS = new Set(['it', 'this', 'that', 'these', 'those', 'there', 'here', 'he', 'she', 'they', 'we', 'you', 'i', 'what', 'which', 'who', 'one', 'each', 'all', 'some', 'such', 'another', 'other']);

/**
 * "X is a/an/the ...", "X are the ...", "X means ...", "X refers to ...". A bare "X is ..." is left
 * out on purpose: "Glucose is produced in leaves" or "Water is essential" are not definitions.
 */
const DEFINITION = /^(?<term>[^,;:()]+?)\s+(?:(?<copula>is|are)\s+(?:a|an|the)\s|means\s|refers\s+to\s)/iu;

const WORD = /[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu;

/**
 * Blank lines and list items always end a sentence; inside a paragraph, line breaks are only
 * wrapping. A full stop ends a sentence only before a capital, digit or quote, so "e.g. salt"
 * stays in one piece.
 */
function splitSentences(content: string): string[] {
  return content
    .split(/\n\s*\n|\n(?=\s*(?:[-*•]|\d+[.)])\s)/u)
    .flatMap((block) => block.replace(/\s+/gu, ' ').trim().split(/(?<=[.!?])\s+(?=["'“(\p{Lu}\p{N}])/u))
    .map((sentence) => sentence.replace(/^(?:[-*•]|\d+[.)])\s+/u, '').trim())
    .filter((sentence) => letterWordCount(sentence) >= MIN_SENTENCE_WORDS);
}

/** Only words with a letter count: "123 456 789" is not a sentence. */
function letterWordCount(sentence: string): number {
  return (sentence.match(WORD) ?? []).filter((word) => /\p{L}/u.test(word)).length;
}

function definitionCard(sentence: string): Flashcard | undefined {
  const match = DEFINITION.exec(sentence);
  const term = match?.groups?.term;
  if (!match || !term) return undefined;
  const termWords = term.match(WORD) ?? [];
  const firstWord = termWords[0]?.toLowerCase();
  if (!firstWord || termWords.length > MAX_TERM_WORDS || REFERRING_WORDS.has(firstWord)) return undefined;
  // Only a leading article is lowercased: other capitals may be proper nouns or acronyms.
  const shownTerm = term.replace(/^(The|A|An)\s/u, (article) => article.toLowerCase());
  const verb = match.groups?.copula?.toLowerCase() === 'are' ? 'are' : 'is';
  return { front: `What ${verb} ${shownTerm}?`, back: sentence };
}

/** Blanks out the longest non-stopword (the first one on a tie), which carries the most meaning. */
function clozeCard(sentence: string): Flashcard | undefined {
  let best: { word: string; index: number } | undefined;
  for (const match of sentence.matchAll(WORD)) {
    const word = match[0];
    if (word.length < MIN_CLOZE_WORD_LENGTH || STOPWORDS.has(word.toLowerCase())) continue;
    if (!best || word.length > best.word.length) best = { word, index: match.index };
  }
  if (!best) return undefined;
  const front = sentence.slice(0, best.index) + BLANK + sentence.slice(best.index + best.word.length);
  return { front, back: best.word };
}

/** Cards in the order their sentences appear, one per distinct question, at most `count`. */
function deriveFlashcards(content: string, count: number): Flashcard[] {
  const cards: Flashcard[] = [];
  const seenFronts = new Set<string>();
  for (const sentence of splitSentences(content)) {
    if (cards.length >= count) break;
    const card = definitionCard(sentence) ?? clozeCard(sentence);
    // Two cards asking the same question with different answers would contradict each other.
    const key = card?.front.toLowerCase();
    if (!card || !key || seenFronts.has(key)) continue;
    seenFronts.add(key);
    cards.push(card);
  }
  return cards;
}

/** About four characters per token, the rule of thumb OpenAI documents, so usage compares across providers. */
function estimateTokenUsage(content: string, cards: Flashcard[]): TokenUsage {
  const promptTokens = Math.ceil(content.length / 4);
  const completionChars = cards.reduce((sum, card) => sum + card.front.length + card.back.length, 0);
  const completionTokens = Math.ceil(completionChars / 4);
  return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens };
}

/**
 * The default provider: derives definition and cloze cards from the content's own sentences,
 * offline and deterministically (the same content always gives the same cards).
 */
export function createLocalProvider(): FlashcardsProvider {
  return {
    name: 'local',
    async generate(input: FlashcardsInput, signal: AbortSignal): Promise<FlashcardsOutput> {
      if (signal.aborted) throw new ProviderError('PROVIDER_ABORTED', 'cancelled before generating');
      const flashcards = deriveFlashcards(input.content, input.count);
      if (flashcards.length === 0) {
        throw new ProviderError(
          'CONTENT_UNUSABLE',
          `the content has no usable sentence: expected prose with sentences of at least ${MIN_SENTENCE_WORDS} words`,
        );
      }
      return { flashcards, tokenUsage: estimateTokenUsage(input.content, flashcards) };
    },
  };
}
