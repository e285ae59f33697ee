// Mocha's spec reporter plus, at the end, the 10 slowest tests and hooks (so the suite's time budget stays visible:
// a test that grows shows up here first) and one plain closing line, "N passed, N failed, N skipped", that CI and
// people can read without knowing mocha's format. Works in parallel mode too (durations come from the workers).
'use strict';
const path = require('node:path');
const Mocha = require('mocha');

const SLOWEST = 10;

class SpecWithSummary extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const timed = [];
    const record = (kind) => (runnable) => {
      if (typeof runnable.duration !== 'number') return;
      // a hook's full title names its suite twice: `<suite> "before all" hook in "<suite>"`
      const title = (typeof runnable.fullTitle === 'function' ? runnable.fullTitle() : runnable.title).replace(/ in ".*"$/, '');
      const file = runnable.file ? path.relative(process.cwd(), runnable.file) : '';
      timed.push({ kind, title, file, ms: runnable.duration });
    };
    runner.on('test end', record('test'));
    runner.on('hook end', record('hook'));
    runner.once('end', () => {
      const { passes, failures, pending } = this.stats;
      const slowest = timed.sort((a, b) => b.ms - a.ms).slice(0, SLOWEST);
      if (slowest.length > 0) {
        console.log(`\n  slowest ${slowest.length}:`);
        for (const t of slowest) console.log(`  ${(t.ms / 1000).toFixed(1).padStart(6)} s  ${t.kind === 'hook' ? '[hook] ' : ''}${t.title}${t.file ? `  (${t.file})` : ''}`);
        console.log('');
      }
      console.log(`${passes} passed, ${failures} failed, ${pending} skipped`);
    });
  }
}

module.exports = SpecWithSummary;
