#!/usr/bin/env node
// ONNX Runtime peer for the bertcpp benchmark (npm onnxruntime-node, CPU execution provider).
//
// Session: graphOptimizationLevel "all" (ORT's BERT fusions: Attention, SkipLayerNorm, Gelu, ...),
// intraOpNumThreads = --threads (default 2), interOpNumThreads 1, sequential execution.
//
// Usage (from bench/, after `npm install --ignore-scripts`):
//   node peers/ort_bench.mjs bench   --onnx M.onnx --inputs F.safetensors [--iters 10] [--warmup 2] [--threads 2]
//   node peers/ort_bench.mjs forward --onnx M.onnx --inputs F.safetensors --out OUT.safetensors
//   node peers/ort_bench.mjs serve   --onnx M.onnx [--threads 2]   (JSON lines, see bench/run.py)
// Input files hold I64 input_ids / attention_mask / token_type_ids [batch, seq]. Output JSON:
// {"engine":"ort-fp32","median_ms":..,"min_ms":..,"tokens_per_s":..,"times_ms":[..],...}
import fs from 'node:fs';
import readline from 'node:readline';
import ort from 'onnxruntime-node';

function parseArgs(argv) {
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const key = a.slice(2);
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) out[key] = true;
      else { out[key] = next; i++; }
    } else out._.push(a);
  }
  return out;
}

const ST_TYPES = {
  I64: { array: BigInt64Array, ort: 'int64' }, I32: { array: Int32Array, ort: 'int32' },
  F32: { array: Float32Array, ort: 'float32' },
};

export function readSafetensors(path) {
  const buf = fs.readFileSync(path);
  if (buf.length < 8) throw new Error(`${path}: too short for safetensors`);
  const n = Number(buf.readBigUInt64LE(0));
  if (8 + n > buf.length) throw new Error(`${path}: header length ${n} exceeds file size`);
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const tensors = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const t = ST_TYPES[info.dtype];
    if (!t) throw new Error(`${path}: tensor ${name} dtype ${info.dtype} not supported here`);
    const [b, e] = info.data_offsets;
    const bytes = buf.subarray(8 + n + b, 8 + n + e);
    const copy = new Uint8Array(bytes.length);  // aligned copy
    copy.set(bytes);
    tensors[name] = { type: t.ort, data: new t.array(copy.buffer), dims: info.shape };
  }
  return tensors;
}

function writeSafetensorsF32(path, named) {
  const header = { __metadata__: { format: 'pt' } };
  let off = 0;
  const blobs = [];
  for (const [name, t] of Object.entries(named)) {
    const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = { dtype: 'F32', shape: t.dims.map(Number), data_offsets: [off, off + bytes.length] };
    off += bytes.length;
    blobs.push(bytes);
  }
  let h = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - (h.length % 8)) % 8;
  h = Buffer.concat([h, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  fs.writeFileSync(path, Buffer.concat([len, h, ...blobs]));
}

async function makeSession(onnxPath, threads) {
  return ort.InferenceSession.create(onnxPath, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
}

function loadFeeds(session, path) {
  const t = readSafetensors(path);
  const ids = t.input_ids;
  const n = ids.data.length;
  const feeds = {};
  let realTokens = n;
  for (const name of session.inputNames) {
    let src = t[name];
    if (!src) {
      const fill = name === 'attention_mask' ? 1n : 0n;
      src = { type: 'int64', data: new BigInt64Array(n).fill(fill), dims: ids.dims };
    }
    feeds[name] = new ort.Tensor(src.type, src.data, src.dims);
  }
  if (t.attention_mask) {
    realTokens = 0;
    for (const v of t.attention_mask.data) realTokens += Number(v);
  }
  return { feeds, realTokens, batch: ids.dims[0], seq: ids.dims[1] };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function timeRuns(session, inp, iters, warmup) {
  for (let i = 0; i < warmup; i++) await session.run(inp.feeds);
  const times = [];
  for (let i = 0; i < iters; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(inp.feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const med = median(times);
  return { median_ms: med, min_ms: Math.min(...times), iters: times.length, times_ms: times,
           tokens_per_s: inp.realTokens / (med / 1e3) };
}

async function forward(session, inp, out) {
  const res = await session.run(inp.feeds);
  const named = {};
  for (const name of session.outputNames) named[name] = res[name];
  writeSafetensorsF32(out, named);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const cmd = args._[0];
  const threads = Number(args.threads ?? 2);
  if (!cmd || !args.onnx || args.help) {
    console.error('usage: node peers/ort_bench.mjs bench|forward|serve --onnx M.onnx [--inputs F] ' +
                  '[--iters K] [--warmup W] [--threads T] [--out OUT]');
    process.exit(2);
  }
  const session = await makeSession(args.onnx, threads);
  const meta = { engine: 'ort-fp32', threads, ort_version: ort.env.versions?.common ?? 'unknown' };
  if (cmd === 'bench') {
    const inp = loadFeeds(session, args.inputs);
    const r = await timeRuns(session, inp, Number(args.iters ?? 10), Number(args.warmup ?? 2));
    console.log(JSON.stringify({ ...meta, batch: inp.batch, seq: inp.seq, ...r }));
  } else if (cmd === 'forward') {
    await forward(session, loadFeeds(session, args.inputs), args.out);
  } else if (cmd === 'serve') {
    const cache = new Map();
    console.log(JSON.stringify({ ready: true, ...meta }));
    const rl = readline.createInterface({ input: process.stdin, terminal: false });
    for await (const line of rl) {
      if (!line.trim()) continue;
      const req = JSON.parse(line);
      if (req.op === 'quit') break;
      let rep;
      try {
        if (!cache.has(req.inputs)) cache.set(req.inputs, loadFeeds(session, req.inputs));
        const inp = cache.get(req.inputs);
        if (req.op === 'bench') rep = await timeRuns(session, inp, req.iters ?? 10, req.warmup ?? 1);
        else if (req.op === 'forward') { await forward(session, inp, req.out); rep = { ok: true }; }
        else rep = { error: `unknown op ${req.op}` };
      } catch (e) {
        rep = { error: String(e) };
      }
      console.log(JSON.stringify(rep));
    }
    rl.close();
  } else {
    console.error(`ort_bench: unknown command ${cmd}`);
    process.exit(2);
  }
}

main().catch((e) => { console.error(`ort_bench: error: ${e.message ?? e}`); process.exit(1); });
