#!/usr/bin/env node
'use strict';
require('../dist/cli/coxswain.js').runMain(process.argv.slice(2));
