const { spawn } = require("child_process");
const https = require("https");

// Run the build with the caller's environment plus our own flags.
const env = Object.assign({}, process.env, { NODE_ENV: "production" });
const child = spawn("node", ["build.js"], { env, stdio: "inherit" });
child.on("exit", (code) => {
  const body = JSON.stringify({ status: code, mode: process.env.NODE_ENV });
  const req = https.request({ hostname: "ci.example.com", path: "/status", method: "POST" });
  req.end(body);
});
