import fc from 'fast-check';
import { parse as parseCsv } from 'csv-parse/sync';
import { renderCsv, neutralizeFormula, CSV_COLUMNS } from '../../src/report/render/csv';
import { escapeHtml, renderHtml } from '../../src/report/render/html';
import { renderReport } from '../../src/report/render/index';
import { renderTable } from '../../src/report/render/table';
import { progressBar } from '../../src/report/progress';
import { REPORT_FORMATS } from '../../src/report/types';
import { A, described, report } from '../fixtures/report/cases';

describe('table', () => {
  it('prints one aligned line per cluster and scope error, in account and region order, then the summary', () => {
    const text = renderTable(report());
    const lines = text.trimEnd().split('\n');

    expect(lines[0]).toMatch(/^ACCOUNT\s+REGION\s+CLUSTER\s+VERDICT\s+RULE\s+ENDPOINT\s+VIOLATIONS$/);
    const verdictColumn = lines[0]!.indexOf('VERDICT');
    const body = lines.slice(1, -2);
    expect(body.map((l) => l.slice(verdictColumn).split(/\s+/)[0])).toEqual(['COMPLIANT', 'COMPLIANT', 'VIOLATION', 'ERROR', 'EXEMPT', 'ERROR']);
    expect(body[3]).toContain('gone');
    expect(body[5]).toMatch(/^777788889999\s+us-east-1\s+\(clusters not listed\)\s+ERROR/);
    expect(body[2]).toContain('public on (0.0.0.0/0), private off');
    expect(body[2]).toContain('PRIVATE_ACCESS_REQUIRED, PUBLIC_ACCESS_FORBIDDEN');
    expect(body[4]).toContain('exempt by legacy-vpn until 2099-12-31; PUBLIC_CIDR_NOT_ALLOWED(0.0.0.0/0)');
    expect(lines.at(-2)).toBe('');
    expect(lines.at(-1)).toBe('5 clusters in 3 accounts × 2 regions: 2 compliant, 1 violation, 1 exempt, 2 error (1 account/region scope unreadable)');
  });

  it('never writes a control character a terminal would act on', () => {
    const r = report();
    r.errors[0] = { ...r.errors[0]!, error: { code: "X", message: "bad\u001b[2Jthing\r\n" } };

    expect(renderTable(r)).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
  });

  it('says so when there is no cluster at all', () => {
    expect(renderTable(report([], { accounts: [A], regions: ['us-east-1'] }))).toBe('(no clusters)\n\n0 clusters in 1 account × 1 region: 0 compliant, 0 violation, 0 exempt, 0 error\n');
  });
});

describe('csv', () => {
  it('has the documented header and one record per row, CRLF line ends', () => {
    const text = renderCsv(report());
    const records = parseCsv(text, { columns: true }) as Record<string, string>[];

    expect(text.split('\r\n')[0]).toBe(CSV_COLUMNS.join(','));
    expect(text.endsWith('\r\n')).toBe(true);
    expect(records.map((r) => [r.cluster, r.verdict])).toEqual([
      ['dev-web', 'compliant'],
      ['prod-api', 'compliant'],
      ['prod-web', 'violation'],
      ['gone', 'error'],
      ['legacy-billing', 'exempt'],
      ['(clusters not listed)', 'error'],
    ]);
    expect(records[2]).toMatchObject({ rule: 'prod-private-only', action: 'remediate', endpoint_public_access: 'true', violations: 'PRIVATE_ACCESS_REQUIRED PUBLIC_ACCESS_FORBIDDEN' });
    expect(records[5]).toMatchObject({ error_code: 'AccessDenied', error: expect.stringContaining('AssumeRole') });
  });

  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
  ])('quotes %j as RFC 4180 asks', (message, cell) => {
    const r = report();
    r.errors[0]!.error = { code: 'X', message };

    expect(renderCsv(r).trimEnd().split('\r\n').at(-1)).toBe(`777788889999,us-east-1,(clusters not listed),,error,,,,,,,,,,,X,${cell.startsWith('"') ? `"X: ${cell.slice(1)}` : `X: ${cell}`}`);
  });

  it.each([['=HYPERLINK("http://x")'], ['+1'], ['-1+2'], ['@SUM(A1)'], ['\tx']])('neutralizes the formula %j with a leading apostrophe', (cell) => {
    expect(neutralizeFormula(cell)).toBe(`'${cell}`);
    expect(neutralizeFormula(`a${cell}`)).toBe(`a${cell}`);
  });

  it('parses back to what was written, whatever the text (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (message) => {
        const r = report();
        r.errors[0]!.error = { code: 'X', message: `m${message}` };
        const rows = parseCsv(renderCsv(r), { columns: true }) as Record<string, string>[];
        expect(rows.at(-1)!.error).toBe(`X: m${message}`);
      }),
    );
  });
});

