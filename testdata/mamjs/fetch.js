#!/usr/bin/env node
// Reads a MAM channel from an IRI-compatible node with @iota/mam.js mamFetchAll.
//
//   node fetch.js < {"provider": "http://127.0.0.1:14265", "root": "...", "mode": "public|private|restricted", "sideKey"?: "..."}
//     -> {"messages": [{"message": "TRYTES", "nextRoot": "..."}]}
"use strict";
const { composeAPI } = require("@iota/core");
const mam = require("@iota/mam.js");

async function main() {
  const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const api = composeAPI({ provider: input.provider });
  const side = input.mode === "restricted" ? input.sideKey : undefined;
  const messages = await mam.mamFetchAll(api, input.root, input.mode, side);
  process.stdout.write(JSON.stringify({ messages }) + "\n");
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + "\n");
  process.exit(1);
});
