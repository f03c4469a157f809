// The certificate, laid out like the certificate-of-origin form: parties, transport, goods,
// declarations. Code-list values carry their names; withheld fields are marked in place;
// every disclosed or withheld field the layout does not know is listed under "Other fields",
// so nothing is dropped. Values reach the page through textContent only.
"use strict";
(function () {
  const WITHHELD = "withheld by the holder";

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function steps(path) {
    return Array.from(path.matchAll(/([^.[\]]+)|\[(\d+)\]/g), (m) => (m[2] !== undefined ? Number(m[2]) : m[1]));
  }

  function isObject(value) { return value !== null && typeof value === "object"; }
  function marker() { return el("span", "withheld", WITHHELD); }
  function isWithheld(node) {
    return node instanceof Element && (node.classList.contains("withheld") || (node.childElementCount === 1
      && node.childNodes.length === 1 && isWithheld(node.firstElementChild)));
  }

  // Every leaf of a disclosed certificate, named as the sealing names them (goods[0].hs_code).
  function leaves(value, prefix, out) {
    const entries = isObject(value) ? Object.entries(value) : [];
    if (entries.length === 0) { out.push([prefix, value]); return out; }
    for (const [key, inner] of entries) {
      leaves(inner, Array.isArray(value) ? prefix + "[" + key + "]" : (prefix ? prefix + "." : "") + key, out);
    }
    return out;
  }

  // Code to "code — name" with the node's code lists; an unknown code is shown as it is.
  function Names(lists) {
    const table = (name) => (lists && isObject(lists[name]) ? lists[name] : {});
    const named = (name) => (code) => (table(name)[code] ? code + " — " + table(name)[code] : String(code));
    const token = (part) => {
      const rvc = /^RVC(\d{2})$/.exec(part);
      if (rvc && lists && lists.value_content) return lists.value_content.replace("{percent}", rvc[1]);
      return table("origin_criteria")[part] || null;
    };
    return {
      country: named("countries"), unit: named("units"), mode: named("transport_modes"),
      type: named("certificate_types"),
      currency: (code) => String(code),
      currencyName: (code) => table("currencies")[code] || "",
      criterion(code) {
        const parts = String(code).split(/([+/])/);
        const words = parts.map((p) => (p === "+" ? "and" : p === "/" ? "or" : token(p)));
        return words.every((w) => w) ? code + " — " + words.join(" ") : String(code);
      },
      locode(code) {
        const country = table("countries")[String(code).slice(0, 2)];
        return country ? code + " (" + country + ")" : String(code);
      },
    };
  }

  // Reads fields by path and remembers which it showed, so the rest can be listed.
  function Reader(disclosed, withheld) {
    const held = new Set(withheld || []);
    const seen = new Set();
    function get(path) {
      let node = disclosed;
      for (const step of steps(path)) {
        if (!isObject(node) || !(step in node)) return undefined;
        node = node[step];
      }
      return node;
    }
    return {
      held, seen, get,
      // A text node for the field, the withheld marker, or null when it is neither disclosed nor withheld.
      leaf(path, format) {
        const value = get(path);
        if (value !== undefined && !isObject(value)) {
          seen.add(path);
          return document.createTextNode(format ? format(value) : String(value));
        }
        if (held.has(path)) { seen.add(path); return marker(); }
        return null;
      },
      // Whether some field under *prefix* is withheld.
      heldUnder(prefix) {
        for (const path of held) if (path.startsWith(prefix + ".") || path.startsWith(prefix + "[")) return true;
        return false;
      },
      present(prefix) { return get(prefix) !== undefined || this.heldUnder(prefix); },
      // Withheld in full (nothing under *prefix* disclosed): mark every withheld field under it as shown.
      whollyHeld(prefix) {
        const value = get(prefix);
        if ((value !== undefined && value !== null) || !this.heldUnder(prefix)) return false;
        for (const path of held) if (path.startsWith(prefix + ".") || path.startsWith(prefix + "[")) seen.add(path);
        return true;
      },
    };
  }

  // A box or goods item withheld in full says so once.
  function whole() {
    const p = el("p", "whole");
    p.append(marker(), " (every field)");
    return p;
  }

  function row(list, label, node) {
    if (node === null) return;
    const dt = el("dt", "", label);
    const dd = el("dd");
    dd.append(node);
    list.append(dt, dd);
  }

  function box(title, id) {
    const section = el("section", "box");
    if (id) section.id = id;
    section.append(el("h3", "", title));
    const list = el("dl", "facts");
    section.append(list);
    return [section, list];
  }

  function party(reader, names, key, title) {
    if (!reader.present(key)) return null;
    const [section, list] = box(title, "cert-" + key.replaceAll("_", "-"));
    if (reader.whollyHeld(key)) { list.replaceWith(whole()); return section; }
    row(list, "Name", reader.leaf(key + ".name"));
    row(list, "Address", reader.leaf(key + ".address"));
    row(list, "Country", reader.leaf(key + ".country", names.country));
    return section;
  }

  function heading(reader, names) {
    const [section, list] = box("Certificate", "cert-heading");
    row(list, "Certificate No.", reader.leaf("certificate_number"));
    row(list, "Type", reader.leaf("certificate_type", names.type));
    row(list, "Exporting country", reader.leaf("exporting_country", names.country));
    row(list, "Importing country", reader.leaf("importing_country", names.country));
    row(list, "Issue date", reader.leaf("issue_date"));
    row(list, "Valid until", reader.leaf("valid_until"));
    const flags = [["issued_retrospectively", "Issued retrospectively"], ["third_party_invoicing", "Third-party invoicing"],
      ["back_to_back", "Back-to-back"], ["certified_true_copy", "Certified true copy"]];
    for (const [key, label] of flags) {
      const value = reader.get(key);
      if (value === true || value === false) { reader.seen.add(key); if (value) row(list, label, document.createTextNode("yes")); }
      else row(list, label, reader.leaf(key));
    }
    row(list, "Parent certificate", reader.leaf("parent_reference"));
    row(list, "Original certificate", reader.leaf("original_reference"));
    row(list, "Replaces", reader.leaf("replaces"));
    return section;
  }

  function transport(reader, names) {
    if (!reader.present("transport")) return null;
    const [section, list] = box("Means of transport and route", "cert-transport");
    if (reader.whollyHeld("transport")) { list.replaceWith(whole()); return section; }
    row(list, "Mode", reader.leaf("transport.mode", names.mode));
    row(list, "Vessel or flight", reader.leaf("transport.vessel_or_flight"));
    row(list, "Port of loading", reader.leaf("transport.port_of_loading", names.locode));
    row(list, "Port of discharge", reader.leaf("transport.port_of_discharge", names.locode));
    row(list, "Departure date", reader.leaf("transport.departure_date"));
    return section;
  }

  function attestation(reader, key, title) {
    if (!reader.present(key)) return null;
    const [section, list] = box(title, "cert-" + key.replaceAll("_", "-"));
    if (reader.whollyHeld(key)) { list.replaceWith(whole()); return section; }
    row(list, "Place", reader.leaf(key + ".place"));
    row(list, "Date", reader.leaf(key + ".date"));
    row(list, "Signatory", reader.leaf(key + ".signatory"));
    return section;
  }

  // One table cell from several fields (joined by *glue*), "—" when none is there.
  function cell(tr, label, parts, glue) {
    const td = tr.insertCell();
    td.dataset.label = label;
    const shown = joined(parts, glue);
    td.append(shown || "—");
    return td;
  }

  // Fields side by side (or one a line), a single marker when every one is withheld; null when none is there.
  function joined(parts, glue) {
    let shown = parts.filter((p) => p !== null);
    if (shown.length > 1 && shown.every(isWithheld)) shown = [shown[0]];
    if (shown.length === 0) return null;
    const span = el("span");
    shown.forEach((part, i) => { if (i) span.append(glue === "br" ? el("br") : " "); span.append(part); });
    return span;
  }

  function goodsCount(reader) {
    const listed = reader.get("goods");
    let count = Array.isArray(listed) ? listed.length : 0;
    for (const path of reader.held) {
      const m = /^goods\[(\d+)\]/.exec(path);
      if (m) count = Math.max(count, Number(m[1]) + 1);
    }
    return count;
  }

  const GOODS_COLUMNS = ["Item", "Marks and packages", "Description of goods", "HS code", "Origin",
    "Origin criterion", "Quantity", "Gross weight", "Invoice", "FOB value"];

  function goods(reader, names) {
    const count = goodsCount(reader);
    if (count === 0) return null;
    const section = el("section", "box wide");
    section.id = "cert-goods";
    section.append(el("h3", "", "Goods"));
    const scroll = el("div", "scroll");
    const table = el("table", "cards goods");
    table.id = "goods";
    const head = table.createTHead().insertRow();
    for (const name of GOODS_COLUMNS) { const th = el("th", "", name); th.scope = "col"; head.append(th); }
    const body = table.createTBody();
    for (let i = 0; i < count; i++) {
      const at = (field, format) => reader.leaf("goods[" + i + "]." + field, format);
      const tr = body.insertRow();
      if (reader.whollyHeld("goods[" + i + "]")) {
        const td = tr.insertCell();
        td.colSpan = GOODS_COLUMNS.length;
        td.dataset.label = "Line " + (i + 1);
        td.append("Line " + (i + 1) + ": ", whole());
        continue;
      }
      cell(tr, "Item", [at("item_number")]);
      const packages = joined([at("packages_count"), at("packages_kind")]);
      cell(tr, "Marks and packages", [at("marks_and_numbers"), packages], "br");
      cell(tr, "Description of goods", [at("description")]);
      cell(tr, "HS code", [at("hs_code")]).classList.add("code");
      cell(tr, "Origin", [at("origin_country", names.country)]);
      cell(tr, "Origin criterion", [at("origin_criterion", names.criterion)]);
      cell(tr, "Quantity", [at("quantity"), at("unit", names.unit)]);
      cell(tr, "Gross weight", [at("gross_weight_kg", (v) => v + " kg")]);
      cell(tr, "Invoice", [at("invoice_number"), at("invoice_date", (v) => "of " + v)]);
      const fob = cell(tr, "FOB value", [at("fob_value"), at("currency", names.currency)]);
      const currency = reader.get("goods[" + i + "].currency");
      if (currency) fob.title = names.currencyName(currency);
    }
    scroll.append(table);
    section.append(scroll);
    return section;
  }

  function remarks(reader) {
    const node = reader.leaf("remarks");
    if (node === null) return null;
    const section = el("section", "box wide");
    section.id = "cert-remarks";
    section.append(el("h3", "", "Remarks"));
    const text = el("p", "remarks");
    text.append(node);
    section.append(text);
    return section;
  }

  // Whatever the layout above did not show: never dropped, shown by its path.
  function others(reader, disclosed) {
    const rest = [];
    for (const [path, value] of leaves(disclosed, "", [])) {
      if (reader.seen.has(path) || path === "") continue;
      if (value === null && reader.heldUnder(path)) continue; // a list element withheld in full
      rest.push([path, document.createTextNode(isObject(value) || value === null ? JSON.stringify(value) : String(value))]);
    }
    for (const path of reader.held) if (!reader.seen.has(path)) rest.push([path, el("span", "withheld", WITHHELD)]);
    if (rest.length === 0) return null;
    const [section, list] = box("Other fields", "cert-others");
    section.classList.add("wide");
    for (const [path, node] of rest) {
      const dt = el("dt", "path", path);
      const dd = el("dd");
      dd.append(node);
      list.append(dt, dd);
    }
    return section;
  }

  // Render *disclosed* (with the *withheld* paths) into *container*; returns how many fields were withheld.
  function render(container, disclosed, withheld, lists) {
    const names = Names(lists);
    const reader = Reader(isObject(disclosed) ? disclosed : {}, withheld);
    const form = el("div", "form");
    const parts = [heading(reader, names), party(reader, names, "exporter", "Exporter"),
      party(reader, names, "consignee", "Consignee (importer)"), party(reader, names, "producer", "Producer"),
      party(reader, names, "invoicing_party", "Invoicing party"), transport(reader, names), goods(reader, names),
      remarks(reader), attestation(reader, "exporter_declaration", "Declaration by the exporter"),
      attestation(reader, "certification", "Certification by the issuing body")];
    parts.push(others(reader, isObject(disclosed) ? disclosed : {}));
    form.append(...parts.filter((p) => p !== null));
    container.replaceChildren(form);
    return reader.held.size;
  }

  window.CooCertificate = { render, WITHHELD };
})();
