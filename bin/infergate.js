#!/usr/bin/env node
// The `infergate` executable: runs the compiled command line from dist/.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const entry = path.join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
if (!fs.existsSync(entry)) {
  process.stderr.write('infergate: not built yet; run `npm ci && npm run build` first\n');
  process.exit(1);
}
const cli = require(entry);

cli.main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`infergate: ${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 1;
  },
);
