#!/usr/bin/env bash
# Installs the jars of a real Apache Kafka broker (KRaft, no ZooKeeper) for the Kafka source's integration tests,
# without Docker and without the Apache download mirrors: Maven resolves org.apache.kafka:kafka_2.13 and its
# dependencies from Maven Central into $SLUICE_KAFKA_HOME/lib (default ~/.cache/sluice-kafka/<version>/lib).
# Idempotent: does nothing when the lib dir is complete. Prints the lib dir on stdout; test/support/kafkaBroker.ts
# looks there (or set SLUICE_KAFKA_LIB). Needs Java 17+ and Maven 3.
set -euo pipefail
VERSION="${KAFKA_VERSION:-4.1.1}"
HOME_DIR="${SLUICE_KAFKA_HOME:-$HOME/.cache/sluice-kafka}/$VERSION"
LIB="$HOME_DIR/lib"
STAMP="$LIB/.complete"

for tool in java mvn; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$tool not found: install Java 17+ and Maven 3 (apt-get install openjdk-17-jre-headless maven)" >&2
    exit 1
  fi
done
if [ -f "$STAMP" ]; then
  echo "Kafka $VERSION already installed ($(ls "$LIB"/*.jar | wc -l) jars)" >&2
  echo "$LIB"
  exit 0
fi

mkdir -p "$HOME_DIR"
# kafka_2.13 holds the broker (kafka.Kafka) and the storage formatter (kafka.tools.StorageTool); slf4j-simple is the
# logging binding (level set by the test launcher). kafka-tools is not needed: it would pull Kafka Connect and Jetty.
cat >"$HOME_DIR/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>sluice.test</groupId>
  <artifactId>kafka-broker-jars</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-simple</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
EOF
echo "resolving Kafka $VERSION jars from Maven Central into $LIB (first run downloads ~40 MB)…" >&2
rm -rf "$LIB"
# Maven 3.8 prints colour resets even in batch mode: strip them (pipefail keeps its exit status).
mvn -q -B -Dstyle.color=never -f "$HOME_DIR/pom.xml" dependency:copy-dependencies -DoutputDirectory="$LIB" -DincludeScope=runtime 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >&2
touch "$STAMP"
echo "installed Kafka $VERSION: $(ls "$LIB"/*.jar | wc -l) jars" >&2
echo "$LIB"
