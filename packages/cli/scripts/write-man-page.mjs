// Run by `npm run build` after the bundle step: writes dist/multiget.1 (package.json's "man") from the
// flags table, through the built dist/args/manPage.js (an entry point of its own in the build script), so
// the man page can never lag behind the parser.
import { readFileSync, writeFileSync } from 'node:fs';
import { manPage } from '../dist/args/manPage.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
writeFileSync(new URL('../dist/multiget.1', import.meta.url), manPage(version));
