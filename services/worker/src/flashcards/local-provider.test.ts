import type { Flashcard } from '@jobstream/contracts';
import fc from 'fast-check';
import { createLocalProvider } from './local-provider';
import { ProviderError } from './provider-error';

const PARAGRAPH = `Photosynthesis is the process by which green plants turn light into chemical energy. It takes place in the chloroplasts, e.g. in the cells of leaves.
Chlorophyll is a green pigment that absorbs mostly red and blue light.

Glucose is produced from carbon dioxide and water. The Calvin cycle refers to the light-independent reactions.
- Stomata are the pores through which leaves exchange gases.`;

const input = (content: string, count = 10) => ({ content, subject: 'Biology', topic: 'Photosynthesis', count });
const signal = () => new AbortController().signal;
const generate = async (content: string, count: number) => (await createLocalProvider().generate(input(content, count), signal())).flashcards;

const BLANK = '_____';

/**
 * A well-formed card: a "What is/are" question answered by a sentence of the content, or a cloze
 * question with one blank that, filled with the answer, gives back a sentence of the content, the
 * answer being whole words (nothing of a word left beside the blank) and nothing else.
 */
function expectWellFormed(card: Flashcard, content: string): void {
  const text = content.replace(/\s+/gu, ' ');
  if (!card.front.includes(BLANK)) {
    expect(card.front).toMatch(/^What (is|are) .+\?$/u);
    expect(text).toContain(card.back);
    return;
  }
  expect(card.front.split(BLANK)).toHaveLength(2);
  expect(text).toContain(card.front.replace(BLANK, card.back));
  expect(card.back).toMatch(/^[\p{L}\p{N}](?:.*[\p{L}\p{N}])?$/u);
  const [before, after] = card.front.split(BLANK) as [string, string];
  expect(before).not.toMatch(/[\p{L}\p{N}'’-]$/u);
  expect(after).not.toMatch(/^[\p{L}\p{N}'’-]/u);
}

describe('local flashcards provider', () => {
  it('turns definitions into "What is" cards and other sentences into cloze cards, in content order', async () => {
    const { flashcards } = await createLocalProvider().generate(input(PARAGRAPH, 6), signal());

    expect(flashcards).toEqual([
      {
        front: 'What is Photosynthesis?',
        back: 'Photosynthesis is the process by which green plants turn light into chemical energy.',
      },
      { front: 'It takes place in the _____, e.g. in the cells of leaves.', back: 'chloroplasts' },
      { front: 'What is Chlorophyll?', back: 'Chlorophyll is a green pigment that absorbs mostly red and blue light.' },
      { front: 'Glucose is _____ from carbon dioxide and water.', back: 'produced' },
      { front: 'What is the Calvin cycle?', back: 'The Calvin cycle refers to the light-independent reactions.' },
      { front: 'What are Stomata?', back: 'Stomata are the pores through which leaves exchange gases.' },
    ]);
  });

  it('estimates tokens as a quarter of the characters in and out, rounded up', async () => {
    const { flashcards, tokenUsage } = await createLocalProvider().generate(input(PARAGRAPH, 2), signal());

    const outChars = flashcards.reduce((sum, card) => sum + card.front.length + card.back.length, 0);
    expect(tokenUsage).toEqual({
      promptTokens: Math.ceil(PARAGRAPH.length / 4),
      completionTokens: Math.ceil(outChars / 4),
      totalTokens: Math.ceil(PARAGRAPH.length / 4) + Math.ceil(outChars / 4),
    });
  });

  it('gives the same cards for the same content every time, from any instance', async () => {
    const first = await createLocalProvider().generate(input(PARAGRAPH), signal());
    const second = await createLocalProvider().generate(input(PARAGRAPH), signal());

    expect(second).toEqual(first);
  });

  it('returns no more than count cards, taking the first sentences', async () => {
    const { flashcards } = await createLocalProvider().generate(input(PARAGRAPH, 2), signal());

    expect(flashcards.map((card) => card.back)).toEqual([
      'Photosynthesis is the process by which green plants turn light into chemical energy.',
      'chloroplasts',
    ]);
  });

  it('asks each question once when the content repeats itself', async () => {
    const extra = 'Photosynthesis is the way plants feed themselves.';
    const repeated = await generate(`${PARAGRAPH}\n\n${PARAGRAPH}\n\n${extra}`, 50);

    const fronts = repeated.map((card) => card.front);
    expect(new Set(fronts).size).toBe(fronts.length);
    expect(repeated).toHaveLength((await generate(`${PARAGRAPH}\n\n${extra}`, 50)).length);
  });

  it('takes a second card from each sentence, in content order, once each sentence gave one', async () => {
    const flashcards = await generate(PARAGRAPH, 12);

    expect(flashcards.slice(6)).toEqual([
      { front: '_____ is the process by which green plants turn light into chemical energy.', back: 'Photosynthesis' },
      { front: 'It takes place in the chloroplasts, e.g. in the cells of _____.', back: 'leaves' },
      { front: '_____ is a green pigment that absorbs mostly red and blue light.', back: 'Chlorophyll' },
      { front: '_____ is produced from carbon dioxide and water.', back: 'Glucose' },
      { front: 'The Calvin cycle refers to the _____.', back: 'light-independent reactions' },
      { front: '_____ are the pores through which leaves exchange gases.', back: 'Stomata' },
    ]);
  });

  it('blanks a whole term, never half of one, and no run that mixes subject, verb and object', async () => {
    const content = 'The Calvin cycle fixes carbon dioxide into sugars. Leaves take in carbon dioxide through stomata.';
    const flashcards = await generate(content, 50);

    for (const card of flashcards) expectWellFormed(card, content);
    expect(flashcards).toEqual(
      expect.arrayContaining([
        { front: 'The Calvin cycle fixes carbon dioxide into _____.', back: 'sugars' },
        { front: 'Leaves take in _____ through stomata.', back: 'carbon dioxide' },
      ]),
    );
    const answers = flashcards.map((card) => card.back);
    for (const half of ['carbon', 'dioxide', 'Calvin', 'cycle', 'Calvin cycle fixes carbon dioxide']) expect(answers).not.toContain(half);
  });

  it('gives the five cards the README asks for from its example', async () => {
    const readme = 'Photosynthesis is the process by which plants turn light into chemical energy. Chlorophyll is a green pigment that absorbs mostly red and blue light.';
    const flashcards = await generate(readme, 5);

    expect(flashcards).toHaveLength(5);
    for (const card of flashcards) expectWellFormed(card, readme);
  });

  it('does not make a "What is" card of a sentence whose subject points back ("It is the ...")', async () => {
    const { flashcards } = await createLocalProvider().generate(input('It is the largest organelle in most cells.'), signal());

    expect(flashcards).toEqual([
      { front: 'It is the _____ in most cells.', back: 'largest organelle' },
      { front: 'It is the largest organelle in most _____.', back: 'cells' },
    ]);
  });

  describe('the number of cards', () => {
    const PASSAGES = {
      biology: PARAGRAPH,
      history: `The Norman conquest began in 1066, when William crossed the Channel. Harold Godwinson was the last Anglo-Saxon king of England.
The Domesday Book is a survey of land and livestock ordered in 1085. Castles of timber and earth spread across the country within two decades.
Latin remained the language of government, while French became the speech of the court.`,
      computing: `A compiler is a program that translates source code into machine code.
- An interpreter runs the program statement by statement.
- Garbage collection frees memory that no reference reaches.
Hash tables give constant average lookup time. Binary search halves the interval at every step, so it needs logarithmic time.`,
      unicode: `Ökosysteme sind Gemeinschaften von Lebewesen und ihrer Umwelt. Die Photosynthese wandelt Licht in chemische Energie um.
Le café contient de la caféine, une molécule stimulante. L’eau bout à cent degrés au niveau de la mer.`,
    };

    // At least this many questions: two or more per English sentence, one per sentence of the others.
    const HOLDS: Record<keyof typeof PASSAGES, number> = { biology: 18, history: 15, computing: 10, unicode: 4 };

    it.each(Object.entries(PASSAGES))('returns exactly the count asked for, up to what the %s passage holds, each card well-formed', async (name, content) => {
      const all = await generate(content, 50);
      expect(all.length).toBeGreaterThanOrEqual(HOLDS[name as keyof typeof PASSAGES]);
      for (let count = 1; count <= 50; count += 1) {
        const cards = await generate(content, count);
        expect({ count, cards: cards.length }).toEqual({ count, cards: Math.min(count, all.length) });
        // Fewer cards are the first ones of more: a larger count never reshuffles.
        expect(cards).toEqual(all.slice(0, cards.length));
        for (const card of cards) expectWellFormed(card, content);
      }
    });

    const nouns = ['enzyme', 'membrane', 'glacier', 'parliament', 'compiler', 'protocol', 'delta', 'treaty', 'ribosome', 'volcano', 'sediment', 'Ökosystem'];
    const adjectives = ['ancient', 'fragile', 'northern', 'digital', 'coastal', 'molecular', 'frühe'];
    const verbs = ['binds', 'shapes', 'crosses', 'feeds', 'protects', 'divides'];
    const contentWords = new Set([...nouns, ...adjectives, ...verbs].map((w) => w.toLowerCase()));
    const pick = (words: string[]) => fc.constantFrom(...words);
    const cap = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);
    const sentence = fc.oneof(
      fc.tuple(pick(nouns), pick(adjectives), pick(nouns), pick(verbs), pick(nouns)).map(([a, b, c, d, e]) => `${cap(a)} is a ${b} ${c} that ${d} the ${e}.`),
      fc.tuple(fc.integer({ min: 100, max: 2100 }), pick(nouns), pick(verbs), pick(adjectives), pick(nouns)).map(([y, a, b, c, d]) => `In ${y}, the ${a} ${b} into ${c} ${d}.`),
      fc.tuple(pick(nouns), pick(nouns), pick(nouns)).map(([a, b, c]) => `${cap(a)}s are the ${b}s of the ${c}!`),
      fc.tuple(pick(nouns), pick(nouns), pick(verbs), pick(adjectives), pick(nouns)).map(([a, b, c, d, e]) => `The ${a}-${b} ${c} with ${d} ${e}, as the ${e} does.`),
    );
    const separator = fc.constantFrom(' ', '\n', '\n\n', '\n- ', '\n1. ');
    const content = fc
      .uniqueArray(sentence, { minLength: 50, maxLength: 80 })
      .chain((sentences) => fc.array(separator, { minLength: sentences.length, maxLength: sentences.length }).map((seps) => sentences.map((s, i) => `${seps[i]}${s}`).join('').trim()));

    it('returns exactly the count asked for, 1 to 50, from generated content of 50 or more sentences, each card well-formed', async () => {
      await fc.assert(
        fc.asyncProperty(content, async (text) => {
          for (let count = 1; count <= 50; count += 1) {
            const cards = await generate(text, count);
            expect({ count, cards: cards.length }).toEqual({ count, cards: count });
            for (const card of cards) {
              expectWellFormed(card, text);
              // Nothing of a term stays beside the blank ("carbon _____").
              const [before, after] = card.front.split(BLANK) as [string, string | undefined];
              if (after === undefined) continue;
              expect(contentWords.has(/(\S+) $/u.exec(before)?.[1]?.toLowerCase() ?? '')).toBe(false);
              expect(contentWords.has(/^ (\S+)/u.exec(after)?.[1]?.replace(/[^\p{L}]+$/u, '').toLowerCase() ?? '')).toBe(false);
            }
          }
        }),
        { numRuns: 6, seed: 42 },
      );
    });
  });

  it.each([
    ['empty-looking content', '   \n\n  '],
    ['symbols and numbers', '!!! ??? 123 456 789 ... --- ***'],
    ['fragments too short to be sentences', 'Hi. Ok then. Yes!'],
  ])('rejects %s with a non-retryable CONTENT_UNUSABLE error', async (_label, content) => {
    const failure = createLocalProvider().generate(input(content), signal());

    await expect(failure).rejects.toBeInstanceOf(ProviderError);
    await expect(failure).rejects.toMatchObject({
      code: 'CONTENT_UNUSABLE',
      retryable: false,
      message: expect.stringContaining('no usable sentence'),
    });
  });
});
