// The local pipeline's process list: replicas of the stateless services share their arguments (and so their durable
// consumers); detector and sink replicas get their replica number and count.
import { describe, expect, it } from 'vitest';
import { serviceList } from './pipeline.ts';

describe('serviceList', () => {
  const sources = [
    { source: 'defender', family: 'defender' },
    { source: 'zeek', family: 'zeek' },
  ];

  it('keeps one process per service by default', () => {
    expect(serviceList(1, sources).map((s) => s.name)).toEqual(['collector', 'splitter', 'parser-defender', 'parser-others', 'enricher', 'detector', 'notifier', 'sink']);
  });

  it('starts numbered replicas with the same arguments, and partitioned replicas with their number', () => {
    const list = serviceList(2, sources, { replicas: { splitter: 2, parser: 2, enricher: 3 }, detectorReplicas: 2 });
    expect(list.map((s) => s.name)).toEqual([
      'collector',
      'splitter-0',
      'splitter-1',
      'parser-defender-0',
      'parser-defender-1',
      'parser-others-0',
      'parser-others-1',
      'enricher-0',
      'enricher-1',
      'enricher-2',
      'detector-0',
      'detector-1',
      'notifier',
      'sink-0',
      'sink-1',
    ]);
    const by = new Map(list.map((s) => [s.name, s.args]));
    expect(by.get('parser-defender-1')).toEqual(by.get('parser-defender-0'));
    expect(by.get('parser-defender-0')).toEqual(['--source', 'defender', '--family', 'defender']);
    expect(by.get('detector-1')).toEqual(['--set', 'detector.replica=1', '--set', 'detector.replicas=2']);
    expect(by.get('sink-0')).toEqual(['--set', 'sink.replica=0', '--set', 'sink.replicas=2']);
  });
});
