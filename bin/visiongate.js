#!/usr/bin/env node
// Runs the compiled CLI; `npm run build` (run by npm start/test) produces dist/.
import { main } from '../dist/src/cli/main.js';

const code = await main(process.argv.slice(2));
if (code >= 0) process.exit(code);
