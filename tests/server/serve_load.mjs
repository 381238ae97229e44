// Bounded load test for `bertcpp serve` on loopback (run by hand, not in CI). Plain Node, no deps.
//
//   bertcpp serve --model DIR --port 3000 &              # note its pid
//   node tests/server/serve_load.mjs --url http://127.0.0.1:3000 --pid PID \
//        --levels 1,8,64,600 --seconds 60 [--route /embed] [--inputs 1]
//
// For each concurrency level: that many clients (one keep-alive connection each) send requests
// back to back for --seconds. Reports requests/s, p50/p90/p99 latency, statuses, transport errors
// and the server's peak RSS (from /proc/PID/status). Exit code 1 if a level below the server's
// max_concurrent_requests saw anything but 200, or a level above it saw a transport error.
import http from "node:http";
import fs from "node:fs";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const url = new URL(args.url ?? "http://127.0.0.1:3000");
const levels = (args.levels ?? "1,8,64,600").split(",").map(Number);
const seconds = Number(args.seconds ?? 60);
const route = args.route ?? "/embed";
const inputsPerRequest = Number(args.inputs ?? 1);
const pid = args.pid ? Number(args.pid) : null;

const words = "the quick brown fox jumps over the lazy dog while a server batches many small requests".split(" ");
function text(i) {
  const n = 4 + ((i * 7919) % 40);  // 4..43 words: mixed lengths
  return Array.from({ length: n }, (_, k) => words[(i + k) % words.length]).join(" ");
}
function body(i) {
  const inputs = inputsPerRequest === 1 ? text(i) : Array.from({ length: inputsPerRequest }, (_, k) => text(i + k));
  return route.includes("embeddings") ? JSON.stringify({ input: inputs }) : JSON.stringify({ inputs });
}

function rssKiB() {
  if (!pid) return null;
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/);
    return m ? Number(m[1]) : null;
  } catch { return null; }
}

async function info() {
  const r = await fetch(new URL("/info", url));
  return r.json();
}

function request(agent, i) {
  return new Promise((resolve) => {
    const payload = body(i);
    const t0 = process.hrtime.bigint();
    const req = http.request({ hostname: url.hostname, port: url.port, path: route, method: "POST", agent,
                               headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
                               timeout: 60000 }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e) => resolve({ error: e.code ?? e.message, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
    req.end(payload);
  });
}

function pct(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const serverInfo = await info();
const limit = serverInfo.max_concurrent_requests;
console.log(`server: ${serverInfo.model_id} max_concurrent_requests=${limit} max_batch_tokens=${serverInfo.max_batch_tokens}` +
            ` route=${route} inputs/request=${inputsPerRequest} seconds/level=${seconds}`);
console.log("clients  requests   req/s    p50_ms   p90_ms   p99_ms  statuses                 errors  peak_rss_MiB");
let failed = false;
let counter = 0;
for (const c of levels) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: c });
  const latencies = [];
  const statuses = {};
  const errors = {};
  let peak = rssKiB() ?? 0;
  const sampler = setInterval(() => { peak = Math.max(peak, rssKiB() ?? 0); }, 250);
  const deadline = Date.now() + seconds * 1000;
  const t0 = Date.now();
  await Promise.all(Array.from({ length: c }, async () => {
    while (Date.now() < deadline) {
      const r = await request(agent, counter++);
      if (r.error) errors[r.error] = (errors[r.error] ?? 0) + 1;
      else {
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        if (r.status === 200) latencies.push(r.ms);
      }
    }
  }));
  const elapsed = (Date.now() - t0) / 1000;
  clearInterval(sampler);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const total = Object.values(statuses).reduce((a, b) => a + b, 0);
  const ok = statuses[200] ?? 0;
  const st = Object.entries(statuses).map(([k, v]) => `${k}:${v}`).join(",");
  const er = Object.entries(errors).map(([k, v]) => `${k}:${v}`).join(",") || "0";
  console.log(`${String(c).padStart(7)} ${String(total).padStart(9)} ${(ok / elapsed).toFixed(1).padStart(8)} ` +
              `${pct(latencies, 50).toFixed(1).padStart(8)} ${pct(latencies, 90).toFixed(1).padStart(8)} ` +
              `${pct(latencies, 99).toFixed(1).padStart(8)}  ${st.padEnd(24)} ${er.padStart(6)}  ${(peak / 1024).toFixed(1)}`);
  if (c * inputsPerRequest <= limit && (ok !== total || Object.keys(errors).length)) failed = true;
  if (c * inputsPerRequest > limit && Object.keys(errors).length) failed = true;
  await new Promise((r) => setTimeout(r, 1000));
}
process.exit(failed ? 1 : 0);
