// Independent OPC UA server for Tanglegate's adapters/opcua integration tests.
//
//   node server.js --port 4840 --pki DIR --user gateway --password secret
//
// Endpoints: None and Basic256Sha256 Sign / SignAndEncrypt; anonymous users
// are refused, the one user given is accepted. Client certificates are trusted
// automatically (the test pins the server's certificate, not the other way).
// Namespace "urn:tanglegate:test" holds Objects/Boiler with
//   Boiler.Pressure  Double, +1 every 100 ms (read-only)
//   Boiler.Setpoint  Double, writable
//   Boiler.Running   Boolean, writable
// The certificate lives in DIR, so a restart with the same DIR presents the
// same certificate. Prints "READY" on stdout once listening.
"use strict";
const path = require("path");
const {
  OPCUAServer, Variant, DataType, SecurityPolicy, MessageSecurityMode, OPCUACertificateManager,
} = require("node-opcua");

function arg(name, def) {
  const i = process.argv.indexOf("--" + name);
  return i >= 0 ? process.argv[i + 1] : def;
}

async function main() {
  const port = parseInt(arg("port", "4840"), 10);
  const pki = arg("pki", path.join(__dirname, "pki"));
  const user = arg("user", "gateway");
  const password = arg("password", "secret");

  const serverCertificateManager = new OPCUACertificateManager({
    automaticallyAcceptUnknownCertificate: true,
    rootFolder: path.join(pki, "server"),
  });
  await serverCertificateManager.initialize();
  const userCertificateManager = new OPCUACertificateManager({
    automaticallyAcceptUnknownCertificate: true,
    rootFolder: path.join(pki, "user"),
  });
  await userCertificateManager.initialize();

  const server = new OPCUAServer({
    port,
    hostname: "127.0.0.1",
    alternateHostname: ["localhost"],
    resourcePath: "/",
    serverCertificateManager,
    userCertificateManager,
    securityPolicies: [SecurityPolicy.None, SecurityPolicy.Basic256Sha256],
    securityModes: [MessageSecurityMode.None, MessageSecurityMode.Sign, MessageSecurityMode.SignAndEncrypt],
    allowAnonymous: false,
    userManager: {
      isValidUser: (u, p) => u === user && p === password,
    },
    serverInfo: { applicationUri: "urn:tanglegate:nodeopcua-test", productUri: "urn:tanglegate:nodeopcua-test" },
  });
  await server.initialize();

  const addressSpace = server.engine.addressSpace;
  const ns = addressSpace.registerNamespace("urn:tanglegate:test");
  const boiler = ns.addObject({ organizedBy: addressSpace.rootFolder.objects, browseName: "Boiler" });
  let pressure = 1.0;
  const pv = ns.addVariable({
    componentOf: boiler, browseName: "Pressure", nodeId: "s=Boiler.Pressure", dataType: "Double",
    minimumSamplingInterval: 50,
  });
  pv.setValueFromSource(new Variant({ dataType: DataType.Double, value: pressure }));
  let setpoint = 0.0;
  ns.addVariable({
    componentOf: boiler, browseName: "Setpoint", nodeId: "s=Boiler.Setpoint", dataType: "Double",
    minimumSamplingInterval: 50,
    accessLevel: "CurrentRead | CurrentWrite", userAccessLevel: "CurrentRead | CurrentWrite",
    value: {
      get: () => new Variant({ dataType: DataType.Double, value: setpoint }),
      set: (v) => { setpoint = v.value; process.stdout.write(`WRITE Setpoint ${setpoint}\n`); return 0; },
    },
  });
  let running = false;
  ns.addVariable({
    componentOf: boiler, browseName: "Running", nodeId: "s=Boiler.Running", dataType: "Boolean",
    minimumSamplingInterval: 50,
    accessLevel: "CurrentRead | CurrentWrite", userAccessLevel: "CurrentRead | CurrentWrite",
    value: {
      get: () => new Variant({ dataType: DataType.Boolean, value: running }),
      set: (v) => { running = v.value; process.stdout.write(`WRITE Running ${running}\n`); return 0; },
    },
  });
  const timer = setInterval(() => {
    pressure += 1;
    pv.setValueFromSource(new Variant({ dataType: DataType.Double, value: pressure }));
  }, 100);

  await server.start();
  process.stdout.write(`READY ${server.getEndpointUrl()}\n`);

  const stop = async () => {
    clearInterval(timer);
    await server.shutdown(0);
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((err) => {
  process.stderr.write(`server failed: ${err.stack || err}\n`);
  process.exit(1);
});
