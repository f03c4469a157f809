// Verification page: talks only to this node. No framework, no CDN.
// The same code renders a report fetched here (/) and one the node embedded in the page (/v/{token}).
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const form = $("verify-form");
  const drop = $("drop");
  const fileInput = $("file");
  const pasted = $("pasted");
  const fileName = $("file-name");
  const HASH = /^(0x)?[0-9a-fA-F]{64}$/;
  let fileText = null;

  // The code lists' names (country, unit, transport mode, criterion); codes alone if they cannot be had.
  const codeLists = fetch("/v1/code-lists", { headers: { Accept: "application/json" } })
    .then((answer) => (answer.ok ? answer.json() : null)).catch(() => null);

  const SHOWN = {
    pass: ["✔ pass", 2], fail: ["✘ fail", 0], warn: ["! warning", 1], unrelied: ["– not relied on", 2],
    skipped: ["– skipped", 3],
  };
  const REFUSAL = {
    INVALID: "Do not accept it: a check failed (the failures are listed first below).",
    REVOKED: "Do not accept it: the issuing body revoked this certificate.",
    SUPERSEDED: "Do not accept it: this certificate was replaced by another one. Verify the replacement.",
    ERASED: "Do not accept it: the certificate was erased; its contents are not shown.",
    EXPIRED: "Do not accept it: the certificate is not within its validity period.",
    EXHAUSTED: "Do not accept it: the certified quantity has been used up.",
  };

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
  $("print-button").addEventListener("click", () => window.print());

  function request(input) {
    const text = input.trim();
    const json = { Accept: "application/json" };
    if (text.startsWith("{")) {
      return fetch("/v1/verify", { method: "POST", headers: { ...json, "Content-Type": "application/json" }, body: text });
    }
    if (HASH.test(text)) return fetch("/v1/verify/" + (text.startsWith("0x") ? text : "0x" + text), { headers: json });
    const token = text.includes("/v/") ? text.split("/v/").pop() : text;
    return fetch("/v/" + encodeURIComponent(token), { headers: json });
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  const status = (report, name) => ((report.checks || []).find((c) => c.name === name) || {}).status;
  // A zero-knowledge proof bundle: no field disclosed, claims proven about committed values instead.
  const proofBundle = (report) => status(report, "commitment") !== undefined;
  const statusOnly = (report) => status(report, "integrity") === "skipped" && !proofBundle(report);

  function style(report) {
    const accepted = report.verdict === "VALID" || report.verdict === "VALID_WITH_WARNINGS";
    if (report.verdict === "UNAVAILABLE") {
      return ["unavailable", "Nothing was decided: the chain could not be reached. Try again later; "
        + "do not accept the certificate on this basis."];
    }
    if (accepted && statusOnly(report)) {
      return ["status-only", "Status only: this document hash is anchored by an authorised issuing body and in "
        + "force, but no contents were checked. Verify the sealed document itself to check what it says."];
    }
    if (accepted && proofBundle(report)) {
      return ["ok", "The claims below are proven: the certificate is anchored by an authorised issuing body and in "
        + "force, and its committed values satisfy each claim. The values themselves are not disclosed."];
    }
    if (report.verdict === "VALID") return ["ok", "Accept it: authentic, unaltered, issued by an authorised body and in force."];
    if (accepted) return ["warn", "Read the warnings below before accepting it."];
    return ["bad", REFUSAL[report.verdict] || "Do not accept it."];
  }

  // Failures first, then warnings, passes, skipped; under a failed integrity no pass is relied on.
  function orderedChecks(report) {
    const checks = report.checks || [];
    const broken = status(report, "integrity") === "fail";
    return checks
      .map((check, index) => ({ check, index, shown: broken && check.status === "pass" ? "unrelied" : check.status }))
      .sort((a, b) => ((SHOWN[a.shown] || [0, 4])[1] - (SHOWN[b.shown] || [0, 4])[1]) || a.index - b.index);
  }

  function showChecks(report) {
    const body = document.querySelector("#checks tbody");
    body.replaceChildren();
    for (const { check, shown } of orderedChecks(report)) {
      const row = body.insertRow();
      row.className = "check-" + shown;
      const name = row.insertCell(); name.dataset.label = "Check"; name.textContent = check.name.replaceAll("_", " ");
      const cell = row.insertCell(); cell.dataset.label = "Outcome";
      cell.textContent = (SHOWN[shown] || [shown])[0];
      cell.className = "status " + shown;
      const why = row.insertCell(); why.dataset.label = "Why";
      if (shown === "unrelied") {
        why.append("not relied on: the contents don't match the document hash. ",
          el("span", "muted", "(The check said: " + check.reason + ")"));
      } else { why.textContent = check.reason; }
    }
  }

  // "name (0xabcd…1234)" when the node knows a name, the whole address otherwise.
  function account(name, address) {
    const span = el("span", "account");
    if (name) {
      span.append(name + " ");
      const short = el("code", "address", "(" + address.slice(0, 8) + "…" + address.slice(-4) + ")");
      short.title = address;
      span.append(short);
    } else {
      span.append(el("code", "hash", address));
    }
    return span;
  }

  function fact(list, label, node) {
    list.append(el("dt", "", label));
    const dd = el("dd");
    dd.append(node);
    list.append(dd);
  }

  function showIdentity(report, lists) {
    const list = $("identity");
    list.replaceChildren();
    if (report.issuer) fact(list, "Issuing body", account(report.issuer_name, report.issuer));
    if (report.authority) fact(list, "Authorised by", account(report.authority_name, report.authority));
    // Under a failed integrity the number and country come from contents that don't match the hash.
    const doubt = (text) => {
      const span = el("span", "", text);
      if (status(report, "integrity") === "fail") span.append(" ", el("span", "muted", "(as the altered contents say: not relied on)"));
      return span;
    };
    const countries = (lists && lists.countries) || {};
    const country = report.exporting_country;
    if (country) fact(list, "Issuing country", doubt(country + (countries[country] ? " — " + countries[country] : "")));
    if (report.certificate_number) fact(list, "Certificate No.", doubt(report.certificate_number));
    if (report.document_hash) fact(list, "Document hash", el("code", "hash", report.document_hash));
    const where = report.chain_id ? " (chain " + report.chain_id + (report.chain_head ? ", block " + report.chain_head : "") + ")" : "";
    if (report.checked_at) fact(list, "Checked", document.createTextNode(report.checked_at + where));
  }

  function showReplacement(report) {
    const box = $("replacement");
    box.replaceChildren();
    const check = (report.checks || []).find((c) => c.name === "status" && c.details && c.details.replacement);
    box.hidden = !check;
    if (!check) return;
    const hash = String(check.details.replacement);
    if (!HASH.test(hash)) { box.textContent = "Replaced by a certificate this node could not identify."; return; }
    const link = el("a", "", "Verify the replacement certificate");
    link.id = "replacement-link";
    link.href = "/?hash=" + encodeURIComponent(hash);
    box.append("This certificate was replaced by the one with document hash ", el("code", "hash", hash), ". ", link);
  }

  // "RVC ≥ 40 %: proven, value not disclosed", or why a claim is not proven or not checked.
  function showClaims(report) {
    const claims = (report.checks || []).filter((c) => c.name === "claim");
    const list = $("claims-list");
    list.replaceChildren();
    $("claims").hidden = claims.length === 0;
    for (const check of claims) {
      const details = check.details || {};
      const item = el("li", "claim-" + check.status);
      if (check.status === "pass") item.textContent = (details.statement || details.claim) + ": proven, value not disclosed";
      else if (check.status === "fail") item.textContent = (details.claim || "a claim") + ": NOT proven (" + check.reason + ")";
      else item.textContent = (details.claim || "a claim") + ": not checked (" + check.reason + ")";
      list.append(item);
    }
  }

  function showCertificate(report, lists) {
    const body = $("certificate-body");
    const note = $("withheld-note");
    note.hidden = true;
    showClaims(report);
    const message = (text) => body.replaceChildren(el("p", "empty", text));
    if (report.verdict === "UNAVAILABLE") return message("The contents are not shown: nothing was verified.");
    if (report.verdict === "ERASED") return message("Erased: the certificate's key was destroyed; its contents are not shown.");
    if (status(report, "integrity") === "fail") return message("The contents are not shown: they don't match the document hash.");
    if (proofBundle(report) && !report.disclosed) {
      return message("A proof bundle discloses no field: what it establishes is the list of proven claims.");
    }
    if (!report.disclosed || Object.keys(report.disclosed).length === 0) {
      return message(statusOnly(report) ? "Only a document hash was checked: there are no contents to show." : "No fields disclosed.");
    }
    const withheld = window.CooCertificate.render(body, report.disclosed, report.withheld || [], lists);
    if (withheld > 0) {
      note.hidden = false;
      note.replaceChildren(el("strong", "", withheld + (withheld === 1 ? " field" : " fields") + " withheld by the holder"),
        " (marked in place). Only the disclosed values are authenticated: the labels of withheld fields are not, "
        + "a holder could rename them, so draw no conclusion from them.");
    }
  }

  function clear() {
    for (const id of ["advice", "summary", "receipt"]) $(id).textContent = "";
    for (const id of ["identity", "certificate-body"]) $(id).replaceChildren();
    document.querySelector("#checks tbody").replaceChildren();
    $("replacement").hidden = true;
    $("withheld-note").hidden = true;
    $("claims").hidden = true;
    showParts(false);
  }

  // The checks, the certificate and printing belong to a report only.
  function showParts(shown) {
    for (const id of ["checks-wrap", "certificate", "print-controls"]) $(id).hidden = !shown;
  }

  function banner(className, heading, advice) {
    $("verdict-box").className = "verdict " + className;
    $("verdict-box").dataset.style = className;
    $("verdict").textContent = heading;
    $("advice").textContent = advice;
    $("result").hidden = false;
  }

  async function show(report) {
    const lists = await codeLists;
    clear();
    const [className, advice] = style(report);
    const words = report.verdict.replaceAll("_", " ");
    banner(className, "Verdict: " + words + (statusOnly(report) ? " (status only: the contents were not checked)" : ""), advice);
    $("summary").textContent = report.summary || "";
    showParts(true);
    showIdentity(report, lists);
    showReplacement(report);
    showChecks(report);
    showCertificate(report, lists);
    $("receipt").textContent = report.receipt_id
      ? "Verification receipt " + report.receipt_id + (report.node_account ? ", signed by node " + report.node_account : "") : "";
    document.title = words + (report.certificate_number ? ": " + report.certificate_number : "") + " — certificate of origin";
    document.body.dataset.state = "done";
  }

  // Not a verdict: nothing was verified (empty input, a typo, an unknown code, the node unreachable).
  function showProblem(problem) {
    clear();
    banner("neutral", "Not verified: " + (problem.title || "error"), "Nothing was verified, so there is no verdict.");
    $("summary").textContent = problem.detail || "";
    document.title = "Not verified — certificate of origin";
    document.body.dataset.state = "done";
  }

  function showPending() {
    clear();
    banner("pending", "Verifying…", "Asking the chain; this can take a few seconds.");
    document.body.dataset.state = "pending"; // what tests wait on: "done" once a verdict or problem is shown
  }

  async function verify(input) {
    showPending();
    try {
      const answer = await request(input);
      const body = await answer.json();
      if (body && body.verdict) await show(body); else showProblem(body || {});
    } catch (error) {
      showProblem({ title: "Could not reach the node", detail: String(error) });
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const input = pasted.value.trim() || fileText || "";
    if (!input) { showProblem({ title: "Nothing to verify", detail: "drop a file, paste JSON or enter a code" }); return; }
    verify(input);
  });

  // A page the node filled in (/v/{token}): the report, or why there is none; no form to fill.
  function embedded(id) {
    const node = $(id);
    if (!node) return null;
    form.hidden = true;
    $("intro").hidden = true;
    $("again").hidden = false;
    return JSON.parse(node.textContent);
  }
  const report = embedded("embedded-report");
  const problem = embedded("embedded-problem");
  if (report) show(report);
  else if (problem) showProblem(problem);
  else {
    // /?hash=0x… (the link to a replacement): verify that hash at once.
    const hash = new URLSearchParams(window.location.search).get("hash");
    if (hash !== null && HASH.test(hash)) { pasted.value = hash; verify(hash); }
    else if (hash !== null) showProblem({ title: "Not a document hash", detail: "the link's hash must be 0x and 64 hex digits" });
  }
})();
