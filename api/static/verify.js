// Verification page: talks only to this node. No framework, no CDN.
"use strict";
(function () {
  const form = document.getElementById("verify-form");
  const drop = document.getElementById("drop");
  const fileInput = document.getElementById("file");
  const pasted = document.getElementById("pasted");
  const fileName = document.getElementById("file-name");
  let fileText = null;

  const SYMBOL = { pass: "✔ pass", fail: "✘ fail", warn: "! warning", skipped: "– skipped" };
  const CLASS = { VALID: "ok", VALID_WITH_WARNINGS: "warn", UNAVAILABLE: "unavailable" };

  // The input chosen last is the one verified: choosing a file clears the text box, typing clears the file.
  function readFile(file) {
    const reader = new FileReader();
    reader.onload = () => {
      fileText = String(reader.result);
      pasted.value = "";
      fileName.textContent = "Selected: " + file.name;
    };
    reader.readAsText(file);
  }
  pasted.addEventListener("input", () => {
    if (pasted.value.trim() && fileText !== null) {
      fileText = null; fileInput.value = ""; fileName.textContent = "";
    }
  });
  fileInput.addEventListener("change", () => { if (fileInput.files[0]) readFile(fileInput.files[0]); });
  drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); fileInput.click(); } });
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault(); drop.classList.remove("over");
    if (e.dataTransfer.files[0]) readFile(e.dataTransfer.files[0]);
  });

  function request(input) {
    const text = input.trim();
    if (text.startsWith("{")) {
      return fetch("/v1/verify", { method: "POST", headers: { "Content-Type": "application/json", "Accept": "application/json" }, body: text });
    }
    if (/^(0x)?[0-9a-fA-F]{64}$/.test(text)) {
      return fetch("/v1/verify/" + (text.startsWith("0x") ? text : "0x" + text), { headers: { "Accept": "application/json" } });
    }
    const token = text.includes("/v/") ? text.split("/v/").pop() : text;
    return fetch("/v/" + encodeURIComponent(token), { headers: { "Accept": "application/json" } });
  }

  function flatten(value, prefix, out) {
    if (value !== null && typeof value === "object") {
      for (const [key, inner] of Object.entries(value)) {
        flatten(inner, Array.isArray(value) ? prefix + "[" + key + "]" : (prefix ? prefix + "." : "") + key, out);
      }
    } else { out.push([prefix, String(value)]); }
    return out;
  }

  function statusOnly(report) {
    const integrity = (report.checks || []).find((c) => c.name === "integrity");
    return integrity !== undefined && integrity.status === "skipped";
  }

  function show(report) {
    const section = document.getElementById("result");
    const verdict = document.getElementById("verdict");
    const words = report.verdict.replaceAll("_", " ");
    verdict.textContent = "Verdict: " + words + (statusOnly(report) ? " (status only: the contents were not checked)" : "");
    verdict.className = "verdict " + (CLASS[report.verdict] || "bad");
    document.getElementById("summary").textContent = report.summary || "";
    const body = document.querySelector("#checks tbody");
    body.replaceChildren();
    for (const check of report.checks || []) {
      const row = body.insertRow();
      row.insertCell().textContent = check.name.replaceAll("_", " ");
      const cell = row.insertCell();
      cell.textContent = SYMBOL[check.status] || check.status;
      cell.className = "status " + check.status;
      row.insertCell().textContent = check.reason;
    }
    const fields = document.getElementById("fields");
    fields.replaceChildren();
    const erased = report.verdict === "ERASED";
    const disclosed = report.disclosed && !erased ? flatten(report.disclosed, "", []) : [];
    if (disclosed.length === 0) {
      const dd = document.createElement("dd");
      dd.textContent = erased ? "Erased: the contents are not shown." : "No fields disclosed.";
      fields.append(dd);
    }
    for (const [key, value] of disclosed) {
      const dt = document.createElement("dt"); dt.textContent = key;
      const dd = document.createElement("dd"); dd.textContent = value;
      fields.append(dt, dd);
    }
    document.getElementById("receipt").textContent = report.receipt_id ? "Verification receipt: " + report.receipt_id : "";
    section.hidden = false;
    verdict.focus && verdict.setAttribute("tabindex", "-1");
  }

  // Not a verdict: nothing was verified (empty input, a typo, the node unreachable).
  function showProblem(problem) {
    const section = document.getElementById("result");
    const verdict = document.getElementById("verdict");
    verdict.textContent = "Not verified: " + (problem.title || "error");
    verdict.className = "verdict neutral";
    document.getElementById("summary").textContent = problem.detail || "";
    document.querySelector("#checks tbody").replaceChildren();
    document.getElementById("fields").replaceChildren();
    document.getElementById("receipt").textContent = "";
    section.hidden = false;
  }

  function showPending() {
    const verdict = document.getElementById("verdict");
    verdict.textContent = "Verifying…";
    verdict.className = "verdict neutral";
    document.getElementById("summary").textContent = "";
    document.querySelector("#checks tbody").replaceChildren();
    document.getElementById("fields").replaceChildren();
    document.getElementById("receipt").textContent = "";
    document.getElementById("result").hidden = false;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = pasted.value.trim() || fileText || "";
    if (!input) { showProblem({ title: "Nothing to verify", detail: "drop a file, paste JSON or enter a code" }); return; }
    showPending();
    try {
      const answer = await request(input);
      const body = await answer.json();
      if (body && body.verdict) show(body); else showProblem(body);
    } catch (error) {
      showProblem({ title: "Could not reach the node", detail: String(error) });
    }
  });
})();
