import { createLocalProvider } from './local-provider';
import { ProviderError } from './provider-error';

const PARAGRAPH = `Photosynthesis is the process by which green plants turn light into chemical energy. It takes place in the chloroplasts, e.g. in the cells of leaves.
Chlorophyll is a green pigment that absorbs mostly red and blue light.

Glucose is produced from carbon dioxide and water. The Calvin cycle refers to the light-independent reactions.
- Stomata are the pores through which leaves exchange gases.`;

const input = (content: string, count = 10) => ({ content, subject: 'Biology', topic: 'Photosynthesis', count });
const signal = () => new AbortController().signal;

describe('local flashcards provider', () => {
  it('turns definitions into "What is" cards and other sentences into cloze cards, in content order', async () => {
    const { flashcards } = await createLocalProvider().generate(input(PARAGRAPH), signal());

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
    const repeated = `${PARAGRAPH}\n\n${PARAGRAPH}\n\nPhotosynthesis is the way plants feed themselves.`;
    const { flashcards } = await createLocalProvider().generate(input(repeated), signal());

    const fronts = flashcards.map((card) => card.front);
    expect(new Set(fronts).size).toBe(fronts.length);
    expect(flashcards).toHaveLength(6);
  });

  it('does not make a "What is" card of a sentence whose subject points back ("It is the ...")', async () => {
    const { flashcards } = await createLocalProvider().generate(input('It is the largest organelle in most cells.'), signal());

    expect(flashcards).toEqual([{ front: 'It is the largest _____ in most cells.', back: 'organelle' }]);
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
