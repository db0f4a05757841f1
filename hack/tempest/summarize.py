#!/usr/bin/python3
"""Summarise a Tempest (stestr) subunit v2 stream and compare it with a baseline.

  stestr last --subunit | summarize.py [--baseline results-nova-zed.txt] > results.txt

Prints the counts as Tempest reports them; with --baseline, the tests the baseline passes
that do not pass here (with this run's outcome and message) and the tests passing here that
the baseline does not pass; then one line per test id: OUTCOME<TAB>id<TAB>detail (the skip
reason, or the last line of a failure's traceback). $TRACEBACKS names a file for the full
tracebacks of failures. The baseline is a file of the same lines (its "ALL RESULTS" part).
"""
import argparse
import os
import sys

import subunit
import testtools

NAMES = {'success': 'PASS', 'fail': 'FAIL', 'skip': 'SKIP', 'xfail': 'XFAIL',
         'uxsuccess': 'UXSUCCESS'}


def read_stream(stream):
    results, tracebacks = {}, []

    def on_test(test):
        status, details, detail = test['status'], test['details'], ''
        if status == 'skip':
            r = details.get('reason')
            detail = r.as_text().strip() if r else ''
        elif status in ('fail', 'uxsuccess'):
            tb = details.get('traceback')
            text = tb.as_text() if tb else ''
            lines = [l for l in text.strip().splitlines() if l.strip()]
            detail = lines[-1].strip() if lines else ''
            tracebacks.append((test['id'], text))
        if status in ('exists', 'inprogress'):
            return  # listed, never run: not a result
        results[test['id']] = (NAMES.get(status, status.upper()), detail)

    res = testtools.StreamToDict(on_test)
    res.startTestRun()
    subunit.ByteStreamToStreamResult(stream, non_subunit_name='stdout').run(res)
    res.stopTestRun()
    return results, tracebacks


def read_baseline(path):
    """Outcome by test id, from the baseline's OUTCOME<TAB>id<TAB>detail lines."""
    out = {}
    with open(path) as f:
        for line in f:
            parts = line.rstrip('\n').split('\t')
            if len(parts) >= 2 and parts[0] in NAMES.values():
                out[parts[1]] = parts[0]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--baseline')
    args = ap.parse_args()
    results, tracebacks = read_stream(sys.stdin.buffer)
    counts = {}
    for outcome, _ in results.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    print('COUNTS (a class-level skip or setUpClass failure counts once, as Tempest counts)')
    print('  total %d: passed %d, failed %d, skipped %d%s' % (
        len(results), counts.get('PASS', 0), counts.get('FAIL', 0), counts.get('SKIP', 0),
        ''.join(', %s %d' % (k, v) for k, v in sorted(counts.items())
                if k not in ('PASS', 'FAIL', 'SKIP'))))
    if args.baseline:
        base = read_baseline(args.baseline)
        passing = sorted(t for t, o in base.items() if o == 'PASS')
        lost = [t for t in passing if results.get(t, ('NOT RUN', ''))[0] != 'PASS']
        gained = sorted(t for t, (o, _) in results.items() if o == 'PASS' and base.get(t) != 'PASS')
        print('  baseline passes %d; of them %d pass here, %d do not'
              % (len(passing), len(passing) - len(lost), len(lost)))
        print()
        print('PASS IN THE BASELINE, NOT HERE (%d)' % len(lost))
        for t in lost:
            outcome, detail = results.get(t, ('NOT RUN', ''))
            print('  %s\t%s\t%s' % (outcome, t, detail[:300]))
        print()
        print('PASS HERE, NOT IN THE BASELINE (%d)' % len(gained))
        for t in gained:
            print('  %s\t%s' % (base.get(t, 'absent'), t))
    print()
    print('FAILURES (%d)' % counts.get('FAIL', 0))
    for t in sorted(results):
        if results[t][0] == 'FAIL':
            print('  %s\t%s' % (t, results[t][1][:300]))
    print()
    print('ALL RESULTS')
    for t in sorted(results):
        outcome, detail = results[t]
        print('%s\t%s\t%s' % (outcome, t, detail[:300]))
    if os.environ.get('TRACEBACKS'):
        with open(os.environ['TRACEBACKS'], 'w') as f:
            for t, text in tracebacks:
                f.write('=' * 70 + '\n%s\n' % t + '-' * 70 + '\n' + text + '\n')


if __name__ == '__main__':
    main()