describe('html', () => {
  const withTag = (key: string, value: string) => report([described({ name: 'dev-web', cidrs: ['203.0.113.0/24'], tags: { [key]: value } })], { accounts: [A], regions: ['us-east-1'] });
  const countLt = (s: string) => s.split('<').length - 1;

  it.each([
    ['<script>alert(1)</script>', 'v'],
    ['k', '<img src=x onerror=alert(1)>'],
    ['"><svg onload=alert(1)>', "' onmouseover='alert(1)"],
    ['k', '</code></li></ul></td></tr></tbody></table><script>alert(1)</script>'],
  ])('escapes the tag %j=%j: it adds no markup to the page', (key, value) => {
    const page = renderHtml(withTag(key, value));

    expect(countLt(page)).toBe(countLt(renderHtml(withTag('k', 'v'))));
    expect(page).toContain(`<code>${escapeHtml(`${key}=${value}`)}</code>`);
    expect(page.match(/<script/g)).toHaveLength(1);
  });

  it('adds no markup whatever a cluster owner writes in a tag (property)', () => {
    const plain = countLt(renderHtml(withTag('k', 'v')));
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 30 }), fc.string({ maxLength: 30 }), (key, value) => {
        expect(countLt(renderHtml(withTag(key, value)))).toBe(plain);
      }),
    );
  });

  it('escapes the five characters that matter', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });

  it('fetches nothing and allows only its own script (Content-Security-Policy with the script hash)', async () => {
    const page = renderHtml(report());
    const { createHash } = await import('node:crypto');
    const script = /<script>([\s\S]*?)<\/script>/.exec(page)![1]!;
    const hash = createHash('sha256').update(script).digest('base64');

    expect(page).toContain(`script-src 'sha256-${hash}'`);
    expect(page).toContain("default-src 'none'");
    expect(page).not.toMatch(/\b(src|href)=["']?(https?:)?\/\//);
  });

  it('shows the totals and one chart bar per account and region', () => {
    const page = renderHtml(report());

    expect(page).toContain('id="count-violation">1<');
    expect(page).toContain('id="count-error">2<');
    expect(page.match(/<g class="bar"/g)).toHaveLength(6);
  });
});

describe('renderReport', () => {
  it.each(REPORT_FORMATS)('renders %s', (format) => {
    const text = renderReport(report(), format);
    expect(text.length).toBeGreaterThan(100);
    if (format === 'json') expect(JSON.parse(text)).toEqual(report());
    if (format === 'asff') expect(JSON.parse(text)).toHaveLength(6);
  });
});

describe('progress bar', () => {
  it('draws only on a terminal, and clears its line at the end', () => {
    const written: string[] = [];
    const tty = { isTTY: true, columns: 60, write: (t: string) => written.push(t) };
    const pipe = { isTTY: false, write: (t: string) => written.push(`pipe:${t}`) };
    let t = 0;

    const bar = progressBar(tty, 'calls', () => (t += 1000));
    bar.update(1, 4);
    bar.update(4, 4);
    bar.finish();
    const none = progressBar(pipe);
    none.update(1, 2);
    none.finish();

    expect(written).toEqual([`\r\u001b[2K[${'#'.repeat(8)}${'.'.repeat(22)}] 1/4 calls`, `\r\u001b[2K[${'#'.repeat(30)}] 4/4 calls`, '\r\u001b[2K']);
  });
});
