// Renders table definitions as Markdown (columns, lineage, partitioning, expectations) for docs/TABLES.md.
// Pure string building from the definition; nothing here is hand-maintained per table.
import { enrichmentColumnsOf, LINEAGE_COLUMNS, EVENT_DATE } from './lineage.ts';
import type { ColumnDef, TableDefinition } from './tableDefinition.ts';

const ACTION_TEXT = {
  warn: 'warn (keep, count)',
  drop: 'drop (count)',
  quarantine: 'quarantine',
  fail: 'fail (stop the stage)',
} as const;

/** Escapes text for a Markdown table cell. */
function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function columnRows(columns: readonly ColumnDef[], withSource: boolean): string[] {
  const head = withSource
    ? ['| Column | Type | Nullable | Source | Description |', '|---|---|---|---|---|']
    : ['| Column | Type | Nullable | Description |', '|---|---|---|---|'];
  const rows = columns.map((c) => {
    const type = c.type === 'timestamp' && c.unit ? `timestamp (numbers in ${c.unit})` : c.type === 'map' ? 'map<string,string>' : c.type;
    const nullable = c.nullable === false ? 'no' : 'yes';
    const parts = [`\`${c.name}\``, type, nullable];
    if (withSource) parts.push(`\`${c.from ?? c.name}\``);
    parts.push(cell(c.doc ?? ''));
    return `| ${parts.join(' | ')} |`;
  });
  return [...head, ...rows];
}

/** Anchor-friendly heading id of a table (GitHub style). */
export function markdownAnchorOf(def: TableDefinition): string {
  return def.name.toLowerCase().replace(/[^a-z0-9_ -]/g, '').replace(/ /g, '-');
}

/** One table as Markdown: heading, doc, layer/partitioning facts, columns, lineage (silver) and expectations. */
export function markdownOf(def: TableDefinition, headingLevel = 2): string {
  const h = '#'.repeat(headingLevel);
  const out: string[] = [`${h} ${def.name}`, '', def.doc, ''];
  out.push(`- Layer: ${def.layer}`);
  out.push(`- Partitioned by: ${def.partitionBy.length ? def.partitionBy.map((p) => `\`${p}\``).join(', ') : '(none)'}`);
  if (def.eventTime) out.push(`- Event time: \`${def.eventTime}\` (UTC date → \`${EVENT_DATE}\`)`);
  out.push('', `${h}# Columns`, '', ...columnRows(def.columns, true), '');
  const enrichment = def.layer === 'silver' ? enrichmentColumnsOf(def) : [];
  if (enrichment.length > 0) {
    const of = [...(def.enrich?.geoip ?? []).map((c) => `\`${c}\` (GeoIP)`), ...(def.enrich?.domain ?? []).map((c) => `\`${c}\` (registered domain)`), ...(def.enrich?.attribution ?? []).map((c) => `\`${c}\` (IP attribution)`)];
    out.push(`${h}# Enrichment columns`, '', `Filled by the enricher for ${of.join(', ')}; the enricher's configuration can change which columns are enriched (enricher.tables).`, '', ...columnRows(enrichment, false), '');
  }
  if (def.layer === 'silver') {
    const extra: ColumnDef[] = [...LINEAGE_COLUMNS];
    if (!def.columns.some((c) => c.name === EVENT_DATE)) {
      extra.push({ name: EVENT_DATE, type: 'date', nullable: false, doc: def.eventTime ? `UTC date of \`${def.eventTime}\`` : 'UTC date of `_ingest_time`' });
    }
    out.push(`${h}# Lineage columns`, '', 'Filled by the parser stage on every silver row.', '', ...columnRows(extra, false), '');
  }
  out.push(`${h}# Expectations`, '');
  out.push('Records whose required columns are missing or of the wrong type are quarantined before expectations run.', '');
  if (def.expectations.length === 0) {
    out.push('(none)', '');
  } else {
    out.push('| Expectation | On failure | Rule |', '|---|---|---|');
    for (const e of def.expectations) out.push(`| \`${e.name}\` | ${ACTION_TEXT[e.action]} | ${cell(e.description)} |`);
    out.push('');
  }
  return out.join('\n');
}

/** Several tables under one title with a table of contents. */
export function markdownOfTables(defs: readonly TableDefinition[], title = 'Tables'): string {
  const toc = defs.map((d) => `- [${d.name}](#${markdownAnchorOf(d)}) — ${d.layer}`);
  return [`# ${title}`, '', ...toc, '', ...defs.map((d) => markdownOf(d, 2))].join('\n');
}
