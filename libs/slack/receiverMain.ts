// CLI for the local Slack webhook stand-in: `npx tsx libs/slack/receiverMain.ts --port 8099 --out posts.ndjson`.
// Appends each accepted post to an NDJSON file and logs one line per post to stdout.
import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startWebhookReceiver, type ReceivedPost } from './webhookReceiver.ts';

const USAGE = `Usage: tsx libs/slack/receiverMain.ts [options]

Local stand-in for a Slack incoming webhook (answers like Slack: 200 ok, 400 no_text/invalid_payload, 429 + Retry-After).

Options:
  --port <n>              port to listen on, 0 = random (default 8099)
  --host <addr>           address to bind (default 127.0.0.1)
  --out <file>            append each accepted post as one NDJSON line {"received","body"}
  --rate-limit-every <n>  answer every n-th request with 429 and Retry-After: 1
  -h, --help              show this help
`;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}`);
  process.exit(2);
}

function intOption(name: string, value: string | undefined, fallback: number | undefined, min: number): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) fail(`--${name} must be an integer ≥ ${min}, got "${value}"`);
  return n;
}

function parseCli() {
  try {
    return parseArgs({
      options: {
        port: { type: 'string' },
        host: { type: 'string', default: '127.0.0.1' },
        out: { type: 'string' },
        'rate-limit-every': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
}

const args = parseCli();
if (args.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const out = args.out;
let count = 0;
const receiver = await startWebhookReceiver({
  port: intOption('port', args.port, 8099, 0),
  host: args.host,
  rateLimitEvery: intOption('rate-limit-every', args['rate-limit-every'], undefined, 1),
  onPost(post: ReceivedPost) {
    count++;
    // Synchronous append: the line is on disk before the client gets its 200, so "posted" means "in the file".
    if (out !== undefined) appendFileSync(out, `${JSON.stringify({ received: post.received.toISOString(), body: post.body })}\n`);
    process.stdout.write(`${post.received.toISOString()} post #${count} ${summary(post.body)}\n`);
  },
});
process.stdout.write(`slack webhook receiver listening on ${receiver.url}${out !== undefined ? ` → ${out}` : ''}\n`);

function summary(body: unknown): string {
  const text = typeof body === 'object' && body !== null && 'text' in body ? String(body.text) : '(blocks only)';
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length > 160 ? `${oneLine.slice(0, 159)}…` : oneLine;
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    void receiver.close().then(() => {
      process.stdout.write(`receiver stopped after ${count} posts\n`);
      process.exit(0);
    });
  });
}
