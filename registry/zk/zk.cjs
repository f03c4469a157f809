#!/usr/bin/env node
// The Node side of registry/zk: circomlib's Poseidon (circomlibjs) and Groth16 (snarkjs).
// One JSON request on stdin, one JSON answer on stdout:
//   {"op": "commit", "openings": [opening]}                      -> {"commitments": ["<decimal>"]}
//   {"op": "hash", "inputs": [["<decimal>", ...]]}               -> {"hashes": ["<decimal>"]}  (plain Poseidon)
//   {"op": "open", "opening": opening}                           -> {"commitment", "root", "leaves"}  (for checks)
//   {"op": "prove", "artifacts": dir, "requests": [{circuit, opening, item, params}]}
//                                                                -> {"results": [{proof, publicSignals} | {error}]}
//   {"op": "verify", "artifacts": dir, "requests": [{circuit, proof, publicSignals}]}
//                                                                -> {"results": [true | false | {error}]}
// An opening is {salt, issueDay, departureDay, headerFlags, items: [[fob, vnm, quantity, hsDigits, hsLength, flags]]}
// (decimal strings); the encoding is stated in registry/zk/commitment.py. Nothing is logged.
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..", "..");
const modules = path.join(root, "node_modules");
const { buildPoseidon } = require(path.join(modules, "circomlibjs"));
const snarkjs = () => require(path.join(modules, "snarkjs")); // only proving and verifying need it

const DOMAIN = 1243952532403717502513n; // "CoO-zk-v1"
const DEPTH = 10;
const ITEM_CIRCUITS = new Set(["rvc_at_least", "hs_prefix", "value_at_most", "value_at_least"]);

function tree(poseidon, items) {
  const F = poseidon.F;
  const hash = (inputs) => F.toObject(poseidon(inputs.map((v) => BigInt(v))));
  let level = items.map((values) => hash(values));
  const levels = [];
  let zero = 0n;
  for (let d = 0; d < DEPTH; d++) {
    levels.push(level);
    const next = [];
    for (let i = 0; i < level.length; i += 2) {
      next.push(hash([level[i], i + 1 < level.length ? level[i + 1] : zero]));
    }
    zero = hash([zero, zero]);
    level = next;
  }
  return { root: level[0], levels, zeros: zeroes(hash) };
}

function zeroes(hash) {
  const out = [0n];
  for (let d = 1; d <= DEPTH; d++) out.push(hash([out[d - 1], out[d - 1]]));
  return out;
}

function siblings(built, index) {
  const out = [];
  let at = index;
  for (let d = 0; d < DEPTH; d++) {
    const level = built.levels[d];
    const other = at ^ 1;
    out.push((other < level.length ? level[other] : built.zeros[d]).toString());
    at >>= 1;
  }
  return out;
}

function commitment(poseidon, opening, built) {
  const h = poseidon([DOMAIN, BigInt(opening.salt), BigInt(opening.issueDay), BigInt(opening.departureDay),
    BigInt(opening.headerFlags), built.root]);
  return poseidon.F.toObject(h);
}

function header(opening) {
  return { salt: opening.salt, issueDay: opening.issueDay, departureDay: opening.departureDay,
    headerFlags: opening.headerFlags };
}

function witnessInput(poseidon, request) {
  const opening = request.opening;
  const built = tree(poseidon, opening.items);
  const input = { commitment: commitment(poseidon, opening, built).toString(), ...request.params, ...header(opening) };
  if (!ITEM_CIRCUITS.has(request.circuit)) {
    input.itemsRoot = built.root.toString();
    return input;
  }
  const index = Number(request.item);
  const values = opening.items[index];
  if (!Number.isInteger(index) || values === undefined) throw new Error(`no goods item ${request.item}`);
  const [fob, vnm, quantity, hsDigits, hsLength, itemFlags] = values;
  Object.assign(input, { item: String(index), fob, vnm, quantity, hsDigits, hsLength, itemFlags,
    siblings: siblings(built, index) });
  return input;
}

function artifact(dir, circuit, suffix) {
  if (!/^[a-z_]+$/.test(circuit)) throw new Error(`unknown circuit ${circuit}`);
  const file = path.join(dir, `${circuit}${suffix}`);
  if (!fs.existsSync(file)) throw new Error(`unknown circuit ${circuit}`);
  return file;
}

async function prove(poseidon, dir, request) {
  const input = witnessInput(poseidon, request);
  const { proof, publicSignals } = await snarkjs().groth16.fullProve(
    input, artifact(dir, request.circuit, ".wasm"), artifact(dir, request.circuit, ".zkey"));
  return { proof, publicSignals };
}

async function verify(dir, request, keys) {
  if (!keys.has(request.circuit)) {
    keys.set(request.circuit, JSON.parse(fs.readFileSync(artifact(dir, request.circuit, ".vkey.json"), "utf8")));
  }
  return snarkjs().groth16.verify(keys.get(request.circuit), request.publicSignals, request.proof);
}

async function settle(work) {
  try {
    return await work();
  } catch (error) {
    return { error: String(error && error.message ? error.message : error).split("\n")[0] };
  }
}

async function answer(request) {
  if (request.op === "commit") {
    const poseidon = await buildPoseidon();
    return { commitments: request.openings.map((o) => commitment(poseidon, o, tree(poseidon, o.items)).toString()) };
  }
  if (request.op === "open") {
    const poseidon = await buildPoseidon();
    const built = tree(poseidon, request.opening.items);
    return { commitment: commitment(poseidon, request.opening, built).toString(), root: built.root.toString(),
      leaves: built.levels[0].map((v) => v.toString()) };
  }
  if (request.op === "hash") {
    const poseidon = await buildPoseidon();
    return { hashes: request.inputs.map((i) => poseidon.F.toObject(poseidon(i.map((v) => BigInt(v)))).toString()) };
  }
  if (request.op === "prove") {
    const poseidon = await buildPoseidon();
    const results = [];
    for (const r of request.requests) results.push(await settle(() => prove(poseidon, request.artifacts, r)));
    return { results };
  }
  if (request.op === "verify") {
    const keys = new Map();
    const results = [];
    for (const r of request.requests) results.push(await settle(() => verify(request.artifacts, r, keys)));
    return { results };
  }
  throw new Error(`unknown op ${request.op}`);
}

let text = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (text += chunk));
process.stdin.on("end", async () => {
  try {
    process.stdout.write(JSON.stringify(await answer(JSON.parse(text))));
    process.exit(0);
  } catch (error) {
    process.stderr.write(String(error && error.message ? error.message : error).split("\n")[0] + "\n");
    process.exit(2);
  }
});
