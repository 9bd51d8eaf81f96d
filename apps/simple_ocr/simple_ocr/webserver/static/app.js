// Live updates of the latest text per camera. OCR text is untrusted: it is only ever set with
// textContent, never parsed as HTML.
"use strict";

function utc(seconds) {
  return new Date(seconds * 1000).toISOString().slice(0, 19).replace("T", " ");
}

function rowFor(camera) {
  const body = document.querySelector("#latest tbody");
  for (const row of body.rows) {
    if (row.dataset.camera === camera) return row;
  }
  const row = body.insertRow();
  row.dataset.camera = camera;
  for (const name of ["camera", "text", "confidence", "time"]) {
    row.insertCell().className = name;
  }
  row.cells[0].textContent = camera;
  return row;
}

function show(record) {
  const row = rowFor(record.camera);
  row.cells[1].textContent = record.text;
  row.cells[2].textContent = Math.round(record.confidence);
  row.cells[3].textContent = utc(record.time);
}

const status = document.getElementById("status");
const events = new EventSource("/events");
events.addEventListener("text", (event) => show(JSON.parse(event.data)));
events.onopen = () => { status.textContent = "live updates: on"; };
events.onerror = () => { status.textContent = "live updates: reconnecting"; };
