#!/usr/bin/env node
// Reference @iota/mam.js helper for Tanglegate's mam tests and benchmarks.
//
//   node mam.js create < {"channel": {seed, mode, sideKey?, security, start, count, nextCount, index}, "messages": ["TRYTES", ...]}
//     -> {"messages": [{root, address, nextRoot, payload, state: {start, count, nextCount, index}}]}
//   node mam.js parse  < [{"payload", "root", "sideKey"?}, ...]
//     -> [{"message", "nextRoot"} | {"error"}]
//   node mam.js bench  < {"channel": {...}, "messages": [...], "parse": [{payload, root, sideKey?}], "seconds": 2}
//     -> {"create_ops_per_s", "parse_ops_per_s", "create_ops", "parse_ops"}
//
// No network: messages are exchanged as JSON on stdin/stdout.
"use strict";
const mam = require("@iota/mam.js");

function readStdin() {
  return JSON.parse(require("fs").readFileSync(0, "utf8"));
}

function newChannel(c) {
  const ch = mam.createChannel(c.seed, c.security, c.mode, c.mode === "restricted" ? c.sideKey : undefined);
  for (const k of ["start", "count", "nextCount", "index"]) {
    if (c[k] !== undefined) ch[k] = c[k];
  }
  return ch;
}

function create(input) {
  const ch = newChannel(input.channel);
  const out = [];
  for (const m of input.messages) {
    const msg = mam.createMessage(ch, m);
    out.push({
      root: msg.root,
      address: msg.address,
      nextRoot: ch.nextRoot,
      payload: msg.payload,
      state: { start: ch.start, count: ch.count, nextCount: ch.nextCount, index: ch.index },
    });
  }
  return { messages: out };
}

function parse(input) {
  return input.map((p) => {
    try {
      const r = mam.parseMessage(p.payload, p.root, p.sideKey || undefined);
      return { message: r.message, nextRoot: r.nextRoot };
    } catch (e) {
      return { error: String(e && e.message ? e.message : e) };
    }
  });
}

function bench(input) {
  const seconds = input.seconds || 2;
  const deadline = (t0) => Date.now() - t0 < seconds * 1000;
  let n = 0;
  let t0 = Date.now();
  while (deadline(t0)) {
    const ch = newChannel(input.channel);
    for (const m of input.messages) {
      mam.createMessage(ch, m);
      n++;
    }
  }
  const createRate = n / ((Date.now() - t0) / 1000);
  const nCreate = n;
  n = 0;
  t0 = Date.now();
  while (deadline(t0)) {
    for (const p of input.parse) {
      mam.parseMessage(p.payload, p.root, p.sideKey || undefined);
      n++;
    }
  }
  const parseRate = n / ((Date.now() - t0) / 1000);
  return { create_ops_per_s: createRate, parse_ops_per_s: parseRate, create_ops: nCreate, parse_ops: n };
}

const cmds = { create, parse, bench };
const cmd = cmds[process.argv[2]];
if (!cmd) {
  process.stderr.write("usage: node mam.js create|parse|bench < input.json\n");
  process.exit(2);
}
process.stdout.write(JSON.stringify(cmd(readStdin())) + "\n");
