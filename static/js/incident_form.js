// Incident entry and correction: add/remove victims, filter beats by district, "use point",
// note counter, Ctrl+Enter to save. Plain JS; the form works without it (one victim row).
(function () {
  "use strict";
  const form = document.querySelector("[data-incident-form]");
  if (!form) return;

  // Words the script writes come from the form's data- attributes, in the page's language.
  const words = form.dataset;
  const say = (key, fallback, values) => Object.entries(values || {})
    .reduce((text, [name, value]) => text.replace(`{${name}}`, value), words[key] || fallback);

  const prefix = "victims";
  const list = form.querySelector("[data-victims]");
  const template = form.querySelector("[data-victim-template]");
  const total = form.querySelector(`#id_${prefix}-TOTAL_FORMS`);
  const countLabel = form.querySelector("[data-victim-count]");
  const maxForms = parseInt(form.querySelector(`#id_${prefix}-MAX_NUM_FORMS`).value, 10) || 50;

  function renumber() {
    const rows = list.querySelectorAll("[data-victim]");
    rows.forEach((row, index) => {
      row.querySelectorAll("input, select, label").forEach((el) => {
        ["name", "id", "for"].forEach((attr) => {
          const value = el.getAttribute(attr);
          if (value) el.setAttribute(attr, value.replace(new RegExp(`${prefix}-(\\d+|__prefix__)-`), `${prefix}-${index}-`));
        });
      });
      row.querySelector(".victim-number").textContent = index + 1;
      const remove = row.querySelector("[data-remove-victim]");
      remove.setAttribute("aria-label", (remove.dataset.label || "Remove victim {n}").replace("{n}", index + 1));
      remove.hidden = rows.length === 1;
    });
    total.value = rows.length;
    const fatal = list.querySelectorAll("input[name$='-fatal']:checked").length;
    countLabel.textContent = (rows.length === 1 ? say("victimOne", "{n} victim", { n: 1 })
      : say("victimMany", "{n} victims", { n: rows.length })) + (fatal ? say("victimFatal", ", {n} fatal", { n: fatal }) : "");
  }

  function addVictim() {
    if (list.querySelectorAll("[data-victim]").length >= maxForms) return;
    const fragment = template.content.cloneNode(true);
    list.appendChild(fragment);
    renumber();
    const rows = list.querySelectorAll("[data-victim]");
    rows[rows.length - 1].querySelector("select").focus();
  }

  form.querySelector("[data-add-victim]").addEventListener("click", addVictim);
  list.addEventListener("click", (event) => {
    const button = event.target.closest("[data-remove-victim]");
    if (!button) return;
    const row = button.closest("[data-victim]");
    const next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    renumber();
    if (next) next.querySelector("select").focus();
  });
  list.addEventListener("change", renumber);
  renumber();

  // Beats follow the district.
  const district = form.querySelector("#id_district");
  const beat = form.querySelector("#id_beat");
  const beatsByDistrict = JSON.parse(document.getElementById("beats-by-district").textContent);
  function fillBeats(keep) {
    const chosen = keep || beat.value;
    const beats = beatsByDistrict[district.value] || [];
    beat.replaceChildren(new Option("—", ""), ...beats.map((number) => new Option(number, number)));
    beat.value = beats.includes(chosen) ? chosen : "";
  }
  district.addEventListener("change", () => fillBeats());
  fillBeats();

  // "Use point": paste "lat, lon", fill the fields, ask the server which places hold it.
  const paste = form.querySelector("#point-paste");
  const result = form.querySelector("[data-point-result]");
  const lat = form.querySelector("#id_latitude");
  const lon = form.querySelector("#id_longitude");
  const area = form.querySelector("#id_community_area");

  // "Who will be told": the organisations covering the chosen place, and the partners the
  // scenario playbooks would add for the victims, hospital and gathering entered so far (one
  // request; the server matches the playbooks and words each partner's reason).
  const preview = document.querySelector("[data-notify-preview]");
  const hospital = form.querySelector("#id_hospital");
  const occurred = form.querySelector("#id_occurred_at");
  function factParams(params) {
    const rows = list.querySelectorAll("[data-victim]");
    params.set("victims", rows.length);
    params.set("fatal", list.querySelectorAll("input[name$='-fatal']:checked").length);
    list.querySelectorAll("select[name$='-age_band']").forEach((select) => params.append("age_band", select.value));
    const gathering = form.querySelector("[name=gathering]");
    if (gathering) params.set("gathering", gathering.value);
    if (hospital) params.set("hospital", hospital.value);
    if (occurred) params.set("occurred_at", occurred.value);
    return params;
  }
  function showPreview(names, partners) {
    if (!preview) return;
    const items = names.map((name) => {
      const item = document.createElement("li");
      item.textContent = name;
      return item;
    });
    (partners || []).forEach((partner) => {
      const item = document.createElement("li");
      item.className = partner.limited ? "partner limited" : "partner";
      const reason = document.createElement("span");
      reason.className = "reason";
      reason.textContent = partner.reason;
      item.append(partner.name, " ", reason);
      items.push(item);
    });
    if (!names.length) {
      const item = document.createElement("li");
      item.textContent = say("noOrganisation", "No organisation covers this place: call the CSCC duty desk.");
      item.className = "warn-text";
      items.unshift(item);
    }
    preview.replaceChildren(...items);
  }
  let previewTimer = null;
  function previewCodes() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(async () => {
      const params = factParams(new URLSearchParams({ district: district.value, beat: beat.value, community_area: area.value }));
      if (lat.value && lon.value) { params.set("latitude", lat.value); params.set("longitude", lon.value); }
      try {
        const response = await fetch(`${form.dataset.locateUrl}?${params}`, { credentials: "same-origin" });
        if (response.ok) { const found = await response.json(); showPreview(found.organizations || [], found.partners); }
      } catch (error) { /* the preview is a convenience; saving still routes */ }
    }, 150);
  }
  [district, beat, area, hospital, occurred].forEach((field) => field && field.addEventListener("change", previewCodes));
  list.addEventListener("change", previewCodes);
  form.querySelector("[data-add-victim]").addEventListener("click", previewCodes);
  list.addEventListener("click", (event) => { if (event.target.closest("[data-remove-victim]")) previewCodes(); });
  form.querySelectorAll("[name=gathering]").forEach((field) => field.addEventListener("change", previewCodes));

  async function usePoint() {
    const numbers = (paste.value.match(/-?\d+(\.\d+)?/g) || []).map(Number);
    if (numbers.length >= 2) { lat.value = numbers[0]; lon.value = numbers[1]; }
    if (!lat.value || !lon.value) { result.textContent = say("pointExample", "Type a point like 41.7796, -87.6446."); return; }
    result.textContent = say("pointLooking", "Looking up the place…");
    try {
      const url = `${form.dataset.locateUrl}?${factParams(new URLSearchParams({ lat: lat.value, lon: lon.value }))}`;
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      const place = await response.json();
      if (!response.ok) { result.textContent = place.error || say("pointUnplaced", "That point could not be placed."); return; }
      if (place.district && [...district.options].some((o) => o.value === place.district)) district.value = place.district;
      fillBeats(place.beat || "");
      if (place.community_area) area.value = String(place.community_area);
      const areaName = area.selectedOptions[0] ? area.selectedOptions[0].textContent : "";
      showPreview(place.organizations || [], place.partners);
      result.textContent = say("pointPlace", "District {district}, beat {beat}, {area}.",
        { district: parseInt(place.district, 10) || "?", beat: place.beat || "?", area: areaName });
    } catch (error) {
      result.textContent = say("pointOffline", "Could not reach the server; the point will be checked when you save.");
    }
  }
  form.querySelector("[data-use-point]").addEventListener("click", usePoint);
  paste.addEventListener("keydown", (event) => { if (event.key === "Enter") { event.preventDefault(); usePoint(); } });
  [lat, lon].forEach((input) => input.addEventListener("change", () => { if (lat.value && lon.value) usePoint(); }));

  // Note counter.
  const note = form.querySelector("#id_note");
  const counter = form.querySelector("[data-note-counter]");
  const max = parseInt(note.getAttribute("maxlength"), 10) || 500;
  function count() { counter.textContent = `${note.value.length} / ${max}`; }
  note.addEventListener("input", count);
  count();

  // Keyboard: Ctrl/Cmd+Enter saves; Alt+V adds a victim.
  form.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); form.requestSubmit(); }
    if (event.altKey && (event.key === "v" || event.key === "V")) { event.preventDefault(); addVictim(); }
  });

  // Enter in a single-line field moves on instead of saving half a form.
  form.addEventListener("keydown", (event) => {
    const el = event.target;
    if (event.key !== "Enter" || event.ctrlKey || event.metaKey || el === paste) return;
    if (el.tagName === "INPUT" && !["submit", "button", "checkbox", "radio"].includes(el.type)) {
      event.preventDefault();
      const fields = [...form.querySelectorAll("input:not([type=hidden]), select, textarea, button")].filter((f) => !f.disabled && f.offsetParent !== null);
      const next = fields[fields.indexOf(el) + 1];
      if (next) next.focus();
    }
  });

  if (area.value || beat.value) previewCodes();

  // One click, one incident: a second click while saving would enter it twice (without an RD
  // number the server cannot tell the two apart).
  form.addEventListener("submit", (event) => {
    if (form.dataset.submitting) { event.preventDefault(); return; }
    form.dataset.submitting = "1";
    const button = form.querySelector(".submit-bar button[type=submit]");
    button.disabled = true;
    button.textContent = "Saving…";
  });

  const firstError = form.querySelector(".has-error input, .has-error select, .has-error textarea");
  if (firstError) firstError.focus();
  else if (!form.querySelector("#id_rd_number").value) form.querySelector("#id_rd_number").focus();
})();
