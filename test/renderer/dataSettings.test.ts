import { describe, expect, it } from 'vitest';
import { EMPTY_IMPORT_FORM, IMPORT_PRESETS, fieldErrorMap, formatGapMinutes, formatOfFileName, importParams } from '../../src/renderer/stores/data.js';
import { isDirty, newVariant, validateDraft } from '../../src/renderer/stores/settings.js';
import { parseColumnMapping } from '../../src/io/barImport.js';
import { settingsSchema } from '../../src/shared/config.js';
import { importBarsParamsSchema } from '../../src/shared/contract/data.js';

describe('Data screen helpers', () => {
  it('sends only what the trader filled in, trimmed', () => {
    const params = importParams(
      { ...EMPTY_IMPORT_FORM, symbol: ' rb2505 ', exchange: 'SHFE', columns: '  ', tz: 'UTC', datetimeFormat: 'epoch-ms' },
      { name: 'a.json', size: 2, content: '[]' },
    );
    expect(params).toEqual({ fileName: 'a.json', content: '[]', format: 'csv', symbol: 'rb2505', exchange: 'SHFE', interval: '1m', header: 'use', tz: 'UTC', datetimeFormat: 'epoch-ms' });
    expect(importBarsParamsSchema.safeParse(params).success).toBe(true);
  });

  it('presets hold mappings the importer accepts', () => {
    for (const p of IMPORT_PRESETS) if (p.form.columns) expect(() => parseColumnMapping(p.form.columns)).not.toThrow();
    expect(IMPORT_PRESETS.map((p) => p.id)).toEqual(['vnpy', 'backtrader', 'freqtrade']);
  });

  it('reads the format from the file name and writes gap lengths as a trader reads them', () => {
    expect(formatOfFileName('UNITTEST_BTC-1m.JSON')).toBe('json');
    expect(formatOfFileName('2006-01-02-volume-min-001.txt')).toBe('csv');
    expect([1, 59, 60, 90, 1440, 1500, 2880].map(formatGapMinutes)).toEqual(['1 min', '59 min', '1 h', '1 h 30 min', '1 d', '1 d 1 h', '2 d']);
  });

  it('groups field errors by path', () => {
    expect(fieldErrorMap([{ path: 'content', message: 'a' }, { path: 'content', message: 'b' }, { path: 'columns', message: 'c' }])).toEqual({ content: ['a', 'b'], columns: ['c'] });
    expect(fieldErrorMap(undefined)).toEqual({});
  });
});

describe('Settings screen helpers', () => {
  const base = settingsSchema.parse({ variants: [{ name: 'rb-15m', vtSymbol: 'rb2505.SHFE', windowMinutes: 15 }] });

  it('checks the draft with the shared schema, each message on its field', () => {
    expect(validateDraft(base)).toEqual({});
    const bad = { ...base, variants: [{ ...base.variants[0]!, windowMinutes: 7 }, { ...base.variants[0]!, vtSymbol: 'rb2505' }] };
    const errors = validateDraft(bad);
    expect(Object.keys(errors).sort()).toEqual(['variants.0.windowMinutes', 'variants.1.name', 'variants.1.vtSymbol']);
    expect(errors['variants.0.windowMinutes']?.[0]).toMatch(/must divide 60/);
    expect(errors['variants.1.name']).toEqual(['variant 1 is already named "rb-15m"']);
    expect(validateDraft({ ...base, demo: { ...base.demo, speed: Number.NaN } })['demo.speed']).toBeDefined();
  });

  it('a new variant row has a free name and passes the schema', () => {
    const v = newVariant([...base.variants, { ...base.variants[0]!, name: 'variant-2' }]);
    expect(v.name).toBe('variant-3');
    expect(validateDraft({ ...base, variants: [...base.variants, v] })).toEqual({});
  });

  it('dirty means the draft differs from what was loaded', () => {
    const view = { settings: base } as Parameters<typeof isDirty>[0]['view'];
    expect(isDirty({ view, draft: structuredClone(base) })).toBe(false);
    expect(isDirty({ view, draft: { ...base, demo: { ...base.demo, speed: 1 } } })).toBe(true);
  });
});
