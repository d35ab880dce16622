// Legacy @iota/core (1.0.0-beta.30) wallet flow against a Tanglegate node.
// Usage: node flow.js <provider URL> <MWM>
// Prints one JSON object on stdout: {"nodeInfo":..., "address":..., "cases":[{"name", "tail",
// "bundle": [trytes, tail first], "found": n, "states": [...]}]}. Exits 1 with the error on stderr.
'use strict';
const { composeAPI } = require('@iota/core');
const { asciiToTrytes } = require('@iota/converter');

const [provider, mwmArg] = process.argv.slice(2);
const mwm = Number(mwmArg || 3);
const iota = composeAPI({ provider });
const seed = 'SEED9'.repeat(16) + 'B';

function check(cond, what) {
  if (!cond) throw new Error(what);
}

async function main() {
  const info = await iota.getNodeInfo();
  check(info.appName === 'tanglegate', `getNodeInfo: appName ${info.appName}`);
  const address = await iota.getNewAddress(seed, { index: 0, security: 2 });
  check(typeof address === 'string' && address.length === 81, `getNewAddress: ${address}`);
  const cases = [
    { name: 'zero value without message', transfer: { address, value: 0, tag: 'IOTACORE9ZERO' } },
    {
      name: 'message spanning two transactions',
      transfer: { address, value: 0, tag: 'IOTACORE9MESSAGE', message: asciiToTrytes('hello from @iota/core ' + 'x'.repeat(1200)) },
    },
  ];
  const out = [];
  for (const c of cases) {
    const trytes = await iota.prepareTransfers(seed, [c.transfer]);
    const sent = await iota.sendTrytes(trytes, 3, mwm); // remote PoW: attachToTangle on our node
    const tail = sent.find((t) => t.currentIndex === 0).hash;
    const bundle = await iota.getBundle(tail); // traverses trunks with getTrytes, validates
    check(bundle.length === sent.length, `${c.name}: getBundle returned ${bundle.length} of ${sent.length}`);
    const found = await iota.findTransactionObjects({ bundles: [bundle[0].bundle] });
    check(found.length === bundle.length, `${c.name}: findTransactionObjects found ${found.length}`);
    const byAddr = await iota.findTransactionObjects({ addresses: [address] });
    check(byAddr.some((t) => t.hash === tail), `${c.name}: findTransactionObjects by address misses the tail`);
    const raw = await iota.getTrytes(bundle.map((t) => t.hash));
    check(raw.length === bundle.length && raw.every((r) => r.length === 2673), `${c.name}: getTrytes`);
    const states = await iota.getInclusionStates([tail]);
    check(states.length === 1 && typeof states[0] === 'boolean', `${c.name}: getInclusionStates ${states}`);
    out.push({ name: c.name, tail, bundle: raw, found: found.length, states });
  }
  process.stdout.write(JSON.stringify({ appName: info.appName, address, cases: out }) + '\n');
}

main().catch((err) => {
  process.stderr.write(`iotacore flow failed: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
