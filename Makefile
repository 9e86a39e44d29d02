# The two set-up commands of the README: `make demo` and `make test`. Both install what they need first.
.PHONY: bench-delta test-object-stores deps demo dev test test-unit test-integration test-interop lint typecheck bench clean test-nats-current

deps: node_modules/.installed
	@scripts/ensure-nats-server.sh

node_modules/.installed: package.json package-lock.json
	# npm ci rejects this npm's lock files (optional platform packages of rollup are not recorded), so install from the lock.
	npm install --no-audit --no-fund
	@touch $@

demo: deps
	npx tsx cli/main.ts demo

dev: deps
	npx tsx cli/main.ts dev

typecheck: deps
	npx tsc -p tsconfig.json

lint: deps
	npx eslint .

test: deps
	npx tsc -p tsconfig.json
	npx eslint .
	npm test

test-unit: deps
	npx vitest run --project unit

test-integration: deps
	npx vitest run --project integration

# Our Delta tables read by real readers (delta-rs via the Python deltalake package, DuckDB).
test-interop: deps
	python3 -m pip install -q deltalake duckdb pyarrow
	SLUICE_REQUIRE_INTEROP=1 npx vitest run libs/delta/interop.test.ts

bench: deps
	npx tsx test/bench/main.ts

# Splitter and parser of every source family on 100 000 varied fixture records each: events/s and MB/s per core.
.PHONY: bench-parsers
bench-parsers: deps
	npx tsx test/bench/parsers.ts --records 100000

# Delta writer alone: 1 M rows into a partitioned table, file sizes, checkpoint cost at 100 commits.
bench-delta: deps
	npx tsx test/bench/deltaWrite.ts --rows 1000000

clean:
	rm -rf .sluice

# The integration and e2e suites against a current nats-server (pinned in the script) instead of Debian's 2.9.10.
test-nats-current: deps
	scripts/install-current-nats-server.sh
	NATS_SERVER_BIN=$$HOME/go/bin/nats-server npx vitest run --project integration

# Kafka (and the Event Hubs Kafka endpoint) against a real Kafka broker in KRaft mode with a SASL PLAIN listener;
# the jars come from Maven Central (needs Java 17 and Maven).
.PHONY: test-kafka
test-kafka: deps
	bash scripts/install-kafka.sh
	SLUICE_REQUIRE_KAFKA=1 npx vitest run --project integration test/integration/kafkaSource.test.ts test/integration/notifierEventHubs.test.ts test/e2e/replay.test.ts test/e2e/secrets.test.ts

# Object stores against real servers: MinIO (built with go install, minutes the first time) and Azurite (npm); with
# them the end-to-end test of every input kind (it includes Kafka when `make test-kafka` installed the broker).
test-object-stores: deps
	scripts/install-s3-server.sh
	SLUICE_REQUIRE_OBJECT_STORES=1 SLUICE_DELTA_CONCURRENCY_SECONDS=60 npx vitest run libs/storage libs/delta/objectStores.test.ts test/integration/deltaConcurrency.test.ts test/integration/sinkObjectStore.test.ts test/integration/objectStoreSource.test.ts test/e2e/inputs.test.ts

# Spark + delta-spark (the reference Delta engine) reads our tables; we append to tables Spark and delta-rs created.
# Needs Java 17; the io.delta jars come from Maven Central through Ivy at Spark's first start (cached in ~/.ivy2).
.PHONY: test-spark
test-spark: deps
	python3 -m pip install -q "pyspark==3.5.*" "delta-spark==3.2.*" deltalake pyarrow
	SLUICE_REQUIRE_SPARK=1 npx vitest run --config test/interop/vitest.config.ts test/interop/spark.test.ts

# Real sample files (../shared/samples; absent on CI: a note and exit 0) through every source family: a report.
# Needs no nats-server. Options: make conformance CONFORMANCE_ARGS="--strict --samples DIR".
.PHONY: conformance
conformance: node_modules/.installed
	npx tsx scripts/conformance.ts $(CONFORMANCE_ARGS)

# The container image (Dockerfile lint, entrypoint) and the Helm chart, offline: helm lint --strict, helm template of
# the default values and every deploy/helm/sluice/ci scenario, kubeconform -strict against the vendored schemas,
# rendered-object and bad-values assertions. Installs helm and kubeconform with go install; refreshes the chart's
# copies of the rules, dashboards and source families first (deploy/helm/sync-files.sh).
.PHONY: test-helm
test-helm: node_modules/.installed
	scripts/install-helm-tools.sh
	deploy/helm/sync-files.sh
	SLUICE_REQUIRE_HELM=1 npx vitest run --config test/deploy/vitest.config.ts test/deploy/helm.test.ts

# Alert rules and dashboards: promtool checks and unit tests of every alert, then every PromQL expression of
# deploy/prometheus/rules.yaml and deploy/grafana/*.json against a real Prometheus scraping a local pipeline.
# Installs Prometheus (Debian's package, else go install) with scripts/install-prometheus.sh.
.PHONY: test-prometheus
test-prometheus: deps
	@PROM_DIR=$$(scripts/install-prometheus.sh) && export PATH="$$PROM_DIR:$$PATH" && \
	  promtool check rules deploy/prometheus/rules.yaml && \
	  (cd deploy/prometheus && promtool test rules rules.test.yaml) && \
	  SLUICE_REQUIRE_PROMETHEUS=1 npx vitest run --config test/deploy/vitest.config.ts test/deploy/promql.test.ts

# DuckDB+delta-rs vs Spark Structured Streaming vs sluice on the same 1 M-event JSON → Delta job (docs/PERFORMANCE.md).
# The Python engines need the packages `make test-interop` and `make test-spark` install.
.PHONY: bench-compare
bench-compare: deps
	python3 -m pip install -q deltalake duckdb pyarrow "pyspark==3.5.*" "delta-spark==3.2.*"
	npx tsx test/bench/compare/main.ts --events 1000000

# JetStream PubAck throughput and latency with the default fsync and with sync_interval: always (nats-server ≥ 2.10).
.PHONY: bench-nats-sync
bench-nats-sync: deps
	scripts/install-current-nats-server.sh
	NATS_SERVER_BIN=$$HOME/go/bin/nats-server npx tsx test/bench/natsSync.ts

# Hostile inputs (random bytes, truncations, deep nesting, huge lines, invalid UTF-8, gzip bombs…) through every source
# family and the collector's framing: no crash, no hang, every record a row or a reason. `fuzz` runs 60 s per target.
.PHONY: fuzz fuzz-ci
fuzz: deps
	npx tsx test/fuzz/main.ts --seconds 60
fuzz-ci: deps
	npx tsx test/fuzz/main.ts --seconds 6

# The chaos suite (docs/GUARANTEES.md): the whole pipeline with replicas, ≥1 M generated events, kill -9 of every
# service kind and of nats-server, crash points, backpressure and scaling; exact counts in every layer at the end.
.PHONY: chaos chaos-ci
chaos: deps
	scripts/install-current-nats-server.sh
	NATS_SERVER_BIN=$$HOME/go/bin/nats-server npx tsx test/chaos/main.ts
chaos-ci: deps
	scripts/install-current-nats-server.sh
	NATS_SERVER_BIN=$$HOME/go/bin/nats-server timeout 2400 npx tsx test/chaos/main.ts --events 100000 --faults 2 --chunk 2500 --seed 1
