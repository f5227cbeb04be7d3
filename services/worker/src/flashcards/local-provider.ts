import type { Flashcard, TokenUsage } from '@jobstream/contracts';
import { ProviderError } from './provider-error.js';
import type { FlashcardsInput, FlashcardsOutput, FlashcardsProvider } from './provider.js';

const BLANK = '_____';

/** Fewer words (with a letter in them) than this is a heading or a fragment, not something worth a card. */
const MIN_SENTENCE_WORDS = 3;

/** A blank whose longest word is shorter than this is too easy to guess to test anything. */
const MIN_CLOZE_WORD_LENGTH = 4;

/**
 * A run of more content words than this ("Calvin cycle fixes carbon dioxide", "plants turn light")
 * mixes a subject, a verb and an object: no single answer, so it is not blanked at all.
 */
const MAX_CLOZE_WORDS = 2;

/** What a cloze question must keep of its sentence: fewer words than this leave nothing to go by. */
const MIN_CLOZE_CONTEXT_WORDS = 2;

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

/** A word that can be part of an answer: not a stopword, and a letter in it or a number of 3+ digits (a year). */
function isContentWord(word: string): boolean {
  return !STOPWORDS.has(word.toLowerCase()) && (/\p{L}/u.test(word) || /^\p{N}{3,}$/u.test(word));
}

/**
 * The sentence's possible blanks: each run of content words that only spaces join, bounded by
 * stopwords, punctuation or the sentence's ends. A blank takes a whole run, so an answer never
 * leaves half of a term in the question ("fixes carbon _____" for "dioxide"). Longest word
 * first, which carries the most meaning; on a tie, the earlier one.
 */
function clozeSpans(sentence: string): { start: number; end: number }[] {
  const runs: { start: number; end: number; words: string[] }[] = [];
  let run: (typeof runs)[number] | undefined;
  for (const match of sentence.matchAll(WORD)) {
    const word = match[0];
    const start = match.index;
    const joined = run !== undefined && /^ +$/u.test(sentence.slice(run.end, start));
    if (!isContentWord(word)) {
      run = undefined;
      continue;
    }
    if (run && joined) {
      run.end = start + word.length;
      run.words.push(word);
    } else {
      run = { start, end: start + word.length, words: [word] };
      runs.push(run);
    }
  }
  const longest = (r: (typeof runs)[number]) => Math.max(...r.words.map((w) => w.length));
  const sentenceWords = letterWordCount(sentence);
  return runs
    .filter((r) => r.words.length <= MAX_CLOZE_WORDS && longest(r) >= MIN_CLOZE_WORD_LENGTH)
    .filter((r) => sentenceWords - r.words.length >= MIN_CLOZE_CONTEXT_WORDS)
    .sort((a, b) => longest(b) - longest(a) || a.start - b.start)
    .map(({ start, end }) => ({ start, end }));
}

/**
 * The blank of a sentence with no term to blank (no stopwords split it, as in a language other
 * than English): its second half, whole words, so the question keeps the first half to go by.
 */
function tailSpan(sentence: string): { start: number; end: number } | undefined {
  const words = [...sentence.matchAll(WORD)];
  const first = words[words.length - Math.floor(words.length / 2)];
  const last = words.at(-1);
  if (!first || !last || words.length < MIN_SENTENCE_WORDS) return undefined;
  return { start: first.index, end: last.index + last[0].length };
}

/** Every card one sentence gives: its definition first, then one cloze card per blank. */
function sentenceCards(sentence: string): Flashcard[] {
  const cards: Flashcard[] = [];
  const definition = definitionCard(sentence);
  if (definition) cards.push(definition);
  // A sentence that already holds a blank would make a question with two.
  if (sentence.includes(BLANK)) return cards;
  const spans = clozeSpans(sentence);
  const tail = cards.length === 0 && spans.length === 0 ? tailSpan(sentence) : undefined;
  for (const { start, end } of tail ? [tail] : spans) {
    cards.push({ front: sentence.slice(0, start) + BLANK + sentence.slice(end), back: sentence.slice(start, end) });
  }
  return cards;
}

/**
 * `count` cards when the content holds that many distinct questions, else every one it holds.
 * They are taken round by round: each sentence's best card in content order, then each one's
 * second best, and so on, so the cards cover the content before they dig into one sentence.
 */
function deriveFlashcards(content: string, count: number): Flashcard[] {
  const perSentence = splitSentences(content).map(sentenceCards);
  const cards: Flashcard[] = [];
  const seenFronts = new Set<string>();
  const rounds = Math.max(0, ...perSentence.map((c) => c.length));
  for (let round = 0; round < rounds && cards.length < count; round += 1) {
    for (const candidates of perSentence) {
      const card = candidates[round];
      // Two cards asking the same question with different answers would contradict each other.
      const key = card?.front.toLowerCase();
      if (!card || !key || seenFronts.has(key)) continue;
      seenFronts.add(key);
      cards.push(card);
      if (cards.length >= count) break;
    }
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
