// Conformance report: every sample file under a samples folder (<format>/<origin>/…) through its source family's
// framing → route → decode → table validation, counted per family. The work is done by libs/sources/conformance.ts;
// this file reads the folder and prints. Run: npm run conformance -- [--samples DIR] [--json] [--strict]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConformanceRun, familyOfFolder, formatReport, type ConformanceReport } from '../libs/sources/conformance.ts';

const HELP = `usage: npm run conformance -- [--samples DIR] [--json] [--strict]

Runs the real sample files of every source family through the collector's framing, the splitter's route and the
parser's decode + table validation, and reports per family: files, records, routed, kept, dropped, quarantined,
unrouted, rejected, skipped, the top reasons, and rows kept per table.

  --samples DIR  samples folder, laid out <format>/<origin>/<file> (default: ../shared/samples from the repo root)
  --json         machine-readable report on stdout
  --strict       exit 1 when a family with sample files has quarantined, rejected or failed records
  --help         this text

Exit codes: 0 when the report ran (also when the samples folder is absent), 1 with --strict and problems, 2 bad arguments.`;

const repoRoot = resolve(import.meta.dirname, '..');

function parse(): { samples: string; json: boolean; strict: boolean } | undefined {
  try {
    const { values } = parseArgs({
      options: { samples: { type: 'string' }, json: { type: 'boolean' }, strict: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      console.log(HELP);
      process.exit(0);
    }
    return { samples: resolve(repoRoot, values.samples ?? '../shared/samples'), json: values.json ?? false, strict: values.strict ?? false };
  } catch (e) {
    console.error(`conformance: ${(e as Error).message}\n\n${HELP}`);
    return undefined;
  }
}

/** Sample files below `dir`, sorted; hidden files and Markdown (inventories, READMEs) are not samples. */
function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (!name.endsWith('.md')) out.push(p);
  }
  return out;
}

function main(): number {
  const args = parse();
  if (!args) return 2;
  let isDir = false;
  try {
    isDir = statSync(args.samples).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) {
    const msg = `conformance: no samples folder at ${args.samples}; nothing to check (pass --samples DIR)`;
    if (args.json) console.log(JSON.stringify({ samples: args.samples, present: false, message: msg }));
    else console.log(msg);
    return 0;
  }

  const run = new ConformanceRun();
  const ignored: string[] = [];
  const shadowed: string[] = [];
  const started = Date.now();
  for (const folder of readdirSync(args.samples).sort()) {
    const dir = join(args.samples, folder);
    if (folder.startsWith('.') || !statSync(dir).isDirectory()) continue;
    const family = familyOfFolder(folder);
    if (!family) {
      ignored.push(folder);
      continue;
    }
    const files = walk(dir);
    const present = new Set(files);
    process.stderr.write(`conformance: ${folder} → ${family}: ${files.length} files\n`);
    for (const [i, file] of files.entries()) {
      const rel = relative(args.samples, file);
      // An Elastic `<x>-expected.json` beside its raw `<x>` holds the same records again: count them once.
      if (file.endsWith('-expected.json') && present.has(join(dirname(file), basename(file, '-expected.json')))) {
        shadowed.push(rel);
        continue;
      }
      const t = Date.now();
      run.addFile(family, rel, readFileSync(file));
      if (Date.now() - t > 2000) process.stderr.write(`  [${i + 1}/${files.length}] ${rel}: ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
    }
  }
  const report = run.report();
  process.stderr.write(`conformance: ${report.totals.files} files, ${report.totals.records} records in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

  if (args.json) console.log(JSON.stringify({ samples: args.samples, present: true, ...report, ignoredFolders: ignored, shadowedFiles: shadowed }, null, 2));
  else {
    console.log(`samples: ${args.samples}\n`);
    console.log(formatReport(report));
    if (ignored.length) console.log(`\nfolders without a family (not read): ${ignored.join(', ')}`);
    if (shadowed.length) console.log(`expected files skipped (their raw file is present): ${shadowed.join(', ')}`);
  }
  return args.strict && problems(report).length ? 1 : 0;
}

/** Families with sample files whose records were quarantined, rejected or would fail the parser. */
function problems(report: ConformanceReport): string[] {
  const bad = report.families.filter((f) => f.counts.files > 0 && f.counts.quarantined + f.counts.rejected + f.counts.failed > 0).map((f) => f.family);
  if (bad.length) console.error(`conformance --strict: problems in ${bad.join(', ')}`);
  return bad;
}

process.exitCode = main();
