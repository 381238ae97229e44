// Runs the unmodified OpenAI and Hugging Face JS clients against a running `bertcpp serve`.
// Usage: node run.mjs BASE_URL TEXT...   (starts nothing; prints one JSON object on stdout)
//   {"openai": [[...], ...], "openai_base64": [[...], ...], "hf": [[...], ...]}
import OpenAI from "openai";
import { InferenceClient } from "@huggingface/inference";

const [base, ...texts] = process.argv.slice(2);
if (!base || texts.length === 0) {
  console.error("usage: node run.mjs BASE_URL TEXT...");
  process.exit(2);
}

const openai = new OpenAI({ baseURL: `${base}/v1`, apiKey: process.env.BERTCPP_API_KEY ?? "unused" });
const floats = await openai.embeddings.create({ model: "bertcpp", input: texts, encoding_format: "float" });
// The SDK's default asks for base64 and decodes it itself.
const b64 = await openai.embeddings.create({ model: "bertcpp", input: texts });

const hf = new InferenceClient(process.env.BERTCPP_API_KEY);
const features = await hf.featureExtraction({ endpointUrl: base, inputs: texts });

const byIndex = (data) => data.slice().sort((a, b) => a.index - b.index).map((d) => Array.from(d.embedding));
console.log(JSON.stringify({ openai: byIndex(floats.data), openai_base64: byIndex(b64.data), hf: features,
                             usage: floats.usage }));
