import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sentences, words } from '../../src/engines/extractive/sentences.js';
import { summarizeExtractive } from '../../src/engines/extractive/summarizer.js';
import { articles } from '../fixtures/articles.js';
import { rouge1, rougeL } from '../helpers/rouge.js';

test('ROUGE-1 and ROUGE-L clearly above LEAD-3 on the test articles', () => {
  let ours1 = 0;
  let oursL = 0;
  let lead1 = 0;
  let leadL = 0;
  for (const article of articles) {
    const budget = Math.round(words(article.reference).length * 1.2);
    const summary = summarizeExtractive(article.text, { maxWords: budget }).summary;
    const lead3 = sentences(article.text)
      .slice(0, 3)
      .map((s) => s.text)
      .join(' ');
    ours1 += rouge1(summary, article.reference);
    oursL += rougeL(summary, article.reference);
    lead1 += rouge1(lead3, article.reference);
    leadL += rougeL(lead3, article.reference);
  }
  const n = articles.length;
  assert.ok(ours1 / n >= lead1 / n + 0.1, `ROUGE-1 ${(ours1 / n).toFixed(3)} vs LEAD-3 ${(lead1 / n).toFixed(3)}`);
  assert.ok(oursL / n >= leadL / n + 0.1, `ROUGE-L ${(oursL / n).toFixed(3)} vs LEAD-3 ${(leadL / n).toFixed(3)}`);
});

test('max_length (words) is respected, sentences keep their order, output is deterministic', () => {
  for (const maxWords of [10, 30, 60, 100]) {
    const first = summarizeExtractive(articles[0]!.text, { maxWords });
    assert.ok(words(first.summary).length <= maxWords, `${words(first.summary).length} words for max ${maxWords}`);
    assert.deepEqual(
      first.selected,
      [...first.selected].sort((a, b) => a - b),
    );
    assert.deepEqual(summarizeExtractive(articles[0]!.text, { maxWords }), first);
  }
});

test('the key sentence of each article is kept', () => {
  const keys = [
    'The city council voted on Monday to build a new bridge',
    'has started using robots to sort and shelve returned books',
    "drought has cut the country's wheat harvest by an estimated thirty percent",
  ];
  for (const [i, article] of articles.entries())
    assert.ok(summarizeExtractive(article.text, { maxWords: 70 }).summary.includes(keys[i]!), article.title);
});

test('repeated sentences are not both chosen', () => {
  const text = `${articles[1]!.text}\n\n${sentences(articles[1]!.text)[2]!.text}`;
  const summary = summarizeExtractive(text, { maxWords: 120 }).summary;
  const key = 'has started using robots to sort and shelve returned books';
  assert.equal(summary.split(key).length - 1, 1);
});

test('other languages: French and Chinese sentences and words', () => {
  const french =
    'Le conseil a voté lundi la construction d’un pont. Le pont coûtera 420 millions. Les travaux commenceront au printemps prochain. Les pêcheurs sont inquiets pour les oiseaux.';
  assert.equal(sentences(french).length, 4);
  assert.ok(summarizeExtractive(french, { maxWords: 12 }).summary.length > 0);
  const chinese =
    '市议会周一投票决定建造一座新桥。这座桥将耗资四亿二千万美元。工程将于明年春天开始。渡轮将继续运营直到新桥开通。';
  assert.equal(sentences(chinese).length, 4);
  assert.ok(words('市议会周一投票决定建造一座新桥').length >= 5, 'ICU splits Chinese into words');
  assert.ok(summarizeExtractive(chinese, { maxWords: 20 }).summary.length > 0);
});

test('a long document is reduced block by block and still summarized', () => {
  const long = Array.from({ length: 60 }, () => articles.map((a) => a.text).join('\n\n')).join('\n\n');
  const result = summarizeExtractive(long, { maxWords: 80 });
  assert.ok(result.sentenceCount > 1500);
  assert.ok(words(result.summary).length <= 80);
});

test('a sentence longer than max_length is cut at a word boundary', () => {
  const result = summarizeExtractive(
    'This single sentence has quite a lot of words in it, more than the limit allows for sure.',
    { maxWords: 5 },
  );
  assert.equal(result.summary, 'This single sentence has quite…');
});
