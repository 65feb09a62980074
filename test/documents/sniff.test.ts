import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeBytes, sniffKind } from '../../src/documents/sniff.js';
import { parsePages, selectPages } from '../../src/shared/page-selection.js';
import { makePdf, renderPage } from '../fixtures/pages.js';

test('formats are told apart by content', async () => {
  const spec = { lines: ['Hello'], width: 300, height: 120 };
  for (const format of ['png', 'jpeg', 'tiff', 'webp', 'gif', 'bmp'] as const) {
    assert.equal(sniffKind(await renderPage(spec, format)), format);
  }
  assert.equal(sniffKind(await makePdf([{ text: ['x'] }])), 'pdf');
});

test('unsupported bytes are described for the error message', () => {
  assert.equal(sniffKind(Buffer.from('PK\x03\x04rest-of-zip')), undefined);
  assert.match(describeBytes(Buffer.from('PK\x03\x04rest-of-zip')), /ZIP/);
  assert.equal(describeBytes(Buffer.alloc(0)), 'an empty file');
  assert.match(describeBytes(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')), /SVG/);
  assert.match(
    describeBytes(Buffer.from([0x00, 0x01, 0x02, 0x03, 0xfe, 0x00, 0x00, 0x01])),
    /unrecognised bytes \(starting 00 01 02 03/,
  );
});

const parsePageRange = (spec: string | undefined, pageCount: number): number[] =>
  selectPages(parsePages(spec), pageCount);

test('page ranges', () => {
  assert.deepEqual(parsePageRange('1-3,7', 10), [1, 2, 3, 7]);
  assert.deepEqual(parsePageRange('8-', 10), [8, 9, 10]);
  assert.deepEqual(parsePageRange(' 2 , 2,1 ', 3), [1, 2]);
  assert.deepEqual(parsePageRange(undefined, 2), [1, 2]);
  assert.throws(() => parsePageRange('0', 3), /count from 1/);
  assert.throws(() => parsePageRange('3-1', 3), /ranges go upwards/);
  assert.throws(
    () => parsePageRange('2-9', 3),
    (e: Error & { code?: string }) => e.code === 'page_out_of_range' && /has 3 pages/.test(e.message),
  );
  assert.throws(() => parsePageRange('one', 3), /not a page selection/);
});
