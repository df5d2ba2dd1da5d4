// The viewer works without this script; it adds two conveniences.
// No data from the store is ever written as HTML here: only textContent and attributes.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // "Expand all" / "Collapse all" for the folded blocks (thinking, tool details) of a transcript.
  const toggle = document.querySelector("button.toggle-all");
  const folded = document.querySelectorAll("main details:not(.system)");
  if (toggle && folded.length) {
    toggle.hidden = false;
    toggle.addEventListener("click", () => {
      const open = toggle.textContent === "Expand all";
      folded.forEach((details) => { details.open = open; });
      toggle.textContent = open ? "Collapse all" : "Expand all";
    });
  }
  // "/" puts the cursor in the search box, as on many sites.
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const typing = target instanceof HTMLInputElement || target instanceof HTMLSelectElement
      || target instanceof HTMLTextAreaElement;
    if (event.key === "/" && !typing) {
      const box = document.querySelector("header.top input[type=search]");
      if (box) { event.preventDefault(); box.focus(); }
    }
  });
});
