// `helm test`: the pipeline end to end. Posts a fresh sample batch to the collector's HTTP source and waits until
// the sink replicas have committed more rows to the bronze table and to the expected silver table (summed over every
// sink pod's /metrics). Exit 0 = data went collector → splitter → parser → enricher → sink; 1 = it did not in time.
/* global process, fetch, console, setTimeout, AbortSignal */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';

const env = process.env;
const ingestUrl = env.TEST_INGEST_URL;
const sinkMetrics = (env.TEST_SINK_METRICS ?? '').split(',').filter(Boolean);
const expectTable = env.TEST_EXPECT_TABLE ?? '';
const deadline = Date.now() + Number(env.TEST_TIMEOUT_SECONDS ?? 180) * 1000;
const token = readFileSync(env.TEST_TOKEN_FILE, 'utf8').split(/\r?\n/)[0].trim();

/** The default sample: one Defender DeviceNetworkEvents record in the Event Hubs envelope, unique per run. */
function defenderSample() {
  const now = new Date().toISOString();
  return JSON.stringify({
    records: [
      {
        time: now,
        operationName: 'Publish',
        category: 'AdvancedHunting-DeviceNetworkEvents',
        properties: {
          Timestamp: now,
          DeviceId: 'helm-test-device',
          DeviceName: `helm-test-${randomUUID()}.example.com`,
          ReportId: Math.floor(Math.random() * 1e9),
          ActionType: 'ConnectionSuccess',
          LocalIP: '10.0.0.10',
          LocalPort: 50000,
          RemoteIP: '192.0.2.10',
          RemotePort: 443,
          Protocol: 'Tcp',
        },
      },
    ],
  });
}

/** Sum of sluice_delta_rows_total per table over all sink pods (a pod not answering yet counts as 0). */
async function committedRows() {
  const sums = new Map();
  for (const url of sinkMetrics) {
    let text = '';
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      if (res.ok) text = await res.text();
    } catch {
      continue;
    }
    for (const m of text.matchAll(/^sluice_delta_rows_total\{[^}]*table="([^"]+)"[^}]*\}\s+([0-9.e+]+)/gm)) {
      sums.set(m[1], (sums.get(m[1]) ?? 0) + Number(m[2]));
    }
  }
  return sums;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const before = await committedRows();
const body = env.TEST_SAMPLE || defenderSample();
const res = await fetch(ingestUrl, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
const answer = await res.text();
if (res.status !== 202) {
  console.error(`POST ${ingestUrl}: ${res.status} ${answer}`);
  process.exit(1);
}
console.log(`POST ${ingestUrl}: 202 ${answer.trim()}`);

const wanted = ['bronze', ...(expectTable ? [expectTable] : [])];
for (;;) {
  const now = await committedRows();
  const grown = wanted.filter((t) => (now.get(t) ?? 0) > (before.get(t) ?? 0));
  if (grown.length === wanted.length) {
    console.log(`committed: ${wanted.map((t) => `${t} +${(now.get(t) ?? 0) - (before.get(t) ?? 0)}`).join(', ')}`);
    process.exit(0);
  }
  if (Date.now() > deadline) {
    console.error(`timed out: no new rows in ${wanted.filter((t) => !grown.includes(t)).join(', ')} (sink metrics: ${sinkMetrics.join(' ')})`);
    process.exit(1);
  }
  await sleep(3000);
}
