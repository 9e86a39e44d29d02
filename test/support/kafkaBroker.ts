// Starts a real Apache Kafka broker for tests: one KRaft node (broker + controller) from the jars that
// scripts/install-kafka.sh resolves from Maven Central, on free loopback ports, with a PLAINTEXT listener and a
// SASL_PLAINTEXT listener that accepts SASL PLAIN as Azure Event Hubs clients send it (user `$ConnectionString`,
// password = a connection string). Temporary log dirs are removed on stop.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { freePort, stopChild } from '../../cli/natsProcess.ts';

export const KAFKA_VERSION = process.env.KAFKA_VERSION ?? '4.1.1';
export const EVENT_HUBS_USER = '$ConnectionString';
export const EVENT_HUBS_PASSWORD = 'Endpoint=sb://sluice-test.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=c2x1aWNlLXRlc3Qta2V5LW5vdC1hLXNlY3JldA==';

export interface KafkaBrokerHandle {
  /** host:port of the PLAINTEXT listener (test producers and admin). */
  plaintext: string;
  /** host:port of the SASL_PLAINTEXT listener (SASL PLAIN). */
  sasl: string;
  users: Record<string, string>;
  readonly process: ChildProcess;
  /** Admin client on the PLAINTEXT listener, connected. */
  admin: Admin;
  createTopic(topic: string, partitions: number): Promise<void>;
  /** Last lines the broker wrote (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

/** The lib dir holding the broker jars, or null when not installed. */
export function findKafkaLib(): string | null {
  const dir = process.env.SLUICE_KAFKA_LIB ?? join(process.env.SLUICE_KAFKA_HOME ?? join(homedir(), '.cache', 'sluice-kafka'), KAFKA_VERSION, 'lib');
  if (!existsSync(dir)) return null;
  return readdirSync(dir).some((f) => /^kafka_2\.13-.*\.jar$/.test(f)) ? dir : null;
}

/** Why a real broker cannot run here (null when it can): tests skip with this message. */
export function kafkaUnavailableReason(): string | null {
  try {
    execFileSync('java', ['-version'], { stdio: 'ignore' });
  } catch {
    return 'java not found (install a Java 17+ runtime)';
  }
  if (!findKafkaLib()) return `Kafka ${KAFKA_VERSION} jars not found: run scripts/install-kafka.sh (or set SLUICE_KAFKA_LIB)`;
  return null;
}

// Small heap, serial GC and the C1 compiler only: the broker starts in a few seconds and stays small on 2 cores.
const JVM_OPTS = ['-Xmx512m', '-Xms64m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Djava.awt.headless=true', '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn'];

function jaasValue(s: string): string {
  // The JAAS option value is a quoted string inside a .properties line: keep it free of quotes and escapes.
  if (/["\\\n\r]/.test(s)) throw new Error(`SASL test credential may not contain quotes, backslashes or newlines: ${s}`);
  return s;
}

export async function startKafkaBroker(opts: { users?: Record<string, string> } = {}): Promise<KafkaBrokerHandle> {
  const lib = findKafkaLib();
  if (!lib) throw new Error(kafkaUnavailableReason() ?? 'Kafka jars not found');
  const users = opts.users ?? { [EVENT_HUBS_USER]: EVENT_HUBS_PASSWORD };
  const dir = mkdtempSync(join(tmpdir(), 'sluice-kafka-'));
  const [plainPort, controllerPort, saslPort] = [await freePort(), await freePort(), await freePort()];
  const jaasUsers = Object.entries(users)
    .map(([u, p]) => `user_${jaasValue(u)}="${jaasValue(p)}"`)
    .join(' ');
  const props = [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.bootstrap.servers=127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${plainPort},CONTROLLER://127.0.0.1:${controllerPort},SASL://127.0.0.1:${saslPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${plainPort},SASL://127.0.0.1:${saslPort}`,
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL:SASL_PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'sasl.enabled.mechanisms=PLAIN',
    `listener.name.sasl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ${jaasUsers};`,
    `log.dirs=${join(dir, 'data')}`,
    'num.partitions=1',
    'auto.create.topics.enable=false',
    // One node: internal topics with one replica and one partition, no rebalance delay.
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
  ];
  const propsFile = join(dir, 'server.properties');
  writeFileSync(propsFile, props.join('\n') + '\n');
  const cp = `${lib}/*`;
  // A Kafka cluster id is 16 random bytes in URL-safe base64 (what `StorageTool random-uuid` prints).
  // One id in 64 starts with '-', which the tool's argument parser takes for an option: draw again.
  let clusterId = randomBytes(16).toString('base64url');
  while (clusterId.startsWith('-')) clusterId = randomBytes(16).toString('base64url');
  try {
    execFileSync('java', [...JVM_OPTS, '-cp', cp, 'kafka.tools.StorageTool', 'format', '--standalone', '-t', clusterId, '-c', propsFile, '--ignore-formatted'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 60_000,
    });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`formatting Kafka storage failed: ${String((e as { stderr?: Buffer }).stderr ?? (e as Error).message).slice(-2000)}`);
  }
  const child = spawn('java', [...JVM_OPTS, '-cp', cp, 'kafka.Kafka', propsFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const onData = (d: Buffer) => (log = (log + d.toString()).slice(-16_000));
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const cleanup = async () => {
    await stopChild(child, 'SIGTERM', 10_000);
    rmSync(dir, { recursive: true, force: true });
  };

  const kafka = new Kafka({ clientId: 'sluice-test-admin', brokers: [`127.0.0.1:${plainPort}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  const admin = kafka.admin();
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) {
      await cleanup();
      throw new Error(`Kafka broker exited (${child.exitCode}): ${log}`);
    }
    try {
      await admin.connect();
      await admin.describeCluster();
      break;
    } catch {
      await admin.disconnect().catch(() => undefined);
      if (Date.now() > deadline) {
        await cleanup();
        throw new Error(`Kafka broker not ready after 90 s: ${log}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  return {
    plaintext: `127.0.0.1:${plainPort}`,
    sasl: `127.0.0.1:${saslPort}`,
    users,
    process: child,
    admin,
    async createTopic(topic, partitions) {
      await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true, timeout: 30_000 });
    },
    log: () => log,
    async stop() {
      await admin.disconnect().catch(() => undefined);
      await cleanup();
    },
  };
}
