import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifySpecification } from '../../src/core/structure.js';
import { blocksToMarkdown, layoutBlocks } from '../../src/core/layout.js';
import { lineOf, type OcrWord } from '../../src/shared/ocr-text.js';

test('specification lines are classified, most specific first', () => {
  assert.deepEqual(classifySpecification('P/N 4471-22A rev B'), { type: 'part_number', value: '4471-22A' });
  assert.deepEqual(classifySpecification('Drawing No. DWG-0042'), { type: 'part_number', value: 'DWG-0042' });
  assert.equal(classifySpecification('Shaft Ø20 h6, ±0.01')?.type, 'tolerance');
  assert.equal(classifySpecification('Fit H7/g6')?.type, 'tolerance');
  assert.equal(classifySpecification('Length +0.10/-0.05')?.type, 'tolerance');
  assert.equal(classifySpecification('Thread M8 x 1.25')?.type, 'dimension');
  assert.equal(classifySpecification('Max pressure 16 bar')?.type, 'dimension');
  assert.deepEqual(classifySpecification('Surface finish: Ra 1.6'), {
    type: 'key_value',
    key: 'Surface finish',
    value: 'Ra 1.6',
  });
  assert.deepEqual(classifySpecification('材料：不锈钢'), { type: 'key_value', key: '材料', value: '不锈钢' });
  assert.equal(classifySpecification('The pump was inspected on time.'), undefined);
});

function word(text: string, x: number, y: number, h = 30): OcrWord {
  return { text, bbox: [x, y, x + text.length * 16, y + h], confidence: 0.9 };
}

test('layout: headings by size, nested lists by indentation, tables by aligned short cells', () => {
  const lines = [
    lineOf([word('Inspection', 100, 50, 60), word('Report', 300, 50, 60)]),
    lineOf([word('All', 100, 150), word('pumps', 160, 150), word('passed.', 270, 150)]),
    lineOf([word('•', 100, 230), word('Filters', 130, 230)]),
    lineOf([word('•', 160, 270), word('Inlet', 190, 270)]),
    lineOf([word('Part', 100, 360), word('Qty', 400, 360)]),
    lineOf([word('Valve', 100, 400), word('2', 400, 400)]),
  ];
  const blocks = layoutBlocks(lines);
  assert.deepEqual(
    blocks.map((b) => b.type),
    ['heading', 'paragraph', 'list-item', 'list-item', 'table'],
  );
  assert.equal(
    blocksToMarkdown(blocks),
    [
      '# Inspection Report',
      '',
      'All pumps passed.',
      '',
      '- Filters',
      '  - Inlet',
      '',
      '| Part | Qty |',
      '| --- | --- |',
      '| Valve | 2 |',
    ].join('\n'),
  );
});

test('CJK words are joined without spaces', () => {
  assert.equal(lineOf([word('今天', 0, 0), word('天气', 40, 0), word('good', 80, 0)]).text, '今天天气 good');
});
